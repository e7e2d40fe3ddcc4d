import { describe, expect, it } from 'bun:test'
import { loadCatalog } from '../../src/providers/catalog'
import { referenceModel } from '../../src/rules/reference'
import type { RulesDocument } from '../../src/rules/schema'
import { testClock } from '../helpers/clock'

const catalog = loadCatalog(
	{ catalogPath: undefined, openaiBaseUrl: 'http://localhost:1', anthropicBaseUrl: 'http://localhost:2' },
	testClock,
)

const rules = (tiers: Record<string, string[]>, baseline?: string): RulesDocument => ({
	version: 1,
	...(baseline ? { baseline } : {}),
	defaultTier: Object.keys(tiers)[0] ?? 'none',
	tiers: Object.fromEntries(Object.entries(tiers).map(([name, models]) => [name, { models }])),
	rules: [],
})

describe('referenceModel', () => {
	it('is the model the rules name as their baseline', () => {
		const document = rules({ cheap: ['openai/gpt-4o-mini'] }, 'openai/gpt-4o')
		expect(referenceModel(document, catalog)?.qualifiedId).toBe('openai/gpt-4o')
	})

	it('is otherwise the first model of the tier whose first model has the highest list price', () => {
		// gpt-4o $2.50 + $10 per million, gpt-4o-mini $0.15 + $0.60: the strong tier, whatever its place or name.
		const document = rules({
			cheap: ['openai/gpt-4o-mini'],
			strong: ['openai/gpt-4o', 'openai/gpt-4o-mini'],
			also: ['openai/gpt-4o-mini', 'openai/gpt-4o'],
		})
		expect(referenceModel(document, catalog)?.qualifiedId).toBe('openai/gpt-4o')
	})

	it('takes the first of two tiers whose first models cost the same', () => {
		const document = rules({ a: ['openai/gpt-4o'], b: ['openai/gpt-4o'] })
		expect(referenceModel(document, catalog)?.qualifiedId).toBe('openai/gpt-4o')
	})

	it('is the first model of complex for the shipped rules', async () => {
		const shipped = (await Bun.file(
			new URL('../../src/rules/default-rules.json', import.meta.url),
		).json()) as RulesDocument
		expect(referenceModel(shipped, catalog)?.qualifiedId).toBe('openai/gpt-6.2-sol')
	})
})

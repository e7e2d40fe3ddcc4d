import { afterAll, describe, expect, it } from 'bun:test'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CatalogError, loadCatalog, retiredOn } from '../../src/providers/catalog'

const dir = mkdtempSync(join(tmpdir(), 'switchyard-catalog-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const BASE = { openaiBaseUrl: 'http://localhost/v1', anthropicBaseUrl: 'http://localhost' }

function withOverride(override: unknown) {
	const catalogPath = join(dir, `${crypto.randomUUID()}.json`)
	writeFileSync(catalogPath, JSON.stringify(override))
	return () => loadCatalog({ ...BASE, catalogPath })
}

function problemsOf(load: () => unknown): string[] {
	try {
		load()
	} catch (error) {
		if (error instanceof CatalogError) return error.problems
		throw error
	}
	return []
}

describe('the shipped catalog', () => {
	const catalog = loadCatalog({ ...BASE, catalogPath: undefined })

	it('says what every OpenAI and Anthropic chat model accepts', () => {
		const undescribed = catalog.models
			.filter((model) => model.provider === 'openai' || model.provider === 'anthropic')
			.filter((model) => model.kind !== 'embedding')
			.filter((model) => model.accepts?.reasoning === undefined)
			.map((model) => model.qualifiedId)
		expect(undescribed).toEqual([])
	})

	it('prices embedding models by their input alone', () => {
		const embedding = catalog.models.filter((model) => model.kind === 'embedding')
		expect(embedding.map((model) => model.qualifiedId)).toEqual([
			'openai/text-embedding-3-small',
			'openai/text-embedding-3-large',
		])
		for (const model of embedding) {
			expect(model.inputPerMTok).toBeGreaterThan(0)
			expect(model.outputPerMTok).toBe(0)
		}
	})

	it('names a replacement for every model with a shutdown date', () => {
		const missing = catalog.models.filter((model) => model.retiresAt && !model.replacement)
		expect(missing.map((model) => model.qualifiedId)).toEqual([])
	})

	it('prices every Anthropic model’s 1-hour cache writes and every GPT-6 cache write', () => {
		const priced = catalog.models.filter(
			(model) =>
				(model.provider === 'anthropic' && model.cacheWrite1hPerMTok === undefined) ||
				(model.id.startsWith('gpt-6') && model.cacheWritePerMTok === undefined),
		)
		expect(priced.map((model) => model.qualifiedId)).toEqual([])
	})
})

describe('retiredOn', () => {
	it.each([
		[undefined, undefined],
		['2026-11-30', '2026-11-30'],
		['2026-12-03', '2026-12-03'],
		['2026-12-04', undefined],
	])('a model retiring %p is retired on 2026-12-03: %p', (retiresAt, expected) => {
		expect(retiredOn({ retiresAt }, new Date('2026-12-03T23:59:00Z'))).toBe(expected)
	})
})

describe('CATALOG_PATH', () => {
	it('merges what a model accepts over the shipped entry, field by field', () => {
		const catalog = withOverride({
			models: [{ id: 'gpt-6.1-terra', provider: 'openai', accepts: { chatTools: 'reasoning-off' } }],
		})()
		expect(catalog.model('openai/gpt-6.1-terra')?.accepts).toMatchObject({
			chatTools: 'reasoning-off',
			sampling: 'reasoning-off',
			reasoning: { default: 'medium' },
		})
	})

	it('refuses reasoning levels that do not agree, naming each path', () => {
		const load = withOverride({
			models: [
				{
					id: 'gpt-6-luna',
					provider: 'openai',
					accepts: { reasoning: { levels: ['low', 'high'], default: 'medium', chatLevels: ['max'] } },
				},
				{
					id: 'gpt-4o',
					provider: 'openai',
					accepts: { reasoning: null, thinkingOff: { type: 'disabled', maxEffort: 'high' } },
				},
			],
		})
		expect(problemsOf(load)).toEqual([
			'models[3].accepts.reasoning.default: "medium" is not one of its levels',
			'models[3].accepts.reasoning.chatLevels: "max" is not one of its levels',
			'models[10].accepts.thinkingOff: only adaptive thinking can be turned off this way',
			'models[10].accepts.thinkingOff.maxEffort: "high" is not one of its levels',
		])
	})

	it('refuses an unknown level, a bad date and an unknown replacement', () => {
		const load = withOverride({
			models: [
				{ id: 'o3', provider: 'openai', retiresAt: 'soon', replacement: 'openai/gpt-9' },
				{ id: 'gpt-5', provider: 'openai', accepts: { sampling: 'sometimes' } },
			],
		})
		expect(problemsOf(load).join('\n')).toContain('retiresAt')
		expect(problemsOf(load).join('\n')).toContain('sampling')
		const replacement = withOverride({
			models: [{ id: 'o3', provider: 'openai', replacement: 'openai/gpt-9' }],
		})
		expect(problemsOf(replacement)).toEqual([
			'models[7].replacement: unknown model "openai/gpt-9" (use <provider>/<id>)',
		])
	})
})

import { describe, expect, test } from 'bun:test'
import { type CapabilityNeeds, checkCapabilities } from '../../src/rules/capabilities'

const model = (tools: boolean, vision: boolean, jsonMode: boolean, contextWindow = 128000) => ({
	capabilities: { tools, vision, jsonMode },
	contextWindow,
})
const needs = (overrides: Partial<CapabilityNeeds> = {}): CapabilityNeeds => ({
	promptTokens: 1000,
	hasTools: false,
	hasImages: false,
	jsonMode: false,
	...overrides,
})

describe('checkCapabilities', () => {
	test.each<[string, ReturnType<typeof model>, CapabilityNeeds, string | null]>([
		['a plain request on any model', model(false, false, false), needs(), null],
		['tools on a model with tools', model(true, false, false), needs({ hasTools: true }), null],
		['tools on a model without', model(false, true, true), needs({ hasTools: true }), 'no tool support'],
		['images on a model without vision', model(true, false, true), needs({ hasImages: true }), 'no vision'],
		['JSON mode on a model without', model(true, true, false), needs({ jsonMode: true }), 'no JSON mode'],
		[
			'a prompt that fills the window exactly',
			model(true, true, true),
			needs({ promptTokens: 128000 }),
			null,
		],
		[
			'a prompt larger than the window',
			model(true, true, true),
			needs({ promptTokens: 150000 }),
			'context window 128000 is smaller than the prompt (~150000 tokens)',
		],
		[
			'the first missing capability',
			model(false, false, true),
			needs({ hasTools: true, hasImages: true }),
			'no tool support',
		],
	])('%s', (_, m, n, expected) => {
		expect(checkCapabilities(m, n)).toBe(expected)
	})
})

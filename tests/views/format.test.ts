import { describe, expect, it } from 'bun:test'
import { breakdownLabel, formatUsd, modelLabel, tierLabel } from '../../src/views/format'

describe('formatUsd', () => {
	it.each([
		[0, '$0.00'],
		[12.345678, '$12.35'],
		[1111.111, '$1,111.11'],
		[-1234567.891, '-$1,234,567.89'],
		[1, '$1.00'],
		[0.99999, '$1.00'],
		[0.5, '$0.50'],
		[0.0604016, '$0.0604'],
		[0.0004016, '$0.000402'],
		[0.001, '$0.001'],
		[0.00027, '$0.00027'],
		[-0.25, '-$0.25'],
		[0.000000001, '$0.000000001'],
	])('writes %p as %s', (value, text) => {
		expect(formatUsd(value)).toBe(text)
	})
})

describe('tierLabel and modelLabel', () => {
	it.each([
		[
			'routed',
			{ tier: 'simple', rule: 'short-chat', model: 'openai/gpt-4o-mini' },
			'simple',
			'openai/gpt-4o-mini',
		],
		[
			'explicit',
			{ tier: null, rule: 'explicit', model: 'openai/gpt-4o-mini' },
			'explicit',
			'openai/gpt-4o-mini',
		],
		['explicit, unanswered', { tier: null, rule: 'explicit', model: null }, 'explicit', 'no model answered'],
		['routed, unanswered', { tier: 'simple', rule: 'default', model: null }, 'simple', 'no model answered'],
		[
			'refused before routing',
			{ tier: null, rule: null, model: null },
			'failed before routing',
			'no model (failed before routing)',
		],
		// Logged without its rule: a model that answered without a tier was still named by the caller.
		[
			'a model, no rule',
			{ tier: null, rule: null, model: 'openai/gpt-4o-mini' },
			'explicit',
			'openai/gpt-4o-mini',
		],
	])('words a request %s', (_, request, tier, model) => {
		expect([tierLabel(request), modelLabel(request)]).toEqual([tier, model])
	})
})

describe('breakdownLabel', () => {
	it.each([
		['tier', { key: 'simple' }, 'simple'],
		['tier', { key: null, answered: true }, 'explicit'],
		['tier', { key: null, answered: false }, 'failed before routing, or named model failed'],
		['model', { key: null }, 'no model answered'],
		['provider', { key: null }, 'no provider (no model answered)'],
	] as const)('names a row by %s with key %j', (by, row, label) => {
		expect(breakdownLabel(by, row)).toBe(label)
	})
})

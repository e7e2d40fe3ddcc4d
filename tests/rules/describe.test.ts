import { describe, expect, it } from 'bun:test'
import { describeWhen } from '../../src/rules/describe'
import type { When } from '../../src/rules/schema'

describe('describeWhen', () => {
	it.each<[string, When, string]>([
		['an empty condition', {}, 'always'],
		['a range', { promptTokens: { gte: 400 } }, 'prompt tokens ≥ 400'],
		['a closed range', { messages: { gte: 2, lte: 4 } }, 'messages 2–4'],
		['flags', { hasTools: true, jsonMode: false }, 'tools and no JSON mode'],
		['a few keywords', { keywords: ['prove', 'lemma'] }, 'the last message says "prove" or "lemma"'],
		[
			'many keywords',
			{ keywords: ['prove', 'lemma', 'theorem', 'proof', 'corollary'] },
			'the last message says "prove", "lemma", "theorem" or 2 more',
		],
		['a long pattern', { matches: 'x'.repeat(50) }, `the last message matches /${'x'.repeat(40)}…/`],
		[
			'combinators',
			{ promptTokens: { lte: 60 }, any: [{ hasImages: true }, { not: { system: 'terse' } }] },
			'prompt tokens ≤ 60 and (images or not (the system prompt matches /terse/))',
		],
	])('reads %s', (_, when, text) => {
		expect(describeWhen(when)).toBe(text)
	})
})

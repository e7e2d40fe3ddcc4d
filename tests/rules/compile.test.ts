import { describe, expect, it, test } from 'bun:test'
import { TextDigester, type TextPattern } from '../../src/lib/text-digest'
import { compileRules, type Decision } from '../../src/rules/compile'
import type { RequestFeatures, RequestText } from '../../src/rules/features'
import { asciiKeywordsRegExp, keywordsRegExp } from '../../src/rules/patterns'
import type { LoggedText } from '../../src/rules/replay'
import type { Rule, RulesDocument, When } from '../../src/rules/schema'
import { features } from '../helpers/features'

const NOTHING: LoggedText = { text: null, digest: null }
const kept = (requestText: RequestText): LoggedText => ({ text: requestText, digest: null })

function text(lastUserMessage = '', system = ''): RequestText {
	return { lastUserMessage, system }
}

function documentOf(rules: Rule[], defaultTier = 'medium'): RulesDocument {
	return {
		version: 1,
		baseline: 'openai/gpt-4o',
		defaultTier,
		tiers: { simple: { models: ['a'] }, medium: { models: ['b'] }, complex: { models: ['c'] } },
		rules,
	}
}

/** Whether a single rule with this `when` holds. */
function holds(when: When, f: Partial<RequestFeatures> = {}, t: RequestText = text()): boolean {
	return (
		compileRules(documentOf([{ name: 'r', when, tier: 'complex' }])).classify(features(f), t).rule === 'r'
	)
}

describe('compileRules: predicates', () => {
	test.each<[string, When, Partial<RequestFeatures>, boolean]>([
		['gte at the bound', { promptTokens: { gte: 100 } }, { promptTokens: 100 }, true],
		['gte below the bound', { promptTokens: { gte: 100 } }, { promptTokens: 99 }, false],
		['lte at the bound', { promptTokens: { lte: 300 } }, { promptTokens: 300 }, true],
		['lte above the bound', { promptTokens: { lte: 300 } }, { promptTokens: 301 }, false],
		['both, inside', { messages: { gte: 2, lte: 4 } }, { messages: 3 }, true],
		['both, below', { messages: { gte: 2, lte: 4 } }, { messages: 1 }, false],
		['both, above', { messages: { gte: 2, lte: 4 } }, { messages: 5 }, false],
		['maxTokens set', { maxTokens: { gte: 1000 } }, { maxTokens: 4000 }, true],
		['maxTokens unset, gte', { maxTokens: { gte: 1000 } }, { maxTokens: null }, false],
		['maxTokens unset, lte', { maxTokens: { lte: 1000 } }, { maxTokens: null }, false],
		['maxTokens zero, lte', { maxTokens: { lte: 1000 } }, { maxTokens: 0 }, true],
		['hasTools true, has tools', { hasTools: true }, { hasTools: true }, true],
		['hasTools true, no tools', { hasTools: true }, { hasTools: false }, false],
		['hasTools false, no tools', { hasTools: false }, { hasTools: false }, true],
		['hasImages true', { hasImages: true }, { hasImages: true }, true],
		['hasImages false, with images', { hasImages: false }, { hasImages: true }, false],
		['jsonMode true', { jsonMode: true }, { jsonMode: true }, true],
		['jsonMode true, plain', { jsonMode: true }, { jsonMode: false }, false],
		[
			'several predicates, all hold',
			{ promptTokens: { lte: 300 }, messages: { lte: 4 } },
			{ messages: 2 },
			true,
		],
		[
			'several predicates, one fails',
			{ promptTokens: { lte: 300 }, messages: { lte: 4 } },
			{ messages: 9 },
			false,
		],
		['the empty condition', {}, {}, true],
	])('%s', (_, when, f, expected) => {
		expect(holds(when, f)).toBe(expected)
	})

	test.each<[string, string[], string, boolean]>([
		['a whole word', ['prove'], 'Can you prove it?', true],
		['any case', ['prove'], 'PROVE that', true],
		['not inside a longer word', ['prove'], 'improve this', false],
		['not as a prefix', ['prove'], 'proven results', false],
		['any of several', ['prove', 'refactor'], 'please refactor', true],
		['none of several', ['prove', 'refactor'], 'hello there', false],
		['a phrase', ['step by step'], 'think step by step.', true],
		['a phrase across spaces and newlines', ['step by step'], 'think step  by\nstep', true],
		['a phrase not cut from words', ['step by step'], 'step by steps', false],
		['a non-Latin word', ['доказать'], 'Нужно ДОКАЗАТЬ это', true],
		['a non-Latin word inside a longer one', ['доказ'], 'доказать', false],
		['an accented word', ['étape'], 'ÉTAPE par étape', true],
		['not next to an accented letter', ['tape'], 'étape', false],
		['not next to a digit', ['gpt'], 'gpt4', false],
		['not next to an underscore', ['proof'], 'proof_of_work', false],
		['special characters literally', ['c++', 'a.b'], 'I write C++ daily', true],
		['a dot not as a wildcard', ['a.b'], 'axb', false],
		['tl;dr', ['tl;dr'], 'tl;dr please', true],
		['a CJK word', ['証明'], 'これを 証明 して', true],
		['only the last user message', ['prove'], '', false],
	])('keywords: %s', (_, keywords, message, expected) => {
		expect(holds({ keywords }, {}, text(message))).toBe(expected)
	})

	test.each<[string, string, string, boolean]>([
		['a match', '^fix\\b', 'fix the bug', true],
		['no match', '^fix\\b', 'please fix', false],
		['case-sensitive as written', 'Prove', 'prove it', false],
		['case-insensitive with a modifier', '(?i:prove)', 'PROVE it', true],
		['Unicode property escapes', '\\p{Script=Greek}', 'λ calculus', true],
	])('matches: %s', (_, pattern, message, expected) => {
		expect(holds({ matches: pattern }, {}, text(message))).toBe(expected)
	})

	test.each<[string, string, RequestText, boolean]>([
		['a match on the system prompt', 'code reviewer', text('hi', 'You are a code reviewer.'), true],
		['no match', 'code reviewer', text('code reviewer', 'You are a poet.'), false],
		['an empty system prompt', '.', text('hi', ''), false],
	])('system: %s', (_, pattern, t, expected) => {
		expect(holds({ system: pattern }, {}, t)).toBe(expected)
	})
})

describe('compileRules: combinators', () => {
	const short: When = { promptTokens: { lte: 300 } }
	const tools: When = { hasTools: true }
	test.each<[string, When, Partial<RequestFeatures>, boolean]>([
		['any, one holds', { any: [short, tools] }, { promptTokens: 1000, hasTools: true }, true],
		['any, none holds', { any: [short, tools] }, { promptTokens: 1000 }, false],
		['all, both hold', { all: [short, tools] }, { hasTools: true }, true],
		['all, one fails', { all: [short, tools] }, { promptTokens: 1000, hasTools: true }, false],
		['not, inner fails', { not: tools }, {}, true],
		['not, inner holds', { not: tools }, { hasTools: true }, false],
		[
			'any of three',
			{ any: [short, tools, { jsonMode: true }] },
			{ promptTokens: 900, jsonMode: true },
			true,
		],
		['all of three', { all: [short, tools, { jsonMode: true }] }, { hasTools: true }, false],
		['nested not in any', { any: [{ not: short }, tools] }, { promptTokens: 1000 }, true],
		[
			'nested any in all',
			{ all: [{ any: [short, tools] }, { not: { jsonMode: true } }] },
			{ hasTools: true, promptTokens: 900 },
			true,
		],
		[
			'nested any in all, not fails',
			{ all: [{ any: [short, tools] }, { not: { jsonMode: true } }] },
			{ jsonMode: true },
			false,
		],
		['not of not', { not: { not: tools } }, { hasTools: true }, true],
		['a combinator beside a predicate', { hasImages: true, any: [short, tools] }, { hasImages: true }, true],
		['a combinator beside a failing predicate', { hasImages: true, any: [short, tools] }, {}, false],
	])('%s', (_, when, f, expected) => {
		expect(holds(when, f)).toBe(expected)
	})

	it('mixes text and feature predicates inside combinators', () => {
		const when: When = {
			any: [{ keywords: ['prove'] }, { all: [{ matches: 'lemma' }, { messages: { gte: 3 } }] }],
		}
		expect([
			holds(when, {}, text('prove it')),
			holds(when, { messages: 3 }, text('a lemma')),
			holds(when, { messages: 1 }, text('a lemma')),
		]).toEqual([true, true, false])
	})
})

describe('compileRules: classify', () => {
	const rules: Rule[] = [
		{ name: 'long', when: { promptTokens: { gte: 8000 } }, tier: 'complex' },
		{ name: 'off', enabled: false, when: {}, tier: 'complex' },
		{ name: 'tools', when: { hasTools: true }, tier: 'medium' },
		{ name: 'short', when: { promptTokens: { lte: 300 } }, tier: 'simple' },
	]
	const compiled = compileRules(documentOf(rules, 'medium'))

	test.each<[string, Partial<RequestFeatures>, Decision]>([
		[
			'the first rule that holds wins',
			{ promptTokens: 9000, hasTools: true },
			{ tier: 'complex', rule: 'long' },
		],
		[
			'a later rule when earlier ones fail',
			{ promptTokens: 200, hasTools: true },
			{ tier: 'medium', rule: 'tools' },
		],
		['skips a disabled catch-all', { promptTokens: 200 }, { tier: 'simple', rule: 'short' }],
		['the default tier when nothing holds', { promptTokens: 1000 }, { tier: 'medium', rule: 'default' }],
	])('%s', (_, f, expected) => {
		expect(compiled.classify(features(f), text())).toEqual(expected)
	})

	it('keeps the document it was compiled from', () => {
		expect(compiled.document.rules).toBe(rules)
	})

	it('treats enabled: true like an absent enabled', () => {
		const doc = documentOf([{ name: 'on', enabled: true, when: {}, tier: 'simple' }])
		expect(compileRules(doc).classify(features(), text())).toEqual({ tier: 'simple', rule: 'on' })
	})

	it('decides by the default tier when there are no rules', () => {
		expect(compileRules(documentOf([], 'complex')).classify(features(), text())).toEqual({
			tier: 'complex',
			rule: 'default',
		})
	})
})

describe('compileRules: replay', () => {
	const doc = documentOf([
		{ name: 'long', when: { promptTokens: { gte: 8000 } }, tier: 'complex' },
		{ name: 'hard', when: { keywords: ['prove'] }, tier: 'complex' },
		{ name: 'short', when: { promptTokens: { lte: 300 } }, tier: 'simple' },
	])
	const compiled = compileRules(doc)

	test.each<[string, Partial<RequestFeatures>, ReturnType<typeof compiled.replay>]>([
		['decides before the text rule', { promptTokens: 9000 }, { tier: 'complex', rule: 'long' }],
		[
			'is undetermined at the first rule needing text',
			{ promptTokens: 200 },
			{ undetermined: true, rule: 'hard', needs: 'keywords "prove"' },
		],
	])('without text: %s', (_, f, expected) => {
		expect(compiled.replay(features(f), NOTHING)).toEqual(expected)
	})

	it('with text, decides like classify', () => {
		expect(compiled.replay(features({ promptTokens: 200 }), kept(text('prove it')))).toEqual({
			tier: 'complex',
			rule: 'hard',
		})
		expect(compiled.replay(features({ promptTokens: 200 }), kept(text('hi')))).toEqual({
			tier: 'simple',
			rule: 'short',
		})
	})

	const kw: When = { keywords: ['x'] }
	test.each<[string, When, Partial<RequestFeatures>, 'true' | 'false' | 'unknown']>([
		['a text predicate is unknown', kw, {}, 'unknown'],
		['all with a false member is false', { all: [kw, { hasTools: true }] }, {}, 'false'],
		[
			'all with only true and unknown is unknown',
			{ all: [kw, { hasTools: true }] },
			{ hasTools: true },
			'unknown',
		],
		['a when with a false predicate is false', { keywords: ['x'], hasTools: true }, {}, 'false'],
		['any with a true member is true', { any: [kw, { hasTools: true }] }, { hasTools: true }, 'true'],
		['any with only false and unknown is unknown', { any: [kw, { hasTools: true }] }, {}, 'unknown'],
		['not of unknown is unknown', { not: kw }, {}, 'unknown'],
		['not of false is true', { not: { hasTools: true } }, {}, 'true'],
		[
			'nested: not(any(unknown, true)) is false',
			{ not: { any: [kw, { hasTools: true }] } },
			{ hasTools: true },
			'false',
		],
		['a system predicate is unknown', { system: 'x' }, {}, 'unknown'],
		['a matches predicate is unknown', { matches: 'x' }, {}, 'unknown'],
	])('three-valued: %s', (_, when, f, expected) => {
		const replayed = compileRules(documentOf([{ name: 'r', when, tier: 'complex' }])).replay(
			features(f),
			NOTHING,
		)
		const outcome = 'undetermined' in replayed ? 'unknown' : replayed.rule === 'r' ? 'true' : 'false'
		expect(outcome).toBe(expected)
	})

	it('skips disabled rules that need text', () => {
		const compiled = compileRules(
			documentOf([
				{ name: 'off', enabled: false, when: { keywords: ['x'] }, tier: 'complex' },
				{ name: 'all', when: {}, tier: 'simple' },
			]),
		)
		expect(compiled.replay(features(), NOTHING)).toEqual({ tier: 'simple', rule: 'all' })
	})

	it('is undetermined when an unknown rule would be the last chance before the default', () => {
		const compiled = compileRules(documentOf([{ name: 'hard', when: { matches: 'x' }, tier: 'complex' }]))
		expect(compiled.replay(features(), NOTHING)).toEqual({
			undetermined: true,
			rule: 'hard',
			needs: 'matches /x/',
		})
	})
})

describe('compileRules: replay from a text digest', () => {
	const digester = new TextDigester(new Uint8Array(32).fill(3))
	const live = compileRules(
		documentOf([
			{ name: 'code', when: { matches: '```' }, tier: 'complex' },
			{ name: 'persona', when: { system: '(?i:pirate)' }, tier: 'medium' },
		]),
	)
	const digested = (
		lastUserMessage: string,
		system = '',
		patterns: readonly TextPattern[] = live.textPatterns,
	) =>
		({
			text: null,
			digest: digester.read(digester.digest({ lastUserMessage, system, cut: false }, patterns)),
		}) satisfies LoggedText

	it('lists every distinct pattern of the rules, disabled ones too, for the log to record', () => {
		const compiled = compileRules(
			documentOf([
				{ name: 'a', when: { any: [{ matches: 'x' }, { not: { system: 'y' } }] }, tier: 'complex' },
				{ name: 'b', enabled: false, when: { matches: 'x', keywords: ['k'] }, tier: 'simple' },
				{ name: 'c', when: { matches: 'z' }, tier: 'simple' },
			]),
		)
		expect(compiled.textPatterns).toEqual([
			{ field: 'lastUserMessage', source: 'x' },
			{ field: 'system', source: 'y' },
			{ field: 'lastUserMessage', source: 'z' },
		])
	})

	it('replays keyword rules from the digest, with no text kept', () => {
		const proposed = compileRules(
			documentOf([
				{ name: 'hard', when: { keywords: ['prove', 'step by step'] }, tier: 'complex' },
				{ name: 'rest', when: {}, tier: 'simple' },
			]),
		)
		expect(proposed.replay(features(), digested('Explain it Step  by step'))).toEqual({
			tier: 'complex',
			rule: 'hard',
		})
		expect(proposed.replay(features(), digested('hello there'))).toEqual({ tier: 'simple', rule: 'rest' })
	})

	it('replays a pattern that was live when the request came, on either text field', () => {
		const proposed = compileRules(
			documentOf([
				{ name: 'persona', when: { system: '(?i:pirate)' }, tier: 'medium' },
				{ name: 'code', when: { matches: '```' }, tier: 'complex' },
			]),
		)
		expect(proposed.replay(features(), digested('see ```x```', 'You are a PIRATE'))).toEqual({
			tier: 'medium',
			rule: 'persona',
		})
		expect(proposed.replay(features(), digested('see ```x```', 'You are helpful'))).toEqual({
			tier: 'complex',
			rule: 'code',
		})
		expect(proposed.replay(features(), digested('plain', 'You are helpful'))).toEqual({
			tier: 'medium',
			rule: 'default',
		})
	})

	it('says which pattern it lacked when a rule has one that was not live then', () => {
		const proposed = compileRules(documentOf([{ name: 'new', when: { matches: '\\d{3}' }, tier: 'complex' }]))
		expect(proposed.replay(features(), digested('call 555'))).toEqual({
			undetermined: true,
			rule: 'new',
			needs: 'matches /\\d{3}/',
		})
	})

	it('falls back on the kept text for what the digest does not answer', () => {
		const proposed = compileRules(documentOf([{ name: 'new', when: { matches: '\\d{3}' }, tier: 'complex' }]))
		const logged = { ...digested('call 555'), text: text('call 555') }
		expect(proposed.replay(features(), logged)).toEqual({ tier: 'complex', rule: 'new' })
	})
})

describe('compileRules: explain', () => {
	const doc = documentOf([
		{ name: 'off', enabled: false, when: {}, tier: 'complex' },
		{ name: 'hard', when: { keywords: ['prove', 'refactor'] }, tier: 'complex' },
		{ name: 'short', when: { promptTokens: { lte: 300 }, messages: { lte: 4 } }, tier: 'simple' },
		{ name: 'tools', when: { hasTools: true }, tier: 'medium' },
		{ name: 'never', when: {}, tier: 'complex' },
	])
	const compiled = compileRules(doc)

	it('lists each rule up to the winner with its outcome and reason', () => {
		expect(compiled.explain(features({ promptTokens: 1200, hasTools: true }), text('hello'))).toEqual({
			decision: { tier: 'medium', rule: 'tools' },
			rules: [
				{ name: 'off', outcome: 'disabled' },
				{
					name: 'hard',
					outcome: 'failed',
					reason: 'keywords: none of "prove", "refactor" in the last user message',
				},
				{ name: 'short', outcome: 'failed', reason: 'promptTokens 1200 is not <= 300' },
				{ name: 'tools', outcome: 'matched', reason: 'hasTools is true' },
			],
		})
	})

	it('reports the default when no rule holds', () => {
		const compiled = compileRules(documentOf([{ name: 'tools', when: { hasTools: true }, tier: 'simple' }]))
		expect(compiled.explain(features(), text())).toEqual({
			decision: { tier: 'medium', rule: 'default' },
			rules: [{ name: 'tools', outcome: 'failed', reason: 'hasTools is false' }],
		})
	})

	it('agrees with classify', () => {
		for (const f of [
			features(),
			features({ promptTokens: 5000 }),
			features({ hasTools: true, messages: 9 }),
		]) {
			for (const t of [text(), text('please REFACTOR this')]) {
				expect(compiled.explain(f, t).decision).toEqual(compiled.classify(f, t))
			}
		}
	})

	test.each<[string, When, Partial<RequestFeatures>, RequestText, string]>([
		[
			'gte',
			{ promptTokens: { gte: 8000 } },
			{ promptTokens: 120 },
			text(),
			'promptTokens 120 is not >= 8000',
		],
		[
			'both bounds, below',
			{ messages: { gte: 2, lte: 4 } },
			{ messages: 1 },
			text(),
			'messages 1 is not >= 2',
		],
		[
			'both bounds, above',
			{ messages: { gte: 2, lte: 4 } },
			{ messages: 7 },
			text(),
			'messages 7 is not <= 4',
		],
		['unset maxTokens', { maxTokens: { lte: 500 } }, {}, text(), 'maxTokens is not set'],
		['a flag expected false', { hasImages: false }, { hasImages: true }, text(), 'hasImages is true'],
		['matches', { matches: '^fix' }, {}, text('hi'), 'matches: /^fix/ does not match the last user message'],
		['system', { system: 'poet' }, {}, text('', 'coder'), 'system: /poet/ does not match the system prompt'],
		[
			'the first failing predicate in document order',
			{ messages: { lte: 4 }, promptTokens: { lte: 300 } },
			{ messages: 9, promptTokens: 900 },
			text(),
			'messages 9 is not <= 4',
		],
		[
			'any',
			{ any: [{ hasTools: true }, { jsonMode: true }] },
			{},
			text(),
			'any: none holds (hasTools is false; jsonMode is false)',
		],
		[
			'any with more conditions than a line holds',
			{ any: [{ hasTools: true }, { jsonMode: true }, { hasImages: true }, { messages: { gte: 5 } }] },
			{},
			text(),
			'any: none holds (hasTools is false; jsonMode is false; and 2 more)',
		],
		[
			'a long keyword list',
			{ keywords: ['prove', 'lemma', 'theorem', 'refactor', 'kubernetes'] },
			{},
			text('hello'),
			'keywords: none of "prove", "lemma", "theorem" and 2 more in the last user message',
		],
		[
			'a long pattern',
			{ matches: `(${'a'.repeat(70)})` },
			{},
			text('hello'),
			`matches: /(${'a'.repeat(59)}…/ does not match the last user message`,
		],
		['all', { all: [{ hasTools: false }, { jsonMode: true }] }, {}, text(), 'all: jsonMode is false'],
		['not', { not: { hasTools: false } }, {}, text(), 'not: hasTools is false'],
		[
			'not over a text match',
			{ not: { matches: '```' } },
			{},
			text('```js'),
			'not: matches: /```/ matches the last user message',
		],
		['not over a range', { not: { messages: { lte: 4 } } }, {}, text(), 'not: messages 1 is <= 4'],
	])('explains a failed %s', (_, when, f, t, reason) => {
		const compiled = compileRules(documentOf([{ name: 'r', when, tier: 'complex' }]))
		expect(compiled.explain(features(f), t).rules).toEqual([{ name: 'r', outcome: 'failed', reason }])
	})

	test.each<[string, When, Partial<RequestFeatures>, RequestText, string]>([
		[
			'the keyword found',
			{ keywords: ['prove', 'step by step'] },
			{},
			text('go Step  by step'),
			'keywords: "Step  by step" in the last user message',
		],
		[
			'every predicate',
			{ promptTokens: { gte: 10, lte: 500 }, hasTools: false },
			{},
			text(),
			'promptTokens 100 is >= 10 and <= 500; hasTools is false',
		],
		['the empty condition', {}, {}, text(), 'an empty condition always holds'],
		[
			'the first member of any that holds',
			{ any: [{ jsonMode: true }, { messages: { lte: 3 } }] },
			{},
			text(),
			'any: messages 1 is <= 3',
		],
		[
			'all',
			{ all: [{ hasTools: false }, { jsonMode: false }] },
			{},
			text(),
			'all: (hasTools is false; jsonMode is false)',
		],
	])('explains a match: %s', (_, when, f, t, reason) => {
		const compiled = compileRules(documentOf([{ name: 'r', when, tier: 'complex' }]))
		expect(compiled.explain(features(f), t).rules).toEqual([{ name: 'r', outcome: 'matched', reason }])
	})
})

describe('keyword regexes', () => {
	const keywordSets = [
		['prove', 'proof', 'step by step'],
		['c++', 'c#', 'tl;dr', 'trade-offs'],
		['java', 'javascript', 'json', 'café'],
	]
	const texts = [
		'Please prove it',
		'approve this',
		'step  by\nstep please',
		'I write C++ and C# daily',
		'tl;dr: fine',
		'consider the trade-offs',
		'javascript_code and java.',
		'JSON!',
		'jsonify',
		'',
	]
	it.each(keywordSets)('match the same ASCII texts in their ASCII and Unicode forms (%p)', (...words) => {
		const unicode = keywordsRegExp(words)
		const ascii = asciiKeywordsRegExp(words)
		for (const sample of texts) expect([sample, ascii.test(sample)]).toEqual([sample, unicode.test(sample)])
	})

	it('still finds a keyword in non-ASCII text through the Unicode form', () => {
		const rules = compileRules(documentOf([{ name: 'cafe', when: { keywords: ['café'] }, tier: 'complex' }]))
		expect(rules.classify(features(), text('Un café, svp')).rule).toBe('cafe')
		expect(rules.classify(features(), text('Un cafés, svp')).rule).toBe('default')
	})
})

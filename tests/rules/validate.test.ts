import { describe, expect, it, test } from 'bun:test'
import { buildCatalog, loadCatalog } from '../../src/providers/catalog'
import { compileRules } from '../../src/rules/compile'
import defaultRules from '../../src/rules/default-rules.json'
import { extractFeatures } from '../../src/rules/features'
import { rulesJsonSchema } from '../../src/rules/schema'
import { type RuleError, validateRules } from '../../src/rules/validate'

/** The shipped catalog, exactly as the server loads it without CATALOG_PATH. */
const catalog = loadCatalog({
	catalogPath: undefined,
	openaiBaseUrl: 'http://localhost:1',
	anthropicBaseUrl: 'http://localhost:2',
})

/** A small catalog whose models each lack something, for the capability check. */
const testCatalog = buildCatalog({
	providers: [{ id: 'p', name: 'P', kind: 'openai', baseUrl: 'https://p.example' }],
	models: [
		{ id: 'blind', caps: { tools: true, vision: false, jsonMode: true }, window: 1_000_000 },
		{ id: 'toolless', caps: { tools: false, vision: true, jsonMode: true }, window: 1_000_000 },
		{ id: 'plain', caps: { tools: false, vision: false, jsonMode: false }, window: 1_000_000 },
		{ id: 'small', caps: { tools: true, vision: true, jsonMode: true }, window: 128_000 },
		{ id: 'full', caps: { tools: true, vision: true, jsonMode: true }, window: 1_000_000 },
	].map(({ id, caps, window }) => ({
		id,
		provider: 'p',
		inputPerMTok: 1,
		outputPerMTok: 1,
		contextWindow: window,
		maxOutputTokens: 1000,
		capabilities: caps,
	})),
})

function valid(): Record<string, unknown> & {
	rules: Record<string, unknown>[]
	tiers: Record<string, unknown>
} {
	return {
		version: 1,
		baseline: 'openai/gpt-4o',
		defaultTier: 'medium',
		tiers: {
			simple: { models: ['openai/gpt-4o-mini', 'anthropic/claude-haiku-4-5'] },
			medium: { models: ['anthropic/claude-sonnet-4-5', 'gpt-4o'] },
			complex: { models: ['openai/o3'] },
		},
		rules: [
			{ name: 'long', when: { promptTokens: { gte: 8000 } }, tier: 'complex' },
			{ name: 'hard', when: { keywords: ['prove', 'step by step'] }, tier: 'complex' },
			{ name: 'short', when: { promptTokens: { lte: 300 }, messages: { lte: 4 } }, tier: 'simple' },
		],
	}
}

function errorsOf(doc: unknown, against = catalog): RuleError[] {
	const result = validateRules(doc, against)
	return result.ok ? [] : result.errors
}

function withRule(rule: Record<string, unknown>) {
	const doc = valid()
	doc.rules = [rule]
	return doc
}

describe('validateRules', () => {
	it('accepts a valid document and returns it', () => {
		const doc = valid()
		expect(validateRules(doc, catalog)).toEqual({ ok: true, document: doc as never })
	})

	it('accepts the SPEC example document', () => {
		expect(errorsOf(valid())).toEqual([])
	})

	it('accepts an empty catch-all condition, a $schema and descriptions', () => {
		const doc = {
			...withRule({ name: 'all', description: 'why', enabled: false, when: {}, tier: 'simple' }),
			$schema: 'x',
		}
		expect(errorsOf(doc)).toEqual([])
	})

	test.each<[string, unknown, string]>([
		['null', null, 'the rules document must be a JSON object, not null'],
		['an array', [], 'the rules document must be a JSON object, not an array'],
		['a string', 'rules', 'the rules document must be a JSON object, not a string'],
		['a number', 1, 'the rules document must be a JSON object, not a number'],
	])('rejects a document that is %s at the root', (_, doc, message) => {
		expect(errorsOf(doc)).toEqual([{ path: '', message }])
	})

	it('reports every missing field of an empty object', () => {
		expect(errorsOf({}).map((e) => e.path)).toEqual(['/version', '/defaultTier', '/tiers', '/rules'])
	})

	const KNOWN =
		'promptTokens, messages, maxTokens, hasTools, hasImages, jsonMode, keywords, matches, system, any, all, not'

	test.each<[string, (doc: ReturnType<typeof valid>) => void, RuleError[]]>([
		[
			'an unknown predicate',
			(doc) => {
				doc.rules = [{ name: 'v', when: { hasVideo: true }, tier: 'simple' }]
			},
			[
				{
					path: '/rules/0/when/hasVideo',
					message: `unknown predicate "hasVideo"; known predicates: ${KNOWN}`,
				},
			],
		],
		[
			'an unknown predicate nested in any and not',
			(doc) => {
				doc.rules = [{ name: 'v', when: { any: [{ not: { hasVideo: true } }] }, tier: 'simple' }]
			},
			[
				{
					path: '/rules/0/when/any/0/not/hasVideo',
					message: `unknown predicate "hasVideo"; known predicates: ${KNOWN}`,
				},
			],
		],
		[
			'a version other than 1',
			(doc) => {
				doc.version = 2
			},
			[{ path: '/version', message: 'unsupported version 2; the only version is 1' }],
		],
		[
			'an unknown tier in a rule',
			(doc) => {
				doc.rules = [{ name: 'x', when: {}, tier: 'hard' }]
			},
			[{ path: '/rules/0/tier', message: 'unknown tier "hard"; tiers: simple, medium, complex' }],
		],
		[
			'an alias to an unknown tier',
			(doc) => {
				doc.aliases = { 'claude-sonnet-5-5': 'auto', 'claude-haiku-*': 'fast' }
			},
			[
				{
					path: '/aliases/claude-haiku-*',
					message: 'unknown tier "fast"; tiers: simple, medium, complex, or auto',
				},
			],
		],
		[
			'an unknown default tier',
			(doc) => {
				doc.defaultTier = 'cheap'
			},
			[{ path: '/defaultTier', message: 'unknown tier "cheap"; tiers: simple, medium, complex' }],
		],
		[
			'a model not in the catalog',
			(doc) => {
				doc.tiers.simple = { models: ['openai/gpt-4o-mini', 'openai/gpt-9'] }
			},
			[{ path: '/tiers/simple/models/1', message: 'unknown model "openai/gpt-9": it is not in the catalog' }],
		],
		[
			'a model under the wrong provider',
			(doc) => {
				doc.tiers.simple = { models: ['anthropic/gpt-4o-mini'] }
			},
			[
				{
					path: '/tiers/simple/models/0',
					message: 'unknown model "anthropic/gpt-4o-mini": it is not in the catalog',
				},
			],
		],
		[
			'an unknown baseline',
			(doc) => {
				doc.baseline = 'gpt-2'
			},
			[{ path: '/baseline', message: 'unknown model "gpt-2": it is not in the catalog' }],
		],
		[
			'a bad regular expression in matches',
			(doc) => {
				doc.rules = [{ name: 'x', when: { any: [{}, { matches: '(unclosed' }] }, tier: 'simple' }]
			},
			[
				{
					path: '/rules/0/when/any/1/matches',
					message: expect.stringContaining('invalid regular expression'),
				},
			],
		],
		[
			'a bad regular expression in system',
			(doc) => {
				doc.rules = [{ name: 'x', when: { system: '[z-a]' }, tier: 'simple' }]
			},
			[{ path: '/rules/0/when/system', message: expect.stringContaining('invalid regular expression') }],
		],
		[
			'an escape the u flag forbids',
			(doc) => {
				doc.rules = [{ name: 'x', when: { matches: '\\-' }, tier: 'simple' }]
			},
			[{ path: '/rules/0/when/matches', message: expect.stringContaining('invalid regular expression') }],
		],
		[
			'a duplicate rule name',
			(doc) => {
				doc.rules.push({ name: 'long', when: {}, tier: 'simple' })
			},
			[{ path: '/rules/3/name', message: 'duplicate rule name "long" (first used at /rules/0)' }],
		],
		[
			'an empty tier',
			(doc) => {
				doc.tiers.complex = { models: [] }
			},
			[{ path: '/tiers/complex/models', message: 'tier "complex" has no models' }],
		],
		[
			'a range with gte > lte',
			(doc) => {
				doc.rules = [{ name: 'x', when: { all: [{ messages: { gte: 5, lte: 2 } }] }, tier: 'simple' }]
			},
			[
				{
					path: '/rules/0/when/all/0/messages',
					message: 'gte 5 is greater than lte 2, so this range never holds',
				},
			],
		],
		[
			'an empty range',
			(doc) => {
				doc.rules = [{ name: 'x', when: { promptTokens: {} }, tier: 'simple' }]
			},
			[{ path: '/rules/0/when/promptTokens', message: 'a range needs gte, lte or both' }],
		],
		[
			'an unknown range bound',
			(doc) => {
				doc.rules = [{ name: 'x', when: { promptTokens: { gt: 5 } }, tier: 'simple' }]
			},
			[
				{
					path: '/rules/0/when/promptTokens/gt',
					message: 'unknown bound "gt"; a range takes gte, lte or both',
				},
			],
		],
		[
			'a negative bound',
			(doc) => {
				doc.rules = [{ name: 'x', when: { messages: { gte: -1 } }, tier: 'simple' }]
			},
			[{ path: '/rules/0/when/messages/gte', message: 'Expected integer to be greater or equal to 0' }],
		],
		[
			'an empty keywords list',
			(doc) => {
				doc.rules = [{ name: 'x', when: { keywords: [] }, tier: 'simple' }]
			},
			[{ path: '/rules/0/when/keywords', message: 'keywords needs at least one word or phrase' }],
		],
		[
			'a blank keyword',
			(doc) => {
				doc.rules = [{ name: 'x', when: { keywords: ['ok', '  '] }, tier: 'simple' }]
			},
			[{ path: '/rules/0/when/keywords/1', message: 'a keyword must not be blank' }],
		],
		[
			'an empty any',
			(doc) => {
				doc.rules = [{ name: 'x', when: { any: [] }, tier: 'simple' }]
			},
			[{ path: '/rules/0/when/any', message: '"any" needs at least one condition' }],
		],
		[
			'a boolean predicate that is not a boolean',
			(doc) => {
				doc.rules = [{ name: 'x', when: { hasTools: 'yes' }, tier: 'simple' }]
			},
			[{ path: '/rules/0/when/hasTools', message: 'Expected boolean' }],
		],
		[
			'an empty rule name',
			(doc) => {
				doc.rules = [{ name: '', when: {}, tier: 'simple' }]
			},
			[{ path: '/rules/0/name', message: '"name" must not be empty' }],
		],
		[
			'a rule without a tier',
			(doc) => {
				doc.rules = [{ name: 'x', when: {} }]
			},
			[{ path: '/rules/0/tier', message: 'missing required field "tier"' }],
		],
		[
			'a misspelt rule field',
			(doc) => {
				doc.rules = [{ name: 'x', enabeld: false, when: {}, tier: 'simple' }]
			},
			[
				{
					path: '/rules/0/enabeld',
					message: 'unknown field "enabeld" in a rule; known fields: name, description, enabled, when, tier',
				},
			],
		],
		[
			'a misspelt top-level field',
			(doc) => {
				doc.defaultTeir = 'x'
			},
			[
				{
					path: '/defaultTeir',
					message:
						'unknown field "defaultTeir"; known fields: $schema, version, baseline, aliases, defaultTier, tiers, rules',
				},
			],
		],
		[
			'an invalid tier name',
			(doc) => {
				doc.tiers['Hard/Core'] = { models: ['gpt-4o'] }
			},
			[
				{
					path: '/tiers/Hard~1Core',
					message:
						'invalid tier name "Hard/Core": it contains "H"; use 1 to 64 lowercase letters, digits, "-" and "_", starting with a letter or digit (it is sent in the x-switchyard-tier header)',
				},
			],
		],
		[
			'no tiers',
			(doc) => {
				doc.tiers = {}
				doc.rules = []
			},
			[
				{ path: '/tiers', message: 'define at least one tier' },
				{ path: '/defaultTier', message: 'unknown tier "medium"; no tiers are defined' },
			],
		],
		[
			'a rule that is not an object',
			(doc) => {
				doc.rules = ['x' as never]
			},
			[{ path: '/rules/0', message: 'Expected object' }],
		],
	])('reports %s', (_, change, expected) => {
		const doc = valid()
		change(doc)
		expect(errorsOf(doc)).toEqual(expected)
	})

	test.each<[string, unknown]>([
		['wrong types everywhere', { version: '1', baseline: 7, defaultTier: [], tiers: [], rules: {} }],
		['null tiers and rules', { tiers: { a: null }, rules: [null, 3, { when: null }] }],
		[
			'malformed conditions',
			{
				tiers: { a: { models: [1, null] } },
				rules: [{ name: 1, tier: 'a', when: { any: 'x', all: [null], not: 5 } }],
			},
		],
		[
			'malformed keywords and ranges',
			{ rules: [{ when: { keywords: [1, ''], promptTokens: { gte: 'x', lte: null } } }] },
		],
		[
			'a prototype-looking tier',
			JSON.parse(
				'{"tiers":{"__proto__":{"models":["gpt-4o"]}},"rules":[{"name":"x","when":{},"tier":"constructor"}]}',
			),
		],
	])('reports errors instead of throwing for %s', (_, doc) => {
		const result = validateRules(doc, catalog)
		expect(result.ok).toBe(false)
	})

	it('reports every error at once, schema and references together', () => {
		const doc = valid()
		doc.version = 3
		doc.tiers.simple = { models: ['nope'] }
		doc.rules = [
			{ name: 'a', when: { hasVideo: true }, tier: 'simple' },
			{ name: 'a', when: { matches: '(' }, tier: 'ghost' },
		]
		expect(errorsOf(doc).map((e) => e.path)).toEqual([
			'/version',
			'/rules/0/when/hasVideo',
			'/tiers/simple/models/0',
			'/rules/1/name',
			'/rules/1/when/matches',
			'/rules/1/tier',
		])
	})
})

describe('validateRules: names sent in headers', () => {
	const RULE_SET = 'use 1 to 64 letters, digits, ".", "_", ":" and "-", starting with a letter or digit'
	const TIER_SET = 'use 1 to 64 lowercase letters, digits, "-" and "_", starting with a letter or digit'
	const ruleName = (shown: string, reason: string) =>
		`invalid rule name ${shown}: ${reason}; ${RULE_SET} (it is sent in the x-switchyard-rule header)`
	const tierName = (shown: string, reason: string) =>
		`invalid tier name ${shown}: ${reason}; ${TIER_SET} (it is sent in the x-switchyard-tier header)`

	test.each<[string, string, string]>([
		[
			'an emoji',
			'fast-🚀',
			'invalid rule name "fast-🚀": it contains "🚀" (U+1F680); use 1 to 64 letters, digits, ".", "_", ":" and "-", starting with a letter or digit (it is sent in the x-switchyard-rule header)',
		],
		[
			'CR/LF',
			'short\r\nX-Admin: 1',
			ruleName('"short\\r\\nX-Admin: 1"', 'it contains a line break (U+000D)'),
		],
		['a lone LF', 'short\nchat', ruleName('"short\\nchat"', 'it contains a line break (U+000A)')],
		['a space', 'short chat', ruleName('"short chat"', 'it contains a space')],
		['a NUL', 'short\u0000', ruleName('"short\\u0000"', 'it contains an invisible character (U+0000)')],
		['an accented letter', 'café', ruleName('"café"', 'it contains "é" (U+00E9)')],
		['a slash', 'a/b', ruleName('"a/b"', 'it contains "/"')],
		['65 characters', 'a'.repeat(65), ruleName(`"${'a'.repeat(65)}"`, 'it is 65 characters long')],
		['a leading hyphen', '-chat', ruleName('"-chat"', 'it starts with "-"')],
		['nothing', '', '"name" must not be empty'],
	])('refuses a rule name with %s, at its path', (_, name, message) => {
		expect(errorsOf(withRule({ name, when: {}, tier: 'simple' }))).toEqual([
			{ path: '/rules/0/name', message },
		])
	})

	test.each<[string, (doc: ReturnType<typeof valid>) => void, RuleError]>([
		[
			'an emoji in a tier name',
			(doc) => {
				doc.tiers['fast-🚀'] = { models: ['gpt-4o'] }
			},
			{ path: '/tiers/fast-🚀', message: tierName('"fast-🚀"', 'it contains "🚀" (U+1F680)') },
		],
		[
			'CR/LF in a tier name',
			(doc) => {
				doc.tiers['fast\r\n'] = { models: ['gpt-4o'] }
			},
			{ path: '/tiers/fast\r\n', message: tierName('"fast\\r\\n"', 'it contains a line break (U+000D)') },
		],
		[
			'a space in a tier name',
			(doc) => {
				doc.tiers['very fast'] = { models: ['gpt-4o'] }
			},
			{ path: '/tiers/very fast', message: tierName('"very fast"', 'it contains a space') },
		],
		[
			'a tier name of 65 characters',
			(doc) => {
				doc.tiers['t'.repeat(65)] = { models: ['gpt-4o'] }
			},
			{
				path: `/tiers/${'t'.repeat(65)}`,
				message: tierName(`"${'t'.repeat(65)}"`, 'it is 65 characters long'),
			},
		],
		[
			'an empty tier name',
			(doc) => {
				doc.tiers[''] = { models: ['gpt-4o'] }
			},
			{ path: '/tiers/', message: tierName('""', 'it is empty') },
		],
		[
			'CR/LF in the default tier, once and not also as unknown',
			(doc) => {
				doc.defaultTier = 'medium\r\n'
			},
			{ path: '/defaultTier', message: tierName('"medium\\r\\n"', 'it contains a line break (U+000D)') },
		],
		[
			'an empty default tier',
			(doc) => {
				doc.defaultTier = ''
			},
			{ path: '/defaultTier', message: '"defaultTier" must not be empty' },
		],
		[
			'an emoji in the tier of a rule, once and not also as unknown',
			(doc) => {
				doc.rules = [{ name: 'x', when: {}, tier: '🚀' }]
			},
			{ path: '/rules/0/tier', message: tierName('"🚀"', 'it contains "🚀" (U+1F680)') },
		],
	])('refuses %s', (_, change, error) => {
		const doc = valid()
		change(doc)
		expect(errorsOf(doc)).toEqual([error])
	})

	test.each<[string, string, string]>([
		['letters, digits, dot, underscore, colon and hyphen', 'Team.v2_short:chat-1', 'simple'],
		['64 characters', `r${'x'.repeat(63)}`, `t${'x'.repeat(63)}`],
		['a single character', 'x', 'x'],
	])('accepts names of %s', (_, name, tier) => {
		const doc = valid()
		doc.tiers[tier] = { models: ['gpt-4o'] }
		doc.rules = [{ name, when: {}, tier }]
		expect(errorsOf(doc)).toEqual([])
	})
})

describe('validateRules: capability check', () => {
	function doc(when: Record<string, unknown>, models: string[], enabled = true) {
		return {
			version: 1,
			baseline: 'full',
			defaultTier: 'simple',
			tiers: { simple: { models } },
			rules: [{ name: 'screenshots', enabled, when, tier: 'simple' }],
		}
	}
	const capErrors = (when: Record<string, unknown>, models: string[], enabled = true) =>
		errorsOf(doc(when, models, enabled), testCatalog)

	test.each<[string, Record<string, unknown>, string[], string[]]>([
		[
			'images to a tier without vision',
			{ hasImages: true },
			['blind', 'plain'],
			['tier "simple" has no model with vision, but rule "screenshots" sends requests with images to it'],
		],
		[
			'tools to a tier without tools',
			{ hasTools: true },
			['toolless'],
			[
				'tier "simple" has no model with tool support, but rule "screenshots" sends requests with tools to it',
			],
		],
		[
			'JSON mode to a tier without it',
			{ jsonMode: true },
			['plain'],
			[
				'tier "simple" has no model with JSON mode, but rule "screenshots" sends requests with JSON mode to it',
			],
		],
		[
			'long prompts to a tier with small windows',
			{ promptTokens: { gte: 200000 } },
			['small'],
			[
				'tier "simple" has no model with a context window of at least 200000 tokens, but rule "screenshots" sends requests with prompts of 200000 or more tokens to it',
			],
		],
		[
			'a requirement inside all',
			{ all: [{ messages: { lte: 3 } }, { all: [{ hasImages: true }] }] },
			['blind'],
			['tier "simple" has no model with vision, but rule "screenshots" sends requests with images to it'],
		],
		[
			'two missing capabilities',
			{ hasImages: true, hasTools: true },
			['plain'],
			[
				'tier "simple" has no model with tool support, but rule "screenshots" sends requests with tools to it',
				'tier "simple" has no model with vision, but rule "screenshots" sends requests with images to it',
			],
		],
		[
			'capabilities that no single model has together',
			{ hasImages: true, hasTools: true },
			['blind', 'toolless'],
			[
				'tier "simple" has no single model with tool support and vision, but rule "screenshots" sends requests with tools and images to it',
			],
		],
		['images to a tier where one model sees', { hasImages: true }, ['blind', 'full'], []],
		['a requirement inside any', { any: [{ hasImages: true }, { hasTools: true }] }, ['blind'], []],
		['a requirement inside not', { not: { hasImages: true } }, ['blind'], []],
		['hasImages false', { hasImages: false }, ['blind'], []],
		['an upper bound on prompt tokens', { promptTokens: { lte: 200000 } }, ['small'], []],
	])('%s', (_, when, models, messages) => {
		expect(capErrors(when, models)).toEqual(messages.map((message) => ({ path: '/rules/0/tier', message })))
	})

	it('skips disabled rules', () => {
		expect(capErrors({ hasImages: true }, ['blind'], false)).toEqual([])
	})
})

describe('default rules', () => {
	it('validate against the shipped catalog', () => {
		expect(errorsOf(defaultRules)).toEqual([])
	})

	test.each<[string, Record<string, unknown>, string, string]>([
		[
			'a short question',
			{ messages: [{ role: 'user', content: 'What is the capital of France?' }] },
			'simple',
			'short-chat',
		],
		[
			'a proof',
			{ messages: [{ role: 'user', content: 'Prove that there are infinitely many primes.' }] },
			'complex',
			'hard-reasoning',
		],
		[
			'a tool call',
			{
				messages: [{ role: 'user', content: 'Weather in Paris?' }],
				tools: [{ type: 'function', function: { name: 'w' } }],
			},
			'medium',
			'uses-tools',
		],
		[
			'an image',
			{
				messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'https://x/y.png' } }] }],
			},
			'medium',
			'has-images',
		],
		[
			'a translation of a page',
			{
				messages: [
					{ role: 'user', content: `Translate to German:\n${'Lorem ipsum dolor sit amet. '.repeat(300)}` },
				],
			},
			'simple',
			'light-tasks',
		],
		[
			'a short code question',
			{ messages: [{ role: 'user', content: 'Why does this fail?\n```js\nx()\n```' }] },
			'medium',
			'default',
		],
		[
			'a huge prompt',
			{ messages: [{ role: 'user', content: 'x '.repeat(250_000) }] },
			'complex',
			'long-context',
		],
	])('send %s to the %s tier', (_, body, tier, rule) => {
		const result = validateRules(defaultRules, catalog)
		if (!result.ok) throw new Error('default rules are invalid')
		const { features, text } = extractFeatures(body)
		expect(compileRules(result.document).classify(features, text)).toEqual({ tier, rule })
	})

	it('describe every rule and tier', () => {
		expect(defaultRules.rules.filter((rule) => !rule.description)).toEqual([])
		expect(Object.values(defaultRules.tiers).filter((tier) => !tier.description)).toEqual([])
	})
})

describe('rulesJsonSchema', () => {
	it('is plain JSON with the recursive condition under definitions', () => {
		const schema = rulesJsonSchema()
		expect(JSON.parse(JSON.stringify(schema))).toEqual(schema)
		expect(schema.$schema).toBe('http://json-schema.org/draft-07/schema#')
		expect(Object.keys(schema.definitions as object).sort()).toEqual(['Range', 'When'])
		const text = JSON.stringify(schema)
		expect(text).not.toContain('"$id"')
		expect(text).not.toContain('"$ref":"When"')
		expect(text).toContain('"$ref":"#/definitions/When"')
	})
})

import { describe, expect, it } from 'bun:test'
import { writeFileSync } from 'node:fs'
import type { RulesDocument } from '../../src/rules/schema'
import { makeApp, signupUser } from '../helpers/app'
import { errorsLoggedDuring } from '../helpers/console'
import { startGateway } from '../helpers/gateway'
import { until } from '../helpers/until'

const RULES: RulesDocument = {
	version: 1,
	baseline: 'openai/gpt-4o',
	defaultTier: 'medium',
	tiers: {
		simple: { models: ['openai/gpt-4o-mini', 'anthropic/claude-haiku-4-5'] },
		medium: { models: ['anthropic/claude-sonnet-5-5', 'openai/gpt-4o'] },
		complex: { models: ['openai/gpt-6.2-sol', 'anthropic/claude-opus-5-5'] },
	},
	rules: [
		{ name: 'long-context', when: { promptTokens: { gte: 8000 } }, tier: 'complex' },
		{ name: 'hard-words', when: { keywords: ['prove', 'refactor', 'step by step'] }, tier: 'complex' },
		{ name: 'short-chat', when: { promptTokens: { lte: 300 }, messages: { lte: 4 } }, tier: 'simple' },
	],
}

async function adminApp(env: Record<string, string> = {}) {
	const t = await makeApp(env)
	const admin = await signupUser(t, 'admin@example.com')
	const dev = await signupUser(t, 'dev@example.com')
	return { t, admin: admin.token, dev: dev.token }
}

describe('rules API', () => {
	it('serves the live document to admins, 403 to developers and 401 to strangers', async () => {
		const { t, admin, dev } = await adminApp()
		await using _ = t
		const live = await t.call('GET', '/api/rules', { token: admin })
		expect(live.status).toBe(200)
		expect(await live.json()).toEqual(t.deps.rules.current().compiled.document)
		for (const [method, path] of [
			['GET', '/api/rules'],
			['PUT', '/api/rules'],
			['GET', '/api/rules/history'],
			['POST', '/api/rules/history/1/restore'],
			['POST', '/api/rules/test'],
			['POST', '/api/rules/simulate'],
			['GET', '/rules'],
		] as const) {
			expect(
				(await t.call(method, path, { token: dev, body: method === 'GET' ? undefined : {} })).status,
			).toBe(403)
			expect((await t.call(method, path)).status).toBe(401)
		}
	})

	it('publishes the JSON Schema of the document', async () => {
		await using t = await makeApp()
		const schema = (await (await t.call('GET', '/api/rules/schema')).json()) as {
			properties: Record<string, unknown>
		}
		expect(Object.keys(schema.properties)).toEqual(
			expect.arrayContaining(['version', 'baseline', 'tiers', 'rules']),
		)
	})

	it('saves a valid document atomically as a new revision that takes effect at once', async () => {
		const { t, admin } = await adminApp()
		await using _ = t
		const res = await t.call('PUT', '/api/rules', { token: admin, body: RULES })
		expect(res.status).toBe(200)
		const { revision } = (await res.json()) as { revision: number }
		expect(revision).toBe(2)
		expect((await t.deps.rules.history(1))[0]?.rules).toEqual(RULES)
		expect(t.deps.rules.current()).toMatchObject({ revision: 2 })
		expect(t.deps.rules.current().compiled.document).toEqual(RULES)
		const history = (await (await t.call('GET', '/api/rules/history', { token: admin })).json()) as Record<
			string,
			unknown
		>[]
		expect(history.map((h) => [h.revision, h.author])).toEqual([
			[2, 'admin@example.com'],
			[1, 'defaults'],
		])
		expect(history[0]?.rules).toEqual(RULES)
	})

	it('refuses an invalid document with every error and its path, saving nothing', async () => {
		const { t, admin } = await adminApp()
		await using _ = t
		const before = t.deps.rules.current()
		const invalid = {
			...RULES,
			defaultTier: 'nowhere',
			tiers: { ...RULES.tiers, empty: { models: [] }, simple: { models: ['openai/gpt-99'] } },
			rules: [
				{ name: 'dup', when: { matches: '([' }, tier: 'simple' },
				{ name: 'dup', when: { hasVideo: true }, tier: 'ghost' },
			],
		}
		const res = await t.call('PUT', '/api/rules', { token: admin, body: invalid })
		expect(res.status).toBe(400)
		const { errors } = (await res.json()) as { errors: { path: string; message: string }[] }
		expect(errors).toEqual([
			{ path: '/tiers/empty/models', message: 'tier "empty" has no models' },
			{
				path: '/rules/1/when/hasVideo',
				message:
					'unknown predicate "hasVideo"; known predicates: promptTokens, messages, maxTokens, hasTools, hasImages, jsonMode, keywords, matches, system, any, all, not',
			},
			{ path: '/defaultTier', message: 'unknown tier "nowhere"; tiers: simple, medium, complex, empty' },
			{ path: '/tiers/simple/models/0', message: 'unknown model "openai/gpt-99": it is not in the catalog' },
			// The rest of the message is the JavaScript engine's own.
			{ path: '/rules/0/when/matches', message: expect.stringMatching(/^invalid regular expression: /) },
			{ path: '/rules/1/name', message: 'duplicate rule name "dup" (first used at /rules/0)' },
			{ path: '/rules/1/tier', message: 'unknown tier "ghost"; tiers: simple, medium, complex, empty' },
		])
		expect(t.deps.rules.current()).toBe(before)
		expect((await t.deps.rules.history(1))[0]?.revision).toBe(before.revision)
		expect(t.deps.rules.current().revision).toBe(1)
	})

	it('refuses rules whose tier can never serve what the rule sends there', async () => {
		const { t, admin } = await adminApp()
		await using _ = t
		const res = await t.call('PUT', '/api/rules', {
			token: admin,
			body: {
				...RULES,
				tiers: { ...RULES.tiers, text: { models: ['groq/openai/gpt-oss-20b'] } },
				rules: [{ name: 'screenshots', when: { hasImages: true }, tier: 'text' }],
			},
		})
		expect(res.status).toBe(400)
		const { errors } = (await res.json()) as { errors: { path: string; message: string }[] }
		expect(errors).toEqual([{ path: '/rules/0/tier', message: expect.stringContaining('vision') }])
	})

	it('refuses rule and tier names that cannot be sent in a header, saving nothing', async () => {
		const { t, admin } = await adminApp()
		await using _ = t
		const before = t.deps.rules.current()
		const res = await t.call('PUT', '/api/rules', {
			token: admin,
			body: {
				...RULES,
				tiers: { ...RULES.tiers, 'fast 🚀': { models: ['openai/gpt-4o-mini'] } },
				rules: [{ name: 'short-chat\r\nX-Admin: 1', when: {}, tier: 'simple' }],
			},
		})
		expect(res.status).toBe(400)
		expect(await res.json()).toMatchObject({
			errors: [
				{ path: '/tiers/fast 🚀', message: expect.stringContaining('invalid tier name "fast 🚀"') },
				{
					path: '/rules/0/name',
					message: expect.stringContaining('invalid rule name "short-chat\\r\\nX-Admin: 1"'),
				},
			],
		})
		expect(t.deps.rules.current()).toBe(before)
		expect((await t.deps.rules.history(1))[0]?.revision).toBe(before.revision)
		expect(t.deps.rules.current().revision).toBe(1)
	})

	it('restores an old revision as a new one in one call', async () => {
		const { t, admin } = await adminApp()
		await using _ = t
		const original = t.deps.rules.current().compiled.document
		await t.call('PUT', '/api/rules', { token: admin, body: RULES })
		const res = await t.call('POST', '/api/rules/history/1/restore', { token: admin })
		expect(await res.json()).toEqual({ revision: 3 })
		expect(t.deps.rules.current().compiled.document).toEqual(original)
		expect((await t.deps.rules.history(1))[0]?.rules).toEqual(original)
		expect((await t.call('POST', '/api/rules/history/99/restore', { token: admin })).status).toBe(404)
	})
})

describe('editing RULES_PATH by hand', () => {
	it('takes effect without a restart and becomes a revision', async () => {
		await using t = await makeApp({}, { backend: 'sqlite' })
		t.deps.rules.watch()
		writeFileSync(t.deps.config.rulesPath, JSON.stringify(RULES))
		await until(() => t.deps.rules.current().revision === 2, 2000)
		expect(t.deps.rules.current().compiled.document).toEqual(RULES)
		expect((await t.deps.rules.history())[0]).toMatchObject({
			revision: 2,
			author: 'rules file',
			source: 'file',
		})
	})

	it('refuses an invalid edit with a logged error naming each path, keeping the last valid rules', async () => {
		await using t = await makeApp({}, { backend: 'sqlite' })
		const live = t.deps.rules.current()
		const logged = await errorsLoggedDuring(async () => {
			writeFileSync(
				t.deps.config.rulesPath,
				JSON.stringify({ ...RULES, defaultTier: 'nowhere', rules: [{ name: 'x', when: {}, tier: 'ghost' }] }),
			)
			expect(await t.deps.rules.reloadIfChanged()).toBe('refused')
			writeFileSync(t.deps.config.rulesPath, '{ not json')
			expect(await t.deps.rules.reloadIfChanged()).toBe('refused')
		})
		expect(t.deps.rules.current()).toBe(live)
		expect(logged[0]).toContain('/defaultTier')
		expect(logged[0]).toContain('/rules/0/tier')
		expect(logged[1]).toContain('not valid JSON')
	})

	it('refuses a hand edit with a name that cannot be sent in a header, on one log line per problem', async () => {
		await using t = await makeApp({}, { backend: 'sqlite' })
		const live = t.deps.rules.current()
		const logged = await errorsLoggedDuring(async () => {
			writeFileSync(
				t.deps.config.rulesPath,
				JSON.stringify({
					...RULES,
					tiers: { ...RULES.tiers, 'x\ny': { models: ['openai/gpt-4o'] } },
					rules: [{ name: 'chat 🚀', when: {}, tier: 'simple' }],
				}),
			)
			expect(await t.deps.rules.reloadIfChanged()).toBe('refused')
		})
		expect(t.deps.rules.current()).toBe(live)
		expect(logged[0]?.split('\n')).toEqual([
			`rules: refused the edit of ${t.deps.config.rulesPath}:`,
			expect.stringMatching(/^ {2}\/tiers\/x\\u000ay: invalid tier name "x\\ny": it contains a line break/),
			expect.stringMatching(/^ {2}\/rules\/0\/name: invalid rule name "chat 🚀": it contains a space/),
			'The last valid rules stay in force.',
		])
	})
})

describe('model "auto"', () => {
	it('routes by the rules through the OpenAI SDK, with tier and rule headers and a logged decision', async () => {
		await using g = await startGateway()
		await g.t.deps.rules.save(RULES, { id: 1, email: 'admin@example.com' })
		const short = await g.openai.chat.completions
			.create({ model: 'auto', messages: [{ role: 'user', content: 'Hi!' }] })
			.withResponse()
		expect(short.data.model).toBe('gpt-4o-mini')
		expect(short.response.headers.get('x-switchyard-tier')).toBe('simple')
		expect(short.response.headers.get('x-switchyard-rule')).toBe('short-chat')
		const hard = await g.openai.chat.completions
			.create({
				model: 'auto',
				messages: [{ role: 'user', content: 'Please prove that there are infinitely many primes.' }],
			})
			.withResponse()
		expect(hard.response.headers.get('x-switchyard-tier')).toBe('complex')
		expect(hard.response.headers.get('x-switchyard-rule')).toBe('hard-words')
		expect(hard.data.model).toBe('gpt-6.2-sol')
		const fallthrough = await g.openai.chat.completions
			.create({
				model: 'auto',
				messages: Array.from({ length: 6 }, () => ({ role: 'user' as const, content: 'more' })),
			})
			.withResponse()
		expect(fallthrough.response.headers.get('x-switchyard-rule')).toBe('default')
		expect(fallthrough.data.model).toBe('claude-sonnet-5-5')
		expect(g.upstream.requests.map((r) => r.body.model)).toEqual([
			'gpt-4o-mini',
			'gpt-6.2-sol',
			'claude-sonnet-5-5',
		])
		const rows = await g.rows()
		expect(rows.map((r) => [r.requestedModel, r.tier, r.rule, r.rulesRevision])).toEqual([
			['auto', 'simple', 'short-chat', 2],
			['auto', 'complex', 'hard-words', 2],
			['auto', 'medium', 'default', 2],
		])
		expect(rows[0]?.features).toMatchObject({ messages: 1, hasTools: false })
	})

	it('falls back to the next model of the tier when the first one fails', async () => {
		await using g = await startGateway()
		await g.t.deps.rules.save(RULES, { id: 1, email: 'admin@example.com' })
		g.upstream.script('gpt-4o-mini', { kind: 'error', status: 503 })
		const { data, response } = await g.openai.chat.completions
			.create({ model: 'auto', messages: [{ role: 'user', content: 'Hi!' }] })
			.withResponse()
		expect(data.model).toBe('claude-haiku-4-5')
		expect(response.headers.get('x-switchyard-attempts')).toBe('2')
		expect(response.headers.get('x-switchyard-model')).toBe('anthropic/claude-haiku-4-5')
		expect((await g.rows())[0]?.attempts).toEqual([
			{
				model: 'openai/gpt-4o-mini',
				provider: 'openai',
				status: 503,
				latencyMs: expect.any(Number),
				// OpenAI's message for a 503.
				error: 'The server had an error while processing your request. Sorry about that!',
			},
			{
				model: 'anthropic/claude-haiku-4-5',
				provider: 'anthropic',
				status: 200,
				latencyMs: expect.any(Number),
			},
		])
	})

	it('skips a candidate that cannot serve the request, and one without a key', async () => {
		await using g = await startGateway({ OPENAI_API_KEY: '' })
		await g.t.deps.rules.save(RULES, { id: 1, email: 'admin@example.com' })
		const res = await g.openai.chat.completions
			.create({
				model: 'auto',
				messages: [{ role: 'user', content: 'Refactor this please.' }],
				tools: [{ type: 'function', function: { name: 'f', parameters: { type: 'object' } } }],
			})
			.withResponse()
		expect(res.data.model).toBe('claude-opus-5-5')
		expect(g.upstream.requests).toHaveLength(1)
		const simple = await g.openai.chat.completions.create({
			model: 'auto',
			messages: [{ role: 'user', content: 'Hi' }],
		})
		expect(simple.model).toBe('claude-haiku-4-5')
	})

	it('answers 400 naming why when no model of the tier can serve the request', async () => {
		await using g = await startGateway()
		await g.t.deps.rules.save(
			{ ...RULES, defaultTier: 'small', tiers: { small: { models: ['openai/gpt-4o-mini'] } }, rules: [] },
			{ id: 1, email: 'admin@example.com' },
		)
		const res = await g.fetch('/chat/completions', {
			method: 'POST',
			body: JSON.stringify({ model: 'auto', messages: [{ role: 'user', content: 'word '.repeat(120_000) }] }),
		})
		expect(res.status).toBe(400)
		const { error } = (await res.json()) as { error: { code: string; message: string } }
		expect(error.code).toBe('no_capable_model')
		expect(error.message).toContain('openai/gpt-4o-mini: context window 128000 is smaller than the prompt')
		expect(g.upstream.requests).toEqual([])
	})
})

describe('POST /api/rules/test', () => {
	it('explains the decision: tier, rule, candidates (with missing keys), features and failed predicates', async () => {
		const { t, admin } = await adminApp({ ANTHROPIC_API_KEY: 'sk-ant-test' })
		await using _ = t
		const request = { model: 'auto', messages: [{ role: 'user', content: 'Hi' }] }
		const res = await t.call('POST', '/api/rules/test', { token: admin, body: { request, rules: RULES } })
		expect(res.status).toBe(200)
		expect(await res.json()).toEqual({
			tier: 'simple',
			rule: 'short-chat',
			candidates: [
				{ model: 'openai/gpt-4o-mini', provider: 'openai', skipped: 'no openai key' },
				{ model: 'anthropic/claude-haiku-4-5', provider: 'anthropic' },
			],
			wouldCall: 'anthropic/claude-haiku-4-5',
			features: {
				// "Hi": 2 characters / 4, rounded up, + 4 for its message = 5.
				promptTokens: 5,
				messages: 1,
				hasTools: false,
				hasImages: false,
				jsonMode: false,
				maxTokens: null,
			},
			explanation: [
				{ name: 'long-context', outcome: 'failed', reason: 'promptTokens 5 is not >= 8000' },
				{
					name: 'hard-words',
					outcome: 'failed',
					reason: 'keywords: none of "prove", "refactor", "step by step" in the last user message',
				},
				{ name: 'short-chat', outcome: 'matched', reason: 'promptTokens 5 is <= 300; messages 1 is <= 4' },
			],
		})
	})

	it('answers 400 with errors for invalid proposed rules, and 400 naming the field for a bad request', async () => {
		const { t, admin } = await adminApp()
		await using _ = t
		const invalid = await t.call('POST', '/api/rules/test', {
			token: admin,
			body: { request: { model: 'auto', messages: [{ role: 'user', content: 'x' }] }, rules: { version: 2 } },
		})
		expect(invalid.status).toBe(400)
		expect(((await invalid.json()) as { errors: unknown[] }).errors).toEqual([
			{ path: '/defaultTier', message: 'missing required field "defaultTier"' },
			{ path: '/tiers', message: 'missing required field "tiers"' },
			{ path: '/rules', message: 'missing required field "rules"' },
			{ path: '/version', message: 'unsupported version 2; the only version is 1' },
		])
		const badRequest = await t.call('POST', '/api/rules/test', {
			token: admin,
			body: { request: { model: 'auto', messages: [] } },
		})
		expect(badRequest.status).toBe(400)
		expect(((await badRequest.json()) as { error: { param: string } }).error.param).toBe('request.messages')
	})
})

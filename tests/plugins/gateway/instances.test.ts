import { describe, expect, it } from 'bun:test'
import OpenAI from 'openai'
import { microsOf, worstCaseUsd } from '../../../src/gateway/admission'
import { extractFeatures } from '../../../src/rules/features'
import { makeApp, type TestApp } from '../../helpers/app'
import { slowAnswers } from '../../helpers/budgets'
import { type GatewayHarness, startGateway } from '../../helpers/gateway'
import { SUITE_BACKEND } from '../../helpers/stores'
import { until } from '../../helpers/until'

const hello = [{ role: 'user' as const, content: 'Say hello' }]

/** A second instance of g's deployment on the same PostgreSQL schema, listening on its own port. */
async function secondInstance(g: GatewayHarness): Promise<{ t: TestApp; baseURL: string }> {
	const t = await makeApp(
		{
			OPENAI_BASE_URL: g.upstream.openaiBaseUrl,
			ANTHROPIC_BASE_URL: g.upstream.anthropicBaseUrl,
			OPENAI_API_KEY: 'sk-openai-test',
			ANTHROPIC_API_KEY: 'sk-ant-test',
		},
		{ joining: g.t },
	)
	const server = t.app.listen({ port: 0, hostname: '127.0.0.1' }).server
	if (!server) throw new Error('the second instance did not start')
	return { t, baseURL: `http://127.0.0.1:${server.port}/v1` }
}

describe('two instances on one PostgreSQL database', () => {
	if (SUITE_BACKEND !== 'postgres') return

	it('share a key’s rate limit: N instances allow the limit, not N times it', async () => {
		await using g = await startGateway()
		const second = await secondInstance(g)
		await using _ = second.t
		const created = await g.t.call('POST', '/api/keys', {
			token: g.token,
			body: { name: 'limited', rateLimitPerMinute: 5 },
		})
		const { key } = (await created.json()) as { key: string }
		const clients = [g.baseURL, second.baseURL].map(
			(baseURL) => new OpenAI({ apiKey: key, baseURL, maxRetries: 0 }),
		)
		const outcomes = await Promise.all(
			Array.from({ length: 12 }, (_, i) =>
				clients[i % 2]?.chat.completions
					.create({ model: 'gpt-4o-mini', messages: hello })
					.then(() => 200)
					.catch((error: { status?: number; headers?: Headers }) => {
						expect(error.headers?.get('retry-after')).toBe('12')
						return error.status
					}),
			),
		)
		expect(outcomes.filter((status) => status === 200)).toHaveLength(5)
		expect(outcomes.filter((status) => status === 429)).toHaveLength(7)
	})

	it('see a key revoked, a session ended and rules saved on the other instance', async () => {
		await using g = await startGateway()
		const second = await secondInstance(g)
		await using _ = second.t
		const other = new OpenAI({ apiKey: g.key, baseURL: second.baseURL, maxRetries: 0 })
		expect((await other.chat.completions.create({ model: 'gpt-4o-mini', messages: hello })).model).toBe(
			'gpt-4o-mini',
		)

		// A session started on one instance is good on the other, and a logout on either ends it on both.
		expect((await second.t.call('GET', '/api/me', { token: g.token })).status).toBe(200)
		await g.t.call('POST', '/api/auth/logout', { token: g.token })
		expect((await second.t.call('GET', '/api/me', { token: g.token })).status).toBe(401)

		const { token } = (await (
			await g.t.call('POST', '/api/auth/login', {
				body: { email: 'dev@example.com', password: 'correct horse' },
			})
		).json()) as { token: string }
		const live = (await (await g.t.call('GET', '/api/rules', { token })).json()) as Record<string, unknown>
		const saved = await g.t.call('PUT', '/api/rules', {
			token,
			body: { ...live, defaultTier: 'mini', tiers: { mini: { models: ['openai/gpt-4o-mini'] } }, rules: [] },
		})
		const { revision } = (await saved.json()) as { revision: number }
		await until(() => second.t.deps.rules.current().revision === revision, 1000)
		await until(async () => {
			const listed = (await (await second.t.call('GET', '/api/instances', { token })).json()) as {
				rulesRevision: number
			}[]
			return listed.length === 2 && listed.every((instance) => instance.rulesRevision === revision)
		}, 1000)
		const routed = await other.chat.completions.create({ model: 'auto', messages: hello })
		expect(routed.model).toBe('gpt-4o-mini')

		const [keyView] = await second.t.deps.gatewayKeys.list(g.userId)
		await second.t.call('DELETE', `/api/keys/${keyView?.id}`, { token })
		const mine = new OpenAI({ apiKey: g.key, baseURL: g.baseURL, maxRetries: 0 })
		await until(
			() =>
				mine.chat.completions
					.create({ model: 'gpt-4o-mini', messages: hello })
					.then(() => false)
					.catch((error: { status?: number }) => error.status === 401),
			1000,
		)
	})

	it('hold a budget together: 200 requests over two instances never spend past it', async () => {
		await using g = await startGateway()
		const second = await secondInstance(g)
		await using _ = second.t
		const body = { model: 'gpt-4o-mini', max_tokens: 1000, messages: hello }
		const model = g.t.deps.catalog.model('gpt-4o-mini')
		if (!model) throw new Error('gpt-4o-mini is not in the catalog')
		const perRequest = microsOf(worstCaseUsd([model], extractFeatures(body).features, null))
		const [key] = await g.t.deps.gatewayKeys.list(g.userId)
		if (!key) throw new Error('no key')
		const patched = await g.t.call('PATCH', `/api/keys/${key.id}`, {
			token: g.token,
			body: { budgets: [{ window: 'day', usd: (perRequest * 20) / 1_000_000 }] },
		})
		expect(patched.status).toBe(200)
		slowAnswers(g, 'gpt-4o-mini')
		const origins = [g.baseURL, second.baseURL]
		const answers = await Promise.all(
			Array.from({ length: 200 }, (_, i) =>
				fetch(`${origins[i % 2]}/chat/completions`, {
					method: 'POST',
					headers: { authorization: `Bearer ${g.key}`, 'content-type': 'application/json' },
					body: JSON.stringify(body),
				}),
			),
		)
		const statuses = answers.map((res) => res.status)
		expect(statuses.filter((status) => status === 200)).toHaveLength(20)
		expect(statuses.filter((status) => status === 429)).toHaveLength(180)
		await Promise.all(answers.map((res) => res.text()))
		const [budget] = await g.t.deps.budgets.list({ scope: 'key' })
		if (!budget) throw new Error('no budget')
		await until(async () => (await g.t.deps.budgets.status(budget)).reservedMicros === 0, 3000)
		const status = await g.t.deps.budgets.status(budget)
		expect(status.spentMicros).toBeGreaterThan(0)
		expect(status.spentMicros).toBeLessThanOrEqual(status.limitMicros)
	})
})

import { describe, expect, it } from 'bun:test'
import Anthropic from '@anthropic-ai/sdk'
import { microsOf, worstCaseUsd } from '../../../src/gateway/admission'
import { extractFeatures } from '../../../src/rules/features'
import { keyBudget, slowAnswers } from '../../helpers/budgets'
import { type GatewayHarness, startGateway } from '../../helpers/gateway'
import { until } from '../../helpers/until'

const body = { model: 'gpt-4o-mini', max_tokens: 1000, messages: [{ role: 'user' as const, content: 'hi' }] }

/** What one request of `body` reserves: its worst case on gpt-4o-mini, in micro-dollars. */
function reservedPerRequest(g: GatewayHarness) {
	const model = g.t.deps.catalog.model('gpt-4o-mini')
	if (!model) throw new Error('gpt-4o-mini is not in the catalog')
	return microsOf(worstCaseUsd([model], extractFeatures(body).features, null))
}

const post = (g: GatewayHarness, extra: Record<string, unknown> = {}) =>
	g.fetch('/chat/completions', { method: 'POST', body: JSON.stringify({ ...body, ...extra }) })

/** The budget's usage once every reservation has settled. */
async function settled(g: GatewayHarness, budgetId: number) {
	const [budget] = await g.t.deps.budgets.list({ scope: 'key' })
	if (!budget || budget.id !== budgetId) throw new Error('budget gone')
	let status = await g.t.deps.budgets.status(budget)
	await until(async () => {
		status = await g.t.deps.budgets.status(budget)
		return status.reservedMicros === 0
	}, 3000)
	return status
}

describe('budgets hold under concurrency', () => {
	it('lets exactly the requests that fit through, 200 at once, and never spends past the budget', async () => {
		await using g = await startGateway()
		const perRequest = reservedPerRequest(g)
		const budget = await keyBudget(g, perRequest * 20)
		slowAnswers(g, 'gpt-4o-mini')
		const answers = await Promise.all(Array.from({ length: 200 }, () => post(g)))
		const statuses = answers.map((res) => res.status)
		expect(statuses.filter((status) => status === 200)).toHaveLength(20)
		expect(statuses.filter((status) => status === 429)).toHaveLength(180)
		const refused = answers.find((res) => res.status === 429)
		if (!refused) throw new Error('nothing was refused')
		expect(refused.headers.get('x-should-retry')).toBe('false')
		expect(refused.headers.get('retry-after')).toMatch(/^\d+$/)
		const { error } = (await refused.json()) as { error: { code: string; type: string; message: string } }
		expect(error.code).toBe('budget_exceeded')
		expect(error.type).toBe('rate_limit_error')
		expect(error.message).toMatch(
			/^Budget exceeded: this key's dayly budget|^Budget exceeded: this key's daily budget/,
		)
		await Promise.all(answers.map((res) => res.text().catch(() => '')))

		const status = await settled(g, budget.id)
		const costs = answers
			.filter((res) => res.status === 200)
			.reduce((sum, res) => sum + microsOf(Number(res.headers.get('x-switchyard-cost-usd'))), 0)
		expect(status.spentMicros).toBe(costs)
		expect(status.spentMicros).toBeLessThanOrEqual(status.limitMicros)
		// Refusals are logged like every other request.
		const rows = await g.rows()
		expect(rows.filter((row) => row.status === 429 && row.errorType === 'rate_limit_error')).toHaveLength(180)
	})

	it('releases the reservation of a request whose upstream failed, and of a client that left mid-stream', async () => {
		await using g = await startGateway()
		const perRequest = reservedPerRequest(g)
		const budget = await keyBudget(g, perRequest * 2)
		g.upstream.script('gpt-4o-mini', { kind: 'error', status: 400, message: 'bad request' })
		expect((await post(g)).status).toBe(400)
		g.upstream.script('gpt-4o-mini', { kind: 'slow', firstByteMs: 0, chunkMs: 200 })
		const streaming = await post(g, { stream: true })
		const reader = streaming.body?.getReader()
		await reader?.read()
		await reader?.cancel()
		const status = await settled(g, budget.id)
		expect(status.reservedMicros).toBe(0)
		// Nothing stays held: two more requests fit at once, as they did before.
		expect(status.spentMicros).toBeLessThan(perRequest)
		const again = await Promise.all([post(g), post(g)])
		expect(again.map((res) => res.status)).toEqual([200, 200])
	})

	it('counts an answer without usage at its whole reservation, never at $0', async () => {
		await using g = await startGateway()
		const perRequest = reservedPerRequest(g)
		const budget = await keyBudget(g, perRequest * 10)
		g.upstream.script('gpt-4o-mini', { kind: 'reply', omitUsage: true })
		const res = await post(g)
		expect(res.status).toBe(200)
		await res.text()
		const status = await settled(g, budget.id)
		expect(status.spentMicros).toBe(perRequest)
	})

	it('refuses in the door’s own shape: Anthropic’s for /v1/messages', async () => {
		await using g = await startGateway()
		await keyBudget(g, 0, 'total')
		const anthropic = new Anthropic({ apiKey: g.key, baseURL: g.baseURL.replace(/\/v1$/, ''), maxRetries: 3 })
		const failed = await anthropic.messages
			.create({
				model: 'anthropic/claude-haiku-5-5',
				max_tokens: 100,
				messages: [{ role: 'user', content: 'hi' }],
			})
			.catch((error) => error)
		expect(failed).toBeInstanceOf(Anthropic.RateLimitError)
		expect(failed.error).toMatchObject({
			type: 'error',
			error: { type: 'rate_limit_error', details: { error_code: 'budget_exceeded' } },
		})
		// x-should-retry: false kept the SDK from retrying: one request reached the gateway, none the upstream.
		expect((await g.rows()).length).toBe(1)
		expect(g.upstream.requests).toHaveLength(0)
	})

	it('costs nothing to a key without a budget', async () => {
		await using g = await startGateway()
		expect((await post(g)).status).toBe(200)
		expect(await g.t.deps.budgets.applicable({ keyId: 1, userId: g.userId })).toEqual([])
	})
})

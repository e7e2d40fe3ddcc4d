import { describe, expect, it } from 'bun:test'
import { startGateway } from '../helpers/gateway'

// Savings are routing's: the hand-computed fixture below mixes routed and explicit requests.
describe('savings', () => {
	it('count only routed requests, against the strongest tier’s first model by default', async () => {
		await using g = await startGateway()
		const rules = {
			version: 1,
			defaultTier: 'cheap',
			tiers: { cheap: { models: ['openai/gpt-4o-mini'] }, strong: { models: ['openai/gpt-4o'] } },
			rules: [],
		}
		expect((await g.t.call('PUT', '/api/rules', { token: g.token, body: rules })).status).toBe(200)
		g.upstream.script('gpt-4o-mini', { kind: 'reply', usage: { prompt: 1000, completion: 200 } })
		g.upstream.script('gpt-4o-mini', { kind: 'reply', usage: { prompt: 100_000, completion: 100 } })
		g.upstream.script('gpt-4o', { kind: 'reply', usage: { prompt: 2000, completion: 500 } })
		const messages = [{ role: 'user' as const, content: 'hello' }]
		await g.openai.chat.completions.create({ model: 'auto', messages })
		await g.openai.chat.completions.create({ model: 'gpt-4o-mini', messages })
		await g.openai.chat.completions.create({ model: 'gpt-4o', messages })

		// Per million tokens, gpt-4o-mini $0.15 in / $0.60 out, gpt-4o $2.50 / $10 (the reference: the
		// strong tier's first model has the higher list price).
		// routed to gpt-4o-mini: (1000 × 0.15 + 200 × 0.60) / 1M = $0.00027; at gpt-4o (1000 × 2.5 + 200 × 10) / 1M = $0.0045
		// explicit gpt-4o-mini: (100000 × 0.15 + 100 × 0.60) / 1M = $0.01506, no saving
		// explicit gpt-4o: (2000 × 2.5 + 500 × 10) / 1M = $0.01, no saving
		const rows = await g.rows()
		const expected = [
			['cheap', 0.00027, 0.0045],
			[null, 0.01506, 0.01506],
			[null, 0.01, 0.01],
		] as const
		expect(rows.map((row) => row.tier)).toEqual(expected.map(([tier]) => tier))
		rows.forEach((row, i) => {
			expect(row.costUsd).toBeCloseTo(expected[i]?.[1] ?? Number.NaN, 12)
			expect(row.baselineCostUsd).toBeCloseTo(expected[i]?.[2] ?? Number.NaN, 12)
		})
		const overview = (await (
			await g.t.call('GET', '/api/analytics/overview', { token: g.token })
		).json()) as {
			costUsd: number
			baselineCostUsd: number
			savingsUsd: number
		}
		expect(overview).toMatchObject({ costUsd: 0.02533, baselineCostUsd: 0.02956, savingsUsd: 0.00423 })
		const page = await (await g.t.call('GET', '/', { token: g.token })).text()
		// 0.00423 / 0.02956 = 14.3 %; the reference is named next to the figure and in its definition.
		expect(page).toContain('of $0.0296 without routing · vs openai/gpt-4o</div>')
		expect(page).toContain(
			'title="Routed (auto) requests only: what their tokens would have cost at openai/gpt-4o',
		)
	})

	it('are measured against the model the rules name as their baseline', async () => {
		await using g = await startGateway()
		const rules = {
			version: 1,
			baseline: 'openai/gpt-4o',
			defaultTier: 'only',
			tiers: { only: { models: ['openai/gpt-4o-mini'] } },
			rules: [],
		}
		expect((await g.t.call('PUT', '/api/rules', { token: g.token, body: rules })).status).toBe(200)
		g.upstream.script('gpt-4o-mini', { kind: 'reply', usage: { prompt: 1000, completion: 200 } })
		await g.openai.chat.completions.create({ model: 'auto', messages: [{ role: 'user', content: 'hi' }] })
		const [row] = await g.rows()
		// As above: $0.00027 at gpt-4o-mini, $0.0045 at the named gpt-4o.
		expect([row?.costUsd, row?.baselineCostUsd]).toEqual([0.00027, 0.0045])
	})
})

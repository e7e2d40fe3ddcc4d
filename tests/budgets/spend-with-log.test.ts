import type { Database } from 'bun:sqlite'
import { describe, expect, it, spyOn } from 'bun:test'
import { microsOf } from '../../src/gateway/admission'
import { keyBudget } from '../helpers/budgets'
import { type GatewayHarness, startGateway } from '../helpers/gateway'
import { until } from '../helpers/until'

// On SQLite a settled cost is counted in memory at once and written by the request log's writer thread,
// in the transaction of the batch that holds its request's row (docs/architecture.md, "Budgets").

const body = { model: 'gpt-4o-mini', max_tokens: 100, messages: [{ role: 'user' as const, content: 'hi' }] }

function sqliteOf(g: GatewayHarness): Database {
	if (!g.t.deps.sqlite) throw new Error('these tests need an app on SQLite')
	return g.t.deps.sqlite
}

/** The budget's spent amount on disk, as a restart would read it. */
const spentOnDisk = (g: GatewayHarness, budgetId: number) =>
	sqliteOf(g)
		.query<{ spent: number }, [number]>(
			'SELECT sum(spent_micros) AS spent FROM budget_usage WHERE budget_id = ?',
		)
		.get(budgetId)?.spent ?? 0

const rowsOnDisk = (g: GatewayHarness) =>
	sqliteOf(g).query<{ n: number }, []>('SELECT count(*) AS n FROM request_log').get()?.n ?? 0

const post = (g: GatewayHarness) =>
	g.fetch('/chat/completions', { method: 'POST', body: JSON.stringify(body) })

describe('budget costs written with the request log on SQLite', () => {
	it('writes what the logged rows cost, once the ledger is flushed', async () => {
		await using g = await startGateway({}, { backend: 'sqlite' })
		const budget = await keyBudget(g, 1_000_000)
		const answers = await Promise.all(Array.from({ length: 5 }, () => post(g)))
		expect(answers.map((res) => res.status)).toEqual([200, 200, 200, 200, 200])
		const costs = answers.reduce(
			(sum, res) => sum + microsOf(Number(res.headers.get('x-switchyard-cost-usd'))),
			0,
		)
		expect(costs).toBeGreaterThan(0)
		await until(async () => (await g.t.deps.budgets.status(budget)).spentMicros === costs, 3000)
		await g.t.deps.budgets.flush()
		expect(spentOnDisk(g, budget.id)).toBe(costs)
		expect(rowsOnDisk(g)).toBe(5)
	})

	it('writes neither the rows nor their costs while the log cannot write, counts the costs meanwhile, and writes both after', async () => {
		await using g = await startGateway({}, { backend: 'sqlite' })
		const budget = await keyBudget(g, 1_000_000)
		sqliteOf(g).run(
			'CREATE TRIGGER refuse BEFORE INSERT ON request_log BEGIN SELECT RAISE(ABORT, "disk full"); END',
		)
		let cost = 0
		{
			using _silenced = spyOn(console, 'error').mockImplementation(() => {})
			const answer = await post(g)
			expect(answer.status).toBe(200)
			cost = microsOf(Number(answer.headers.get('x-switchyard-cost-usd')))
			await until(() => g.t.deps.requestLog.failures > 0, 2000, 'the writer reports the failed write')
			expect(rowsOnDisk(g)).toBe(0)
			expect(spentOnDisk(g, budget.id)).toBe(0)
			// Not on disk, yet spent: a limit it leaves no room under refuses the next request.
			await until(async () => (await g.t.deps.budgets.status(budget)).spentMicros === cost, 3000)
			await g.t.deps.budgets.update(budget.id, cost + 1)
			const refused = await post(g)
			expect(refused.status).toBe(429)
			expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('budget_exceeded')
		}
		sqliteOf(g).run('DROP TRIGGER refuse')
		await g.t.deps.budgets.flush()
		await g.t.deps.requestLog.flush()
		expect(rowsOnDisk(g)).toBe(2)
		expect(spentOnDisk(g, budget.id)).toBe(cost)
	})
})

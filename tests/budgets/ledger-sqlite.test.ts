import { Database } from 'bun:sqlite'
import { describe, expect, it } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type DataStore, openSqlite } from '../../db/client'
import type { BudgetScope, BudgetWindow } from '../../db/schema'
import { type Budget, BudgetLedger } from '../../src/budgets/ledger'
import { windowStart } from '../../src/budgets/windows'

const NOW = new Date('2026-12-03T12:00:00Z').getTime()
const DEADLINE = NOW + 60_000
const DOLLAR = 1_000_000
const NICKEL = 50_000
const RUNS = 10_000

/** A SQLite database file that outlives its connections, as one across a restart. */
function databaseFile() {
	const dir = mkdtempSync(join(tmpdir(), 'switchyard-ledger-'))
	return {
		path: join(dir, 'switchyard.db'),
		[Symbol.dispose]() {
			rmSync(dir, { recursive: true, force: true })
		},
	}
}

/** A run of the gateway's process on `path`: its connection and its ledger. */
async function run(path: string) {
	const store = openSqlite(path)
	const ledger = await BudgetLedger.open(store)
	return {
		store,
		ledger,
		async [Symbol.asyncDispose]() {
			await ledger.close()
			await store.close()
		},
	}
}

async function addUserAndKey(store: DataStore) {
	const { db, tables } = store
	const [user] = await db
		.insert(tables.users)
		.values({ email: 'dev@example.com', passwordHash: 'x', role: 'developer' })
		.returning({ id: tables.users.id })
	if (!user) throw new Error('no user')
	const [key] = await db
		.insert(tables.gatewayKeys)
		.values({ userId: user.id, name: 'app', prefix: 'sy_test', keyHash: crypto.randomUUID() })
		.returning({ id: tables.gatewayKeys.id })
	if (!key) throw new Error('no key')
	return { userId: user.id, keyId: key.id }
}

async function budgetsOf(
	ledger: BudgetLedger,
	store: DataStore,
	limits: [BudgetScope, BudgetWindow, number][],
) {
	const principal = await addUserAndKey(store)
	const scopeIds = { key: principal.keyId, user: principal.userId, org: 0 }
	const created: Budget[] = []
	for (const [scope, window, limitMicros] of limits)
		created.push(
			await ledger.create({
				scope,
				scopeId: scopeIds[scope],
				window,
				limitMicros,
				createdBy: principal.userId,
			}),
		)
	return created
}

/** The rows as another connection reads them from the file: what a crash right now would leave. */
function rowsOnDisk(path: string) {
	const reader = new Database(path, { readonly: true })
	try {
		return {
			usage: reader
				.query('SELECT budget_id, spent_micros, reserved_micros FROM budget_usage ORDER BY budget_id')
				.all(),
			reservations: reader.query('SELECT count(*) AS n FROM budget_reservations').get(),
			holds: reader.query('SELECT count(*) AS n FROM budget_holds').get(),
		}
	} finally {
		reader.close()
	}
}

/** The median of `RUNS` timings of `step(i)`, in microseconds, after 1,000 to warm up. */
async function medianMicros(step: (i: number) => Promise<unknown>): Promise<number> {
	for (let i = 0; i < 1_000; i++) await step(-1 - i)
	const times = new Float64Array(RUNS)
	for (let i = 0; i < RUNS; i++) {
		const start = performance.now()
		await step(i)
		times[i] = performance.now() - start
	}
	times.sort()
	return (times[RUNS >> 1] ?? 0) * 1000
}

describe('the budget ledger on SQLite', () => {
	it('gives back at the start what a crashed run had reserved, and keeps what it spent', async () => {
		using file = databaseFile()
		const crashed = await run(file.path)
		const [day, total] = await budgetsOf(crashed.ledger, crashed.store, [
			['key', 'day', DOLLAR],
			['key', 'total', DOLLAR],
		])
		if (!day || !total) throw new Error('no budgets')
		await crashed.ledger.reserve('done', [day, total], NICKEL, NOW, DEADLINE)
		await crashed.ledger.settle('done', 30_000)
		await crashed.ledger.reserve('in flight', [day, total], 200_000, NOW, DEADLINE)
		// What a build that kept reservations in the database left when it crashed.
		crashed.store.sqlite?.run('UPDATE budget_usage SET reserved_micros = reserved_micros + 100000')
		crashed.store.sqlite?.run(`INSERT INTO budget_reservations VALUES ('old', 100000, ${NOW}, ${DEADLINE})`)
		crashed.store.sqlite?.run(
			`INSERT INTO budget_holds VALUES ('old', ${day.id}, ${windowStart('day', NOW).getTime()}, 100000, ${DEADLINE})`,
		)
		// The process dies: nothing of it runs again, and its connection goes with it.
		crashed.store.sqlite?.close()

		await using restarted = await run(file.path)
		expect(await restarted.ledger.statuses([day, total], NOW)).toMatchObject([
			{ spentMicros: 30_000, reservedMicros: 0, remainingMicros: DOLLAR - 30_000 },
			{ spentMicros: 30_000, reservedMicros: 0, remainingMicros: DOLLAR - 30_000 },
		])
		expect(rowsOnDisk(file.path)).toEqual({
			usage: [
				{ budget_id: day.id, spent_micros: 30_000, reserved_micros: 0 },
				{ budget_id: total.id, spent_micros: 30_000, reserved_micros: 0 },
			],
			reservations: { n: 0 },
			holds: { n: 0 },
		})
		// A request of the crashed run cannot settle in this one.
		await restarted.ledger.settle('in flight', 200_000)
		expect((await restarted.ledger.status(day, NOW)).spentMicros).toBe(30_000)
	})

	it('without the request log, writes what a request spent before its settle returns, and nothing for a reservation', async () => {
		using file = databaseFile()
		await using s = await run(file.path)
		const [budget] = await budgetsOf(s.ledger, s.store, [['org', 'month', DOLLAR]])
		if (!budget) throw new Error('no budget')
		await s.ledger.reserve('a', [budget], NICKEL, NOW, DEADLINE)
		expect(rowsOnDisk(file.path).usage).toEqual([])
		await s.ledger.settle('a', 40_000)
		expect(rowsOnDisk(file.path).usage).toEqual([
			{ budget_id: budget.id, spent_micros: 40_000, reserved_micros: 0 },
		])
		expect(await s.ledger.pending()).toEqual({ reservations: 0, holds: 0 })
	})

	it('admits exactly what fits every budget when 200 requests race for three', async () => {
		using file = databaseFile()
		await using s = await run(file.path)
		const budgets = await budgetsOf(s.ledger, s.store, [
			['key', 'day', 700_000],
			['user', 'month', DOLLAR],
			['org', 'total', 400_000],
		])
		await s.ledger.reserve('spent', budgets, 100_000, NOW, DEADLINE)
		await s.ledger.settle('spent', 100_000)
		const results = await Promise.all(
			Array.from({ length: 200 }, (_, i) => s.ledger.reserve(`r${i}`, budgets, NICKEL, NOW, DEADLINE)),
		)
		// The organisation's $0.40 less the $0.10 spent: 6 nickels, and a refused request held nothing meanwhile.
		expect(results.filter((result) => result.ok).length).toBe(6)
		expect((await s.ledger.statuses(budgets, NOW)).map((status) => status.reservedMicros)).toEqual([
			300_000, 300_000, 300_000,
		])
		expect(await s.ledger.pending()).toEqual({ reservations: 6, holds: 18 })
		expect(rowsOnDisk(file.path)).toMatchObject({ reservations: { n: 0 }, holds: { n: 0 } })
	})

	it('shares what is reserved among the ledgers opened on one connection, resetting it only once', async () => {
		using file = databaseFile()
		await using s = await run(file.path)
		const [budget] = await budgetsOf(s.ledger, s.store, [['key', 'day', DOLLAR]])
		if (!budget) throw new Error('no budget')
		await s.ledger.reserve('a', [budget], NICKEL, NOW, DEADLINE)
		const other = await BudgetLedger.open(s.store)
		expect(await other.status(budget, NOW)).toMatchObject({ reservedMicros: NICKEL })
		await other.settle('a', 10_000)
		await s.ledger.settle('a', 10_000)
		expect(await s.ledger.status(budget, NOW)).toMatchObject({ spentMicros: 10_000, reservedMicros: 0 })
		await other.close()
	})

	it('gives back a request that outlived its deadline, whose late settle then counts nothing', async () => {
		using file = databaseFile()
		await using s = await run(file.path)
		const [day, total] = await budgetsOf(s.ledger, s.store, [
			['key', 'day', DOLLAR],
			['org', 'total', DOLLAR],
		])
		if (!day || !total) throw new Error('no budgets')
		await s.ledger.reserve('late', [day, total], NICKEL, NOW, DEADLINE)
		await s.ledger.reserve('live', [day], NICKEL, NOW, DEADLINE + 1)
		expect(await s.ledger.sweep(DEADLINE - 1)).toEqual({ reservations: 0, holds: 0 })
		expect(await s.ledger.sweep(DEADLINE)).toEqual({ reservations: 1, holds: 2 })
		await s.ledger.settle('late', NICKEL)
		expect(await s.ledger.statuses([day, total], NOW)).toMatchObject([
			{ spentMicros: 0, reservedMicros: NICKEL },
			{ spentMicros: 0, reservedMicros: 0 },
		])
	})

	it('reserves and settles a request in well under 50 µs', async () => {
		using file = databaseFile()
		await using s = await run(file.path)
		const budgets = await budgetsOf(s.ledger, s.store, [
			['key', 'day', 1_000_000 * DOLLAR],
			['user', 'month', 1_000_000 * DOLLAR],
			['org', 'total', 1_000_000 * DOLLAR],
		])
		const org = budgets.slice(2)
		const now = Date.now()
		const oneBudget = await medianMicros(async (i) => {
			await s.ledger.reserve(`one${i}`, org, 100, now, now + 600_000)
			await s.ledger.settle(`one${i}`, 50)
		})
		const threeBudgets = await medianMicros(async (i) => {
			await s.ledger.reserve(`three${i}`, budgets, 100, now, now + 600_000)
			await s.ledger.settle(`three${i}`, 50)
		})
		console.log(
			`budget ledger on SQLite, reserve + settle, median of ${RUNS}: ` +
				`${oneBudget.toFixed(1)} µs with one budget, ${threeBudgets.toFixed(1)} µs with three`,
		)
		expect(oneBudget).toBeLessThan(50)
		expect((await s.ledger.status(org[0] as Budget, now)).spentMicros).toBe(50 * 2 * (RUNS + 1_000))
	})
})

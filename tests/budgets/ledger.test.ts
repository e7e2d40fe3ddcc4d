import { describe, expect, it } from 'bun:test'
import { and, eq, sql } from 'drizzle-orm'
import type { DataStore } from '../../db/client'
import type { BudgetWindow } from '../../db/schema'
import { type Budget, BudgetLedger, type ReserveResult } from '../../src/budgets/ledger'
import { windowStart } from '../../src/budgets/windows'
import { BACKENDS, openTestStore } from '../helpers/stores'
import { until } from '../helpers/until'

const NOW = new Date('2026-12-03T12:00:00Z').getTime()
const DEADLINE = NOW + 60_000
const DOLLAR = 1_000_000
const NICKEL = 50_000

async function addUserAndKey(store: DataStore, email: string) {
	const { db, tables } = store
	const [user] = await db
		.insert(tables.users)
		.values({ email, passwordHash: 'x', role: 'developer' })
		.returning({ id: tables.users.id })
	if (!user) throw new Error('no user')
	const [key] = await db
		.insert(tables.gatewayKeys)
		.values({ userId: user.id, name: 'app', prefix: 'sy_test', keyHash: crypto.randomUUID() })
		.returning({ id: tables.gatewayKeys.id })
	if (!key) throw new Error('no key')
	return { userId: user.id, keyId: key.id }
}

/** What the ledger holds for requests in flight: rows on PostgreSQL, memory on SQLite. */
const counts = (ledger: BudgetLedger) => ledger.pending()

const refusal = (result: ReserveResult) => (result.ok ? null : result)

describe.each(BACKENDS)('the budget ledger on %s', (backend) => {
	async function setup() {
		const test = await openTestStore(backend)
		const { store } = test
		const principal = await addUserAndKey(store, 'dev@example.com')
		const ledger = await BudgetLedger.open(store)
		const others: BudgetLedger[] = []
		const budget = (window: BudgetWindow, limitMicros: number, scope: 'key' | 'user' | 'org' = 'key') =>
			ledger.create({
				scope,
				scopeId: scope === 'key' ? principal.keyId : scope === 'user' ? principal.userId : 0,
				window,
				limitMicros,
				createdBy: principal.userId,
			})
		return {
			test,
			store,
			principal,
			ledger,
			budget,
			/** A second instance's ledger on the same database. */
			async another() {
				const other = await BudgetLedger.open(await test.anotherInstance())
				others.push(other)
				return other
			},
			async [Symbol.asyncDispose]() {
				await Promise.all([ledger, ...others].map((each) => each.close()))
				await test[Symbol.asyncDispose]()
			},
		}
	}

	describe('under concurrency', () => {
		it('admits exactly 20 of 200 concurrent $0.05 requests against $1.00 and never holds more than the limit', async () => {
			await using s = await setup()
			const budget = await s.budget('day', DOLLAR)
			let done = false
			let highest = 0
			const sampler = (async () => {
				while (!done) {
					const status = await s.ledger.status(budget, NOW)
					highest = Math.max(highest, status.spentMicros + status.reservedMicros)
				}
			})()
			const results = await Promise.all(
				Array.from({ length: 200 }, (_, i) => s.ledger.reserve(`r${i}`, [budget], NICKEL, NOW, DEADLINE)),
			)
			done = true
			await sampler
			const admitted = results.flatMap((result, i) => (result.ok ? [`r${i}`] : []))
			expect(admitted.length).toBe(20)
			expect(highest).toBeLessThanOrEqual(DOLLAR)
			expect(await s.ledger.status(budget, NOW)).toMatchObject({
				spentMicros: 0,
				reservedMicros: DOLLAR,
				remainingMicros: 0,
			})
			expect(refusal(results.find((result) => !result.ok) ?? { ok: true })).toEqual({
				ok: false,
				budget,
				limitMicros: DOLLAR,
				remainingMicros: 0,
				resetsAt: new Date('2026-12-04T00:00:00Z'),
			})
			// Half finish for less than they reserved, the other half fail.
			await Promise.all(
				admitted.map((id, i) => (i % 2 === 0 ? s.ledger.settle(id, 30_000 + i) : s.ledger.release(id))),
			)
			const settled = admitted.reduce((sum, _, i) => (i % 2 === 0 ? sum + 30_000 + i : sum), 0)
			expect(await s.ledger.status(budget, NOW)).toMatchObject({
				spentMicros: settled,
				reservedMicros: 0,
				remainingMicros: DOLLAR - settled,
			})
			expect(await counts(s.ledger)).toEqual({ reservations: 0, holds: 0 })
		})

		it('never overspends when 200 concurrent requests are spread over two instances', async () => {
			await using s = await setup()
			const there = await s.another()
			const budget = await s.budget('month', DOLLAR)
			// The other instance finds the budget itself, as the gateway would.
			const theirs = await there.applicable(s.principal)
			expect(theirs).toEqual([budget])
			const results = await Promise.all(
				Array.from({ length: 200 }, (_, i) =>
					i % 2 === 0
						? s.ledger.reserve(`r${i}`, [budget], NICKEL, NOW, DEADLINE)
						: there.reserve(`r${i}`, theirs, NICKEL, NOW, DEADLINE),
				),
			)
			const admitted = results.flatMap((result, i) => (result.ok ? [i] : []))
			expect(admitted.length).toBe(20)
			await Promise.all(admitted.map((i) => (i % 2 === 0 ? s.ledger : there).settle(`r${i}`, NICKEL)))
			expect(await there.status(budget, NOW)).toMatchObject({ spentMicros: DOLLAR, reservedMicros: 0 })
			// Spent to the cent, so the next request is refused on either instance.
			expect((await s.ledger.reserve('late', [budget], 1, NOW, DEADLINE)).ok).toBe(false)
			expect((await there.reserve('late2', theirs, 1, NOW, DEADLINE)).ok).toBe(false)
			expect(await counts(s.ledger)).toEqual({ reservations: 0, holds: 0 })
		})

		it('keeps each of several budgets within its limit when 200 requests race for all three', async () => {
			await using s = await setup()
			const key = await s.budget('day', 700_000)
			const user = await s.budget('month', DOLLAR, 'user')
			const org = await s.budget('total', 400_000, 'org')
			const budgets = await s.ledger.applicable(s.principal)
			const results = await Promise.all(
				Array.from({ length: 200 }, (_, i) => s.ledger.reserve(`r${i}`, budgets, NICKEL, NOW, DEADLINE)),
			)
			const admitted = results.filter((result) => result.ok).length
			// A request refused by the org may briefly have held the key's and user's budgets: fewer may pass
			// than would fit, never more.
			expect(admitted).toBeGreaterThan(0)
			expect(admitted).toBeLessThanOrEqual(8)
			const statuses = await s.ledger.statuses([key, user, org], NOW)
			expect(statuses.map((status) => status.reservedMicros)).toEqual([
				admitted * NICKEL,
				admitted * NICKEL,
				admitted * NICKEL,
			])
			expect(await counts(s.ledger)).toEqual({ reservations: admitted, holds: admitted * 3 })
		})
	})

	describe('with several budgets', () => {
		it('refuses with the tightest budget and leaves nothing reserved on the others', async () => {
			await using s = await setup()
			const key = await s.budget('day', DOLLAR)
			const user = await s.budget('month', 500_000, 'user')
			const org = await s.budget('total', 250_000, 'org')
			const budgets = await s.ledger.applicable(s.principal)
			expect(budgets).toEqual([key, user, org])
			const result = await s.ledger.reserve('big', budgets, 300_000, NOW, DEADLINE)
			expect(result).toEqual({
				ok: false,
				budget: org,
				limitMicros: 250_000,
				remainingMicros: 250_000,
				resetsAt: null,
			})
			expect((await s.ledger.statuses(budgets, NOW)).map((status) => status.reservedMicros)).toEqual([
				0, 0, 0,
			])
			expect(await counts(s.ledger)).toEqual({ reservations: 0, holds: 0 })
		})

		it('refuses with a budget in the middle once the others have taken the reservation', async () => {
			await using s = await setup()
			await s.budget('day', DOLLAR)
			const user = await s.budget('month', 300_000, 'user')
			await s.budget('total', 10 * DOLLAR, 'org')
			const budgets = await s.ledger.applicable(s.principal)
			for (const id of ['a', 'b', 'c'])
				expect(await s.ledger.reserve(id, budgets, 100_000, NOW, DEADLINE)).toEqual({ ok: true })
			expect(await s.ledger.reserve('d', budgets, 100_000, NOW, DEADLINE)).toEqual({
				ok: false,
				budget: user,
				limitMicros: 300_000,
				remainingMicros: 0,
				resetsAt: new Date('2027-01-01T00:00:00Z'),
			})
			expect((await s.ledger.statuses(budgets, NOW)).map((status) => status.reservedMicros)).toEqual([
				300_000, 300_000, 300_000,
			])
		})

		it('applies only the request’s key’s, its user’s and the organisation’s budgets', async () => {
			await using s = await setup()
			const other = await addUserAndKey(s.store, 'other@example.com')
			const mine = await s.budget('day', DOLLAR)
			await s.ledger.create({
				scope: 'key',
				scopeId: other.keyId,
				window: 'day',
				limitMicros: 1,
				createdBy: 1,
			})
			await s.ledger.create({
				scope: 'user',
				scopeId: other.userId,
				window: 'day',
				limitMicros: 1,
				createdBy: 1,
			})
			const org = await s.budget('month', DOLLAR, 'org')
			expect(await s.ledger.applicable(s.principal)).toEqual([mine, org])
		})

		it('lets a request through with no budgets, writing nothing', async () => {
			await using s = await setup()
			expect(await s.ledger.reserve('free', [], NICKEL, NOW, DEADLINE)).toEqual({ ok: true })
			await s.ledger.settle('free', NICKEL)
			expect(await counts(s.ledger)).toEqual({ reservations: 0, holds: 0 })
		})
	})

	describe('settling and releasing', () => {
		it('counts the real cost, lower or higher than what was reserved', async () => {
			await using s = await setup()
			const budget = await s.budget('day', DOLLAR)
			await s.ledger.reserve('low', [budget], NICKEL, NOW, DEADLINE)
			await s.ledger.reserve('high', [budget], NICKEL, NOW, DEADLINE)
			await s.ledger.settle('low', 20_000)
			expect(await s.ledger.status(budget, NOW)).toMatchObject({
				spentMicros: 20_000,
				reservedMicros: NICKEL,
			})
			await s.ledger.settle('high', 70_000)
			expect(await s.ledger.status(budget, NOW)).toMatchObject({
				spentMicros: 90_000,
				reservedMicros: 0,
				remainingMicros: 910_000,
				percentSpent: 9,
			})
		})

		it('does nothing the second time, whether settled or released', async () => {
			await using s = await setup()
			const budget = await s.budget('day', DOLLAR)
			await s.ledger.reserve('a', [budget], NICKEL, NOW, DEADLINE)
			await s.ledger.reserve('b', [budget], NICKEL, NOW, DEADLINE)
			await s.ledger.settle('a', 30_000)
			await s.ledger.settle('a', 30_000)
			await s.ledger.release('a')
			await s.ledger.release('b')
			await s.ledger.release('b')
			await s.ledger.settle('b', 30_000)
			await s.ledger.release('never reserved')
			expect(await s.ledger.status(budget, NOW)).toMatchObject({ spentMicros: 30_000, reservedMicros: 0 })
		})

		it('settles each hold once when two instances settle one request at the same time', async () => {
			await using s = await setup()
			const there = await s.another()
			const day = await s.budget('day', DOLLAR)
			const total = await s.budget('total', DOLLAR)
			await s.ledger.reserve('a', [day, total], NICKEL, NOW, DEADLINE)
			await Promise.all([s.ledger.settle('a', 40_000), there.settle('a', 40_000), there.sweep(DEADLINE)])
			const statuses = await s.ledger.statuses([day, total], NOW)
			// Each hold went to exactly one of them: spent once or given back by the sweeper, never both.
			for (const status of statuses) {
				expect(status.reservedMicros).toBe(0)
				expect([0, 40_000]).toContain(status.spentMicros)
			}
		})

		it('refuses a second reservation under the same request id', async () => {
			await using s = await setup()
			const budget = await s.budget('day', DOLLAR)
			await s.ledger.reserve('a', [budget], NICKEL, NOW, DEADLINE)
			expect(s.ledger.reserve('a', [budget], NICKEL, NOW, DEADLINE)).rejects.toThrow()
			expect(await s.ledger.status(budget, NOW)).toMatchObject({ reservedMicros: NICKEL })
		})

		it('refuses amounts that are not whole positive micro-dollars', async () => {
			await using s = await setup()
			const budget = await s.budget('day', DOLLAR)
			for (const amount of [0, -1, 0.5, Number.NaN])
				expect(s.ledger.reserve('a', [budget], amount, NOW, DEADLINE)).rejects.toThrow(RangeError)
			expect(s.ledger.settle('a', -1)).rejects.toThrow(RangeError)
			expect(s.ledger.reserve('a', [budget], 1, NOW, NOW)).rejects.toThrow(RangeError)
		})

		it('refuses a request larger than the whole limit, and any request once a limit of 0 is set', async () => {
			await using s = await setup()
			const budget = await s.budget('day', NICKEL)
			expect((await s.ledger.reserve('a', [budget], NICKEL + 1, NOW, DEADLINE)).ok).toBe(false)
			const frozen = await s.ledger.update(budget.id, 0)
			expect(await s.ledger.reserve('b', [frozen], 1, NOW, DEADLINE)).toMatchObject({
				ok: false,
				remainingMicros: 0,
			})
			expect(await s.ledger.status(frozen, NOW)).toMatchObject({ reservedMicros: 0, percentSpent: 100 })
		})
	})

	// On SQLite a crash ends the only process, and the next start gives everything back:
	// tests/budgets/ledger-sqlite.test.ts.
	describe.if(backend === 'postgres')('after an instance crashes', () => {
		/** What a request leaves when its instance dies at some point of `reserve`. */
		async function crashedReservation(store: DataStore, requestId: string, raised: Budget[], amount: number) {
			const { db, tables } = store
			await db
				.insert(tables.budgetReservations)
				.values({ requestId, amountMicros: amount, createdAt: new Date(NOW), expiresAt: new Date(DEADLINE) })
			for (const budget of raised) {
				const start = windowStart(budget.window, NOW)
				const { budgetUsage: usage } = tables
				await db
					.update(usage)
					.set({ reservedMicros: sql`${usage.reservedMicros} + ${amount}` })
					.where(and(eq(usage.budgetId, budget.id), eq(usage.windowStart, start)))
				await db.insert(tables.budgetHolds).values({
					requestId,
					budgetId: budget.id,
					windowStart: start,
					amountMicros: amount,
					expiresAt: new Date(DEADLINE),
				})
			}
		}

		it('gives back reservations past their deadline, whatever point the crash reached', async () => {
			await using s = await setup()
			const day = await s.budget('day', DOLLAR)
			const total = await s.budget('total', DOLLAR)
			// A live request makes both windows' rows; it stays in flight throughout.
			await s.ledger.reserve('live', [day, total], NICKEL, NOW, DEADLINE + 60_000)
			// Crashed after its reservation row, before any counter moved.
			await crashedReservation(s.store, 'none', [], 100_000)
			// Crashed after raising the day budget, before the total.
			await crashedReservation(s.store, 'part', [day], 200_000)
			// Crashed with everything reserved.
			await crashedReservation(s.store, 'all', [day, total], 300_000)
			expect((await s.ledger.statuses([day, total], NOW)).map((status) => status.reservedMicros)).toEqual([
				550_000, 350_000,
			])
			expect(await s.ledger.sweep(DEADLINE - 1)).toEqual({ reservations: 0, holds: 0 })
			expect(await s.ledger.sweep(DEADLINE)).toEqual({ reservations: 3, holds: 3 })
			expect((await s.ledger.statuses([day, total], NOW)).map((status) => status.reservedMicros)).toEqual([
				NICKEL,
				NICKEL,
			])
			expect(await counts(s.ledger)).toEqual({ reservations: 1, holds: 2 })
			// A request that outlived its deadline finds nothing left to settle.
			await s.ledger.settle('all', 300_000)
			expect(await s.ledger.sweep(DEADLINE + 1)).toEqual({ reservations: 0, holds: 0 })
			await s.ledger.settle('live', 10_000)
			expect(await s.ledger.statuses([day, total], NOW)).toMatchObject([
				{ spentMicros: 10_000, reservedMicros: 0 },
				{ spentMicros: 10_000, reservedMicros: 0 },
			])
		})

		it('keeps the amount reserved, never less, when a crash falls between a raise and its hold', async () => {
			await using s = await setup()
			const day = await s.budget('day', DOLLAR)
			await s.ledger.reserve('live', [day], NICKEL, NOW, DEADLINE + 60_000)
			await crashedReservation(s.store, 'gap', [], 100_000)
			const { db, tables } = s.store
			await db
				.update(tables.budgetUsage)
				.set({ reservedMicros: sql`${tables.budgetUsage.reservedMicros} + 100000` })
				.where(eq(tables.budgetUsage.budgetId, day.id))
			await s.ledger.sweep(DEADLINE)
			// The live request's hold is intact: the budget fails closed by the crashed request's amount.
			expect(await s.ledger.status(day, NOW)).toMatchObject({ reservedMicros: 150_000 })
		})
	})

	describe('sweeping', () => {
		it('sweeps every 30 seconds once started, until stopped', async () => {
			await using s = await setup()
			const day = await s.budget('day', DOLLAR)
			const now = Date.now()
			await s.ledger.reserve('old', [day], NICKEL, now - 120_000, now - 60_000)
			s.ledger.startSweeping(10)
			await until(async () => (await counts(s.ledger)).reservations === 0, 2000)
			s.ledger.stop()
			expect(await s.ledger.status(day, now - 120_000)).toMatchObject({ reservedMicros: 0 })
		})
	})

	describe('windows', () => {
		it('starts a day budget afresh at UTC midnight, and settles a request in the day that admitted it', async () => {
			await using s = await setup()
			const day = await s.budget('day', 100_000)
			const lastSecond = new Date('2026-12-03T23:59:59Z').getTime()
			const midnight = new Date('2026-12-04T00:00:00Z').getTime()
			expect((await s.ledger.reserve('late', [day], 100_000, lastSecond, midnight + 60_000)).ok).toBe(true)
			expect(await s.ledger.reserve('later', [day], 1, lastSecond + 999, midnight + 60_000)).toEqual({
				ok: false,
				budget: day,
				limitMicros: 100_000,
				remainingMicros: 0,
				resetsAt: new Date(midnight),
			})
			expect((await s.ledger.reserve('next', [day], 100_000, midnight, midnight + 60_000)).ok).toBe(true)
			await s.ledger.settle('late', 80_000)
			expect(await s.ledger.status(day, lastSecond)).toMatchObject({ spentMicros: 80_000, reservedMicros: 0 })
			expect(await s.ledger.status(day, midnight)).toMatchObject({
				spentMicros: 0,
				reservedMicros: 100_000,
				windowStart: new Date(midnight),
				resetsAt: new Date('2026-12-05T00:00:00Z'),
			})
		})

		it('starts a month budget afresh on the first of the month, and never a total', async () => {
			await using s = await setup()
			const month = await s.budget('month', 100_000)
			const total = await s.budget('total', 200_000)
			const november = new Date('2026-11-30T23:59:59.999Z').getTime()
			const december = new Date('2026-12-01T00:00:00Z').getTime()
			expect((await s.ledger.reserve('a', [month, total], 100_000, november, december + 60_000)).ok).toBe(
				true,
			)
			await s.ledger.settle('a', 100_000)
			expect((await s.ledger.reserve('b', [month, total], 100_000, december, december + 60_000)).ok).toBe(
				true,
			)
			await s.ledger.settle('b', 100_000)
			expect(await s.ledger.reserve('c', [month, total], 1, december + 1, december + 60_000)).toMatchObject({
				ok: false,
				budget: month,
			})
			expect(
				await s.ledger.reserve('d', [total], 1, new Date('2027-06-01').getTime(), Date.now() * 2),
			).toEqual({
				ok: false,
				budget: total,
				limitMicros: 200_000,
				remainingMicros: 0,
				resetsAt: null,
			})
		})
	})

	describe('budgets', () => {
		it('is told about a change made on another instance', async () => {
			await using s = await setup()
			const there = await s.another()
			expect(await there.applicable(s.principal)).toEqual([])
			const budget = await s.budget('day', DOLLAR)
			await until(async () => (await there.applicable(s.principal)).length === 1, 1000)
			await s.ledger.update(budget.id, 2 * DOLLAR)
			await until(async () => (await there.applicable(s.principal))[0]?.limitMicros === 2 * DOLLAR, 1000)
			await s.ledger.delete(budget.id)
			await until(async () => (await there.applicable(s.principal)).length === 0, 1000)
		})

		it('lists, updates and deletes budgets, and deleting one forgets its counters', async () => {
			await using s = await setup()
			const day = await s.budget('day', DOLLAR)
			const month = await s.budget('month', DOLLAR)
			const org = await s.budget('total', DOLLAR, 'org')
			expect(await s.ledger.list()).toEqual([day, month, org])
			expect(await s.ledger.list({ scope: 'key', scopeId: s.principal.keyId })).toEqual([day, month])
			expect(await s.ledger.list({ scope: 'user' })).toEqual([])
			expect(await s.ledger.update(day.id, 5)).toEqual({ ...day, limitMicros: 5 })
			await s.ledger.reserve('a', [month], NICKEL, NOW, DEADLINE)
			await s.ledger.delete(month.id)
			expect(await s.ledger.list()).toEqual([{ ...day, limitMicros: 5 }, org])
			const { db, tables } = s.store
			expect(await db.select().from(tables.budgetUsage)).toEqual([])
			// Its request in flight settles against nothing.
			await s.ledger.settle('a', NICKEL)
			expect(await db.select().from(tables.budgetUsage)).toEqual([])
			expect(await counts(s.ledger)).toEqual({ reservations: 0, holds: 0 })
		})

		it('replaces a scope’s budgets with exactly the windows given', async () => {
			await using s = await setup()
			const { userId } = s.principal
			await s.ledger.replace(
				'user',
				userId,
				[
					{ window: 'day', limitMicros: 1 },
					{ window: 'total', limitMicros: 3 },
				],
				userId,
			)
			const after = await s.ledger.replace(
				'user',
				userId,
				[
					{ window: 'month', limitMicros: 20 },
					{ window: 'day', limitMicros: 10 },
				],
				userId,
			)
			expect(after.map(({ window, limitMicros }) => ({ window, limitMicros }))).toEqual([
				{ window: 'day', limitMicros: 10 },
				{ window: 'month', limitMicros: 20 },
			])
			expect(await s.ledger.replace('user', userId, [], userId)).toEqual([])
		})

		it.each([
			['an unknown scope', { scope: 'team' }, 'scope'],
			['a key that does not exist', { scopeId: 9999 }, 'scopeId'],
			['a missing key id', { scopeId: undefined }, 'scopeId'],
			['an organisation budget with a scope id', { scope: 'org', scopeId: 3 }, 'scopeId'],
			['an unknown window', { window: 'week' }, 'window'],
			['a negative limit', { limitMicros: -1 }, 'limitMicros'],
			['a fractional limit', { limitMicros: 0.5 }, 'limitMicros'],
			['a limit over a billion dollars', { limitMicros: 1e15 + 1 }, 'limitMicros'],
			['a limit that is not a number', { limitMicros: '5' }, 'limitMicros'],
		])('refuses %s with a 400 naming the field', async (_, change, param) => {
			await using s = await setup()
			const input = {
				scope: 'key',
				scopeId: s.principal.keyId,
				window: 'day',
				limitMicros: 1,
				createdBy: 1,
				...change,
			}
			expect(s.ledger.create(input as never)).rejects.toMatchObject({ status: 400, param })
			expect(await s.ledger.list()).toEqual([])
		})

		it('refuses a second budget for the same scope and window with a 409', async () => {
			await using s = await setup()
			await s.budget('day', DOLLAR)
			expect(s.budget('day', 2 * DOLLAR)).rejects.toMatchObject({
				status: 409,
				code: 'budget_exists',
				param: 'window',
			})
		})

		it('refuses a bad entry of a replacement with its path, changing nothing', async () => {
			await using s = await setup()
			const { userId } = s.principal
			await s.ledger.replace('user', userId, [{ window: 'day', limitMicros: 1 }], userId)
			expect(
				s.ledger.replace(
					'user',
					userId,
					[
						{ window: 'month', limitMicros: 1 },
						{ window: 'month', limitMicros: 2 },
					],
					userId,
				),
			).rejects.toMatchObject({ status: 400, param: 'budgets[1].window' })
			expect(
				s.ledger.replace('user', userId, [{ window: 'month', limitMicros: -5 }], userId),
			).rejects.toMatchObject({ status: 400, param: 'budgets[0].limitMicros' })
			expect((await s.ledger.list()).map(({ window, limitMicros }) => ({ window, limitMicros }))).toEqual([
				{ window: 'day', limitMicros: 1 },
			])
		})

		it('answers 404 for a budget that does not exist', async () => {
			await using s = await setup()
			expect(s.ledger.update(12345, 1)).rejects.toMatchObject({ status: 404 })
			expect(s.ledger.delete(12345)).rejects.toMatchObject({ status: 404 })
		})
	})
})

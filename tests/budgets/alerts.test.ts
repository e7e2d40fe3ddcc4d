import { describe, expect, it } from 'bun:test'
import type { DataStore } from '../../db/client'
import type { BudgetScope, BudgetWindow } from '../../db/schema'
import {
	attemptDueAfter,
	BudgetAlerts,
	MAX_ATTEMPTS,
	RETRY_DELAYS_MS,
	thresholdsReached,
} from '../../src/budgets/alerts'
import { type Budget, BudgetLedger } from '../../src/budgets/ledger'
import { BACKENDS, openTestStore } from '../helpers/stores'

const NOW = new Date('2026-12-03T12:00:00Z').getTime()
const TODAY = new Date('2026-12-03T00:00:00Z')
const TOMORROW = new Date('2026-12-04T00:00:00Z')
const DOLLAR = 1_000_000

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

describe('thresholdsReached', () => {
	it.each([
		[0, DOLLAR, []],
		[799_999, DOLLAR, []],
		[800_000, DOLLAR, [80]],
		[999_999, DOLLAR, [80]],
		[DOLLAR, DOLLAR, [80, 100]],
		[3 * DOLLAR, DOLLAR, [80, 100]],
		// 80 % of 1,000,000,000,000,000 micro-dollars, where a float product would be inexact.
		[800_000_000_000_000, 1_000_000_000_000_000, [80]],
		[799_999_999_999_999, 1_000_000_000_000_000, []],
		// A limit of 0 refuses every request; nothing was spent, so nothing crossed.
		[0, 0, []],
	])('finds %d of %d past %j', (spent, limit, expected) => {
		expect(thresholdsReached(spent, limit)).toEqual(expected as (80 | 100)[])
	})
})

describe('attemptDueAfter', () => {
	it('waits a whole timeout and then each retry delay between attempts', () => {
		expect([0, 1, 2, 3, 4, 5].map((attempt) => attemptDueAfter(attempt, 5_000))).toEqual([
			0, 6_000, 16_000, 51_000, 176_000, 781_000,
		])
		expect(MAX_ATTEMPTS).toBe(RETRY_DELAYS_MS.length + 1)
	})
})

/** No wait between reads: each check a test awaits is read before it resolves. */
const EVERY_CHECK_READS = { checkIntervalMs: 0 }

describe.each(BACKENDS)('budget alerts on %s', (backend) => {
	async function setup() {
		const test = await openTestStore(backend)
		const { store } = test
		const principal = await addUserAndKey(store)
		const ledger = await BudgetLedger.open(store)
		const ledgers: BudgetLedger[] = [ledger]
		let request = 0
		return {
			store,
			principal,
			ledger,
			alerts: new BudgetAlerts(store, ledger, EVERY_CHECK_READS),
			budget: (window: BudgetWindow, limitMicros: number, scope: BudgetScope = 'key') =>
				ledger.create({
					scope,
					scopeId: scope === 'key' ? principal.keyId : scope === 'user' ? principal.userId : 0,
					window,
					limitMicros,
					createdBy: principal.userId,
				}),
			/** Settles a request of `micros` against `budgets` at `now`. */
			async spend(budgets: Budget[], micros: number, now = NOW) {
				const id = `request-${++request}`
				const reserved = await ledger.reserve(id, budgets, micros, now, now + 60_000)
				if (!reserved.ok) throw new Error('the test spend was refused')
				await ledger.settle(id, micros)
			},
			/**
			 * `count` alerts services, none knowing what another recorded, spread over two instances on
			 * PostgreSQL (each with its own connections): every check reads and inserts for itself.
			 */
			async racers(count: number): Promise<BudgetAlerts[]> {
				const instance = await test.anotherInstance()
				const other = await BudgetLedger.open(instance)
				ledgers.push(other)
				return Array.from({ length: count }, (_, i) =>
					i % 2
						? new BudgetAlerts(store, ledger, EVERY_CHECK_READS)
						: new BudgetAlerts(instance, other, EVERY_CHECK_READS),
				)
			},
			async [Symbol.asyncDispose]() {
				await Promise.all(ledgers.map((each) => each.close()))
				await test[Symbol.asyncDispose]()
			},
		}
	}

	it('records nothing below 80 %', async () => {
		await using s = await setup()
		const budget = await s.budget('day', DOLLAR)
		await s.spend([budget], 799_999)
		await s.alerts.check([budget], NOW)
		expect(await s.alerts.list()).toEqual([])
	})

	it('records exactly one alert at 80 % and one at 100 %, however many checks and instances race', async () => {
		await using s = await setup()
		const budget = await s.budget('day', DOLLAR)
		const race = async () => Promise.all((await s.racers(50)).map((alerts) => alerts.check([budget], NOW)))

		await s.spend([budget], 850_000)
		await race()
		expect((await s.alerts.list()).map((alert) => alert.threshold)).toEqual([80])

		await s.spend([budget], 150_000)
		await race()
		await race()
		expect(await s.alerts.list()).toEqual([
			expect.objectContaining({ threshold: 100, windowStart: TODAY, createdAt: new Date(NOW) }),
			expect.objectContaining({ threshold: 80, windowStart: TODAY, createdAt: new Date(NOW) }),
		])
	})

	it('reads statuses once per round however many checks arrive, and not at all once a window has its 100 % alert', async () => {
		await using s = await setup()
		const budget = await s.budget('day', DOLLAR)
		let reads = 0
		const counting = {
			statuses: (...args: Parameters<BudgetLedger['statuses']>) => {
				reads++
				return s.ledger.statuses(...args)
			},
		} as BudgetLedger
		const alerts = new BudgetAlerts(s.store, counting, EVERY_CHECK_READS)
		await s.spend([budget], 500_000)
		await Promise.all(Array.from({ length: 50 }, () => alerts.check([budget], NOW)))
		expect(reads).toBeLessThanOrEqual(2)

		await s.spend([budget], 500_000)
		await alerts.check([budget], NOW)
		const before = reads
		await Promise.all(Array.from({ length: 50 }, () => alerts.check([budget], NOW)))
		expect(reads).toBe(before)
		expect(await alerts.list()).toHaveLength(2)
	})

	it('reads at most once per interval under a steady stream of checks, the checks in between together', async () => {
		await using s = await setup()
		const budget = await s.budget('day', DOLLAR)
		const readAt: number[] = []
		const timed = {
			statuses: (...args: Parameters<BudgetLedger['statuses']>) => {
				readAt.push(performance.now())
				return s.ledger.statuses(...args)
			},
		} as BudgetLedger
		const alerts = new BudgetAlerts(s.store, timed, { checkIntervalMs: 200 })
		await alerts.check([budget], NOW)
		expect(readAt).toHaveLength(1)
		// A request settled every 10 ms for half a second.
		const checks: Promise<void>[] = []
		for (let i = 0; i < 50; i++) {
			checks.push(alerts.check([budget], NOW))
			await Bun.sleep(10)
		}
		await s.spend([budget], DOLLAR)
		checks.push(alerts.check([budget], NOW))
		await Promise.all(checks)
		expect(readAt.length).toBeGreaterThanOrEqual(3)
		expect(readAt.length).toBeLessThanOrEqual(5)
		for (let i = 1; i < readAt.length; i++)
			expect((readAt[i] ?? 0) - (readAt[i - 1] ?? 0)).toBeGreaterThanOrEqual(195)
		expect((await alerts.list()).map((alert) => alert.threshold)).toEqual([100, 80])
	})

	it('checks what is queued at once when it stops, rather than wait for the interval', async () => {
		await using s = await setup()
		const budget = await s.budget('day', DOLLAR)
		const alerts = new BudgetAlerts(s.store, s.ledger, { checkIntervalMs: 60_000 })
		await alerts.check([budget], NOW)
		await s.spend([budget], DOLLAR)
		const queued = alerts.check([budget], NOW)
		const started = performance.now()
		await alerts.stop()
		await queued
		expect(performance.now() - started).toBeLessThan(1_000)
		expect(await alerts.list()).toHaveLength(2)
	})

	it('records both thresholds when one request jumps past 100 %', async () => {
		await using s = await setup()
		const budget = await s.budget('total', DOLLAR)
		await s.spend([budget], 500_000)
		await s.alerts.check([budget], NOW)
		await s.spend([budget], 500_000)
		await s.alerts.check([budget], NOW)
		expect((await s.alerts.list()).map((alert) => alert.threshold).sort()).toEqual([100, 80])
	})

	it('alerts again in a new window', async () => {
		await using s = await setup()
		const budget = await s.budget('day', DOLLAR)
		await s.spend([budget], DOLLAR)
		await s.alerts.check([budget], NOW)
		const tomorrow = NOW + 24 * 60 * 60_000
		await s.alerts.check([budget], tomorrow)
		expect(await s.alerts.list()).toHaveLength(2)

		await s.spend([budget], 900_000, tomorrow)
		await s.alerts.check([budget], tomorrow)
		const alerts = await s.alerts.list()
		expect(alerts.map((alert) => [alert.windowStart, alert.threshold])).toEqual([
			[TOMORROW, 80],
			[TODAY, 100],
			[TODAY, 80],
		])
	})

	it('checks the budgets it is given in one pass and leaves the others alone', async () => {
		await using s = await setup()
		const day = await s.budget('day', 2 * DOLLAR)
		const month = await s.budget('month', 10 * DOLLAR)
		const org = await s.budget('day', 2 * DOLLAR, 'org')
		await s.spend([day, month, org], 1_600_000)
		await s.alerts.check([month, org], NOW)
		expect((await s.alerts.list()).map((alert) => [alert.scope, alert.window, alert.threshold])).toEqual([
			['org', 'day', 80],
		])
	})

	it('lists each alert with its budget, its window, what the window spent, and its delivery', async () => {
		await using s = await setup()
		const budget = await s.budget('month', 10 * DOLLAR)
		await s.spend([budget], 8 * DOLLAR)
		await s.alerts.check([budget], NOW)
		await s.spend([budget], DOLLAR)
		expect(await s.alerts.list()).toEqual([
			{
				budgetId: budget.id,
				scope: 'key',
				scopeId: s.principal.keyId,
				window: 'month',
				limitMicros: 10 * DOLLAR,
				spentMicros: 9 * DOLLAR,
				threshold: 80,
				windowStart: new Date('2026-12-01T00:00:00Z'),
				resetsAt: new Date('2027-01-01T00:00:00Z'),
				createdAt: new Date(NOW),
				notifiedAt: null,
				attempts: 0,
				lastError: null,
				delivery: 'off',
			},
		])
	})

	it('lists the newest first, since an instant, up to a limit, and for given budgets only', async () => {
		await using s = await setup()
		const day = await s.budget('day', DOLLAR)
		const total = await s.budget('total', DOLLAR, 'user')
		await s.spend([day, total], DOLLAR)
		await s.alerts.check([day], NOW)
		await s.alerts.check([total], NOW + 1000)
		const shape = (alerts: { scope: string; threshold: number }[]) =>
			alerts.map((alert) => `${alert.scope} ${alert.threshold}`)

		expect(shape(await s.alerts.list())).toEqual(['user 100', 'user 80', 'key 100', 'key 80'])
		expect(shape(await s.alerts.list({ limit: 1 }))).toEqual(['user 100'])
		expect(shape(await s.alerts.list({ since: new Date(NOW + 1000) }))).toEqual(['user 100', 'user 80'])
		expect(shape(await s.alerts.list({ budgetIds: [day.id] }))).toEqual(['key 100', 'key 80'])
		expect(await s.alerts.list({ budgetIds: [] })).toEqual([])
	})

	it('leaves out the alerts of a deleted budget', async () => {
		await using s = await setup()
		const budget = await s.budget('day', DOLLAR)
		await s.spend([budget], DOLLAR)
		await s.alerts.check([budget], NOW)
		await s.ledger.delete(budget.id)
		expect(await s.alerts.list()).toEqual([])
	})

	it('never rejects, even when the database is gone', async () => {
		await using s = await setup()
		const budget = await s.budget('day', DOLLAR)
		const broken = new BudgetAlerts(s.store, {
			statuses: () => Promise.reject(new Error('connection lost')),
		} as unknown as BudgetLedger)
		const logged: string[] = []
		const original = console.error
		console.error = (message: string) => logged.push(message)
		try {
			await broken.check([budget], NOW)
		} finally {
			console.error = original
		}
		expect(logged).toEqual([
			expect.stringContaining('budgets: could not check budget alerts: Error: connection lost'),
		])
	})
})

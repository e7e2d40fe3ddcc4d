import type { SQL } from 'bun'
import { and, eq, lte, or, sql } from 'drizzle-orm'
import type { DataStore } from '../../db/client'
import { BatchQueue, type Deferred } from '../lib/batch-queue'
import type { Budget, SweepResult } from './ledger'
import type { Pending, SpendBook, WindowUsage } from './spend-book'
import { windowKey } from './windows'

interface Hold {
	budgetId: number
	windowStart: Date
	amountMicros: number
}

/** A hold taken back, with what its request cost (0 when released or swept). */
interface SettledHold extends Hold {
	costMicros: number
}

interface QueuedReserve extends Deferred<number> {
	requestId: string
	budgets: readonly Budget[]
	starts: readonly Date[]
	amountMicros: number
	now: number
	expiresAt: number
}

interface QueuedSettle extends Deferred<void> {
	requestId: string
	costMicros: number
}

/**
 * The spend book of PostgreSQL, shared by any number of instances, with single statements only
 * (docs/architecture.md, "Budgets", has the whole argument).
 *
 * - **Admission** raises each budget's `reserved` in one conditional upsert that refuses when spent + reserved
 *   + amount would pass the limit, so concurrent requests, on any instance, can never together reserve more
 *   than a limit. The same statement writes the hold rows of what it raised.
 * - **Batched under load.** Reservations, and settlements, that arrive while the previous batch is in the
 *   database go together: one insert of their reservation rows, then one statement per budget window
 *   raising it by their sum and writing their holds (should the sum not fit, one per request, in order, so
 *   exactly those that fit pass); one statement taking their holds and reservation rows, then one update
 *   per window. A hot budget's row changes once per batch, not twice per request: PostgreSQL spent over a
 *   millisecond of CPU per request on a single budget changed by every request.
 * - **Bookkeeping that survives a crash at any point.** The reservation row is written before any counter
 *   moves, and a raise commits with its hold rows. Whoever undoes a raise (settle, release, the refusal
 *   path, the sweeper) first takes its hold row by deleting it, one statement that exactly one caller
 *   wins, and only then lowers the counter. So a counter is never lowered for a raise that did not happen,
 *   nor twice for one that did: a crash can only leave a hold taken and its counter not yet lowered, which
 *   keeps that amount reserved, never less. Budgets fail closed.
 */
export class SharedSpendBook implements SpendBook {
	private readonly reserves = new BatchQueue<QueuedReserve>((batch) => this.reserveBatch(batch))
	private readonly settles = new BatchQueue<QueuedSettle>((batch) => this.settleBatch(batch))

	constructor(private readonly store: DataStore) {}

	private get postgres(): SQL {
		if (!this.store.postgres) throw new Error('the shared spend book needs PostgreSQL')
		return this.store.postgres
	}

	reserve(
		requestId: string,
		budgets: readonly Budget[],
		starts: readonly Date[],
		amountMicros: number,
		now: number,
		expiresAt: number,
	): Promise<number> {
		return new Promise((resolve, reject) =>
			this.reserves.add({ requestId, budgets, starts, amountMicros, now, expiresAt, resolve, reject }),
		)
	}

	/**
	 * Takes the request's holds by deleting them (with its reservation row), then lowers each counter it
	 * raised, adding the cost to spent.
	 */
	settle(requestId: string, costMicros: number): Promise<void> {
		return new Promise((resolve, reject) => this.settles.add({ requestId, costMicros, resolve, reject }))
	}

	/** Nothing to wait for: each settle writes before it resolves. */
	async flush() {}

	async sweep(now: number): Promise<SweepResult> {
		const { db, tables } = this.store
		const { budgetReservations: reservations, budgetHolds: holds } = tables
		const at = new Date(now)
		// Holds carry their own deadline: one whose request wrote it after its reservation row was swept is
		// still found here.
		const taken = await db.delete(holds).where(lte(holds.expiresAt, at)).returning({
			budgetId: holds.budgetId,
			windowStart: holds.windowStart,
			amountMicros: holds.amountMicros,
		})
		await this.lowerAll(taken.map((hold) => ({ ...hold, costMicros: 0 })))
		const gone = await db
			.delete(reservations)
			.where(lte(reservations.expiresAt, at))
			.returning({ requestId: reservations.requestId })
		return { reservations: gone.length, holds: taken.length }
	}

	async usage(budgets: readonly Budget[], starts: readonly Date[]): Promise<WindowUsage[]> {
		const { db, tables } = this.store
		const { budgetUsage: usage } = tables
		const rows = await db
			.select({
				budgetId: usage.budgetId,
				windowStart: usage.windowStart,
				spentMicros: usage.spentMicros,
				reservedMicros: usage.reservedMicros,
			})
			.from(usage)
			.where(
				or(
					...budgets.map((budget, i) =>
						and(eq(usage.budgetId, budget.id), eq(usage.windowStart, starts[i] ?? new Date(0))),
					),
				),
			)
		return budgets.map((budget, i) => {
			const start = (starts[i] ?? new Date(0)).getTime()
			const row = rows.find((r) => r.budgetId === budget.id && r.windowStart.getTime() === start)
			return { spentMicros: row?.spentMicros ?? 0, reservedMicros: row?.reservedMicros ?? 0 }
		})
	}

	/** Nothing to do: a deleted budget's rows go, and a later lower matches none. */
	forget() {}

	async pending(): Promise<Pending> {
		const { db, tables } = this.store
		const [reservations] = await db.select({ n: sql<number>`count(*)` }).from(tables.budgetReservations)
		const [holds] = await db.select({ n: sql<number>`count(*)` }).from(tables.budgetHolds)
		return { reservations: Number(reservations?.n ?? 0), holds: Number(holds?.n ?? 0) }
	}

	private async reserveBatch(batch: QueuedReserve[]) {
		const { db, tables } = this.store
		const { budgetReservations: reservations } = tables
		const unique = new Map<string, QueuedReserve>()
		for (const request of batch) {
			if (unique.has(request.requestId)) request.reject(alreadyHeld(request.requestId))
			else unique.set(request.requestId, request)
		}
		// First, so that a crash from here on leaves a row for the sweeper.
		const inserted = await db
			.insert(reservations)
			.values(
				[...unique.values()].map((request) => ({
					requestId: request.requestId,
					amountMicros: request.amountMicros,
					createdAt: new Date(request.now),
					expiresAt: new Date(request.expiresAt),
				})),
			)
			.onConflictDoNothing()
			.returning({ requestId: reservations.requestId })
		const mine = new Set(inserted.map((row) => row.requestId))
		let alive: QueuedReserve[] = []
		for (const request of unique.values()) {
			if (mine.has(request.requestId)) alive.push(request)
			else request.reject(alreadyHeld(request.requestId))
		}
		// Budget by budget, in each request's order: the i-th budgets of every request still admitted.
		for (let i = 0; alive.length > 0; i++) {
			const groups = new Map<string, { budget: Budget; start: Date; requests: QueuedReserve[] }>()
			const done: QueuedReserve[] = []
			for (const request of alive) {
				const budget = request.budgets[i]
				if (!budget) {
					done.push(request)
					continue
				}
				const start = request.starts[i] ?? new Date(0)
				const key = windowKey(budget.id, start)
				const group = groups.get(key) ?? { budget, start, requests: [] }
				group.requests.push(request)
				groups.set(key, group)
			}
			for (const request of done) request.resolve(-1)
			const refused: QueuedReserve[] = []
			const passed = await Promise.all(
				[...groups.values()].map(async ({ budget, start, requests }) => {
					const held = await this.holdAll(budget, start, requests)
					for (const request of requests) if (!held.includes(request)) refused.push(request)
					return held
				}),
			)
			await Promise.all(
				refused.map(async (request) => {
					await this.settle(request.requestId, 0)
					request.resolve(i)
				}),
			)
			alive = passed.flat()
		}
	}

	/** Holds every request's amount in the window in one statement when they all fit; else one by one. */
	private async holdAll(budget: Budget, start: Date, requests: QueuedReserve[]): Promise<QueuedReserve[]> {
		if (requests.length > 1 && (await this.raiseAndHold(budget, start, requests))) return requests
		const held: QueuedReserve[] = []
		for (const request of requests) if (await this.raiseAndHold(budget, start, [request])) held.push(request)
		return held
	}

	private async settleBatch(batch: QueuedSettle[]) {
		// The first settle of a request counts; a second finds its holds gone, as it would alone.
		const costs = new Map<string, number>()
		for (const { requestId, costMicros } of batch) if (!costs.has(requestId)) costs.set(requestId, costMicros)
		const ids = JSON.stringify([...costs.keys()])
		// One statement takes the holds and drops the reservation rows; the counters follow, a row each.
		const taken = await this.postgres<
			{ request_id: string; budget_id: number; start_ms: number; amount: number }[]
		>`
			WITH gone AS (
				DELETE FROM budget_reservations
				WHERE request_id IN (SELECT jsonb_array_elements_text(${ids}::text::jsonb))
			)
			DELETE FROM budget_holds WHERE request_id IN (SELECT jsonb_array_elements_text(${ids}::text::jsonb))
			RETURNING request_id, budget_id, (extract(epoch FROM window_start) * 1000)::float8 AS start_ms,
				amount_micros::float8 AS amount`
		await this.lowerAll(
			taken.map((hold) => ({
				budgetId: hold.budget_id,
				windowStart: new Date(hold.start_ms),
				amountMicros: hold.amount,
				costMicros: costs.get(hold.request_id) ?? 0,
			})),
		)
		for (const settle of batch) settle.resolve()
	}

	/**
	 * Raises a budget's reserved amount in one window by the requests' amounts and writes their hold rows,
	 * in one statement, unless the sum would pass the limit. The upsert creates the window's row on the
	 * first reservation in it; its conflict branch locks the row and checks its latest version, so
	 * concurrent raises queue on it and each sees the ones before. Raise and holds commit together: a crash
	 * cannot leave one without the other.
	 */
	private async raiseAndHold(
		budget: Budget,
		start: Date,
		requests: readonly QueuedReserve[],
	): Promise<boolean> {
		const amount = requests.reduce((sum, request) => sum + request.amountMicros, 0)
		// The insert branch has no condition of its own: a window's first reservation must fit an empty window.
		if (amount > budget.limitMicros) return false
		const holds = JSON.stringify(
			requests.map((request) => ({
				request_id: request.requestId,
				amount: request.amountMicros,
				expires_at: request.expiresAt,
			})),
		)
		const startMs = start.getTime()
		const held = await this.postgres`
			WITH raised AS (
				INSERT INTO budget_usage (budget_id, window_start, spent_micros, reserved_micros)
				VALUES (${budget.id}, to_timestamp(${startMs}::float8 / 1000), 0, ${amount}::bigint)
				ON CONFLICT (budget_id, window_start) DO UPDATE
					SET reserved_micros = budget_usage.reserved_micros + excluded.reserved_micros
					WHERE budget_usage.spent_micros + budget_usage.reserved_micros + excluded.reserved_micros
						<= ${budget.limitMicros}::bigint
				RETURNING budget_id, window_start
			)
			INSERT INTO budget_holds (request_id, budget_id, window_start, amount_micros, expires_at)
			SELECT hold.request_id, raised.budget_id, raised.window_start, hold.amount,
				to_timestamp(hold.expires_at::float8 / 1000)
			FROM raised, jsonb_to_recordset(${holds}::text::jsonb) AS hold(request_id text, amount bigint, expires_at bigint)
			RETURNING request_id`
		return held.length > 0
	}

	/**
	 * Gives back holds that were taken, counting their costs as spent: their sums per window, one update each
	 * (each locks one row, so two instances' updates can never wait on each other in a cycle).
	 */
	private async lowerAll(holds: readonly SettledHold[]) {
		const perWindow = new Map<string, SettledHold>()
		for (const hold of holds) {
			const key = windowKey(hold.budgetId, hold.windowStart)
			const sum = perWindow.get(key)
			if (sum) {
				sum.amountMicros += hold.amountMicros
				sum.costMicros += hold.costMicros
			} else perWindow.set(key, { ...hold })
		}
		await Promise.all([...perWindow.values()].map((sum) => this.lower(sum)))
	}

	/** Gives back a window's taken holds, counting their cost as spent. */
	private async lower({ budgetId, windowStart, amountMicros, costMicros }: SettledHold) {
		const { db, tables } = this.store
		const { budgetUsage: usage } = tables
		await db
			.update(usage)
			.set({
				spentMicros: sql`${usage.spentMicros} + ${costMicros}`,
				// Never below zero, whatever happened before.
				reservedMicros: sql`CASE WHEN ${usage.reservedMicros} > ${amountMicros} THEN ${usage.reservedMicros} - ${amountMicros} ELSE 0 END`,
			})
			.where(and(eq(usage.budgetId, budgetId), eq(usage.windowStart, windowStart)))
	}
}

const alreadyHeld = (requestId: string) => new Error(`Request ${requestId} already holds a reservation`)

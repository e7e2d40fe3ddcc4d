import { and, eq, inArray, lte, or, sql } from 'drizzle-orm'
import type { DataStore } from '../../db/client'
import { BatchQueue, type Deferred } from '../lib/batch-queue'
import type { Budget, SweepResult } from './ledger'
import type { Pending, SpendBook, WindowUsage } from './spend-book'

interface Hold {
	budgetId: number
	windowStart: Date
	amountMicros: number
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

/** The hold rows of a window, summed: what one statement gives back. */
const windowKey = (budgetId: number, start: Date) => `${budgetId}:${start.getTime()}`

/**
 * The spend book of PostgreSQL, shared by any number of instances, with single statements only
 * (docs/architecture.md, "Budgets", has the whole argument).
 *
 * - **Admission** raises each budget's `reserved` in one conditional upsert that refuses when spent + reserved
 *   + amount would pass the limit, so concurrent requests, on any instance, can never together reserve more
 *   than a limit.
 * - **Batched under load.** Reservations, and settlements, that arrive while the previous batch is in the
 *   database go together: one insert of their reservation rows, one upsert per budget window raising it by
 *   their sum (and, should the sum not fit, one per request, in order, so exactly those that fit pass),
 *   one insert of their hold rows; one delete of their holds, one update per window, one delete of their
 *   reservation rows. A hot budget's row changes once per batch, not twice per request: PostgreSQL spent
 *   over a millisecond of CPU per request on a single budget changed by every request.
 * - **Bookkeeping that survives a crash at any point.** The reservation row is written before any counter
 *   moves, and a hold row just after each counter was raised. Whoever undoes a raise (settle, release, the
 *   refusal path, the sweeper) first takes its hold row by deleting it, one statement that exactly one
 *   caller wins, and only then lowers the counter. So a counter is never lowered for a raise that did not
 *   happen, nor twice for one that did: a crash can only leave a raise without its hold row (between the
 *   two statements), which keeps that amount reserved, never less. Budgets fail closed.
 */
export class SharedSpendBook implements SpendBook {
	private readonly reserves = new BatchQueue<QueuedReserve>((batch) => this.reserveBatch(batch))
	private readonly settles = new BatchQueue<QueuedSettle>((batch) => this.settleBatch(batch))

	constructor(private readonly store: DataStore) {}

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
	 * Takes each of the request's holds by deleting it, then lowers the counter it raised (adding the cost to
	 * spent), then deletes the reservation row.
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
		const perWindow = new Map<string, Hold>()
		for (const hold of taken) {
			const key = windowKey(hold.budgetId, hold.windowStart)
			const sum = perWindow.get(key)
			if (sum) sum.amountMicros += hold.amountMicros
			else perWindow.set(key, { ...hold })
		}
		await Promise.all([...perWindow.values()].map((sum) => this.lower(sum, 0)))
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
		const { budgetReservations: reservations, budgetHolds: holds } = tables
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
					const fits = await this.raiseAll(budget, start, requests)
					for (const request of requests) if (!fits.has(request)) refused.push(request)
					const held = requests.filter((request) => fits.has(request))
					// Just after the raise: a crash between the two keeps the amounts reserved (fails closed).
					if (held.length > 0)
						await db.insert(holds).values(
							held.map((request) => ({
								requestId: request.requestId,
								budgetId: budget.id,
								windowStart: start,
								amountMicros: request.amountMicros,
								expiresAt: new Date(request.expiresAt),
							})),
						)
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

	/** Raises the window by every request's amount in one statement when they all fit; else one by one. */
	private async raiseAll(
		budget: Budget,
		start: Date,
		requests: QueuedReserve[],
	): Promise<Set<QueuedReserve>> {
		const sum = requests.reduce((total, request) => total + request.amountMicros, 0)
		if (requests.length > 1 && (await this.raise(budget, start, sum))) return new Set(requests)
		const fits = new Set<QueuedReserve>()
		for (const request of requests)
			if (await this.raise(budget, start, request.amountMicros)) fits.add(request)
		return fits
	}

	private async settleBatch(batch: QueuedSettle[]) {
		const { db, tables } = this.store
		const { budgetReservations: reservations, budgetHolds: holds } = tables
		// The first settle of a request counts; a second finds its holds gone, as it would alone.
		const costs = new Map<string, number>()
		for (const { requestId, costMicros } of batch) if (!costs.has(requestId)) costs.set(requestId, costMicros)
		const ids = [...costs.keys()]
		const taken = await db.delete(holds).where(inArray(holds.requestId, ids)).returning({
			requestId: holds.requestId,
			budgetId: holds.budgetId,
			windowStart: holds.windowStart,
			amountMicros: holds.amountMicros,
		})
		const perWindow = new Map<string, Hold & { costMicros: number }>()
		for (const hold of taken) {
			const key = windowKey(hold.budgetId, hold.windowStart)
			const cost = costs.get(hold.requestId) ?? 0
			const sum = perWindow.get(key)
			if (sum) {
				sum.amountMicros += hold.amountMicros
				sum.costMicros += cost
			} else perWindow.set(key, { ...hold, costMicros: cost })
		}
		await Promise.all([...perWindow.values()].map((sum) => this.lower(sum, sum.costMicros)))
		await db.delete(reservations).where(inArray(reservations.requestId, ids))
		for (const settle of batch) settle.resolve()
	}

	/**
	 * Raises a budget's reserved amount in one window, unless it would pass the limit: one upsert, which
	 * creates the window's row on the first reservation in it. On PostgreSQL the conflict branch locks the
	 * row and checks its latest version, so concurrent raises queue on it and each sees the ones before.
	 */
	private async raise(budget: Budget, start: Date, amountMicros: number): Promise<boolean> {
		// The insert branch has no condition of its own: a window's first reservation must fit an empty window.
		if (amountMicros > budget.limitMicros) return false
		const { db, tables } = this.store
		const { budgetUsage: usage } = tables
		const raised = await db
			.insert(usage)
			.values({ budgetId: budget.id, windowStart: start, spentMicros: 0, reservedMicros: amountMicros })
			.onConflictDoUpdate({
				target: [usage.budgetId, usage.windowStart],
				set: { reservedMicros: sql`${usage.reservedMicros} + ${amountMicros}` },
				setWhere: sql`${usage.spentMicros} + ${usage.reservedMicros} + ${amountMicros} <= ${budget.limitMicros}`,
			})
			.returning({ budgetId: usage.budgetId })
		return raised.length > 0
	}

	/** Gives back a hold that was taken, counting `costMicros` as spent. */
	private async lower(hold: Hold, costMicros: number) {
		const { db, tables } = this.store
		const { budgetUsage: usage } = tables
		await db
			.update(usage)
			.set({
				spentMicros: sql`${usage.spentMicros} + ${costMicros}`,
				// Never below zero, whatever happened before.
				reservedMicros: sql`CASE WHEN ${usage.reservedMicros} > ${hold.amountMicros} THEN ${usage.reservedMicros} - ${hold.amountMicros} ELSE 0 END`,
			})
			.where(and(eq(usage.budgetId, hold.budgetId), eq(usage.windowStart, hold.windowStart)))
	}
}

const alreadyHeld = (requestId: string) => new Error(`Request ${requestId} already holds a reservation`)

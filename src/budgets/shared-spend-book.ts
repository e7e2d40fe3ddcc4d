import { and, eq, lte, or, sql } from 'drizzle-orm'
import type { DataStore } from '../../db/client'
import type { Budget, SweepResult } from './ledger'
import type { Pending, SpendBook, WindowUsage } from './spend-book'

interface Hold {
	budgetId: number
	windowStart: Date
	amountMicros: number
}

/**
 * The spend book of PostgreSQL, shared by any number of instances, with single statements only
 * (docs/architecture.md, "Budgets", has the whole argument).
 *
 * - **Admission** raises each budget's `reserved` in one conditional upsert that refuses when spent + reserved
 *   + amount would pass the limit, so concurrent requests, on any instance, can never together reserve more
 *   than a limit.
 * - **Bookkeeping that survives a crash at any point.** The reservation row is written before any counter
 *   moves, and a hold row just after each counter was raised. Whoever undoes a raise (settle, release, the
 *   refusal path, the sweeper) first takes its hold row by deleting it, one statement that exactly one
 *   caller wins, and only then lowers the counter. So a counter is never lowered for a raise that did not
 *   happen, nor twice for one that did: a crash can only leave a raise without its hold row (between the
 *   two statements), which keeps that amount reserved, never less. Budgets fail closed.
 */
export class SharedSpendBook implements SpendBook {
	constructor(private readonly store: DataStore) {}

	async reserve(
		requestId: string,
		budgets: readonly Budget[],
		starts: readonly Date[],
		amountMicros: number,
		now: number,
		expiresAt: number,
	): Promise<number> {
		const { db, tables } = this.store
		const { budgetReservations: reservations, budgetHolds: holds } = tables
		// First, so that a crash from here on leaves a row for the sweeper.
		await db.insert(reservations).values({
			requestId,
			amountMicros,
			createdAt: new Date(now),
			expiresAt: new Date(expiresAt),
		})
		for (const [i, budget] of budgets.entries()) {
			const start = starts[i] ?? new Date(0)
			if (!(await this.raise(budget, start, amountMicros))) {
				await this.settle(requestId, 0)
				return i
			}
			// Just after the raise: a crash between the two keeps the amount reserved (fails closed).
			await db.insert(holds).values({
				requestId,
				budgetId: budget.id,
				windowStart: start,
				amountMicros,
				expiresAt: new Date(expiresAt),
			})
		}
		return -1
	}

	/**
	 * Takes each of the request's holds by deleting it, then lowers the counter it raised (adding the cost to
	 * spent), then deletes the reservation row.
	 */
	async settle(requestId: string, costMicros: number): Promise<void> {
		const { db, tables } = this.store
		const { budgetReservations: reservations, budgetHolds: holds } = tables
		const taken = await db.delete(holds).where(eq(holds.requestId, requestId)).returning({
			budgetId: holds.budgetId,
			windowStart: holds.windowStart,
			amountMicros: holds.amountMicros,
		})
		for (const hold of taken) await this.lower(hold, costMicros)
		await db.delete(reservations).where(eq(reservations.requestId, requestId))
	}

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
			const key = `${hold.budgetId}:${hold.windowStart.getTime()}`
			const sum = perWindow.get(key)
			if (sum) sum.amountMicros += hold.amountMicros
			else perWindow.set(key, { ...hold })
		}
		for (const sum of perWindow.values()) await this.lower(sum, 0)
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

	/** Nothing to wait for: each settle writes before it resolves. */
	async flush() {}

	/** Nothing to do: a deleted budget's rows go, and a later lower matches none. */
	forget() {}

	async pending(): Promise<Pending> {
		const { db, tables } = this.store
		const [reservations] = await db.select({ n: sql<number>`count(*)` }).from(tables.budgetReservations)
		const [holds] = await db.select({ n: sql<number>`count(*)` }).from(tables.budgetHolds)
		return { reservations: Number(reservations?.n ?? 0), holds: Number(holds?.n ?? 0) }
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

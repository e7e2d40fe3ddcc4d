import type { Database, Statement } from 'bun:sqlite'
import { loggable } from '../lib/redact'
import type { Budget, SweepResult } from './ledger'
import type { Pending, SpendBook, WindowUsage } from './spend-book'

/** What requests in flight hold in one budget's window: the sum of their holds on it. */
interface WindowCounter {
	readonly budgetId: number
	/** The window's first instant, in ms, as `budget_usage.window_start` stores it. */
	readonly start: number
	readonly key: string
	reservedMicros: number
	/** The budget was deleted: its requests in flight settle against nothing. */
	gone: boolean
}

interface LocalHold {
	readonly window: WindowCounter
	readonly amountMicros: number
}

/** Costs settled in a window and not yet written. */
interface UnwrittenSpend {
	readonly budgetId: number
	readonly start: number
	micros: number
}

interface LocalReservation {
	readonly expiresAt: number
	readonly holds: readonly LocalHold[]
}

/** After a write of spent amounts failed, the wait before they are tried again (they stay counted meanwhile). */
const RETRY_WRITE_MS = 1000

/** One book per SQLite connection, whichever ledgers open it: they share what is reserved. */
const books = new WeakMap<Database, LocalSpendBook>()

/**
 * The spend book of SQLite, where one process owns the database file (docs/architecture.md, "Budgets").
 *
 * - **What is reserved lives in memory.** No request can be in flight when the process starts, so there is
 *   nothing to recover from a previous run: opening the book zeroes every `reserved_micros` and empties the
 *   reservation and hold tables (left by a crash, or by a build that kept them there), and a crash loses
 *   only reservations, which is what the sweeper of PostgreSQL would give back anyway.
 * - **What is spent is written once per event-loop turn.** `settle` counts the cost in memory at once, so
 *   the next admission sees it, and the costs settled in one turn are added to `budget_usage.spent_micros`
 *   in one transaction after it (a commit per request was most of what a budget cost a request). `settle`
 *   resolves when its cost is on disk; a crash loses at most the turn being written.
 * - **Admission is exact and atomic.** `reserve` reads each window's spent amount and checks and raises the
 *   counters without yielding to the event loop: no other request of the process runs in between, so
 *   spent + reserved ≤ limit holds at every moment, and a refused request never held anything that could
 *   make another one be refused.
 */
export class LocalSpendBook implements SpendBook {
	private readonly windows = new Map<string, WindowCounter>()
	private readonly reservations = new Map<string, LocalReservation>()
	/** Settled and counted, not yet on disk: what `spentIn` adds to the table's amount. */
	private readonly unwritten = new Map<string, UnwrittenSpend>()
	private writing: Promise<void> | undefined
	private readonly readSpent: Statement<{ spent: number }, [number, number]>
	private readonly addSpent: (spends: readonly UnwrittenSpend[]) => void

	/** The book of `sqlite`; the first ledger to open it resets what a previous run had reserved. */
	static of(sqlite: Database): LocalSpendBook {
		let book = books.get(sqlite)
		if (!book) {
			book = new LocalSpendBook(sqlite)
			books.set(sqlite, book)
		}
		return book
	}

	private constructor(sqlite: Database) {
		sqlite.transaction(() => {
			sqlite.run('UPDATE budget_usage SET reserved_micros = 0 WHERE reserved_micros <> 0')
			sqlite.run('DELETE FROM budget_holds')
			sqlite.run('DELETE FROM budget_reservations')
		})()
		// Prepared once: drizzle's query builder costs more than the statement itself (GOTCHAS 10).
		this.readSpent = sqlite.prepare(
			'SELECT spent_micros AS spent FROM budget_usage WHERE budget_id = ? AND window_start = ?',
		)
		const add = sqlite.prepare<unknown, [number, number, number]>(
			'INSERT INTO budget_usage (budget_id, window_start, spent_micros, reserved_micros) VALUES (?, ?, ?, 0) ' +
				'ON CONFLICT (budget_id, window_start) DO UPDATE SET spent_micros = spent_micros + excluded.spent_micros',
		)
		// One transaction per turn: every window's settled costs, with one commit. It runs without an await,
		// so no other statement of the process can come between its statements.
		this.addSpent = sqlite.transaction((spends: readonly UnwrittenSpend[]) => {
			for (const { budgetId, start, micros } of spends) add.run(budgetId, start, micros)
		})
	}

	async reserve(
		requestId: string,
		budgets: readonly Budget[],
		starts: readonly Date[],
		amountMicros: number,
		_now: number,
		expiresAt: number,
	): Promise<number> {
		if (this.reservations.has(requestId)) throw new Error(`Request ${requestId} already holds a reservation`)
		const holds: LocalHold[] = []
		try {
			for (const [i, budget] of budgets.entries()) {
				const start = starts[i]?.getTime() ?? 0
				const key = `${budget.id}:${start}`
				const counter = this.windows.get(key)
				const reserved = counter?.reservedMicros ?? 0
				if (this.spentIn(budget.id, start) + reserved + amountMicros > budget.limitMicros) {
					for (const hold of holds) this.lower(hold)
					return i
				}
				const window = counter ?? this.openWindow(key, budget.id, start)
				window.reservedMicros += amountMicros
				holds.push({ window, amountMicros })
			}
		} catch (error) {
			for (const hold of holds) this.lower(hold)
			throw error
		}
		this.reservations.set(requestId, { expiresAt, holds })
		return -1
	}

	async settle(requestId: string, costMicros: number): Promise<void> {
		const reservation = this.reservations.get(requestId)
		if (!reservation) return
		this.reservations.delete(requestId)
		// Counted as spent in the same synchronous step that lowers the reservation: no admission in between
		// sees the amount in neither.
		if (costMicros > 0)
			for (const { window } of reservation.holds) if (!window.gone) this.count(window, costMicros)
		for (const hold of reservation.holds) this.lower(hold)
		if (costMicros > 0) await this.writeSoon()
	}

	/** Writes what is settled and not yet on disk (at shutdown). */
	async flush(): Promise<void> {
		await this.writing
		if (this.unwritten.size > 0) this.write()
	}

	async sweep(now: number): Promise<SweepResult> {
		let reservations = 0
		let holds = 0
		for (const [requestId, reservation] of this.reservations) {
			if (reservation.expiresAt > now) continue
			this.reservations.delete(requestId)
			for (const hold of reservation.holds) this.lower(hold)
			reservations++
			holds += reservation.holds.length
		}
		return { reservations, holds }
	}

	async usage(budgets: readonly Budget[], starts: readonly Date[]): Promise<WindowUsage[]> {
		return budgets.map((budget, i) => {
			const start = starts[i]?.getTime() ?? 0
			return {
				spentMicros: this.spentIn(budget.id, start),
				reservedMicros: this.windows.get(`${budget.id}:${start}`)?.reservedMicros ?? 0,
			}
		})
	}

	forget(budgetId: number) {
		for (const [key, spend] of this.unwritten) if (spend.budgetId === budgetId) this.unwritten.delete(key)
		for (const window of this.windows.values()) {
			if (window.budgetId !== budgetId) continue
			window.gone = true
			this.windows.delete(window.key)
		}
	}

	async pending(): Promise<Pending> {
		let holds = 0
		for (const reservation of this.reservations.values()) holds += reservation.holds.length
		return { reservations: this.reservations.size, holds }
	}

	private spentIn(budgetId: number, start: number): number {
		const written = this.readSpent.get(budgetId, start)?.spent ?? 0
		return written + (this.unwritten.get(`${budgetId}:${start}`)?.micros ?? 0)
	}

	private count(window: WindowCounter, costMicros: number) {
		const spend = this.unwritten.get(window.key)
		if (spend) spend.micros += costMicros
		else
			this.unwritten.set(window.key, { budgetId: window.budgetId, start: window.start, micros: costMicros })
	}

	/** The turn's settled costs are written once it ends; every settle of the turn waits for that write. */
	private writeSoon(): Promise<void> {
		this.writing ??= new Promise<void>((resolve, reject) => {
			setImmediate(() => {
				this.writing = undefined
				try {
					this.write()
					resolve()
				} catch (error) {
					// Still counted in memory, so admission fails closed until a later write succeeds.
					setTimeout(() => {
						this.writeSoon().catch((retryError) => {
							console.error(`budgets: could not write settled spend: ${loggable(retryError)}`)
						})
					}, RETRY_WRITE_MS).unref()
					reject(error)
				}
			})
		})
		return this.writing
	}

	/** Amounts leave memory only once on disk: a failed write keeps all of them. */
	private write() {
		this.addSpent([...this.unwritten.values()])
		this.unwritten.clear()
	}

	private openWindow(key: string, budgetId: number, start: number): WindowCounter {
		const window = { budgetId, start, key, reservedMicros: 0, gone: false }
		this.windows.set(key, window)
		return window
	}

	/** A window nothing holds any more is dropped, so past days' windows do not pile up. */
	private lower({ window, amountMicros }: LocalHold) {
		window.reservedMicros -= amountMicros
		if (window.reservedMicros <= 0 && this.windows.get(window.key) === window) this.windows.delete(window.key)
	}
}

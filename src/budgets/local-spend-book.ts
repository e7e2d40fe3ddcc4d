import type { Database, Statement } from 'bun:sqlite'
import { ADD_SPENT_SQL, type SpendLog } from '../request-log/log-store'
import type { Budget, SweepResult } from './ledger'
import type { Pending, SpendBook, WindowUsage } from './spend-book'
import { windowKey } from './windows'

/** One budget's window: what it has spent, and what requests in flight hold on it. */
interface WindowCounter {
	readonly budgetId: number
	/** The window's first instant, in ms, as `budget_usage.window_start` stores it. */
	readonly start: number
	readonly key: string
	/** Everything settled in the window, written or not: the table's amount when it was opened, and since. */
	spentMicros: number
	reservedMicros: number
	/** The budget was deleted: its requests in flight settle against nothing. */
	gone: boolean
}

interface LocalHold {
	readonly window: WindowCounter
	readonly amountMicros: number
}

interface LocalReservation {
	readonly expiresAt: number
	readonly holds: readonly LocalHold[]
}

/** What a hold raised goes back off its window's reserved amount. */
const giveBack = ({ window, amountMicros }: LocalHold) => {
	window.reservedMicros -= amountMicros
}

/** One book per SQLite connection, whichever ledgers open it: they share what is spent and reserved. */
const books = new WeakMap<Database, LocalSpendBook>()

/**
 * Writes each settled cost in a transaction of its own, at once: for a ledger opened without the request
 * log (scripts and the ledger's own tests). The server hands costs to its request log instead.
 */
export class SpendTable implements SpendLog {
	private readonly add: Statement<unknown, [number, number, number]>

	constructor(sqlite: Database) {
		this.add = sqlite.prepare(ADD_SPENT_SQL)
	}

	recordSpend(budgetId: number, windowStartMs: number, micros: number) {
		try {
			this.add.run(budgetId, windowStartMs, micros)
		} catch (error) {
			console.error('budgets: could not write a settled cost', error)
		}
	}

	async flush() {}
}

/**
 * The spend book of SQLite, where one process owns the database file (docs/architecture.md, "Budgets").
 *
 * - **The counters live in memory.** A window's spent amount is read from `budget_usage` once, when the
 *   window is first used, and counted in memory from then on: no other process writes the file. What is
 *   reserved is never written: no request can be in flight when the process starts, so opening the book
 *   zeroes every `reserved_micros` and empties the reservation and hold tables (left by a build that kept
 *   them there), and a crash loses only reservations, which the sweeper of PostgreSQL would give back anyway.
 * - **What is spent reaches the disk with the request log.** `settle` hands each cost to the `SpendLog`:
 *   in the server the request log, whose writer thread adds it to `spent_micros` in the transaction of its
 *   next batch (every 10 ms). No write happens on the event loop, a cost reaches the disk with the log rows
 *   of its turn, and a crash loses at most the costs whose rows it loses too.
 * - **Admission is exact and atomic.** `reserve` checks and raises the counters without yielding to the
 *   event loop: no other request of the process runs in between, so spent + reserved ≤ limit holds at
 *   every moment, and a refused request never held anything that could make another one be refused.
 */
export class LocalSpendBook implements SpendBook {
	/** The current window of each budget in use, and older ones until a newer one opens. */
	private readonly windows = new Map<string, WindowCounter>()
	private readonly reservations = new Map<string, LocalReservation>()
	private readonly readSpent: Statement<{ spent: number }, [number, number]>

	/**
	 * The book of `sqlite`; the first ledger to open it resets what a previous run had reserved, and its
	 * `spendLog` is where every ledger's costs on this connection are written.
	 */
	static of(sqlite: Database, spendLog?: SpendLog): LocalSpendBook {
		let book = books.get(sqlite)
		if (!book) {
			book = new LocalSpendBook(sqlite, spendLog ?? new SpendTable(sqlite))
			books.set(sqlite, book)
		}
		return book
	}

	private constructor(
		sqlite: Database,
		private readonly spendLog: SpendLog,
	) {
		sqlite.transaction(() => {
			sqlite.run('UPDATE budget_usage SET reserved_micros = 0 WHERE reserved_micros <> 0')
			sqlite.run('DELETE FROM budget_holds')
			sqlite.run('DELETE FROM budget_reservations')
		})()
		// Prepared once: drizzle's query builder costs more than the statement itself (GOTCHAS 10).
		this.readSpent = sqlite.prepare(
			'SELECT spent_micros AS spent FROM budget_usage WHERE budget_id = ? AND window_start = ?',
		)
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
				const window = this.window(budget.id, starts[i]?.getTime() ?? 0)
				if (window.spentMicros + window.reservedMicros + amountMicros > budget.limitMicros) {
					for (const hold of holds) giveBack(hold)
					return i
				}
				window.reservedMicros += amountMicros
				holds.push({ window, amountMicros })
			}
		} catch (error) {
			for (const hold of holds) giveBack(hold)
			throw error
		}
		this.reservations.set(requestId, { expiresAt, holds })
		return -1
	}

	async settle(requestId: string, costMicros: number): Promise<void> {
		const reservation = this.reservations.get(requestId)
		if (!reservation) return
		this.reservations.delete(requestId)
		// Spent and reserved change in one synchronous step: no admission sees the amount in neither.
		for (const hold of reservation.holds) {
			giveBack(hold)
			const { window } = hold
			if (costMicros === 0 || window.gone) continue
			window.spentMicros += costMicros
			this.spendLog.recordSpend(window.budgetId, window.start, costMicros)
		}
	}

	flush(): Promise<void> {
		return this.spendLog.flush()
	}

	async sweep(now: number): Promise<SweepResult> {
		let reservations = 0
		let holds = 0
		for (const [requestId, reservation] of this.reservations) {
			if (reservation.expiresAt > now) continue
			this.reservations.delete(requestId)
			for (const hold of reservation.holds) giveBack(hold)
			reservations++
			holds += reservation.holds.length
		}
		return { reservations, holds }
	}

	async usage(budgets: readonly Budget[], starts: readonly Date[]): Promise<WindowUsage[]> {
		return budgets.map((budget, i) => {
			const start = starts[i]?.getTime() ?? 0
			const window = this.windows.get(windowKey(budget.id, start))
			if (window) return { spentMicros: window.spentMicros, reservedMicros: window.reservedMicros }
			// A window no request has used since the start: the table has all of it.
			return { spentMicros: this.readSpent.get(budget.id, start)?.spent ?? 0, reservedMicros: 0 }
		})
	}

	forget(budgetId: number) {
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

	/**
	 * The budget's window starting at `start`, read from the table the first time. A newer window of the
	 * budget closes its older ones: requests in flight still settle into them through their holds, and the
	 * log writes those costs, but nothing reserves there any more.
	 */
	private window(budgetId: number, start: number): WindowCounter {
		const key = windowKey(budgetId, start)
		const known = this.windows.get(key)
		if (known) return known
		for (const older of this.windows.values())
			if (older.budgetId === budgetId && older.start < start) this.windows.delete(older.key)
		const window: WindowCounter = {
			budgetId,
			start,
			key,
			spentMicros: this.readSpent.get(budgetId, start)?.spent ?? 0,
			reservedMicros: 0,
			gone: false,
		}
		this.windows.set(key, window)
		return window
	}
}

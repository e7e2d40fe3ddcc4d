import type { Budget, SweepResult } from './ledger'

/** A window's two counters, as a status reports them. */
export interface WindowUsage {
	spentMicros: number
	reservedMicros: number
}

/** What a ledger holds for requests in flight: reservations, and the budget counters they raised. */
export interface Pending {
	reservations: number
	holds: number
}

/**
 * Where `BudgetLedger` keeps spent and reserved amounts: the part that differs between one SQLite process
 * (`LocalSpendBook`) and any number of instances on PostgreSQL (`SharedSpendBook`). The ledger validates,
 * does the window math, orders the budgets and builds every answer; a book only counts.
 */
export interface SpendBook {
	/**
	 * Raises each budget's reserved amount in its window (`starts[i]`) by `amountMicros`, in the order given,
	 * unless spent + reserved + amount would pass its limit. Resolves to the index of the budget that
	 * refused, with nothing left reserved by this request, or to -1 when every budget holds the amount.
	 * Rejects a request id that already holds a reservation.
	 */
	reserve(
		requestId: string,
		budgets: readonly Budget[],
		starts: readonly Date[],
		amountMicros: number,
		now: number,
		expiresAt: number,
	): Promise<number>
	/**
	 * Gives back what the request holds, counting `costMicros` as spent (0 to release); once. On SQLite the
	 * cost reaches the disk with the request log's next batch (`flush` waits for it).
	 */
	settle(requestId: string, costMicros: number): Promise<void>
	/** Resolves once every cost settled before the call is on disk. */
	flush(): Promise<void>
	/** Gives back, spending nothing, what requests whose deadline has passed by `now` still hold. */
	sweep(now: number): Promise<SweepResult>
	/** Each budget's counters in the window starting at `starts[i]`. */
	usage(budgets: readonly Budget[], starts: readonly Date[]): Promise<WindowUsage[]>
	/** The budget was deleted: requests in flight settle against nothing. Before its counters' rows go. */
	forget(budgetId: number): void
	pending(): Promise<Pending>
}

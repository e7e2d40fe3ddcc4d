import type { BudgetWindow } from '../../db/schema'

export const BUDGET_WINDOWS: readonly BudgetWindow[] = ['day', 'month', 'total']

/** A budget's money: integer micro-dollars, so sums are exact. */
export const MICROS_PER_USD = 1_000_000

/** Dollars (a price, a limit typed in) to micro-dollars, to the nearest micro-dollar. */
export const usdToMicros = (usd: number): number => Math.round(usd * MICROS_PER_USD)

export const microsToUsd = (micros: number): number => micros / MICROS_PER_USD

/** One budget's window, as a map key: its id and its first instant (a Date, or milliseconds). */
export const windowKey = (budgetId: number, start: Date | number) =>
	`${budgetId}:${typeof start === 'number' ? start : start.getTime()}`

/** The first instant of the window `now` falls in: the UTC day, the UTC month, or the epoch for a total. */
export function windowStart(window: BudgetWindow, now: number): Date {
	const at = new Date(now)
	if (window === 'day') return new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate()))
	if (window === 'month') return new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), 1))
	return new Date(0)
}

/** When the window `now` falls in ends and the next starts afresh; null for a total, which never resets. */
export function windowReset(window: BudgetWindow, now: number): Date | null {
	const at = new Date(now)
	// Date.UTC carries day 32 into the next month and month 12 into the next year.
	if (window === 'day') return new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate() + 1))
	if (window === 'month') return new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth() + 1, 1))
	return null
}

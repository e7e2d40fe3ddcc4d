// Whose data and which days an analytics read covers: shared by the usage reports, the request browser
// and the plugins that read their query parameters.
import { type Column, eq } from 'drizzle-orm'
import { forbidden } from '../errors'
import { DAY_MS, utcDay } from '../request-log/rollup'

/** The longest analytics window, and the retention a simulation can replay at most. */
export const MAX_DAYS = 90

/** Whose data: one user's, or everyone's (`null`, admins only). */
export interface Scope {
	userId: number | null
}

export type BreakdownBy = 'day' | 'model' | 'provider' | 'tier' | 'key'

/** Developers see their own data; an admin adds `scope=all` to see everyone's. */
export function scopeFor(user: { id: number; role: string }, requested: 'mine' | 'all' | undefined): Scope {
	if (requested !== 'all') return { userId: user.id }
	if (user.role !== 'admin') throw forbidden('Only an admin can see everyone’s data')
	return { userId: null }
}

/** The last `days` UTC calendar days, today included. */
export interface Window {
	days: number
	firstDay: number
	lastDay: number
}

export function windowOf(days: number, now = Date.now()): Window {
	const lastDay = utcDay(now)
	return { days, firstDay: lastDay - days + 1, lastDay }
}

export const dayLabel = (day: number) => new Date(day * DAY_MS).toISOString().slice(0, 10)

/** The rows within `scope`, by the table's user column; no condition for everyone's. */
export const inScope = (scope: Scope, userId: Column) =>
	scope.userId === null ? undefined : eq(userId, scope.userId)

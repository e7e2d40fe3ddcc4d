import type { Database } from 'bun:sqlite'
import { forbidden } from '../errors'
import type { Catalog } from '../providers/catalog'
import { DAY_MS, percentileFromHistogram, utcDay } from '../request-log/rollup'
import type { UncleanStop } from '../runtime/run-marker'

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

export interface Overview {
	requests: number
	errors: number
	/** Of the errors, those the upstreams caused (status 500 or more); the rest were the callers' own. */
	upstreamErrors: number
	costUsd: number
	baselineCostUsd: number
	savingsUsd: number
	promptTokens: number
	completionTokens: number
	avgLatencyMs: number
	p95LatencyMs: number
}

export interface BreakdownRow {
	/**
	 * The day, model, provider, tier or key name; null where the request had none: no model answered it
	 * (`by=model`, `by=provider`), or it had no tier (`by=tier`, split by `answered`).
	 */
	key: string | null
	requests: number
	costUsd: number
	baselineCostUsd: number
	promptTokens: number
	completionTokens: number
	avgLatencyMs: number
	/** For `by=key`: the gateway key's id (names need not be unique). */
	keyId?: number
	/**
	 * For `by=tier` rows without a tier: whether a model answered. One that did was named by the caller
	 * (explicit); the daily totals cannot tell a named model that then failed from a request refused before
	 * routing, so both are the rows where none answered.
	 */
	answered?: boolean
}

export interface Integrity {
	/** Answers with tokens but no cost: their model is priced at zero. */
	unpricedRequests: number
	/** Successful answers whose upstream never reported usage (priced at nothing). */
	missingUsageRequests: number
	/** Models that answered in the window and that the catalog does not price (absent, or priced at zero). */
	unpricedModels: string[]
	/**
	 * The last run stopped without a clean shutdown, so some of its requests may be missing from the log (how
	 * many is not known). Shown to admins, in a window that reaches the moment it was noticed.
	 */
	uncleanStop: UncleanStop | null
}

export const userClause = (scope: Scope, column = 'user_id') =>
	scope.userId === null ? '' : ` AND ${column} = ${scope.userId}`
const round = (value: number, digits = 10) => Math.round(value * 10 ** digits) / 10 ** digits

interface TotalsRow {
	requests: number
	errors: number
	upstreamErrors: number
	cost: number
	baseline: number
	prompt: number
	completion: number
	latency: number
}

const TOTALS = `COALESCE(SUM(requests), 0) AS requests, COALESCE(SUM(errors), 0) AS errors,
	COALESCE(SUM(upstream_errors), 0) AS upstreamErrors,
	COALESCE(SUM(cost_usd), 0) AS cost, COALESCE(SUM(baseline_cost_usd), 0) AS baseline,
	COALESCE(SUM(prompt_tokens), 0) AS prompt, COALESCE(SUM(completion_tokens), 0) AS completion,
	COALESCE(SUM(latency_ms_sum), 0) AS latency`

const average = (sum: number, count: number) => (count > 0 ? Math.round(sum / count) : 0)

export const HOUR_MS = 60 * 60_000

/**
 * Rows reach the log when their request ends, so a long stream may land after requests that began later;
 * none runs longer than this (UPSTREAM_TOTAL_TIMEOUT_MS is 10 minutes by default).
 */
const OUT_OF_ORDER_SLACK_MS = 60 * 60_000

const toBreakdownRow = (key: string | null, totals: TotalsRow): BreakdownRow => ({
	key,
	requests: totals.requests,
	costUsd: round(totals.cost),
	baselineCostUsd: round(totals.baseline),
	promptTokens: totals.prompt,
	completionTokens: totals.completion,
	avgLatencyMs: average(totals.latency, totals.requests),
})

const NO_TOTALS: TotalsRow = {
	requests: 0,
	errors: 0,
	upstreamErrors: 0,
	cost: 0,
	baseline: 0,
	prompt: 0,
	completion: 0,
	latency: 0,
}

/** The values the requests page's filters offer, and which absent ones occur (the views word those). */
export interface FilterOptions {
	models: string[]
	tiers: string[]
	keys: { id: number; name: string }[]
	/** Some requests had no model answer them. */
	unanswered: boolean
	/** Some requests had no tier: they named their model (explicit), or failed before routing. */
	untiered: boolean
	/** Some requests had neither a tier nor a model answering: perhaps refused before routing. */
	untieredUnanswered: boolean
}

/** Reads analytics from the rollup tables; single requests are read by `LoggedRequests`. */
export class UsageReports {
	constructor(
		private readonly sqlite: Database,
		private readonly catalog: Catalog,
	) {}

	overview(scope: Scope, window: Window): Overview {
		const totals = this.sqlite
			.query<TotalsRow, [number, number]>(
				`SELECT ${TOTALS} FROM usage_daily WHERE day BETWEEN ? AND ?${userClause(scope)}`,
			)
			.get(window.firstDay, window.lastDay) as TotalsRow
		const histogram = this.sqlite
			.query<{ bucket: number; count: number }, [number, number]>(
				`SELECT bucket, SUM(count) AS count FROM latency_daily
				  WHERE day BETWEEN ? AND ?${userClause(scope)} GROUP BY bucket ORDER BY bucket`,
			)
			.all(window.firstDay, window.lastDay)
			.map((row): [number, number] => [row.bucket, row.count])
		return {
			requests: totals.requests,
			errors: totals.errors,
			upstreamErrors: totals.upstreamErrors,
			costUsd: round(totals.cost),
			baselineCostUsd: round(totals.baseline),
			savingsUsd: round(totals.baseline - totals.cost),
			promptTokens: totals.prompt,
			completionTokens: totals.completion,
			avgLatencyMs: average(totals.latency, totals.requests),
			p95LatencyMs: percentileFromHistogram(histogram, 0.95),
		}
	}

	/** Each user's spend in the window, for the admin's Users page; users without requests are absent. */
	spendByUser(window: Window): Map<number, number> {
		const rows = this.sqlite
			.query<{ userId: number; cost: number }, [number, number]>(
				'SELECT user_id AS userId, SUM(cost_usd) AS cost FROM usage_daily WHERE day BETWEEN ? AND ? GROUP BY user_id',
			)
			.all(window.firstDay, window.lastDay)
		return new Map(rows.map((row) => [row.userId, round(row.cost)]))
	}

	breakdown(scope: Scope, by: BreakdownBy, window: Window): BreakdownRow[] {
		const column = by === 'key' ? 'key_id' : by
		// Requests without a tier are split by whether a model answered them (`answered`).
		const answered = "CASE WHEN tier = '' THEN model != '' ELSE 1 END"
		const grouping = by === 'tier' ? `tier, ${answered}` : column
		const grouped = this.sqlite
			.query<TotalsRow & { grouping: string | number; answered: number }, [number, number]>(
				`SELECT ${column} AS grouping, ${by === 'tier' ? answered : 1} AS answered, ${TOTALS} FROM usage_daily
				  WHERE day BETWEEN ? AND ?${userClause(scope)} GROUP BY ${grouping} ORDER BY cost DESC, requests DESC`,
			)
			.all(window.firstDay, window.lastDay)
		if (by === 'day') {
			const byDay = new Map(grouped.map((row) => [Number(row.grouping), row]))
			const rows: BreakdownRow[] = []
			for (let day = window.firstDay; day <= window.lastDay; day++)
				rows.push(toBreakdownRow(dayLabel(day), byDay.get(day) ?? NO_TOTALS))
			return rows
		}
		if (by === 'key') {
			const names = this.keyNames(grouped.map((row) => Number(row.grouping)))
			return grouped.map((row) => ({
				...toBreakdownRow(names.get(Number(row.grouping)) ?? `key ${row.grouping}`, row),
				keyId: Number(row.grouping),
			}))
		}
		// The rollups store an absent model, provider or tier as '' (it is part of their key); the API says null.
		return grouped.map((row) =>
			row.grouping === ''
				? { ...toBreakdownRow(null, row), ...(by === 'tier' && { answered: row.answered === 1 }) }
				: toBreakdownRow(String(row.grouping), row),
		)
	}

	/**
	 * One UTC day hour by hour, for a one-day chart (the rollups are daily): a row for each hour that has
	 * begun by `now`, zeros included, keyed by the hour's ISO time. Read from the request log, whose ids
	 * follow time give or take a long request: the rows after the last one begun well before the day, so
	 * the query walks that day's rows, never the whole log.
	 */
	hourly(scope: Scope, day: number, now = Date.now()): BreakdownRow[] {
		const start = day * DAY_MS
		const hours = Math.min(24, Math.max(0, Math.floor((now - start) / HOUR_MS) + 1))
		if (hours === 0) return []
		const grouped = this.sqlite
			.query<TotalsRow & { hour: number }, [number, number, number, number]>(
				`SELECT (created_at - ?) / ${HOUR_MS} AS hour, COUNT(*) AS requests,
				        SUM(status >= 400) AS errors, SUM(status >= 500) AS upstreamErrors,
				        SUM(cost_usd) AS cost, SUM(baseline_cost_usd) AS baseline, SUM(prompt_tokens) AS prompt,
				        SUM(completion_tokens) AS completion, SUM(latency_ms) AS latency
				   FROM request_log
				  WHERE id > COALESCE((SELECT id FROM request_log WHERE created_at < ? ORDER BY id DESC LIMIT 1), 0)
				    AND created_at >= ? AND created_at < ?${userClause(scope)}
				  GROUP BY hour`,
			)
			.all(start, start - OUT_OF_ORDER_SLACK_MS, start, start + DAY_MS)
		const byHour = new Map(grouped.map((row) => [row.hour, row]))
		return Array.from({ length: hours }, (_, hour) =>
			toBreakdownRow(new Date(start + hour * HOUR_MS).toISOString(), byHour.get(hour) ?? NO_TOTALS),
		)
	}

	/** `uncleanStop`: what this run found at start, passed only for a viewer who may see it. */
	integrity(scope: Scope, window: Window, uncleanStop: UncleanStop | null = null): Integrity {
		const counts = this.sqlite
			.query<{ unpriced: number; missing: number }, [number, number]>(
				`SELECT COALESCE(SUM(unpriced), 0) AS unpriced, COALESCE(SUM(missing_usage), 0) AS missing
				   FROM usage_daily WHERE day BETWEEN ? AND ?${userClause(scope)}`,
			)
			.get(window.firstDay, window.lastDay) ?? { unpriced: 0, missing: 0 }
		const models = this.sqlite
			.query<{ model: string }, [number, number]>(
				`SELECT DISTINCT model FROM usage_daily WHERE day BETWEEN ? AND ? AND model != ''${userClause(scope)}`,
			)
			.all(window.firstDay, window.lastDay)
			.map((row) => row.model)
		const unpricedModels = models.filter((id) => {
			const model = this.catalog.model(id)
			return !model || (model.inputPerMTok === 0 && model.outputPerMTok === 0)
		})
		// The lost rows are older than the notice: a window that starts after it holds none of them.
		const inWindow = uncleanStop !== null && Date.parse(uncleanStop.noticedAt) >= window.firstDay * DAY_MS
		return {
			unpricedRequests: counts.unpriced,
			missingUsageRequests: counts.missing,
			unpricedModels,
			uncleanStop: inWindow ? uncleanStop : null,
		}
	}

	/** Distinct values for the filter menus of the requests page. */
	filterOptions(scope: Scope): FilterOptions {
		const distinct = (column: string) =>
			this.sqlite
				.query<{ value: string }, []>(
					`SELECT DISTINCT ${column} AS value FROM usage_daily WHERE ${column} != ''${userClause(scope)} ORDER BY value`,
				)
				.all()
				.map((row) => row.value)
		const absent = this.sqlite
			.query<{ unanswered: number | null; untiered: number | null; untieredUnanswered: number | null }, []>(
				`SELECT MAX(model = '') AS unanswered, MAX(tier = '') AS untiered,
				        MAX(tier = '' AND model = '') AS untieredUnanswered
				   FROM usage_daily WHERE 1 = 1${userClause(scope)}`,
			)
			.get()
		const keyIds = this.sqlite
			.query<{ id: number }, []>(
				`SELECT DISTINCT key_id AS id FROM usage_daily WHERE 1 = 1${userClause(scope)}`,
			)
			.all()
			.map((row) => row.id)
		const names = this.keyNames(keyIds)
		return {
			models: distinct('model'),
			tiers: distinct('tier'),
			keys: keyIds.map((id) => ({ id, name: names.get(id) ?? `key ${id}` })),
			unanswered: absent?.unanswered === 1,
			untiered: absent?.untiered === 1,
			untieredUnanswered: absent?.untieredUnanswered === 1,
		}
	}

	private keyNames(ids: number[]): Map<number, string> {
		if (ids.length === 0) return new Map()
		const rows = this.sqlite
			.query<{ id: number; name: string }, number[]>(
				`SELECT id, name FROM gateway_keys WHERE id IN (${ids.map(() => '?').join(', ')})`,
			)
			.all(...ids)
		return new Map(rows.map((row) => [row.id, row.name]))
	}
}

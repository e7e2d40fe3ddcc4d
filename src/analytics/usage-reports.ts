import { and, between, type Column, desc, gt, gte, inArray, lt, ne, type SQL, sql } from 'drizzle-orm'
import type { DataStore, Tables } from '../../db/client'
import type { Catalog } from '../providers/catalog'
import { DAY_MS, percentileFromHistogram } from '../request-log/rollup'
import type { UncleanStop } from '../runtime/run-marker'
import { type BreakdownBy, dayLabel, inScope, type Scope, type Window } from './scope'

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
	/** Requests answered from the response cache, at $0. */
	cacheHits: number
	/** Cache hits as a share of all requests (0 to 1); 0 without requests. */
	cacheHitRate: number
	/** What the cache hits would have cost at their models' prices: spend the cache avoided. */
	cacheSavingsUsd: number
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

const round = (value: number, digits = 10) => Math.round(value * 10 ** digits) / 10 ** digits

/**
 * Text in SQLite's BINARY order (its UTF-8 bytes), which PostgreSQL gives only under the C collation: the
 * menus and lists read the same on either database, whatever collation PostgreSQL was set up with.
 */
export const binaryOrder = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b))

/** PostgreSQL answers a sum of integers as a numeric, which its driver gives as a string. */
const total = (column: Column) => sql<number>`COALESCE(SUM(${column}), 0)`.mapWith(Number)
const sumOf = (column: Column) => sql<number>`SUM(${column})`.mapWith(Number)
/** How many of the group's rows meet `condition`: a CASE, since only SQLite sums booleans. */
const countWhere = (condition: SQL | undefined) =>
	sql<number>`SUM(CASE WHEN ${condition} THEN 1 ELSE 0 END)`.mapWith(Number)

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

/** The rollups' totals, as a select: zeros where no row matched. */
function rollupTotals(daily: Tables['usageDaily']) {
	return {
		requests: total(daily.requests),
		errors: total(daily.errors),
		upstreamErrors: total(daily.upstreamErrors),
		cost: total(daily.costUsd),
		baseline: total(daily.baselineCostUsd),
		prompt: total(daily.promptTokens),
		completion: total(daily.completionTokens),
		latency: total(daily.latencyMsSum),
	}
}

const average = (sum: number, count: number) => (count > 0 ? Math.round(sum / count) : 0)

export const HOUR_MS = 60 * 60_000

/**
 * Rows reach the log when their request ends, so a long stream may land after requests that began later;
 * none runs longer than this (UPSTREAM_TOTAL_TIMEOUT_MS is 10 minutes by default).
 */
const OUT_OF_ORDER_SLACK_MS = 60 * 60_000

/**
 * The hour of the day (0 to 23) a log row began in, found by halving the day: five comparisons of the
 * timestamp column, each bound through the column so either database gets its own type (SQLite stores
 * milliseconds, PostgreSQL a timestamptz), where the arithmetic on them would be spelled differently.
 */
function hourOf(createdAt: Column, start: number, first = 0, end = 24): SQL {
	if (end - first === 1) return sql.raw(String(first))
	const middle = (first + end) >> 1
	return sql`CASE WHEN ${lt(createdAt, new Date(start + middle * HOUR_MS))} THEN ${hourOf(createdAt, start, first, middle)} ELSE ${hourOf(createdAt, start, middle, end)} END`
}

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

const NO_CACHE_TOTALS = { ...NO_TOTALS, cacheHits: 0, cacheSaved: 0 }

type Grouped = TotalsRow & { grouping: string | number; answered: number }

/**
 * Costliest first, then busiest; ties by the grouping, ascending, as SQLite's sorter left them when it
 * ordered these rows itself. Ordered here so that PostgreSQL's collation cannot reorder the ties.
 */
function costliestFirst(a: Grouped, b: Grouped): number {
	return (
		b.cost - a.cost ||
		b.requests - a.requests ||
		(typeof a.grouping === 'string' && typeof b.grouping === 'string'
			? binaryOrder(a.grouping, b.grouping)
			: Number(a.grouping) - Number(b.grouping)) ||
		a.answered - b.answered
	)
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
		private readonly store: DataStore,
		private readonly catalog: Catalog,
	) {}

	async overview(scope: Scope, window: Window): Promise<Overview> {
		const { db, tables } = this.store
		const { usageDaily, latencyDaily } = tables
		const [[totals = NO_CACHE_TOTALS], histogram] = await Promise.all([
			db
				.select({
					...rollupTotals(usageDaily),
					cacheHits: total(usageDaily.cacheHits),
					cacheSaved: total(usageDaily.cacheSavedUsd),
				})
				.from(usageDaily)
				.where(and(inWindow(usageDaily.day, window), inScope(scope, usageDaily.userId))),
			db
				.select({ bucket: latencyDaily.bucket, count: sumOf(latencyDaily.count) })
				.from(latencyDaily)
				.where(and(inWindow(latencyDaily.day, window), inScope(scope, latencyDaily.userId)))
				.groupBy(latencyDaily.bucket)
				.orderBy(latencyDaily.bucket),
		])
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
			p95LatencyMs: percentileFromHistogram(
				histogram.map((row): [number, number] => [row.bucket, row.count]),
				0.95,
			),
			cacheHits: totals.cacheHits,
			cacheHitRate: totals.requests > 0 ? round(totals.cacheHits / totals.requests, 6) : 0,
			cacheSavingsUsd: round(totals.cacheSaved),
		}
	}

	/** Each user's spend in the window, for the admin's Users page; users without requests are absent. */
	async spendByUser(window: Window): Promise<Map<number, number>> {
		const { db, tables } = this.store
		const { usageDaily } = tables
		const rows = await db
			.select({ userId: usageDaily.userId, cost: sumOf(usageDaily.costUsd) })
			.from(usageDaily)
			.where(inWindow(usageDaily.day, window))
			.groupBy(usageDaily.userId)
		return new Map(rows.map((row) => [row.userId, round(row.cost)]))
	}

	async breakdown(scope: Scope, by: BreakdownBy, window: Window): Promise<BreakdownRow[]> {
		const { db, tables } = this.store
		const { usageDaily } = tables
		const column = {
			day: usageDaily.day,
			model: usageDaily.model,
			provider: usageDaily.provider,
			tier: usageDaily.tier,
			key: usageDaily.keyId,
		}[by]
		// Requests without a tier are split by whether a model answered them (`answered`). No parameter in
		// it: PostgreSQL matches the grouped expression with the selected one by its text.
		const answered = sql<number>`CASE WHEN ${usageDaily.tier} = '' AND ${usageDaily.model} = '' THEN 0 ELSE 1 END`
		const grouped: Grouped[] = await db
			.select({
				grouping: column,
				answered: (by === 'tier' ? answered : sql<number>`1`).mapWith(Number),
				...rollupTotals(usageDaily),
			})
			.from(usageDaily)
			.where(and(inWindow(usageDaily.day, window), inScope(scope, usageDaily.userId)))
			.groupBy(...(by === 'tier' ? [usageDaily.tier, answered] : [column]))
		grouped.sort(costliestFirst)
		if (by === 'day') {
			const byDay = new Map(grouped.map((row) => [Number(row.grouping), row]))
			const rows: BreakdownRow[] = []
			for (let day = window.firstDay; day <= window.lastDay; day++)
				rows.push(toBreakdownRow(dayLabel(day), byDay.get(day) ?? NO_TOTALS))
			return rows
		}
		if (by === 'key') {
			const names = await this.keyNames(grouped.map((row) => Number(row.grouping)))
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
	async hourly(scope: Scope, day: number, now = Date.now()): Promise<BreakdownRow[]> {
		const start = day * DAY_MS
		const hours = Math.min(24, Math.max(0, Math.floor((now - start) / HOUR_MS) + 1))
		if (hours === 0) return []
		const { db, tables } = this.store
		const { requestLog } = tables
		const lastBefore = db
			.select({ id: requestLog.id })
			.from(requestLog)
			.where(lt(requestLog.createdAt, new Date(start - OUT_OF_ORDER_SLACK_MS)))
			.orderBy(desc(requestLog.id))
			.limit(1)
		const grouped = await db
			.select({
				// Grouped by its name: PostgreSQL would not match the expression's parameters with themselves.
				hour: sql<number>`${hourOf(requestLog.createdAt, start)}`.mapWith(Number).as('hour'),
				requests: sql<number>`COUNT(*)`.mapWith(Number),
				errors: countWhere(gte(requestLog.status, 400)),
				upstreamErrors: countWhere(gte(requestLog.status, 500)),
				cost: sumOf(requestLog.costUsd),
				baseline: sumOf(requestLog.baselineCostUsd),
				prompt: sumOf(requestLog.promptTokens),
				completion: sumOf(requestLog.completionTokens),
				latency: sumOf(requestLog.latencyMs),
			})
			.from(requestLog)
			.where(
				and(
					gt(requestLog.id, sql`COALESCE(${lastBefore}, 0)`),
					gte(requestLog.createdAt, new Date(start)),
					lt(requestLog.createdAt, new Date(start + DAY_MS)),
					inScope(scope, requestLog.userId),
				),
			)
			.groupBy(sql`hour`)
		const byHour = new Map(grouped.map((row) => [row.hour, row]))
		return Array.from({ length: hours }, (_, hour) =>
			toBreakdownRow(new Date(start + hour * HOUR_MS).toISOString(), byHour.get(hour) ?? NO_TOTALS),
		)
	}

	/** `uncleanStop`: what this run found at start, passed only for a viewer who may see it. */
	async integrity(scope: Scope, window: Window, uncleanStop: UncleanStop | null = null): Promise<Integrity> {
		const { db, tables } = this.store
		const { usageDaily } = tables
		const inView = and(inWindow(usageDaily.day, window), inScope(scope, usageDaily.userId))
		const [[counts = { unpriced: 0, missing: 0 }], models] = await Promise.all([
			db
				.select({ unpriced: total(usageDaily.unpriced), missing: total(usageDaily.missingUsage) })
				.from(usageDaily)
				.where(inView),
			db
				.selectDistinct({ model: usageDaily.model })
				.from(usageDaily)
				.where(and(inView, ne(usageDaily.model, ''))),
		])
		const unpricedModels = models
			.map((row) => row.model)
			.filter((id) => {
				const model = this.catalog.model(id)
				return !model || (model.inputPerMTok === 0 && model.outputPerMTok === 0)
			})
			.sort(binaryOrder)
		// The lost rows are older than the notice: a window that starts after it holds none of them.
		const inWindowNotice =
			uncleanStop !== null && Date.parse(uncleanStop.noticedAt) >= window.firstDay * DAY_MS
		return {
			unpricedRequests: counts.unpriced,
			missingUsageRequests: counts.missing,
			unpricedModels,
			uncleanStop: inWindowNotice ? uncleanStop : null,
		}
	}

	/** Distinct values for the filter menus of the requests page. */
	async filterOptions(scope: Scope): Promise<FilterOptions> {
		const { db, tables } = this.store
		const { usageDaily } = tables
		const mine = inScope(scope, usageDaily.userId)
		const distinct = async (column: typeof usageDaily.model | typeof usageDaily.tier) =>
			(
				await db
					.selectDistinct({ value: column })
					.from(usageDaily)
					.where(and(ne(column, ''), mine))
			)
				.map((row) => row.value)
				.sort(binaryOrder)
		const occurs = (condition: SQL) =>
			sql<number | null>`MAX(CASE WHEN ${condition} THEN 1 ELSE 0 END)`.mapWith(Number)
		const [models, tiers, [absent], keyRows] = await Promise.all([
			distinct(usageDaily.model),
			distinct(usageDaily.tier),
			db
				.select({
					unanswered: occurs(sql`${usageDaily.model} = ''`),
					untiered: occurs(sql`${usageDaily.tier} = ''`),
					untieredUnanswered: occurs(sql`${usageDaily.tier} = '' AND ${usageDaily.model} = ''`),
				})
				.from(usageDaily)
				.where(mine),
			db.selectDistinct({ id: usageDaily.keyId }).from(usageDaily).where(mine).orderBy(usageDaily.keyId),
		])
		const keyIds = keyRows.map((row) => row.id)
		const names = await this.keyNames(keyIds)
		return {
			models,
			tiers,
			keys: keyIds.map((id) => ({ id, name: names.get(id) ?? `key ${id}` })),
			unanswered: absent?.unanswered === 1,
			untiered: absent?.untiered === 1,
			untieredUnanswered: absent?.untieredUnanswered === 1,
		}
	}

	private async keyNames(ids: number[]): Promise<Map<number, string>> {
		if (ids.length === 0) return new Map()
		const { db, tables } = this.store
		const { gatewayKeys } = tables
		const rows = await db
			.select({ id: gatewayKeys.id, name: gatewayKeys.name })
			.from(gatewayKeys)
			.where(inArray(gatewayKeys.id, ids))
		return new Map(rows.map((row) => [row.id, row.name]))
	}
}

/** The rollup rows of the window's days. */
const inWindow = (day: Column, window: Window) => between(day, window.firstDay, window.lastDay)

import type { Database } from 'bun:sqlite'
import type { AttemptRecord } from '../../../db/schema'
import { notFound } from '../../errors'
import type { Catalog } from '../../providers/catalog'
import type { UncleanStop } from '../../run-marker'
import { DAY_MS, percentileFromHistogram, utcDay } from './rollup'

/** The longest analytics window, and the retention a simulation can replay at most. */
export const MAX_DAYS = 90

/** Whose data: one user's, or everyone's (`null`, admins only). */
export interface Scope {
	userId: number | null
}

export type BreakdownBy = 'day' | 'model' | 'provider' | 'tier' | 'key'

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
	costUsd: number
	baselineCostUsd: number
	savingsUsd: number
	promptTokens: number
	completionTokens: number
	avgLatencyMs: number
	p95LatencyMs: number
}

export interface BreakdownRow {
	key: string
	requests: number
	costUsd: number
	baselineCostUsd: number
	promptTokens: number
	completionTokens: number
	avgLatencyMs: number
	/** For `by=key`: the gateway key's id (names need not be unique). */
	keyId?: number
}

export interface RequestFilters {
	status?: number | 'error' | 'ok'
	model?: string
	tier?: string
	keyId?: number
}

export interface RequestListItem {
	id: number
	createdAt: string
	keyName: string | null
	/** Whose request: shown when an admin looks at everyone's. */
	userEmail: string | null
	requestedModel: string | null
	model: string | null
	provider: string | null
	tier: string | null
	rule: string | null
	status: number
	promptTokens: number
	completionTokens: number
	costUsd: number
	latencyMs: number
	attempts: AttemptRecord[]
	error: string | null
}

export interface RequestDetail extends RequestListItem {
	requestId: string
	keyId: number
	userId: number
	upstreamModel: string | null
	stream: boolean
	errorType: string | null
	rulesRevision: number | null
	cachedTokens: number
	cacheWriteTokens: number
	usageReported: boolean
	baselineCostUsd: number
	ttftMs: number | null
	features: Record<string, unknown> | null
	/** Kept only with LOG_PROMPT_TEXT. */
	promptText: string | null
	systemText: string | null
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

const userClause = (scope: Scope, column = 'user_id') =>
	scope.userId === null ? '' : ` AND ${column} = ${scope.userId}`
const round = (value: number, digits = 10) => Math.round(value * 10 ** digits) / 10 ** digits

interface TotalsRow {
	requests: number
	errors: number
	cost: number
	baseline: number
	prompt: number
	completion: number
	latency: number
}

const TOTALS = `COALESCE(SUM(requests), 0) AS requests, COALESCE(SUM(errors), 0) AS errors,
	COALESCE(SUM(cost_usd), 0) AS cost, COALESCE(SUM(baseline_cost_usd), 0) AS baseline,
	COALESCE(SUM(prompt_tokens), 0) AS prompt, COALESCE(SUM(completion_tokens), 0) AS completion,
	COALESCE(SUM(latency_ms_sum), 0) AS latency`

const average = (sum: number, count: number) => (count > 0 ? Math.round(sum / count) : 0)

/** Reads analytics from the rollup tables; the request log is only read for lists of single requests. */
export class AnalyticsService {
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
			costUsd: round(totals.cost),
			baselineCostUsd: round(totals.baseline),
			savingsUsd: round(totals.baseline - totals.cost),
			promptTokens: totals.prompt,
			completionTokens: totals.completion,
			avgLatencyMs: average(totals.latency, totals.requests),
			p95LatencyMs: percentileFromHistogram(histogram, 0.95),
		}
	}

	breakdown(scope: Scope, by: BreakdownBy, window: Window): BreakdownRow[] {
		const column = by === 'key' ? 'key_id' : by
		const grouped = this.sqlite
			.query<TotalsRow & { grouping: string | number }, [number, number]>(
				`SELECT ${column} AS grouping, ${TOTALS} FROM usage_daily
				  WHERE day BETWEEN ? AND ?${userClause(scope)} GROUP BY ${column} ORDER BY cost DESC, requests DESC`,
			)
			.all(window.firstDay, window.lastDay)
		const toRow = (key: string, totals: TotalsRow): BreakdownRow => ({
			key,
			requests: totals.requests,
			costUsd: round(totals.cost),
			baselineCostUsd: round(totals.baseline),
			promptTokens: totals.prompt,
			completionTokens: totals.completion,
			avgLatencyMs: average(totals.latency, totals.requests),
		})
		if (by === 'day') {
			const byDay = new Map(grouped.map((row) => [Number(row.grouping), row]))
			const empty: TotalsRow = {
				requests: 0,
				errors: 0,
				cost: 0,
				baseline: 0,
				prompt: 0,
				completion: 0,
				latency: 0,
			}
			const rows: BreakdownRow[] = []
			for (let day = window.firstDay; day <= window.lastDay; day++)
				rows.push(toRow(dayLabel(day), byDay.get(day) ?? empty))
			return rows
		}
		if (by === 'key') {
			const names = this.keyNames(grouped.map((row) => Number(row.grouping)))
			return grouped.map((row) => ({
				...toRow(names.get(Number(row.grouping)) ?? `key ${row.grouping}`, row),
				keyId: Number(row.grouping),
			}))
		}
		return grouped.map((row) => toRow(row.grouping === '' ? 'none' : String(row.grouping), row))
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

	/** Newest first, `before` an id for the next page; every filter walks an index, never the whole log. */
	requests(scope: Scope, filters: RequestFilters, limit: number, before?: number): RequestListItem[] {
		const where: string[] = []
		const params: (string | number)[] = []
		if (before !== undefined) {
			where.push('r.id < ?')
			params.push(before)
		}
		if (scope.userId !== null) {
			where.push('r.user_id = ?')
			params.push(scope.userId)
		}
		if (filters.model) {
			where.push('r.model = ?')
			params.push(filters.model)
		}
		if (filters.tier) {
			where.push('r.tier = ?')
			params.push(filters.tier)
		}
		if (filters.keyId !== undefined) {
			where.push('r.key_id = ?')
			params.push(filters.keyId)
		}
		if (typeof filters.status === 'number') {
			where.push('r.status = ?')
			params.push(filters.status)
		} else if (filters.status === 'error') where.push('r.status >= 400')
		else if (filters.status === 'ok') where.push('r.status < 400')
		params.push(limit)
		const rows = this.sqlite
			.query<RawRequestRow, (string | number)[]>(
				`SELECT r.id, r.created_at, r.requested_model, r.model, r.provider, r.tier, r.rule, r.status, r.prompt_tokens,
				        r.completion_tokens, r.cost_usd, r.latency_ms, r.attempts, r.error, k.name AS key_name,
				        u.email AS user_email
				   FROM request_log r LEFT JOIN gateway_keys k ON k.id = r.key_id LEFT JOIN users u ON u.id = r.user_id
				  ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
				  ORDER BY r.id DESC LIMIT ?`,
			)
			.all(...params)
		return rows.map(toListItem)
	}

	/** One request, only within the caller's scope: another user's id is "not found". */
	request(scope: Scope, id: number): RequestDetail {
		const row = this.sqlite
			.query<RawRequestRow, [number]>(
				`SELECT r.*, k.name AS key_name, u.email AS user_email
				   FROM request_log r LEFT JOIN gateway_keys k ON k.id = r.key_id LEFT JOIN users u ON u.id = r.user_id
				  WHERE r.id = ?${userClause(scope, 'r.user_id')}`,
			)
			.get(id)
		if (!row) throw notFound('No such request')
		return {
			...toListItem(row),
			requestId: row.request_id,
			keyId: row.key_id,
			userId: row.user_id,
			upstreamModel: row.upstream_model,
			stream: row.stream === 1,
			errorType: row.error_type,
			rulesRevision: row.rules_revision,
			cachedTokens: row.cached_tokens,
			cacheWriteTokens: row.cache_write_tokens,
			usageReported: row.usage_reported === 1,
			baselineCostUsd: row.baseline_cost_usd,
			ttftMs: row.ttft_ms,
			features: row.features ? (JSON.parse(row.features) as Record<string, unknown>) : null,
			promptText: row.prompt_text,
			systemText: row.system_text,
		}
	}

	/** Distinct values for the filter menus of the requests page. */
	filterOptions(scope: Scope): { models: string[]; tiers: string[]; keys: { id: number; name: string }[] } {
		const distinct = (column: string) =>
			this.sqlite
				.query<{ value: string }, []>(
					`SELECT DISTINCT ${column} AS value FROM usage_daily WHERE ${column} != ''${userClause(scope)} ORDER BY value`,
				)
				.all()
				.map((row) => row.value)
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

interface RawRequestRow {
	id: number
	request_id: string
	created_at: number
	user_id: number
	key_id: number
	key_name: string | null
	user_email: string | null
	requested_model: string | null
	model: string | null
	upstream_model: string | null
	provider: string | null
	tier: string | null
	rule: string | null
	rules_revision: number | null
	stream: number
	status: number
	error_type: string | null
	error: string | null
	attempts: string
	prompt_tokens: number
	completion_tokens: number
	cached_tokens: number
	cache_write_tokens: number
	usage_reported: number
	cost_usd: number
	baseline_cost_usd: number
	latency_ms: number
	ttft_ms: number | null
	features: string | null
	prompt_text: string | null
	system_text: string | null
}

function toListItem(row: RawRequestRow): RequestListItem {
	return {
		id: row.id,
		createdAt: new Date(row.created_at).toISOString(),
		keyName: row.key_name,
		userEmail: row.user_email,
		requestedModel: row.requested_model,
		model: row.model,
		provider: row.provider,
		tier: row.tier,
		rule: row.rule,
		status: row.status,
		promptTokens: row.prompt_tokens,
		completionTokens: row.completion_tokens,
		costUsd: row.cost_usd,
		latencyMs: row.latency_ms,
		attempts: JSON.parse(row.attempts) as AttemptRecord[],
		error: row.error,
	}
}

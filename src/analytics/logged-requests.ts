import type { Database } from 'bun:sqlite'
import type { AttemptRecord } from '../../db/schema'
import { notFound } from '../errors'
import { type Scope, userClause } from './usage-reports'

/**
 * Why a logged request has no tier: it named its model (`explicit`: rule `explicit`, or a model answered
 * without a tier), or it was refused before any route was chosen (`before-routing`: no rule, no model).
 */
export type Untiered = 'explicit' | 'before-routing'

export interface RequestFilters {
	status?: number | 'error' | 'ok'
	/** A model id, or null for the requests no model answered. */
	model?: string | null
	tier?: string
	untiered?: Untiered
	keyId?: number
}

/** The conditions behind `Untiered`, on `request_log r`. */
const UNTIERED: Record<Untiered, string> = {
	explicit: "r.tier IS NULL AND (r.rule = 'explicit' OR r.model IS NOT NULL)",
	'before-routing': 'r.tier IS NULL AND r.rule IS NULL AND r.model IS NULL',
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

/** Reads single requests from the request log, for the requests page and `/api/requests`. */
export class LoggedRequests {
	constructor(private readonly sqlite: Database) {}

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
		if (filters.model === null) where.push('r.model IS NULL')
		else if (filters.model) {
			where.push('r.model = ?')
			params.push(filters.model)
		}
		if (filters.tier) {
			where.push('r.tier = ?')
			params.push(filters.tier)
		}
		if (filters.untiered) where.push(UNTIERED[filters.untiered])
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

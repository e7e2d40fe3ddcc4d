import { and, desc, eq, gte, isNotNull, isNull, lt, or, type SQL } from 'drizzle-orm'
import type { DataStore, Tables } from '../../db/client'
import type { AttemptRecord, Door } from '../../db/schema'
import { notFound } from '../errors'
import { inScope, type Scope } from './scope'

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
	door?: Door
}

/** The conditions behind `Untiered`. */
function untiered(log: Tables['requestLog'], why: Untiered): SQL | undefined {
	if (why === 'explicit') return and(isNull(log.tier), or(eq(log.rule, 'explicit'), isNotNull(log.model)))
	return and(isNull(log.tier), isNull(log.rule), isNull(log.model))
}

function statusIs(log: Tables['requestLog'], status: RequestFilters['status']): SQL | undefined {
	if (typeof status === 'number') return eq(log.status, status)
	if (status === 'error') return gte(log.status, 400)
	if (status === 'ok') return lt(log.status, 400)
	return undefined
}

export interface RequestListItem {
	id: number
	createdAt: string
	/** The API it came in through. */
	door: Door
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
	/** Answered from the response cache: no upstream call, at $0. */
	cacheHit: boolean
	/** What the cache hit avoided spending; 0 for other requests. */
	cacheSavedUsd: number
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
	/** Why its model came from a session pin, in the gateway's words; null when no pin applied. */
	pin: string | null
}

/** The columns of a list item, and the names of its key and its user (either may be gone). */
function listColumns({ requestLog: log, gatewayKeys, users }: Tables) {
	return {
		id: log.id,
		createdAt: log.createdAt,
		door: log.door,
		keyName: gatewayKeys.name,
		userEmail: users.email,
		requestedModel: log.requestedModel,
		model: log.model,
		provider: log.provider,
		tier: log.tier,
		rule: log.rule,
		status: log.status,
		promptTokens: log.promptTokens,
		completionTokens: log.completionTokens,
		costUsd: log.costUsd,
		latencyMs: log.latencyMs,
		attempts: log.attempts,
		error: log.error,
		cacheHit: log.cacheHit,
		cacheSavedUsd: log.cacheSavedUsd,
	}
}

/** Reads single requests from the request log, for the requests page and `/api/requests`. */
export class LoggedRequests {
	constructor(private readonly store: DataStore) {}

	/** Newest first, `before` an id for the next page; every filter walks an index, never the whole log. */
	async requests(
		scope: Scope,
		filters: RequestFilters,
		limit: number,
		before?: number,
	): Promise<RequestListItem[]> {
		const { db, tables } = this.store
		const { requestLog: log, gatewayKeys, users } = tables
		const rows = await db
			.select(listColumns(tables))
			.from(log)
			.leftJoin(gatewayKeys, eq(gatewayKeys.id, log.keyId))
			.leftJoin(users, eq(users.id, log.userId))
			.where(
				and(
					before === undefined ? undefined : lt(log.id, before),
					inScope(scope, log.userId),
					filters.model === null
						? isNull(log.model)
						: filters.model
							? eq(log.model, filters.model)
							: undefined,
					filters.tier ? eq(log.tier, filters.tier) : undefined,
					filters.untiered ? untiered(log, filters.untiered) : undefined,
					filters.keyId === undefined ? undefined : eq(log.keyId, filters.keyId),
					filters.door ? eq(log.door, filters.door) : undefined,
					statusIs(log, filters.status),
				),
			)
			.orderBy(desc(log.id))
			.limit(limit)
		return rows.map(toListItem)
	}

	/** One request, only within the caller's scope: another user's id is "not found". */
	async request(scope: Scope, id: number): Promise<RequestDetail> {
		const { db, tables } = this.store
		const { requestLog: log, gatewayKeys, users } = tables
		const [row] = await db
			.select({
				...listColumns(tables),
				requestId: log.requestId,
				keyId: log.keyId,
				userId: log.userId,
				upstreamModel: log.upstreamModel,
				stream: log.stream,
				errorType: log.errorType,
				rulesRevision: log.rulesRevision,
				cachedTokens: log.cachedTokens,
				cacheWriteTokens: log.cacheWriteTokens,
				usageReported: log.usageReported,
				baselineCostUsd: log.baselineCostUsd,
				ttftMs: log.ttftMs,
				features: log.features,
				promptText: log.promptText,
				systemText: log.systemText,
				pin: log.pin,
			})
			.from(log)
			.leftJoin(gatewayKeys, eq(gatewayKeys.id, log.keyId))
			.leftJoin(users, eq(users.id, log.userId))
			.where(and(eq(log.id, id), inScope(scope, log.userId)))
		if (!row) throw notFound('No such request')
		return {
			...toListItem(row),
			requestId: row.requestId,
			keyId: row.keyId,
			userId: row.userId,
			upstreamModel: row.upstreamModel,
			stream: row.stream,
			errorType: row.errorType,
			rulesRevision: row.rulesRevision,
			cachedTokens: row.cachedTokens,
			cacheWriteTokens: row.cacheWriteTokens,
			usageReported: row.usageReported,
			baselineCostUsd: row.baselineCostUsd,
			ttftMs: row.ttftMs,
			features: row.features ?? null,
			promptText: row.promptText,
			systemText: row.systemText,
			pin: row.pin,
		}
	}
}

type ListRow = Omit<RequestListItem, 'createdAt'> & { createdAt: Date }

function toListItem(row: ListRow): RequestListItem {
	return {
		id: row.id,
		createdAt: row.createdAt.toISOString(),
		door: row.door,
		keyName: row.keyName,
		userEmail: row.userEmail,
		requestedModel: row.requestedModel,
		model: row.model,
		provider: row.provider,
		tier: row.tier,
		rule: row.rule,
		status: row.status,
		promptTokens: row.promptTokens,
		completionTokens: row.completionTokens,
		costUsd: row.costUsd,
		latencyMs: row.latencyMs,
		attempts: row.attempts,
		error: row.error,
		cacheHit: row.cacheHit,
		cacheSavedUsd: row.cacheSavedUsd,
	}
}

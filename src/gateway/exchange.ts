// What is known about one gateway request as it goes, and the one log row it ends as.

import type { AttemptRecord } from '../../db/schema'
import type { Budget } from '../budgets/ledger'
import type { Config } from '../config'
import type { GatewayError } from '../errors'
import type { Principal } from '../keys/gateway-keys'
import { newRequestId } from '../lib/request-id'
import { type DigestInput, TEXT_LIMIT, type TextPattern } from '../lib/text-digest'
import type { Door, GatewayMetrics } from '../observability/gateway-metrics'
import type { RequestSpan } from '../observability/tracing'
import type { CatalogModel } from '../providers/catalog'
import { costUsd, sumUsage } from '../providers/pricing'
import type { TokenUsage } from '../providers/types'
import type { RequestLog } from '../request-log/request-log'
import type { RequestFeatures, RequestText } from '../rules/features'
import { type AdmissionDeps, settleSpend } from './admission'
import type { CacheUse } from './caching'
import type { Grant, KeyLimits } from './key-limits'
import type { SessionState } from './sessions'

const PROMPT_TEXT_LIMIT = 2000

function digestInput(text: RequestText): DigestInput {
	const cut = text.lastUserMessage.length > TEXT_LIMIT || text.system.length > TEXT_LIMIT
	return cut
		? {
				lastUserMessage: text.lastUserMessage.slice(0, TEXT_LIMIT),
				system: text.system.slice(0, TEXT_LIMIT),
				cut,
			}
		: { lastUserMessage: text.lastUserMessage, system: text.system, cut }
}

export const elapsedMs = (since: number) => Math.round(performance.now() - since)

/** Where a request goes: the ordered candidates, and why. */
export interface Route {
	candidates: CatalogModel[]
	tier: string | null
	/** The deciding rule's name, `default`, or `explicit` for a named model. */
	rule: string
	rulesRevision: number | null
	/** The model this request would have gone to without routing; null for a named model, which was not routed. */
	reference: CatalogModel | null
	/** The live rules' regular expressions, whose outcomes a routed request's text digest records. */
	textPatterns: readonly TextPattern[] | null
}

/** Everything known about one request, accumulated for its response headers and its log row. */
export interface Exchange {
	requestId: string
	/** The API the request came in through. */
	door: Door
	createdAt: Date
	startedAt: number
	principal: Principal
	requestedModel: string | null
	stream: boolean
	route?: Route
	features?: RequestFeatures
	text?: RequestText
	attempts: AttemptRecord[]
	/** Usage that attempts which then failed had already reported: the upstream bills it. */
	billed: { model: CatalogModel; usage: TokenUsage }[]
	/** Its log row is written: the one row it ever gets. */
	logged?: boolean
	/** Its trace's server span, when tracing is on. */
	trace?: RequestSpan
	/** Why its model came from a session pin, when it did: shown on the request's page. */
	pin?: string
	/** The conversation a routed request belongs to, when it was recognised. */
	session?: SessionState
	/** The budgets its worst case (`micros`) is reserved against: its log row settles it. */
	reserved?: { budgets: readonly Budget[]; micros: number }
	/** It may be answered from, and its answer kept in, the response cache. */
	cache?: CacheUse
	/** What it took from its key's limits: its log row gives back what it did not use, and its slot. */
	limits?: Grant
	/** It was answered from the cache, saving what the stored answer cost. */
	cacheHit?: { savedUsd: number }
}

export interface Outcome {
	status: number
	error?: GatewayError
	model?: CatalogModel
	upstreamModel?: string
	usage?: TokenUsage | null
	ttftMs?: number
}

export function newExchange(principal: Principal, door: Door): Exchange {
	return {
		requestId: newRequestId(),
		door,
		createdAt: new Date(),
		startedAt: performance.now(),
		principal,
		requestedModel: null,
		stream: false,
		attempts: [],
		billed: [],
	}
}

/** What writing a log row needs. */
export interface RowDeps {
	config: Pick<Config, 'logPromptText' | 'logTextDigest'>
	budgets: AdmissionDeps['budgets']
	budgetAlerts: AdmissionDeps['budgetAlerts']
	keyLimits: Pick<KeyLimits, 'settle'>
	requestLog: Pick<RequestLog, 'record'>
	metrics: Pick<GatewayMetrics, 'usage' | 'requestEnded'>
}

/**
 * Builds the log row: tokens as the upstream reported them, cost and baseline cost at today's prices. The
 * baseline is what the request would have cost without routing: the same tokens at the reference model
 * for a routed request, its own cost for a named model, so that only routing decisions count as savings.
 * Usage billed by attempts that failed after the upstream reported it counts too, at its own model's
 * prices. Returns the cost, which a JSON answer also reports in `x-switchyard-cost-usd`. The request's
 * metrics and its trace's server span end here too.
 */
export function recordUsage(deps: RowDeps, exchange: Exchange, outcome: Outcome): number {
	exchange.logged = true
	const elapsed = performance.now() - exchange.startedAt
	const billed =
		outcome.usage && outcome.model
			? [...exchange.billed, { model: outcome.model, usage: outcome.usage }]
			: exchange.billed
	const usage = billed.length > 0 ? sumUsage(billed.map((entry) => entry.usage)) : null
	const route = exchange.route
	const keepText = deps.config.logPromptText && exchange.text
	const patterns = deps.config.logTextDigest ? route?.textPatterns : null
	let cost = 0
	for (const entry of billed) {
		const entryCost = costUsd(entry.model, entry.usage)
		deps.metrics.usage(entry.model, entry.usage, entryCost)
		cost += entryCost
	}
	deps.metrics.requestEnded(exchange.door, exchange, outcome, elapsed)
	deps.requestLog.record({
		requestId: exchange.requestId,
		door: exchange.door,
		pin: exchange.pin ?? null,
		createdAt: exchange.createdAt,
		userId: exchange.principal.userId,
		keyId: exchange.principal.keyId,
		requestedModel: exchange.requestedModel,
		model: outcome.model?.qualifiedId ?? null,
		upstreamModel: outcome.upstreamModel ?? null,
		provider: outcome.model?.provider ?? null,
		tier: route?.tier ?? null,
		rule: route?.rule ?? null,
		rulesRevision: route?.rulesRevision ?? null,
		stream: exchange.stream,
		status: outcome.status,
		errorType: outcome.error?.type ?? null,
		error: outcome.error?.message ?? null,
		attempts: exchange.attempts,
		promptTokens: usage?.promptTokens ?? 0,
		completionTokens: usage?.completionTokens ?? 0,
		cachedTokens: usage?.cachedTokens ?? 0,
		cacheWriteTokens: usage?.cacheWriteTokens ?? 0,
		usageReported: usage !== null,
		costUsd: cost,
		baselineCostUsd: usage && route?.reference ? costUsd(route.reference, usage) : cost,
		latencyMs: Math.round(elapsed),
		ttftMs: outcome.ttftMs ?? null,
		features: exchange.features ?? null,
		promptText: keepText ? exchange.text?.lastUserMessage.slice(0, PROMPT_TEXT_LIMIT) : null,
		systemText: keepText ? exchange.text?.system.slice(0, PROMPT_TEXT_LIMIT) : null,
		textDigest: patterns && exchange.text ? { input: digestInput(exchange.text), patterns } : null,
		cacheHit: exchange.cacheHit !== undefined,
		cacheSavedUsd: exchange.cacheHit?.savedUsd ?? 0,
	})
	// An answer whose upstream reported no usage has no known cost: it keeps its worst case, never $0.
	const unpriced = outcome.status === 200 && !outcome.usage && !exchange.cacheHit
	settleSpend(deps, exchange, cost, unpriced)
	if (exchange.limits)
		void deps.keyLimits.settle(exchange.limits, usage ? usage.promptTokens + usage.completionTokens : 0)
	// After the row: the row is the record of the request, whatever the tracing SDK does.
	exchange.trace?.end(exchange, outcome, usage, cost)
	return cost
}

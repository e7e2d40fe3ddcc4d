import type { AttemptRecord } from '../../../db/schema'
import type { Config } from '../../config'
import { GatewayError } from '../../errors'
import type { Catalog, CatalogModel } from '../../providers/catalog'
import { toUpstreamError, UpstreamError, withoutSecrets } from '../../providers/errors'
import type { ProviderAdapters } from '../../providers/index'
import { costUsd, sumUsage } from '../../providers/pricing'
import type {
	ChatChunk,
	ChatRequest,
	ChatResult,
	ChatStream,
	PreparedCall,
	TokenUsage,
} from '../../providers/types'
import { toTokenUsage } from '../../providers/usage'
import { loggable } from '../../redact'
import { checkCapabilities } from '../../rules/capabilities'
import { extractFeatures, type RequestFeatures, type RequestText } from '../../rules/features'
import type { LiveRules } from '../../rules/store'
import type { Principal } from '../keys/gateway-keys'
import type { ProviderKeyVault } from '../keys/provider-keys'
import type { Attempt, Deadlines } from './deadlines'
import { CLIENT_CLOSED, clientGone, midStreamError, noAnswer, streamErrorBody } from './failures'
import { checkChatRequest, parseJsonObject, readBody } from './model'
import type { KeyRateLimiter } from './rate-limit'
import type { RequestLog } from './request-log'
import { relayStream, SSE_HEADERS, type StreamEnd } from './sse'

const PROMPT_TEXT_LIMIT = 2000

export interface GatewayDeps {
	config: Pick<Config, 'upstreamTimeoutMs' | 'upstreamTotalTimeoutMs' | 'logPromptText' | 'envKeys'>
	rateLimiter: Pick<KeyRateLimiter, 'take'>
	deadlines: Pick<Deadlines, 'watch'>
	catalog: Catalog
	providerKeys: Pick<ProviderKeyVault, 'cached' | 'resolve'>
	adapters: ProviderAdapters
	requestLog: Pick<RequestLog, 'record'>
	rules: LiveRules
}

/** Where a request goes: the ordered candidates, and why. */
interface Route {
	candidates: CatalogModel[]
	tier: string | null
	/** The deciding rule's name, `default`, or `explicit` for a named model. */
	rule: string
	rulesRevision: number | null
	baseline: CatalogModel | undefined
}

/** Everything known about one request, accumulated for its response headers and its log row. */
interface Exchange {
	requestId: string
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
}

interface Outcome {
	status: number
	error?: GatewayError
	model?: CatalogModel
	upstreamModel?: string
	usage?: TokenUsage | null
	ttftMs?: number
}

const elapsedMs = (since: number) => Math.round(performance.now() - since)

/**
 * A header value as HTTP allows it: every character outside printable ASCII percent-encoded, so a name from
 * a caller's body, a rules file or the catalog can never turn an answered request into a 500.
 */
const headerValue = (text: string) => text.replace(/[^\x20-\x7e]/gu, percentEncoded)

/** A character as UTF-8 percent-encoding; a lone surrogate, which has none, as U+FFFD's. */
function percentEncoded(char: string): string {
	try {
		return encodeURIComponent(char)
	} catch {
		return '%EF%BF%BD'
	}
}

/**
 * One gateway request, from body to response: read and check the body, classify, pick candidates, call
 * them in order with fallback, answer, and log. Every request that reaches here is logged exactly once.
 */
export async function runChat(deps: GatewayDeps, principal: Principal, request: Request): Promise<Response> {
	const exchange: Exchange = {
		requestId: `req_${crypto.randomUUID().replaceAll('-', '')}`,
		createdAt: new Date(),
		startedAt: performance.now(),
		principal,
		requestedModel: null,
		stream: false,
		attempts: [],
		billed: [],
	}
	try {
		enforceKeyLimit(deps, principal)
		const raw = parseJsonObject(await readBody(request))
		exchange.requestedModel = typeof raw.model === 'string' ? raw.model : null
		exchange.stream = raw.stream === true
		const body = checkChatRequest(raw)
		const { features, text } = extractFeatures(body)
		exchange.features = features
		exchange.text = text
		exchange.route = selectRoute(deps, body.model, features, text)
		return await execute(deps, exchange, body, request.signal)
	} catch (error) {
		const failure = asGatewayError(error, exchange, request.signal)
		// A failure after the row was written (the answer could not be built) must not log the request twice.
		if (!exchange.logged) recordUsage(deps, exchange, { status: failure.status, error: failure })
		throw withHeaders(failure, { 'x-switchyard-request-id': exchange.requestId })
	}
}

/** What the caller is told: our own errors as they are, a client gone mid-upload as 499, anything else 500. */
function asGatewayError(error: unknown, exchange: Exchange, clientSignal: AbortSignal): GatewayError {
	if (error instanceof GatewayError) return error
	if (clientSignal.aborted) return clientGone()
	console.error(`[${exchange.requestId}] gateway error: ${loggable(error)}`)
	return new GatewayError(500, 'api_error', 'Internal error')
}

/** A key's own limit (requests per minute): past it, 429 `rate_limit_exceeded` with `Retry-After`. */
function enforceKeyLimit(deps: GatewayDeps, principal: Principal) {
	if (!principal.rateLimitPerMinute) return
	const retryAfter = deps.rateLimiter.take(principal.keyId, principal.rateLimitPerMinute)
	if (retryAfter === 0) return
	throw new GatewayError(
		429,
		'rate_limit_error',
		`Rate limit reached for this key: ${principal.rateLimitPerMinute} requests per minute`,
		{ code: 'rate_limit_exceeded', headers: { 'retry-after': String(retryAfter) } },
	)
}

/** `auto` asks the live rules for a tier; anything else must be a catalog model, tried alone. */
function selectRoute(deps: GatewayDeps, model: string, features: RequestFeatures, text: RequestText): Route {
	const live = deps.rules.current()
	const baseline = deps.catalog.model(live.compiled.document.baseline)
	if (model === 'auto') {
		const decision = live.compiled.classify(features, text)
		const tier = live.compiled.document.tiers[decision.tier]
		const candidates = (tier?.models ?? []).flatMap((id) => deps.catalog.model(id) ?? [])
		return { candidates, tier: decision.tier, rule: decision.rule, rulesRevision: live.revision, baseline }
	}
	const explicit = deps.catalog.model(model)
	if (!explicit) {
		throw new GatewayError(404, 'not_found_error', `The model '${model}' does not exist in the catalog`, {
			param: 'model',
			code: 'model_not_found',
		})
	}
	const retired = deps.catalog.retiredOn(explicit)
	if (retired) {
		const instead = explicit.replacement ? `; use ${explicit.replacement} instead` : ''
		throw new GatewayError(
			404,
			'not_found_error',
			`The model '${explicit.qualifiedId}' was retired by its provider on ${retired}${instead}`,
			{ param: 'model', code: 'model_not_found' },
		)
	}
	return { candidates: [explicit], tier: null, rule: 'explicit', rulesRevision: live.revision, baseline }
}

/** Calls the candidates in order until one answers; the caller's own errors end the loop at once. */
async function execute(deps: GatewayDeps, exchange: Exchange, body: ChatRequest, clientSignal: AbortSignal) {
	const route = exchange.route as Route
	const skipped: string[] = []
	const missingKeys: CatalogModel[] = []
	const refusals: GatewayError[] = []
	for (const model of route.candidates) {
		const retired = deps.catalog.retiredOn(model)
		if (retired) {
			skipped.push(`${model.qualifiedId}: retired on ${retired}`)
			continue
		}
		// A named model is the caller's choice: only what its adapter cannot send stops it, and the upstream judges
		// the rest (tools, images). `auto` picks only capable ones.
		const incapable =
			route.tier !== null && exchange.features ? checkCapabilities(model, exchange.features) : null
		if (incapable) {
			skipped.push(`${model.qualifiedId}: ${incapable}`)
			continue
		}
		const provider = deps.catalog.provider(model.provider)
		if (!provider) continue
		const adapter = deps.adapters[provider.kind]
		let prepared: PreparedCall
		try {
			prepared = adapter.prepare(body, model, provider)
		} catch (error) {
			if (!(error instanceof GatewayError)) throw error
			refusals.push(error)
			skipped.push(`${model.qualifiedId}: ${error.message}`)
			continue
		}
		const { userId } = exchange.principal
		const key =
			deps.providerKeys.cached(userId, model.provider) ??
			(await deps.providerKeys.resolve(userId, model.provider))
		if (!key) {
			missingKeys.push(model)
			skipped.push(`${model.qualifiedId}: no ${model.provider} key`)
			continue
		}
		const target = { provider, model, apiKey: key.apiKey }
		const attemptStart = performance.now()
		const { upstreamTimeoutMs, upstreamTotalTimeoutMs } = deps.config
		const attempt = deps.deadlines.watch(upstreamTimeoutMs, upstreamTotalTimeoutMs, clientSignal)
		let stream: ChatStream | undefined
		try {
			if (exchange.stream) {
				stream = await adapter.stream(prepared, target, attempt)
				const iterator = stream[Symbol.asyncIterator]()
				const opening = await untilContent(iterator)
				exchange.attempts.push(attemptRecord(model, 200, attemptStart))
				const secrets = secretsOf(deps, key.apiKey)
				const relay = { model, prepared, opening, rest: iterator, stream, attempt, secrets }
				return streamResponse(deps, exchange, body, relay)
			}
			const result = await adapter.chat(prepared, target, attempt)
			attempt.settle()
			exchange.attempts.push(attemptRecord(model, 200, attemptStart))
			return jsonResponse(deps, exchange, model, prepared, result)
		} catch (error) {
			attempt.settle()
			if (!(error instanceof UpstreamError)) throw error
			if (clientSignal.aborted) throw clientGone()
			const failure = withoutSecrets(
				attemptFailure(deps, error, attempt, model, exchange.stream),
				secretsOf(deps, key.apiKey),
			)
			const billed = stream?.usageSoFar() ?? null
			if (billed) exchange.billed.push({ model, usage: billed })
			exchange.attempts.push({
				...attemptRecord(model, failure.upstreamStatus, attemptStart),
				error: failure.message,
				...(billed && { costUsd: costUsd(model, billed) }),
			})
			if (!failure.retryable) throw failure
		}
	}
	const [onlyRefusal] = refusals
	if (route.tier === null && onlyRefusal && exchange.attempts.length === 0) throw onlyRefusal
	throw noAnswer(deps.catalog, exchange.attempts, route.tier, skipped, missingKeys)
}

/** The keys masked in a call's error text: its own, and the organisation's from the environment. */
const secretsOf = (deps: GatewayDeps, apiKey: string) => [apiKey, ...Object.values(deps.config.envKeys)]

const attemptRecord = (model: CatalogModel, status: number, startedAt: number): AttemptRecord => ({
	model: model.qualifiedId,
	provider: model.provider,
	status,
	latencyMs: elapsedMs(startedAt),
})

/**
 * What a failed attempt means for the request. A time-out before the first byte moves on to the next
 * candidate; an answer that began and broke off is never sent again (the upstream billed what it
 * generated), except a stream that the upstream itself ended with an error before any content.
 */
function attemptFailure(
	deps: GatewayDeps,
	error: UpstreamError,
	attempt: Attempt,
	model: CatalogModel,
	stream: boolean,
): UpstreamError {
	if (attempt.timedOut === 'first-byte') {
		return new UpstreamError('timeout', 0, `no response within ${deps.config.upstreamTimeoutMs} ms`)
	}
	const reportedByUpstream = stream && error.kind === 'http'
	if (!attempt.answering || reportedByUpstream) return error
	const why =
		attempt.timedOut === 'total'
			? `the answer took longer than ${deps.config.upstreamTotalTimeoutMs} ms`
			: error.message
	return new UpstreamError(
		'interrupted',
		error.upstreamStatus,
		`${model.qualifiedId} began answering, then failed (${why}); not sent again, since the upstream bills what it generated`,
	)
}

/**
 * Reads a stream up to its first chunk with content (text, reasoning, a tool call or a finish), so that a
 * stream the upstream opens and then fails (Anthropic's `message_start` then `overloaded_error`) still
 * falls back: nothing has reached the client yet. Returns every chunk read, in order.
 */
async function untilContent(iterator: AsyncIterator<ChatChunk>): Promise<ChatChunk[]> {
	const opening: ChatChunk[] = []
	for (;;) {
		const next = await iterator.next()
		if (next.done) {
			if (opening.length > 0) return opening
			throw new UpstreamError('protocol', 0, 'the upstream closed the stream without data')
		}
		opening.push(next.value)
		if (hasContent(next.value)) return opening
	}
}

function hasContent(chunk: ChatChunk): boolean {
	if (chunk.usage) return true
	for (const choice of chunk.choices) {
		if (choice.finish_reason) return true
		const delta = choice.delta as ChatChunk['choices'][number]['delta'] & {
			reasoning_content?: string
			thinking_blocks?: unknown[]
		}
		if (delta.content || delta.tool_calls?.length || delta.refusal) return true
		if (delta.reasoning_content || delta.thinking_blocks?.length) return true
	}
	return false
}

function successHeaders(
	exchange: Exchange,
	model: CatalogModel,
	prepared: PreparedCall,
): Record<string, string> {
	const route = exchange.route as Route
	const headers: Record<string, string> = {
		'x-switchyard-request-id': exchange.requestId,
		'x-switchyard-provider': headerValue(model.provider),
		'x-switchyard-model': headerValue(model.qualifiedId),
		'x-switchyard-rule': headerValue(route.rule),
		'x-switchyard-attempts': String(exchange.attempts.length),
	}
	if (route.tier) headers['x-switchyard-tier'] = headerValue(route.tier)
	// Dropped field names come from the caller's own body.
	if (prepared.dropped.length > 0) headers['x-switchyard-dropped'] = headerValue(prepared.dropped.join(', '))
	if (prepared.adjusted.length > 0)
		headers['x-switchyard-adjusted'] = headerValue(prepared.adjusted.join('; '))
	return headers
}

function jsonResponse(
	deps: GatewayDeps,
	exchange: Exchange,
	model: CatalogModel,
	prepared: PreparedCall,
	result: ChatResult,
): Response {
	const { response, usage } = result
	const cost = recordUsage(deps, exchange, { status: 200, model, upstreamModel: response.model, usage })
	const headers = successHeaders(exchange, model, prepared)
	headers['content-type'] = 'application/json'
	headers['x-switchyard-cost-usd'] = cost.toFixed(8)
	return new Response(result.raw ?? JSON.stringify(response), { status: 200, headers })
}

/** A stream committed to a model: what it relays, and what its failure must not reveal. */
interface Relay {
	model: CatalogModel
	prepared: PreparedCall
	/** The chunks up to the first with content, already read. */
	opening: ChatChunk[]
	rest: AsyncIterator<ChatChunk>
	stream: ChatStream
	attempt: Attempt
	/** The provider keys masked in any error text. */
	secrets: readonly string[]
}

function streamResponse(deps: GatewayDeps, exchange: Exchange, body: ChatRequest, relay: Relay): Response {
	const { model, prepared, opening, rest, stream, attempt } = relay
	const ttftMs = elapsedMs(exchange.startedAt)
	let usage: TokenUsage | null = null
	let upstreamModel = opening[0]?.model
	const relayed = relayStream({
		opening,
		rest,
		includeUsage: body.stream_options?.include_usage === true,
		onChunk(chunk) {
			if (chunk.usage) usage = toTokenUsage(chunk.usage)
			if (chunk.model) upstreamModel = chunk.model
		},
		toErrorBody: (error) => streamErrorBody(exchange.requestId, streamFailure(deps, error, relay)),
		onEnd(end: StreamEnd) {
			attempt.settle()
			const outcome = { model, upstreamModel, usage: usage ?? stream.usageSoFar(), ttftMs }
			if (end.kind === 'completed') recordUsage(deps, exchange, { ...outcome, status: 200 })
			else if (end.kind === 'cancelled')
				recordUsage(deps, exchange, { ...outcome, status: CLIENT_CLOSED, error: clientGone() })
			else {
				const error = midStreamError(streamFailure(deps, end.error, relay))
				recordUsage(deps, exchange, { ...outcome, status: 502, error })
			}
		},
		cancelUpstream: () => attempt.abort(),
	})
	return new Response(relayed, {
		status: 200,
		headers: Object.assign(successHeaders(exchange, model, prepared), SSE_HEADERS),
	})
}

/** A relayed stream that broke off, as an upstream failure: the total time limit in its own words. */
function streamFailure(deps: GatewayDeps, error: unknown, relay: Relay): UpstreamError {
	if (relay.attempt.timedOut === 'total') {
		return new UpstreamError(
			'timeout',
			0,
			`the answer took longer than ${deps.config.upstreamTotalTimeoutMs} ms`,
		)
	}
	return withoutSecrets(toUpstreamError(error), relay.secrets)
}

function withHeaders(error: GatewayError, headers: Record<string, string>): GatewayError {
	Object.assign(error.headers, headers)
	return error
}

/**
 * Builds the log row: tokens as the upstream reported them, cost and baseline cost at today's prices.
 * Usage billed by attempts that failed after the upstream reported it counts too, at its own model's
 * prices. Returns the cost, which a JSON answer also reports in `x-switchyard-cost-usd`.
 */
function recordUsage(deps: GatewayDeps, exchange: Exchange, outcome: Outcome): number {
	exchange.logged = true
	const billed = [...exchange.billed]
	if (outcome.usage && outcome.model) billed.push({ model: outcome.model, usage: outcome.usage })
	const usage = billed.length > 0 ? sumUsage(billed.map((entry) => entry.usage)) : null
	const route = exchange.route
	const baseline = route?.baseline
	const keepText = deps.config.logPromptText && exchange.text
	const cost = billed.reduce((sum, entry) => sum + costUsd(entry.model, entry.usage), 0)
	deps.requestLog.record({
		requestId: exchange.requestId,
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
		baselineCostUsd: usage && baseline ? costUsd(baseline, usage) : 0,
		latencyMs: elapsedMs(exchange.startedAt),
		ttftMs: outcome.ttftMs ?? null,
		features: exchange.features ?? null,
		promptText: keepText ? exchange.text?.lastUserMessage.slice(0, PROMPT_TEXT_LIMIT) : null,
		systemText: keepText ? exchange.text?.system.slice(0, PROMPT_TEXT_LIMIT) : null,
	})
	return cost
}

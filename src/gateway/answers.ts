// The answers of a request a model took: a JSON answer, or a relayed stream, with their headers, in the
// door's format.
import { loggable } from '../lib/redact'
import type { AttemptSpan } from '../observability/tracing'
import type { CatalogModel } from '../providers/catalog'
import { costUsd } from '../providers/pricing'
import type {
	ChatResult,
	NativeResult,
	NativeStream,
	PreparedCall,
	StreamPiece,
	TokenUsage,
} from '../providers/types'
import { toUpstreamError, UpstreamError } from '../providers/upstream-error'
import { toTokenUsage } from '../providers/usage'
import { keepJson, streamRecorder } from './caching'
import type { Attempt } from './deadlines'
import type { AnswerContext, DoorRequest, FrontDoor } from './doors/door'
import type { StreamEncoder } from './doors/encoder'
import { type Exchange, elapsedMs, type Route, recordUsage } from './exchange'
import { CLIENT_CLOSED, clientGone, maskSecrets, midStreamError } from './failures'
import type { GatewayDeps } from './pipeline'
import type { CachedAnswer } from './response-cache'
import { hitResponse } from './response-cache-replay'
import { relayStream, SSE_HEADERS, type StreamEnd } from './sse'

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

/** The headers of an answer: where it went, how the request was shaped for it, and its key's limits. */
function successHeaders(
	deps: GatewayDeps,
	exchange: Exchange,
	model: CatalogModel,
	prepared: PreparedCall,
): Record<string, string> {
	const route = exchange.route as Route
	const headers: Record<string, string> = {
		...(exchange.limits && deps.keyLimits.headers(exchange.limits)),
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

/** The door's view of its answer: what it needs to render and to keep. */
const contextOf = (exchange: Exchange, request: DoorRequest, model: CatalogModel): AnswerContext => ({
	requestId: exchange.requestId,
	principal: exchange.principal,
	request,
	model: model.qualifiedId,
})

/**
 * A door's hook on a completed answer (the Responses door stores it). Its failure is logged, not
 * returned: the caller has been answered and billed.
 */
async function keep(
	door: FrontDoor,
	exchange: Exchange,
	answer: () => Record<string, unknown> | null,
	context: AnswerContext,
) {
	if (!door.completed) return
	const document = answer()
	if (!document) return
	await door.completed(document, context).catch((error) => {
		console.error(`[${exchange.requestId}] could not keep the answer: ${loggable(error)}`)
	})
}

export async function jsonResponse(
	deps: GatewayDeps,
	door: FrontDoor,
	exchange: Exchange,
	request: DoorRequest,
	model: CatalogModel,
	prepared: PreparedCall,
	answer: ChatResult | NativeResult,
): Promise<Response> {
	const context = contextOf(exchange, request, model)
	const translated = 'response' in answer
	const body = translated ? door.render(answer.response, answer.raw, context) : answer.raw
	const upstreamModel = translated ? answer.response.model : answer.model
	const cost = recordUsage(deps, exchange, { status: 200, model, upstreamModel, usage: answer.usage })
	await keep(door, exchange, () => (translated ? JSON.parse(body) : answer.answer), context)
	const headers = successHeaders(deps, exchange, model, prepared)
	keepJson(deps, exchange, door, model, answer, body, headers)
	headers['content-type'] = 'application/json'
	headers['x-switchyard-cost-usd'] = cost.toFixed(8)
	return new Response(body, { status: 200, headers })
}

/**
 * A request answered from the response cache: logged at $0, with the cost it avoided as its saving, and
 * answered with the stored bytes under this request's own id and routing headers.
 */
export function cachedResponse(
	deps: GatewayDeps,
	exchange: Exchange,
	model: CatalogModel,
	prepared: PreparedCall,
	hit: CachedAnswer,
): Response {
	exchange.cacheHit = { savedUsd: hit.usage ? costUsd(model, hit.usage) : 0 }
	recordUsage(deps, exchange, {
		status: 200,
		model,
		upstreamModel: hit.upstreamModel ?? undefined,
		usage: null,
	})
	return hitResponse(hit, successHeaders(deps, exchange, model, prepared))
}

/** A stream committed to a model: what it relays, and what its failure must not reveal. */
export interface Relay {
	model: CatalogModel
	prepared: PreparedCall
	/** The upstream speaks the door's own API: its events are relayed untouched. */
	native: boolean
	/** The pieces up to the first with content, already read. */
	opening: StreamPiece[]
	rest: AsyncIterator<StreamPiece>
	stream: NativeStream
	attempt: Attempt
	/** The provider key of the call, masked in any error text. */
	apiKey: string
	/** The attempt's client span, when tracing is on: it ends with the stream. */
	span: AttemptSpan | undefined
}

/** Untouched upstream events need no writing; only a failure is written, in the door's format. */
const untouched = (door: StreamEncoder): StreamEncoder => ({
	chunk: () => '',
	end: () => '',
	fail: door.fail,
})

export function streamResponse(
	deps: GatewayDeps,
	door: FrontDoor,
	exchange: Exchange,
	request: DoorRequest,
	relay: Relay,
): Response {
	const { model, prepared, opening, rest, stream, attempt, span } = relay
	const ttftMs = elapsedMs(exchange.startedAt)
	const context = contextOf(exchange, request, model)
	const encoder = door.encoder(context)
	let usage: TokenUsage | null = null
	let upstreamModel = opening[0]?.chunks[0]?.model
	let upstreamFailure: UpstreamError | undefined
	const headers = successHeaders(deps, exchange, model, prepared)
	const recorder = streamRecorder(deps, exchange, door, model, headers)
	const relayed = relayStream({
		opening,
		rest,
		encoder: relay.native ? untouched(encoder) : encoder,
		onWrite: recorder?.write,
		onChunk(chunk) {
			recorder?.observe(chunk)
			if (chunk.usage) usage = toTokenUsage(chunk.usage)
			if (chunk.model) upstreamModel = chunk.model
		},
		toFailure(error) {
			upstreamFailure = streamFailure(deps, error, relay)
			deps.metrics.attemptFailed(model, upstreamFailure)
			const failure = midStreamError(upstreamFailure)
			console.warn(`[${exchange.requestId}] ${failure.message}`)
			return failure
		},
		onEnd(end: StreamEnd) {
			attempt.settle()
			const outcome = { model, upstreamModel, usage: usage ?? stream.usageSoFar(), ttftMs }
			if (end.kind === 'completed') {
				recorder?.complete({ usage: outcome.usage, upstreamModel: upstreamModel ?? null })
				span?.succeeded(upstreamModel, outcome.usage)
				recordUsage(deps, exchange, { ...outcome, status: 200 })
				void keep(door, exchange, () => stream.final() ?? encoder.final?.() ?? null, context)
			} else if (end.kind === 'cancelled') {
				recorder?.abandon()
				span?.failed(new UpstreamError('aborted', 0, 'the client closed the connection'), outcome.usage)
				recordUsage(deps, exchange, { ...outcome, status: CLIENT_CLOSED, error: clientGone() })
			} else {
				recorder?.abandon()
				span?.failed(upstreamFailure ?? toUpstreamError(end.error), outcome.usage)
				recordUsage(deps, exchange, { ...outcome, status: 502, error: end.error })
			}
		},
		cancelUpstream: () => attempt.abort(),
	})
	return new Response(relayed, { status: 200, headers: Object.assign(headers, SSE_HEADERS) })
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
	return maskSecrets(toUpstreamError(error), relay.apiKey, deps.config.envKeys)
}

// The request pipeline of every front door: read and check the body (the door's part), classify, pick
// candidates, call them in order with fallback, and hand the answer to `answers.ts`.
import type { AttemptRecord } from '../../db/schema'
import type { Config } from '../config'
import { badRequest, GatewayError } from '../errors'
import type { Principal } from '../keys/gateway-keys'
import type { ProviderKeyVault } from '../keys/provider-keys'
import { parseJsonObject, readGatewayBody } from '../lib/json-body'
import { loggable } from '../lib/redact'
import type { GatewayMetrics } from '../observability/gateway-metrics'
import type { AttemptSpan, GatewayTracer } from '../observability/tracing'
import type { Catalog, CatalogModel } from '../providers/catalog'
import type { ProviderAdapters } from '../providers/index'
import { costUsd } from '../providers/pricing'
import type { NativeApi, NativeStream, PreparedCall } from '../providers/types'
import { toUpstreamError, UpstreamError } from '../providers/upstream-error'
import type { RequestLog } from '../request-log/request-log'
import { aliasOf } from '../rules/aliases'
import { checkCapabilities } from '../rules/capabilities'
import { extractFeatures, type RequestFeatures, type RequestText } from '../rules/features'
import type { LiveRules } from '../rules/store'
import { type AdmissionDeps, admit, worstCaseTokens } from './admission'
import { cachedResponse, jsonResponse, streamResponse } from './answers'
import { type CachingDeps, cachedAnswer, cacheUse } from './caching'
import type { Attempt, Deadlines } from './deadlines'
import { type DoorRequest, type FrontDoor, wrongKind } from './doors/door'
import { type Exchange, elapsedMs, newExchange, type Route, recordUsage } from './exchange'
import { clientGone, maskSecrets, noAnswer } from './failures'
import type { KeyLimits } from './key-limits'
import { rememberModel, routeInSession, type SessionDeps, sessionOf } from './sessions'
import { piecesOf, untilContent } from './stream-pieces'

export interface GatewayDeps {
	config: Pick<
		Config,
		| 'upstreamTimeoutMs'
		| 'upstreamTotalTimeoutMs'
		| 'logPromptText'
		| 'logTextDigest'
		| 'envKeys'
		| 'sessionIdleMs'
		| 'budgetReserveMaxOutputTokens'
		| 'responseCacheShared'
	>
	budgets: AdmissionDeps['budgets']
	budgetAlerts: AdmissionDeps['budgetAlerts']
	responseCache: CachingDeps['responseCache']
	sessionPins: SessionDeps['sessionPins']
	openingPins: SessionDeps['openingPins']
	keyLimits: Pick<KeyLimits, 'take' | 'settle' | 'headers'>
	deadlines: Pick<Deadlines, 'watch'>
	catalog: Catalog
	providerKeys: Pick<ProviderKeyVault, 'cached' | 'resolve'>
	adapters: ProviderAdapters
	requestLog: Pick<RequestLog, 'record'>
	rules: LiveRules
	metrics: Pick<
		GatewayMetrics,
		'requestStarted' | 'requestEnded' | 'usage' | 'attemptStarted' | 'attemptFailed'
	>
	/** null: tracing is off, and the request path pays nothing for it. */
	tracer: Pick<GatewayTracer, 'startRequest'> | null
}

/**
 * One gateway request, from body to response: read and check the body, classify, pick candidates, call
 * them in order with fallback, answer, and log. Every request that reaches here is logged exactly once.
 */
export async function runDoor(
	deps: GatewayDeps,
	door: FrontDoor,
	principal: Principal,
	request: Request,
): Promise<Response> {
	const exchange = newExchange(principal, door.name)
	deps.metrics.requestStarted(exchange.door)
	try {
		if (deps.tracer) exchange.trace = deps.tracer.startRequest(exchange.door, request, exchange.startedAt)
		const raw = parseJsonObject(await readGatewayBody(request))
		exchange.requestedModel = typeof raw.model === 'string' ? raw.model : null
		exchange.stream = raw.stream === true
		const parsed = await door.parse(raw, principal, request.headers)
		exchange.cache = cacheUse(deps, door, principal, parsed, request.headers)
		const { features, text } = extractFeatures(parsed.chat)
		exchange.features = features
		exchange.text = text
		exchange.route = selectRoute(deps, door, parsed, features, text)
		// Routed requests only: a named model is what the caller chose, turn after turn.
		const session = exchange.route.tier !== null && deps.config.sessionIdleMs > 0
		const recognised = session ? sessionOf(request.headers, raw, parsed.chat) : null
		if (recognised) {
			exchange.route = await routeInSession(deps, exchange, exchange.route, recognised, parsed.chat)
		}
		// Most keys have no limit: they skip the limiter, and its await, altogether.
		if (principal.rateLimitPerMinute || principal.tokensPerMinute || principal.maxConcurrent)
			await enforceKeyLimits(deps, exchange, features)
		await admit(deps, exchange, exchange.route.candidates, features)
		return await execute(deps, door, exchange, parsed, request.signal)
	} catch (error) {
		const failure = asGatewayError(error, exchange, request.signal)
		// A failure after the row was written (the answer could not be built) must not log the request twice.
		if (!exchange.logged) recordUsage(deps, exchange, { status: failure.status, error: failure })
		const limits = exchange.limits ? deps.keyLimits.headers(exchange.limits) : undefined
		throw withHeaders(failure, { ...limits, 'x-switchyard-request-id': exchange.requestId })
	}
}

/** What the caller is told: our own errors as they are, a client gone mid-upload as 499, anything else 500. */
function asGatewayError(error: unknown, exchange: Exchange, clientSignal: AbortSignal): GatewayError {
	if (error instanceof GatewayError) return error
	if (clientSignal.aborted) return clientGone()
	console.error(`[${exchange.requestId}] gateway error: ${loggable(error)}`)
	return new GatewayError(500, 'api_error', 'Internal error')
}

/**
 * The key's own limits (requests and tokens per minute, requests in flight): past one, 429 with OpenAI's
 * message, `Retry-After` and `x-ratelimit-*`.
 */
async function enforceKeyLimits(deps: GatewayDeps, exchange: Exchange, features: RequestFeatures) {
	const { principal } = exchange
	const candidates = exchange.route?.candidates ?? []
	const cap = deps.config.budgetReserveMaxOutputTokens
	const estimate = principal.tokensPerMinute ? worstCaseTokens(candidates, features, cap) : 0
	const pending = deps.keyLimits.take(principal, estimate, Date.now())
	const taken = pending instanceof Promise ? await pending : pending
	if (!taken.ok) {
		throw new GatewayError(429, 'rate_limit_error', taken.message, {
			code: taken.code,
			headers: taken.headers,
		})
	}
	exchange.limits = taken.grant
}

/**
 * `auto` asks the live rules for a tier, and so does a name the rules' aliases send to `auto`; an alias of
 * a tier goes there. Anything else must be a catalog model, tried alone.
 */
function selectRoute(
	deps: GatewayDeps,
	door: FrontDoor,
	parsed: DoorRequest,
	features: RequestFeatures,
	text: RequestText,
): Route {
	const model = parsed.chat.model
	const live = deps.rules.current()
	const { document } = live.compiled
	const alias = model === 'auto' ? 'auto' : aliasOf(document, model)
	if (alias !== undefined) {
		const decision = alias === 'auto' ? live.compiled.classify(features, text) : null
		const tier = decision?.tier ?? alias
		const models = document.tiers[tier]?.models ?? []
		return {
			candidates: models.flatMap((id) => deps.catalog.model(id) ?? []),
			tier,
			rule: decision?.rule ?? `alias ${model}`,
			rulesRevision: live.revision,
			reference: live.reference,
			textPatterns: live.compiled.textPatterns,
		}
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
	// Checked as a routed candidate is, but refused outright: the caller chose this model and no other.
	if (parsed.untranslatable && !nativeApi(deps, door, explicit.provider)) throw parsed.untranslatable
	const incapable = wrongKind(door, explicit) ?? checkCapabilities(explicit, features)
	if (incapable) {
		throw badRequest(
			`The model '${explicit.qualifiedId}' cannot serve this request: ${incapable}`,
			'model',
			'model_incapable',
		)
	}
	return {
		candidates: [explicit],
		tier: null,
		rule: 'explicit',
		rulesRevision: live.revision,
		reference: null,
		textPatterns: null,
	}
}

/** The door's own provider API, when the model's provider speaks it: the body then goes untouched. */
function nativeApi(deps: GatewayDeps, door: FrontDoor, providerId: string): NativeApi | undefined {
	const provider = deps.catalog.provider(providerId)
	return provider && door.nativeApi(provider.kind)
}

const UNTOUCHED: PreparedCall = { upstream: null, dropped: [], adjusted: [] }

/** Calls the candidates in order until one answers; the caller's own errors end the loop at once. */
async function execute(
	deps: GatewayDeps,
	door: FrontDoor,
	exchange: Exchange,
	parsed: DoorRequest,
	clientSignal: AbortSignal,
) {
	const body = parsed.chat
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
		// A named model was checked in selectRoute; `auto` skips the candidates that cannot serve the request.
		const incapable =
			route.tier !== null && exchange.features
				? (wrongKind(door, model) ?? checkCapabilities(model, exchange.features))
				: null
		if (incapable) {
			skipped.push(`${model.qualifiedId}: ${incapable}`)
			continue
		}
		const provider = deps.catalog.provider(model.provider)
		if (!provider) continue
		const adapter = deps.adapters[provider.kind]
		const native = nativeApi(deps, door, model.provider)
		if (!native && parsed.untranslatable) {
			refusals.push(parsed.untranslatable)
			skipped.push(`${model.qualifiedId}: ${parsed.untranslatable.message}`)
			continue
		}
		let prepared = UNTOUCHED
		try {
			if (!native) prepared = adapter.prepare(body, model, provider)
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
		const hit = cachedAnswer(deps, exchange, model)
		if (hit) {
			rememberModel(deps, exchange, model)
			return cachedResponse(deps, exchange, model, prepared, hit)
		}
		const target = { provider, model, apiKey: key.apiKey }
		const attemptStart = performance.now()
		// Every attempt after the first follows a failed one: a fallback.
		deps.metrics.attemptStarted(exchange.door, model, route.tier, exchange.attempts.length > 0)
		const span = exchange.trace?.startAttempt(model, provider, body, attemptStart)
		const { upstreamTimeoutMs, upstreamTotalTimeoutMs } = deps.config
		const attempt = deps.deadlines.watch(upstreamTimeoutMs, upstreamTotalTimeoutMs, clientSignal)
		// Another model than the session's cannot read its thinking blocks (Anthropic answers 400).
		const pinned = exchange.session?.pinnedModel
		const strip = pinned && pinned !== model.qualifiedId ? door.withoutThinking : undefined
		const request = { body: strip ? strip(parsed.native) : parsed.native, headers: parsed.nativeHeaders }
		let stream: NativeStream | undefined
		try {
			if (exchange.stream) {
				stream = native
					? await native.stream(request, target, attempt)
					: piecesOf(await adapter.stream(prepared, target, attempt))
				const iterator = stream[Symbol.asyncIterator]()
				const opening = await untilContent(iterator)
				exchange.attempts.push(attemptRecord(model, 200, attemptStart))
				rememberModel(deps, exchange, model)
				const relay = {
					model,
					prepared,
					native: Boolean(native),
					opening,
					rest: iterator,
					stream,
					attempt,
					apiKey: key.apiKey,
					span,
				}
				return streamResponse(deps, door, exchange, parsed, relay)
			}
			const answer = native
				? await native.call(request, target, attempt)
				: await adapter.chat(prepared, target, attempt)
			attempt.settle()
			const upstreamModel = 'response' in answer ? answer.response.model : answer.model
			span?.succeeded(upstreamModel, answer.usage)
			exchange.attempts.push(attemptRecord(model, 200, attemptStart))
			rememberModel(deps, exchange, model)
			return await jsonResponse(deps, door, exchange, parsed, model, prepared, answer)
		} catch (error) {
			attempt.settle()
			if (!(error instanceof UpstreamError)) {
				endSpan(span, toUpstreamError(error), stream)
				throw error
			}
			if (clientSignal.aborted) {
				endSpan(span, error, stream)
				throw clientGone()
			}
			const failure = maskSecrets(
				attemptFailure(deps, error, attempt, model, exchange.stream),
				key.apiKey,
				deps.config.envKeys,
			)
			deps.metrics.attemptFailed(model, failure)
			const billed = endSpan(span, failure, stream)
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

/** Ends a failed attempt's span; returns the usage the upstream reported before it failed, which it bills. */
function endSpan(span: AttemptSpan | undefined, failure: UpstreamError, stream: NativeStream | undefined) {
	const billed = stream?.usageSoFar() ?? null
	span?.failed(failure, billed)
	return billed
}

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

function withHeaders(error: GatewayError, headers: Record<string, string>): GatewayError {
	Object.assign(error.headers, headers)
	return error
}

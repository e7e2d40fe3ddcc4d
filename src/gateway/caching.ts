// The response cache in the pipeline: which requests may use it, the lookup per candidate model, and
// storing what a model answered. The cache itself is src/gateway/response-cache*.ts.
import type { Config } from '../config'
import type { Principal } from '../keys/gateway-keys'
import type { CatalogModel } from '../providers/catalog'
import type { ChatResult, NativeResult } from '../providers/types'
import type { DoorRequest, FrontDoor } from './doors/door'
import type { Exchange } from './exchange'
import { type CachedAnswer, type ResponseCache, refused, type StreamRecorder } from './response-cache'
import {
	CACHE_STATUS_HEADER,
	CACHE_TTL_HEADER,
	cacheKeys,
	cacheTtlMs,
	uncacheable,
} from './response-cache-key'

export interface CachingDeps {
	config: Pick<Config, 'responseCacheShared'>
	responseCache: Pick<ResponseCache, 'get' | 'setJson' | 'recordStream'>
}

/** A request that may use the cache: its key for each candidate model, and how long its answer is kept. */
export interface CacheUse {
	keyOf(model: string): string
	ttlMs: number
}

/**
 * Whether this request uses the cache (its key's TTL, or its `x-switchyard-cache-ttl` header; 0 turns it
 * off for the request), and its keys. Answers are never shared between users unless RESPONSE_CACHE_SHARED
 * says so, and never on the Responses door, whose answers carry an id stored under their own user.
 */
export function cacheUse(
	deps: CachingDeps,
	door: FrontDoor,
	principal: Principal,
	parsed: DoorRequest,
	headers: Headers,
): CacheUse | undefined {
	const ttlMs = cacheTtlMs(principal.cacheTtlSeconds, headers.get(CACHE_TTL_HEADER))
	if (ttlMs === 0 || uncacheable(door.name, parsed.sent)) return undefined
	const shared = deps.config.responseCacheShared && door.name !== 'responses'
	const keyOf = cacheKeys({
		scope: shared ? 'shared' : principal.userId,
		door: door.name,
		body: parsed.sent,
		nativeHeaders: parsed.nativeHeaders,
	})
	return { keyOf, ttlMs }
}

/** The stored answer of this request for this model, if any. */
export function cachedAnswer(
	deps: CachingDeps,
	exchange: Exchange,
	model: CatalogModel,
): CachedAnswer | null {
	const use = exchange.cache
	return use ? deps.responseCache.get(use.keyOf(model.qualifiedId)) : null
}

/** Keeps a JSON answer for later identical requests; says whether it was a miss that used the cache. */
export function keepJson(
	deps: CachingDeps,
	exchange: Exchange,
	door: FrontDoor,
	model: CatalogModel,
	answer: ChatResult | NativeResult,
	body: string,
	headers: Record<string, string>,
) {
	const use = exchange.cache
	if (!use) return
	headers[CACHE_STATUS_HEADER] = 'miss'
	if (refused(answer)) return
	const upstreamModel = 'response' in answer ? answer.response.model : answer.model
	const facts = { door: door.name, model, upstreamModel, usage: answer.usage, headers }
	deps.responseCache.setJson(use.keyOf(model.qualifiedId), facts, body, use.ttlMs)
}

/** A recorder for a stream that may be kept, or undefined when the request does not use the cache. */
export function streamRecorder(
	deps: CachingDeps,
	exchange: Exchange,
	door: FrontDoor,
	model: CatalogModel,
	headers: Record<string, string>,
): StreamRecorder | undefined {
	const use = exchange.cache
	if (!use) return undefined
	headers[CACHE_STATUS_HEADER] = 'miss'
	return deps.responseCache.recordStream(use.keyOf(model.qualifiedId), use.ttlMs, {
		door: door.name,
		model,
		headers,
	})
}

// What makes two requests "the same" for the response cache (response-cache.ts): the key, the fields it
// ignores, the requests it never serves, and the TTL a request asks for.
import { badRequest } from '../errors'
import { sha256Hex } from '../lib/crypto'
import type { Door } from '../observability/gateway-metrics'

/** Bumped whenever the key material changes, so that no old entry answers under a new meaning. */
const KEY_VERSION = 'v1'

/** The header that sets one request's TTL in seconds, over its key's; `0` neither reads nor writes the cache. */
export const CACHE_TTL_HEADER = 'x-switchyard-cache-ttl'
/** The answer's header saying whether the cache served it: `hit`, or `miss` when it was looked up and stored. */
export const CACHE_STATUS_HEADER = 'x-switchyard-cache'
/** The longest TTL a key or a request may ask for: 30 days. */
export const MAX_CACHE_TTL_SECONDS = 30 * 24 * 3600

/**
 * Whose answers an entry may serve: a user id (the default: two users never share an entry, even for the
 * same prompt), or `shared` where the admin made a key's cache organisation-wide.
 */
export type CacheScope = number | 'shared'

export interface CacheKeyInput {
	scope: CacheScope
	door: Door
	/** The catalog model that answers, as `<provider>/<id>`: the lookup happens after routing, per candidate. */
	model: string
	/** The body as the caller sent it (the door's `sent`), which determines the answer and what it echoes. */
	body: Record<string, unknown>
	/** The headers the door forwards upstream (Anthropic's version and betas): they change the answer. */
	nativeHeaders: Record<string, string>
}

/**
 * Body fields that never change the bytes of an answer, per door, left out of the key. Everything else is
 * in it, values as sent (`temperature: 0` and no temperature differ, as they do upstream).
 * - `stream` is keyed on its own, as a boolean (absent and `false` are the same request); a JSON answer
 *   never serves a stream nor the reverse, since entries replay bytes in one of the two shapes.
 * - `stream_options` is ignored for a request that does not stream (it has no effect there), and keyed for
 *   one that does: `include_usage` adds a chunk to the bytes.
 * - Chat and embeddings: `user`, OpenAI's end-user id for abuse monitoring, which a hit never sends and
 *   neither answer echoes. Two end users of one app sending the same request get the same answer.
 * - Messages: `metadata` (only `user_id`, the same abuse-monitoring id; never in the answer).
 * - Responses: nothing. The door echoes `user`, `metadata`, `store` and the other settings in its answer.
 */
const IGNORED: Readonly<Record<Door, readonly string[]>> = {
	chat: ['user'],
	embeddings: ['user'],
	messages: ['metadata'],
	responses: [],
}

/**
 * Why a request can never be served from the cache, or null. A replay must stand for a new call upstream;
 * these requests act on state the upstream holds and changes with every call:
 * - Responses `background: true` answers with a queued response to poll, not an answer;
 * - Responses `conversation` appends each turn to an upstream conversation, so the same body means a new input;
 * - Messages `container` reuses a code-execution container whose files each call may change.
 * Everything else is cacheable, each case by exact match on its whole body:
 * - `temperature` > 0: a hit replays the one answer stored, not a new sample; the key owner opted in to that.
 * - `n` > 1: the `n` choices are replayed together (`n` is in the key, so `n: 1` and `n: 2` never meet).
 * - `seed`: the request asks for a reproducible answer, which a replay is; different seeds are different keys.
 * - tool definitions and calls: the tool calls are replayed with their ids; the client runs them again.
 */
export function uncacheable(door: Door, body: Record<string, unknown>): string | null {
	if (door === 'responses') {
		if (body.background === true) return 'a background response is polled, not answered'
		if (body.conversation !== undefined && body.conversation !== null)
			return 'the conversation is held and changed upstream'
	}
	if (door === 'messages' && body.container !== undefined && body.container !== null)
		return 'the code-execution container is held and changed upstream'
	return null
}

/**
 * The cache keys of one request, one per candidate model. The body is made canonical (object keys sorted
 * at every depth, arrays in order, ignored fields left out) and hashed once; each model's key is then a hash
 * of that digest and the model, so trying several candidates costs one small hash each.
 *
 * SHA-256 rather than `Bun.hash` (64-bit wyhash): the key is the only thing between one user's request and
 * another scope's answer, so it must resist a crafted collision; SHA-256 does, wyhash does not. It costs a
 * few microseconds on a conversation of a few kilobytes (measured in the tests), far less than the
 * canonical serialisation that precedes it.
 */
export function cacheKeys(input: Omit<CacheKeyInput, 'model'>): (model: string) => string {
	const stream = input.body.stream === true
	const ignored = IGNORED[input.door]
	const skip = (field: string) =>
		field === 'stream' || ignored.includes(field) || (!stream && field === 'stream_options')
	const headers = Object.entries(input.nativeHeaders).map(([name, value]) => [name.toLowerCase(), value])
	headers.sort((a, b) => ((a[0] ?? '') < (b[0] ?? '') ? -1 : 1))
	const scope = input.scope === 'shared' ? 'shared' : `user:${input.scope}`
	const material = `${KEY_VERSION}\n${input.door}\n${scope}\n${stream}\n${JSON.stringify(headers)}\n${canonicalObject(input.body, skip)}`
	const digest = sha256Hex(material)
	return (model) => sha256Hex(`${digest}\n${model}`)
}

/** The cache key of one request for one model. */
export const cacheKey = (input: CacheKeyInput): string => cacheKeys(input)(input.model)

/**
 * A JSON value as text with every object's keys sorted, so that `{"a":1,"b":2}` and `{"b":2,"a":1}` read
 * alike. Values are parsed JSON (no undefined, functions or cycles); an undefined field is left out, as
 * `JSON.stringify` does.
 */
export function canonicalJson(value: unknown): string {
	if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null'
	if (Array.isArray(value)) {
		let out = '['
		for (let i = 0; i < value.length; i++) out += (i > 0 ? ',' : '') + canonicalJson(value[i])
		return `${out}]`
	}
	return canonicalObject(value as Record<string, unknown>, () => false)
}

function canonicalObject(object: Record<string, unknown>, skip: (field: string) => boolean): string {
	const fields = Object.keys(object).sort()
	let out = '{'
	for (const field of fields) {
		const value = object[field]
		if (value === undefined || skip(field)) continue
		out += `${out.length > 1 ? ',' : ''}${JSON.stringify(field)}:${canonicalJson(value)}`
	}
	return `${out}}`
}

/**
 * How long a request's answer may be kept, in milliseconds, or 0 when the cache is off for it: the request's
 * `x-switchyard-cache-ttl` header (whole seconds; `0` turns the cache off for this request, neither read
 * nor written) over its key's TTL (null: the key has no cache). A header that is not a whole number of
 * seconds up to `MAX_CACHE_TTL_SECONDS` is the caller's error, a 400 naming the header.
 */
export function cacheTtlMs(keyTtlSeconds: number | null, header: string | null): number {
	if (header === null) return keyTtlSeconds && keyTtlSeconds > 0 ? keyTtlSeconds * 1000 : 0
	const text = header.trim()
	const seconds = /^\d{1,10}$/.test(text) ? Number(text) : Number.NaN
	if (!(seconds <= MAX_CACHE_TTL_SECONDS)) {
		throw badRequest(
			`${CACHE_TTL_HEADER} must be a whole number of seconds from 0 to ${MAX_CACHE_TTL_SECONDS}`,
			CACHE_TTL_HEADER,
		)
	}
	return seconds * 1000
}

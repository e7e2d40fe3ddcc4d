// The response cache (SPEC "Spend control"): an opt-in, exact-match cache of answers, per key, with a TTL.
// Keys, ignored fields and uncacheable requests are in response-cache-key.ts; a hit's answer is built by
// response-cache-replay.ts.
//
// Each instance keeps its own cache in process memory, bounded by bytes, least recently used first out. A
// hit is one Map lookup: no database round trip, no await, served in microseconds (measured in
// tests/gateway/response-cache-bench.test.ts). Instances behind one PostgreSQL do not share entries; each
// fills its own, so a request repeated on another instance is answered upstream once there too.
import type { Door } from '../observability/gateway-metrics'
import type { CatalogModel } from '../providers/catalog'
import { costUsd } from '../providers/pricing'
import type { ChatChunk, ChatResult, NativeResult, TokenUsage } from '../providers/types'

const encoder = new TextEncoder()

/** The headers that describe an answer, replayed with it; a request's own (id, attempts, cost) never are. */
const ANSWER_HEADERS = [
	'x-switchyard-provider',
	'x-switchyard-model',
	'x-switchyard-tier',
	'x-switchyard-rule',
	'x-switchyard-dropped',
	'x-switchyard-adjusted',
] as const

/** What an entry costs beyond its payload (the key, the object, the Map slot): an estimate. */
const ENTRY_OVERHEAD_BYTES = 512

export interface ResponseCacheOptions {
	/**
	 * The most bytes all entries may hold together (their payload plus an estimate of the rest); past it,
	 * the least recently used entries are evicted.
	 * @default 67108864 (64 MiB)
	 */
	maxBytes?: number
	/**
	 * The largest entry kept; a larger answer (a long stream, a batch of embeddings) is not cached.
	 * @default 1048576 (1 MiB)
	 */
	maxEntryBytes?: number
}

/** What the pipeline knows about an answer it may store: the door's bytes come separately. */
export interface AnswerFacts {
	door: Door
	/** The catalog model that answered: its id and provider are kept, and its prices give `costUsd`. */
	model: CatalogModel
	/** The model the upstream said answered. */
	upstreamModel: string | null
	usage: TokenUsage | null
	/** The answer's headers; only the `x-switchyard-*` ones that describe the answer are kept. */
	headers: Record<string, string>
}

interface EntryCommon {
	door: Door
	/** The catalog model that answered, as `<provider>/<id>`. */
	model: string
	provider: string
	upstreamModel: string | null
	usage: TokenUsage | null
	/** What the answer cost when it was stored (null: the upstream reported no usage): what each hit saves. */
	costUsd: number | null
	/** The `x-switchyard-*` headers that describe the answer (provider, model, tier, rule, dropped, adjusted). */
	headers: Readonly<Record<string, string>>
	/** What the entry counts against `maxBytes`. */
	bytes: number
	storedAt: number
	/** Served while `now < expiresAt`, never after. */
	expiresAt: number
}

/** A JSON answer: the body text exactly as the door rendered it. */
export interface CachedJson extends EntryCommon {
	kind: 'json'
	body: string
}

/** A streamed answer: the bytes the client received, and where each write ended, for a faithful replay. */
export interface CachedStream extends EntryCommon {
	kind: 'stream'
	body: Uint8Array
	pieceEnds: readonly number[]
}

/**
 * An entry. Frozen, its bytes never written once stored: a replay in progress keeps its entry whole whatever
 * later sets or evictions do.
 */
export type CachedAnswer = CachedJson | CachedStream

export interface CacheStats {
	hits: number
	misses: number
	entries: number
	bytes: number
	maxBytes: number
	/** Live entries removed to make room. */
	evictions: number
	/** Entries removed because their TTL ran out. */
	expirations: number
	/** Answers not stored for being over `maxEntryBytes`. */
	tooLarge: number
	/** The sum of `costUsd` over the hits: what the cache saved since the process started. */
	savedUsd: number
}

/** Records one stream as the client receives it; only a completed stream is ever stored. */
export interface StreamRecorder {
	/** One write to the client, in order: the bytes exactly as the relay enqueued them (or their text). */
	write(piece: Uint8Array | string): void
	/** Each canonical chunk of the stream: a refusal or a content filter makes the answer uncacheable. */
	observe(chunk: ChatChunk): void
	/** The stream completed: stores it, unless it refused, grew too large or was abandoned. Returns whether. */
	complete(outcome: { usage: TokenUsage | null; upstreamModel: string | null }, now?: number): boolean
	/** The stream failed or the client left: nothing is stored, and what was recorded is dropped. */
	abandon(): void
}

/** Whether a JSON answer is a refusal (a content filter, OpenAI's `refusal`, Anthropic's `refusal` stop). */
export function refused(answer: ChatResult | NativeResult): boolean {
	if ('response' in answer) {
		return answer.response.choices.some(
			(choice) => choice.finish_reason === 'content_filter' || Boolean(choice.message?.refusal),
		)
	}
	const native = answer.answer
	if (native.stop_reason === 'refusal') return true
	const incomplete = native.incomplete_details as { reason?: unknown } | null | undefined
	if (incomplete?.reason === 'content_filter') return true
	const output = Array.isArray(native.output) ? (native.output as { content?: unknown }[]) : []
	return output.some(
		(item) =>
			Array.isArray(item.content) &&
			item.content.some((part: { type?: unknown }) => part?.type === 'refusal'),
	)
}

function refusedChunk(chunk: ChatChunk): boolean {
	return chunk.choices.some(
		(choice) => choice.finish_reason === 'content_filter' || Boolean(choice.delta?.refusal),
	)
}

/**
 * An in-process LRU of answers bounded by bytes, with a TTL per entry. Synchronous throughout: a `get`
 * and a `set` never interleave, and entries are frozen, so a concurrent replay never sees a half entry.
 */
export class ResponseCache {
	readonly maxBytes: number
	readonly maxEntryBytes: number
	// A Map iterates in insertion order: a hit re-inserts its entry, so the first key is the least recent.
	private readonly entries = new Map<string, CachedAnswer>()
	private counters = { hits: 0, misses: 0, bytes: 0, evictions: 0, expirations: 0, tooLarge: 0, savedUsd: 0 }

	constructor(options: ResponseCacheOptions = {}) {
		this.maxBytes = options.maxBytes ?? 64 * 1024 * 1024
		this.maxEntryBytes = Math.min(options.maxEntryBytes ?? 1024 * 1024, this.maxBytes)
	}

	/** The live entry for a key, made the most recently used; null (a miss) when absent or expired. */
	get(key: string, now = Date.now()): CachedAnswer | null {
		const entry = this.entries.get(key)
		if (entry === undefined) {
			this.counters.misses++
			return null
		}
		this.entries.delete(key)
		if (now >= entry.expiresAt) {
			this.counters.bytes -= entry.bytes
			this.counters.expirations++
			this.counters.misses++
			return null
		}
		this.entries.set(key, entry)
		this.counters.hits++
		if (entry.costUsd) this.counters.savedUsd += entry.costUsd
		return entry
	}

	/** Stores a JSON answer, the body as the door rendered it, for `ttlMs`. Returns whether it was stored. */
	setJson(key: string, facts: AnswerFacts, body: string, ttlMs: number, now = Date.now()): boolean {
		// Every UTF-16 unit is at least one UTF-8 byte: a body this long is too large without encoding it.
		const payload = body.length > this.maxEntryBytes ? body.length : encoder.encode(body).byteLength
		return this.set(key, { ...this.common(facts, payload, ttlMs, now), kind: 'json', body }, payload, now)
	}

	/**
	 * A recorder for a stream about to be relayed; `complete()` stores it under `key` for `ttlMs` from then.
	 * Recording stops (and keeps nothing) as soon as the stream passes `maxEntryBytes`.
	 */
	recordStream(
		key: string,
		ttlMs: number,
		facts: Omit<AnswerFacts, 'usage' | 'upstreamModel'>,
	): StreamRecorder {
		let buffer: Uint8Array | null = new Uint8Array(4096)
		let length = 0
		const pieceEnds: number[] = []
		const stop = () => {
			buffer = null
			pieceEnds.length = 0
		}
		return {
			write: (piece) => {
				if (buffer === null) return
				const bytes = typeof piece === 'string' ? encoder.encode(piece) : piece
				if (length + bytes.byteLength > this.maxEntryBytes) {
					this.counters.tooLarge++
					return stop()
				}
				if (length + bytes.byteLength > buffer.byteLength) {
					const grown = new Uint8Array(Math.max(buffer.byteLength * 2, length + bytes.byteLength))
					grown.set(buffer.subarray(0, length))
					buffer = grown
				}
				// Copied: the relay hands the same bytes to the client's stream, which may keep or detach them.
				buffer.set(bytes, length)
				length += bytes.byteLength
				pieceEnds.push(length)
			},
			observe: (chunk) => {
				if (buffer !== null && refusedChunk(chunk)) stop()
			},
			complete: (outcome, now = Date.now()) => {
				if (buffer === null) return false
				const body = buffer.slice(0, length)
				const ends = Object.freeze([...pieceEnds])
				stop()
				const common = this.common({ ...facts, ...outcome }, body.byteLength + ends.length * 8, ttlMs, now)
				return this.set(key, { ...common, kind: 'stream', body, pieceEnds: ends }, body.byteLength, now)
			},
			abandon: stop,
		}
	}

	/** Removes every expired entry; a `get` never serves one anyway, this only gives their memory back. */
	prune(now = Date.now()): number {
		let removed = 0
		for (const [key, entry] of this.entries) {
			if (now < entry.expiresAt) continue
			this.remove(key, entry)
			this.counters.expirations++
			removed++
		}
		return removed
	}

	clear(): void {
		this.entries.clear()
		this.counters.bytes = 0
	}

	stats(): CacheStats {
		return { ...this.counters, entries: this.entries.size, maxBytes: this.maxBytes }
	}

	private common(facts: AnswerFacts, payloadBytes: number, ttlMs: number, now: number): EntryCommon {
		const headers: Record<string, string> = {}
		let headerBytes = 0
		for (const name of ANSWER_HEADERS) {
			const value = facts.headers[name]
			if (value === undefined) continue
			headers[name] = value
			headerBytes += name.length + value.length
		}
		return {
			door: facts.door,
			model: facts.model.qualifiedId,
			provider: facts.model.provider,
			upstreamModel: facts.upstreamModel,
			usage: facts.usage && Object.freeze({ ...facts.usage }),
			costUsd: facts.usage ? costUsd(facts.model, facts.usage) : null,
			headers: Object.freeze(headers),
			bytes: payloadBytes + headerBytes + ENTRY_OVERHEAD_BYTES,
			storedAt: now,
			expiresAt: now + ttlMs,
		}
	}

	private set(key: string, entry: CachedAnswer, payloadBytes: number, now: number): boolean {
		if (!(entry.expiresAt > now)) return false
		if (payloadBytes > this.maxEntryBytes) {
			this.counters.tooLarge++
			return false
		}
		const previous = this.entries.get(key)
		if (previous) this.remove(key, previous)
		this.entries.set(key, Object.freeze(entry))
		this.counters.bytes += entry.bytes
		for (const [oldest, old] of this.entries) {
			if (this.counters.bytes <= this.maxBytes) break
			this.remove(oldest, old)
			if (now >= old.expiresAt) this.counters.expirations++
			else this.counters.evictions++
		}
		return this.entries.has(key)
	}

	private remove(key: string, entry: CachedAnswer) {
		this.entries.delete(key)
		this.counters.bytes -= entry.bytes
	}
}

import { describe, expect, it } from 'bun:test'
import { GatewayError } from '../../src/errors'
import { chatEncoder } from '../../src/gateway/doors/chat'
import {
	type AnswerFacts,
	type CachedStream,
	ResponseCache,
	refused,
	type StreamRecorder,
} from '../../src/gateway/response-cache'
import { hitResponse, replayStream } from '../../src/gateway/response-cache-replay'
import { relayStream, type StreamEnd } from '../../src/gateway/sse'
import { type CatalogModel, loadCatalog } from '../../src/providers/catalog'
import { costUsd } from '../../src/providers/pricing'
import type { ChatChunk, ChatResponse, StreamPiece, TokenUsage } from '../../src/providers/types'

const catalog = loadCatalog({
	catalogPath: undefined,
	openaiBaseUrl: 'http://localhost/v1',
	anthropicBaseUrl: 'http://localhost',
})
const MINI = catalog.model('openai/gpt-4o-mini') as CatalogModel
const T0 = Date.parse('2026-12-03T12:00:00Z')
const MINUTE = 60_000
const KIB = 1024
const OVERHEAD = 512

const USAGE: TokenUsage = {
	promptTokens: 1200,
	completionTokens: 300,
	cachedTokens: 0,
	cacheWriteTokens: 0,
	cacheWrite1hTokens: 0,
	reasoningTokens: 0,
}

const ANSWER_HEADERS = {
	'x-switchyard-provider': 'openai',
	'x-switchyard-model': 'openai/gpt-4o-mini',
	'x-switchyard-tier': 'simple',
	'x-switchyard-rule': 'short-prompt',
}

const facts = (overrides: Partial<AnswerFacts> = {}): AnswerFacts => ({
	door: 'chat',
	model: MINI,
	upstreamModel: 'gpt-4o-mini-2024-07-18',
	usage: USAGE,
	headers: {
		...ANSWER_HEADERS,
		'x-switchyard-request-id': 'req_first',
		'x-switchyard-attempts': '2',
		'x-switchyard-cost-usd': '0.00036000',
		'content-type': 'application/json',
	},
	...overrides,
})

const HEADER_BYTES = Object.entries(ANSWER_HEADERS).reduce((sum, [n, v]) => sum + n.length + v.length, 0)

/** An ASCII body whose entry counts exactly `bytes` (its payload plus the headers and the overhead). */
const bodyOfEntry = (bytes: number) => 'x'.repeat(bytes - HEADER_BYTES - OVERHEAD)

const JSON_BODY = JSON.stringify({ id: 'chatcmpl-1', object: 'chat.completion', model: 'gpt-4o-mini' })

describe('ResponseCache', () => {
	it('serves a JSON answer with the headers that describe it, its usage and what it saves', () => {
		const cache = new ResponseCache()
		expect(cache.setJson('k', facts(), JSON_BODY, MINUTE, T0)).toBe(true)
		expect(cache.get('k', T0 + 1)).toEqual({
			kind: 'json',
			door: 'chat',
			body: JSON_BODY,
			model: 'openai/gpt-4o-mini',
			provider: 'openai',
			upstreamModel: 'gpt-4o-mini-2024-07-18',
			usage: USAGE,
			costUsd: costUsd(MINI, USAGE),
			headers: ANSWER_HEADERS,
			bytes: JSON_BODY.length + HEADER_BYTES + OVERHEAD,
			storedAt: T0,
			expiresAt: T0 + MINUTE,
		})
	})

	it('misses a key it never stored', () => {
		expect(new ResponseCache().get('nothing', T0)).toBeNull()
	})

	it('serves an entry until its TTL runs out, then never again', () => {
		const cache = new ResponseCache()
		cache.setJson('k', facts(), JSON_BODY, MINUTE, T0)
		expect(cache.get('k', T0 + MINUTE - 1)?.body).toBe(JSON_BODY)
		expect(cache.get('k', T0 + MINUTE)).toBeNull()
		expect(cache.get('k', T0)).toBeNull()
		expect(cache.stats()).toMatchObject({ hits: 1, misses: 2, entries: 0, bytes: 0, expirations: 1 })
	})

	it('stores nothing for a TTL of zero or less', () => {
		const cache = new ResponseCache()
		expect(cache.setJson('k', facts(), JSON_BODY, 0, T0)).toBe(false)
		expect(cache.setJson('k', facts(), JSON_BODY, -5, T0)).toBe(false)
		expect(cache.get('k', T0)).toBeNull()
	})

	it('evicts the least recently used entries once the bytes pass the limit', () => {
		const cache = new ResponseCache({ maxBytes: 10 * KIB, maxEntryBytes: 10 * KIB })
		for (const key of ['a', 'b', 'c']) cache.setJson(key, facts(), bodyOfEntry(3 * KIB), MINUTE, T0)
		// Reading a makes b the least recently used.
		expect(cache.get('a', T0)).not.toBeNull()
		cache.setJson('d', facts(), bodyOfEntry(3 * KIB), MINUTE, T0)
		expect(['a', 'b', 'c', 'd'].map((key) => cache.get(key, T0) !== null)).toEqual([true, false, true, true])
		expect(cache.stats()).toMatchObject({ entries: 3, bytes: 9 * KIB, evictions: 1 })
		cache.setJson('e', facts(), bodyOfEntry(7 * KIB), MINUTE, T0)
		expect(['a', 'c', 'd', 'e'].map((key) => cache.get(key, T0) !== null)).toEqual([false, false, true, true])
		expect(cache.stats()).toMatchObject({ entries: 2, bytes: 10 * KIB, evictions: 3 })
	})

	it('counts the bytes of a body as UTF-8, as the client receives them', () => {
		const cache = new ResponseCache()
		cache.setJson('k', facts({ headers: {} }), '"été"', MINUTE, T0)
		expect(cache.stats().bytes).toBe(7 + OVERHEAD)
	})

	it('refuses an answer over the entry limit, and counts it', () => {
		const cache = new ResponseCache({ maxEntryBytes: 1 * KIB })
		expect(cache.setJson('k', facts(), 'x'.repeat(KIB + 1), MINUTE, T0)).toBe(false)
		expect(cache.setJson('u', facts(), 'é'.repeat(KIB / 2 + 1), MINUTE, T0)).toBe(false)
		expect(cache.setJson('ok', facts(), 'x'.repeat(KIB), MINUTE, T0)).toBe(true)
		expect(cache.stats()).toMatchObject({ entries: 1, tooLarge: 2 })
	})

	it('replaces an entry under the same key, counting its bytes once', () => {
		const cache = new ResponseCache()
		cache.setJson('k', facts(), bodyOfEntry(2 * KIB), MINUTE, T0)
		cache.setJson('k', facts(), bodyOfEntry(3 * KIB), MINUTE, T0 + 1)
		expect(cache.stats()).toMatchObject({ entries: 1, bytes: 3 * KIB })
		expect(cache.get('k', T0 + 1)?.storedAt).toBe(T0 + 1)
	})

	it('keeps stats of hits, misses, entries, bytes, evictions and what the hits saved', () => {
		const cache = new ResponseCache({ maxBytes: 4 * KIB })
		cache.setJson('a', facts(), bodyOfEntry(2 * KIB), MINUTE, T0)
		cache.setJson('b', facts({ usage: null }), bodyOfEntry(2 * KIB), MINUTE, T0)
		cache.get('a', T0)
		cache.get('a', T0)
		cache.get('b', T0)
		cache.get('zz', T0)
		cache.setJson('c', facts(), bodyOfEntry(2 * KIB), MINUTE, T0)
		expect(cache.stats()).toEqual({
			hits: 3,
			misses: 1,
			entries: 2,
			bytes: 4 * KIB,
			maxBytes: 4 * KIB,
			evictions: 1,
			expirations: 0,
			tooLarge: 0,
			savedUsd: 2 * costUsd(MINI, USAGE),
		})
	})

	it('prunes expired entries to give their memory back', () => {
		const cache = new ResponseCache()
		cache.setJson('short', facts(), JSON_BODY, MINUTE, T0)
		cache.setJson('long', facts(), JSON_BODY, 10 * MINUTE, T0)
		expect(cache.prune(T0 + MINUTE)).toBe(1)
		expect(cache.stats()).toMatchObject({ entries: 1, expirations: 1 })
		expect(cache.get('long', T0 + MINUTE)).not.toBeNull()
	})

	it('evicts an expired entry at the front as an expiration, not an eviction', () => {
		const cache = new ResponseCache({ maxBytes: 4 * KIB })
		cache.setJson('old', facts(), bodyOfEntry(2 * KIB), MINUTE, T0)
		cache.setJson('b', facts(), bodyOfEntry(2 * KIB), 10 * MINUTE, T0)
		cache.setJson('c', facts(), bodyOfEntry(2 * KIB), 10 * MINUTE, T0 + 2 * MINUTE)
		expect(cache.stats()).toMatchObject({ entries: 2, evictions: 0, expirations: 1 })
	})
})

describe('refused', () => {
	const completion = (message: Record<string, unknown>, finish: string): ChatResponse =>
		({
			id: 'c',
			object: 'chat.completion',
			created: 0,
			model: 'gpt-4o-mini',
			choices: [
				{ index: 0, message: { role: 'assistant', content: null, ...message }, finish_reason: finish },
			],
		}) as unknown as ChatResponse

	it.each([
		[
			'an OpenAI refusal',
			{ response: completion({ refusal: 'I can’t help with that.' }, 'stop'), usage: null },
		],
		['a content filter', { response: completion({ content: '' }, 'content_filter'), usage: null }],
		['an Anthropic refusal', { raw: '{}', answer: { stop_reason: 'refusal' }, usage: null, model: 'c' }],
		[
			'a Responses refusal',
			{
				raw: '{}',
				answer: { output: [{ type: 'message', content: [{ type: 'refusal', refusal: 'No.' }] }] },
				usage: null,
				model: 'gpt',
			},
		],
		[
			'a Responses content filter',
			{ raw: '{}', answer: { incomplete_details: { reason: 'content_filter' } }, usage: null, model: 'gpt' },
		],
	])('is true of %s', (_, answer) => {
		expect(refused(answer)).toBe(true)
	})

	it.each([
		['an answer', { response: completion({ content: 'Paris.' }, 'stop'), usage: null }],
		['a tool call', { response: completion({ tool_calls: [{ id: 'call_1' }] }, 'tool_calls'), usage: null }],
		['a cut answer', { response: completion({ content: 'Par' }, 'length'), usage: null }],
		['an Anthropic answer', { raw: '{}', answer: { stop_reason: 'end_turn' }, usage: null, model: 'c' }],
		['an embedding list', { raw: '{}', answer: { object: 'list', data: [] }, usage: null, model: 'e' }],
	])('is false of %s', (_, answer) => {
		expect(refused(answer)).toBe(false)
	})
})

const chunk = (delta: Record<string, unknown>, finish: string | null = null): ChatChunk =>
	({
		id: 'chatcmpl-9',
		object: 'chat.completion.chunk',
		created: 1764763200,
		model: 'gpt-4o-mini-2024-07-18',
		choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
	}) as ChatChunk

const usageChunk = {
	id: 'chatcmpl-9',
	object: 'chat.completion.chunk',
	created: 1764763200,
	model: 'gpt-4o-mini-2024-07-18',
	choices: [],
	usage: { prompt_tokens: 1200, completion_tokens: 300, total_tokens: 1500 },
} as ChatChunk

const ANSWER: ChatChunk[] = [
	chunk({ role: 'assistant', content: '' }),
	chunk({ content: 'The capital ' }),
	chunk({ content: 'of France is Paris — “Paris”.' }),
	chunk({}, 'stop'),
	usageChunk,
]

const piecesOf = (chunks: ChatChunk[]): StreamPiece[] => chunks.map((c) => ({ chunks: [c], native: null }))

async function* iterate(
	pieces: StreamPiece[],
	failAfter = Number.POSITIVE_INFINITY,
): AsyncGenerator<StreamPiece> {
	let sent = 0
	for (const piece of pieces) {
		if (sent++ >= failAfter) throw new Error('upstream reset')
		yield piece
	}
}

/**
 * A relay wired to a recorder as the pipeline does: each write the client reads is recorded, each canonical
 * chunk observed, and the end decides (completed: stored; failed or cancelled: abandoned). The recorder
 * completes once the client read the last write, so no write is missed.
 */
function recordedRelay(
	recorder: StreamRecorder,
	pieces: StreamPiece[],
	failAfter?: number,
	onEnd: (end: StreamEnd) => void = () => {},
) {
	let ended: StreamEnd | undefined
	const stream = relayStream({
		opening: pieces.slice(0, 2),
		rest: iterate(pieces.slice(2), failAfter),
		encoder: chatEncoder(true),
		onChunk: (c) => recorder.observe(c),
		toFailure: (error) => new GatewayError(502, 'upstream_error', String(error)),
		onEnd(end) {
			ended = end
			if (end.kind !== 'completed') recorder.abandon()
			onEnd(end)
		},
		cancelUpstream() {},
	})
	const tap = new TransformStream<Uint8Array, Uint8Array>({
		transform(bytes, controller) {
			recorder.write(bytes)
			controller.enqueue(bytes)
		},
		flush() {
			if (ended?.kind === 'completed') recorder.complete({ usage: USAGE, upstreamModel: 'gpt-4o-mini' }, T0)
		},
	})
	return stream.pipeThrough(tap)
}

async function bytesOf(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
	return new Uint8Array(await new Response(stream).arrayBuffer())
}

async function writesOf(stream: ReadableStream<Uint8Array>): Promise<string[]> {
	const writes: string[] = []
	const decoder = new TextDecoder()
	const reader = stream.getReader()
	for (let next = await reader.read(); !next.done; next = await reader.read())
		writes.push(decoder.decode(next.value))
	return writes
}

describe('recordStream and replayStream', () => {
	it('replays a completed stream byte for byte, in the same writes', async () => {
		const cache = new ResponseCache()
		const recorder = cache.recordStream('s', MINUTE, facts())
		const first = await writesOf(recordedRelay(recorder, piecesOf(ANSWER)))
		const entry = cache.get('s', T0) as CachedStream
		expect(entry).toMatchObject({
			kind: 'stream',
			usage: USAGE,
			upstreamModel: 'gpt-4o-mini',
			headers: ANSWER_HEADERS,
		})
		expect(first.at(-1)).toBe('data: [DONE]\n\n')
		expect(await writesOf(replayStream(entry))).toEqual(first)
		// And again: a replay leaves the entry whole for the next.
		expect(await bytesOf(replayStream(entry))).toEqual(new TextEncoder().encode(first.join('')))
	})

	it('never stores a stream that failed after it began', async () => {
		const cache = new ResponseCache()
		const recorder = cache.recordStream('s', MINUTE, facts())
		const writes = await writesOf(recordedRelay(recorder, piecesOf(ANSWER), 1))
		expect(writes.at(-1)).toContain('upstream reset')
		expect(recorder.complete({ usage: USAGE, upstreamModel: null }, T0)).toBe(false)
		expect(cache.get('s', T0)).toBeNull()
		expect(cache.stats().entries).toBe(0)
	})

	it('never stores a stream the client cancelled', async () => {
		const cache = new ResponseCache()
		const recorder = cache.recordStream('s', MINUTE, facts())
		const { promise: ended, resolve } = Promise.withResolvers<StreamEnd>()
		const reader = recordedRelay(recorder, piecesOf(ANSWER), undefined, resolve).getReader()
		await reader.read()
		await reader.cancel()
		expect(await ended).toEqual({ kind: 'cancelled' })
		expect(recorder.complete({ usage: USAGE, upstreamModel: null }, T0)).toBe(false)
		expect(cache.get('s', T0)).toBeNull()
	})

	it('never stores a refusal', async () => {
		const cache = new ResponseCache()
		const recorder = cache.recordStream('s', MINUTE, facts())
		const refusal = [
			chunk({ role: 'assistant', refusal: '' }),
			chunk({ refusal: 'I can’t.' }),
			chunk({}, 'stop'),
		]
		await writesOf(recordedRelay(recorder, piecesOf(refusal)))
		expect(cache.get('s', T0)).toBeNull()
	})

	it('stops recording a stream past the entry limit, and stores nothing of it', () => {
		const cache = new ResponseCache({ maxEntryBytes: 100 })
		const recorder = cache.recordStream('s', MINUTE, facts())
		recorder.write('x'.repeat(60))
		recorder.write('x'.repeat(60))
		recorder.write('x')
		expect(recorder.complete({ usage: USAGE, upstreamModel: null }, T0)).toBe(false)
		expect(cache.stats()).toMatchObject({ entries: 0, tooLarge: 1 })
	})

	it('records untouched upstream events as they came (a native stream)', async () => {
		const cache = new ResponseCache()
		const recorder = cache.recordStream('s', MINUTE, facts({ door: 'messages' }))
		const events = [
			'event: message_start\ndata: {"type":"message_start"}\n\n',
			'event: content_block_delta\ndata: {"type":"content_block_delta","delta":{"text":"Paris"}}\n\n',
			'event: message_stop\ndata: {"type":"message_stop"}\n\n',
		]
		for (const event of events) recorder.write(new TextEncoder().encode(event))
		recorder.complete({ usage: USAGE, upstreamModel: 'claude-haiku-4-5' }, T0)
		expect(await writesOf(replayStream(cache.get('s', T0) as CachedStream))).toEqual(events)
	})
})

describe('ResponseCache under concurrent use', () => {
	it('keeps a replay whole when its entry is replaced or evicted while it is read', async () => {
		const cache = new ResponseCache({ maxBytes: 8 * KIB })
		const recorder = cache.recordStream('s', MINUTE, facts())
		const original = await writesOf(recordedRelay(recorder, piecesOf(ANSWER)))
		const reader = replayStream(cache.get('s', T0) as CachedStream).getReader()
		const firstWrite = await reader.read()
		cache.setJson('s', facts(), 'replaced', MINUTE, T0)
		for (const key of ['a', 'b', 'c']) cache.setJson(key, facts(), bodyOfEntry(3 * KIB), MINUTE, T0)
		expect(cache.get('s', T0)).toBeNull()
		const rest: string[] = []
		for (let next = await reader.read(); !next.done; next = await reader.read())
			rest.push(new TextDecoder().decode(next.value))
		expect([new TextDecoder().decode(firstWrite.value), ...rest]).toEqual(original)
	})

	it('shows nothing of a stream until it completes, and keeps one entry for two identical streams', () => {
		const cache = new ResponseCache()
		const first = cache.recordStream('s', MINUTE, facts())
		const second = cache.recordStream('s', MINUTE, facts())
		first.write('data: one\n\n')
		second.write('data: two\n\n')
		expect(cache.get('s', T0)).toBeNull()
		second.complete({ usage: USAGE, upstreamModel: null }, T0)
		first.complete({ usage: USAGE, upstreamModel: null }, T0 + 1)
		const entry = cache.get('s', T0 + 1) as CachedStream
		expect(new TextDecoder().decode(entry.body)).toBe('data: one\n\n')
		expect(cache.stats()).toMatchObject({ entries: 1, bytes: entry.bytes })
	})

	it('hands out frozen entries, so no holder can change what others are served', () => {
		const cache = new ResponseCache()
		cache.setJson('k', facts(), JSON_BODY, MINUTE, T0)
		const entry = cache.get('k', T0)
		expect(Object.isFrozen(entry)).toBe(true)
		expect(Object.isFrozen(entry?.headers)).toBe(true)
		expect(Object.isFrozen(entry?.usage)).toBe(true)
	})
})

describe('hitResponse', () => {
	it('answers a JSON hit with its body, its headers, the request’s own and a cost of $0', async () => {
		const cache = new ResponseCache()
		cache.setJson('k', facts(), JSON_BODY, MINUTE, T0)
		const response = hitResponse(cache.get('k', T0) as NonNullable<ReturnType<ResponseCache['get']>>, {
			'x-switchyard-request-id': 'req_second',
			'x-switchyard-attempts': '0',
		})
		expect(response.status).toBe(200)
		expect(Object.fromEntries(response.headers)).toEqual({
			...ANSWER_HEADERS,
			'x-switchyard-request-id': 'req_second',
			'x-switchyard-attempts': '0',
			'x-switchyard-cost-usd': '0.00000000',
			'x-switchyard-cache': 'hit',
			'content-type': 'application/json',
		})
		expect(await response.text()).toBe(JSON_BODY)
	})

	it('answers a stream hit as server-sent events, fresh routing headers winning', async () => {
		const cache = new ResponseCache()
		const recorder = cache.recordStream('s', MINUTE, facts())
		const original = await writesOf(recordedRelay(recorder, piecesOf(ANSWER)))
		const entry = cache.get('s', T0) as CachedStream
		const response = hitResponse(entry, {
			'x-switchyard-request-id': 'req_2',
			'x-switchyard-rule': 'renamed',
		})
		expect(Object.fromEntries(response.headers)).toMatchObject({
			'content-type': 'text/event-stream; charset=utf-8',
			'x-switchyard-rule': 'renamed',
			'x-switchyard-tier': 'simple',
			'x-switchyard-cache': 'hit',
		})
		expect(response.headers.has('x-switchyard-cost-usd')).toBe(false)
		expect(await response.text()).toBe(original.join(''))
	})

	it('serves the same bytes over HTTP to one client after another', async () => {
		const cache = new ResponseCache()
		const recorder = cache.recordStream('s', MINUTE, facts())
		const original = (await writesOf(recordedRelay(recorder, piecesOf(ANSWER)))).join('')
		await using server = Bun.serve({
			port: 0,
			fetch: () => hitResponse(cache.get('s', T0) as CachedStream, {}),
		})
		expect(await (await fetch(server.url)).text()).toBe(original)
		expect(await (await fetch(server.url)).text()).toBe(original)
	})
})

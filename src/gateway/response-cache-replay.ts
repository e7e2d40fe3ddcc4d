// The answer of a response-cache hit: the stored bytes, with the headers that describe them.
import type { CachedAnswer, CachedStream } from './response-cache'
import { CACHE_STATUS_HEADER } from './response-cache-key'
import { SSE_HEADERS } from './sse'

/** A recorded stream, emitted at once: the same bytes in the same writes as the first client received. */
export function replayStream(entry: CachedStream): ReadableStream<Uint8Array> {
	return new ReadableStream<Uint8Array>({
		start(controller) {
			let from = 0
			// Copies: the entry serves every later hit, and a consumer may keep or detach what it reads.
			for (const end of entry.pieceEnds) {
				controller.enqueue(entry.body.slice(from, end))
				from = end
			}
			controller.close()
		},
	})
}

/**
 * The response of a hit: the entry's body or replayed stream with the headers that describe it, then
 * `headers` (the request's own: its id, attempts, and any fresh routing headers, which win), and
 * `x-switchyard-cache: hit`. A JSON hit reports `x-switchyard-cost-usd: 0.00000000` unless told otherwise.
 */
export function hitResponse(entry: CachedAnswer, headers: Record<string, string>): Response {
	if (entry.kind === 'json') {
		const all = {
			...entry.headers,
			'x-switchyard-cost-usd': (0).toFixed(8),
			...headers,
			'content-type': 'application/json',
			[CACHE_STATUS_HEADER]: 'hit',
		}
		return new Response(entry.body, { status: 200, headers: all })
	}
	const all = { ...entry.headers, ...headers, ...SSE_HEADERS, [CACHE_STATUS_HEADER]: 'hit' }
	return new Response(replayStream(entry), { status: 200, headers: all })
}

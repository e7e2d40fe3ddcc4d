import type { GatewayError } from '../errors'
import type { ChatChunk, StreamPiece } from '../providers/types'
import type { StreamEncoder } from './doors/encoder'

const encoder = new TextEncoder()

export const SSE_HEADERS = {
	'content-type': 'text/event-stream; charset=utf-8',
	'cache-control': 'no-cache',
	connection: 'keep-alive',
	// Tells nginx-style proxies not to buffer the stream.
	'x-accel-buffering': 'no',
}

/** How a relayed stream ended, for the request log. */
export type StreamEnd =
	| { kind: 'completed' }
	| { kind: 'failed'; error: GatewayError }
	| { kind: 'cancelled' }

export interface RelayOptions {
	/** The pieces up to the first with content, already received: they proved the upstream works. */
	opening: StreamPiece[]
	rest: AsyncIterator<StreamPiece>
	/** Writes translated chunks in the door's format; an untouched upstream event is relayed as it came. */
	encoder: StreamEncoder
	onChunk(chunk: ChatChunk): void
	/** Each write to the client, just before it is enqueued (the response cache records them). */
	onWrite?(bytes: Uint8Array): void
	/** Turns a mid-stream failure into the error the client receives as the last event, and the log keeps. */
	toFailure(error: unknown): GatewayError
	onEnd(end: StreamEnd): void
	/** Called when the client goes away, to abort the upstream request. */
	cancelUpstream(): void
}

/**
 * Relays a stream as server-sent events as it arrives, in the door's format. An upstream failure after
 * bytes were sent ends the stream with the door's error event; it is never restarted on another model.
 */
export function relayStream(options: RelayOptions): ReadableStream<Uint8Array> {
	const pending = [...options.opening]
	let ended = false
	const write = (controller: ReadableStreamDefaultController<Uint8Array>, text: string) => {
		const bytes = encoder.encode(text)
		options.onWrite?.(bytes)
		controller.enqueue(bytes)
	}
	const end = (how: StreamEnd) => {
		if (ended) return
		ended = true
		options.onEnd(how)
	}

	return new ReadableStream<Uint8Array>({
		async pull(controller) {
			try {
				for (;;) {
					const held = pending.shift()
					const next: IteratorResult<StreamPiece> = held
						? { value: held, done: false }
						: await options.rest.next()
					if (next.done) {
						const closing = options.encoder.end()
						if (closing) write(controller, closing)
						controller.close()
						end({ kind: 'completed' })
						return
					}
					const piece = next.value
					let text = piece.native ?? ''
					for (const chunk of piece.chunks) {
						options.onChunk(chunk)
						if (piece.native === null) text += options.encoder.chunk(chunk)
					}
					if (text) {
						write(controller, text)
						return
					}
				}
			} catch (error) {
				if (ended) return
				const failure = options.toFailure(error)
				write(controller, options.encoder.fail(failure))
				controller.close()
				end({ kind: 'failed', error: failure })
			}
		},
		cancel() {
			options.cancelUpstream()
			end({ kind: 'cancelled' })
		},
	})
}

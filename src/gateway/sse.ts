import { type GatewayError, toOpenAIError } from '../errors'
import type { ChatChunk } from '../providers/types'

const encoder = new TextEncoder()
const DONE = encoder.encode('data: [DONE]\n\n')

export const SSE_HEADERS = {
	'content-type': 'text/event-stream; charset=utf-8',
	'cache-control': 'no-cache',
	connection: 'keep-alive',
	// Tells nginx-style proxies not to buffer the stream.
	'x-accel-buffering': 'no',
}

export const encodeEvent = (data: unknown) => encoder.encode(`data: ${JSON.stringify(data)}\n\n`)

/** How a relayed stream ended, for the request log. */
export type StreamEnd =
	| { kind: 'completed' }
	| { kind: 'failed'; error: GatewayError }
	| { kind: 'cancelled' }

export interface RelayOptions {
	/** The chunks up to the first with content, already received: they proved the upstream works. */
	opening: ChatChunk[]
	rest: AsyncIterator<ChatChunk>
	/** The client asked for `stream_options.include_usage`; otherwise the usage-only chunk is not sent. */
	includeUsage: boolean
	onChunk(chunk: ChatChunk): void
	/** Turns a mid-stream failure into the error the client receives as the last event, and the log keeps. */
	toFailure(error: unknown): GatewayError
	onEnd(end: StreamEnd): void
	/** Called when the client goes away, to abort the upstream request. */
	cancelUpstream(): void
}

const isUsageOnly = (chunk: ChatChunk) => chunk.choices.length === 0 && Boolean(chunk.usage)

/**
 * Relays upstream chunks as OpenAI server-sent events, one `data:` line per chunk as it arrives, ending
 * with `data: [DONE]`. An upstream failure after bytes were sent ends the stream with one error event
 * in OpenAI's error shape (and no `[DONE]`); it is never restarted on another model.
 */
export function relayStream(options: RelayOptions): ReadableStream<Uint8Array> {
	const pending = [...options.opening]
	let ended = false
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
					const next: IteratorResult<ChatChunk> = held
						? { value: held, done: false }
						: await options.rest.next()
					if (next.done) {
						controller.enqueue(DONE)
						controller.close()
						end({ kind: 'completed' })
						return
					}
					const chunk = next.value
					options.onChunk(chunk)
					if (options.includeUsage) {
						controller.enqueue(encodeEvent(chunk))
						return
					}
					if (isUsageOnly(chunk)) continue
					if (chunk.usage === null) delete chunk.usage
					controller.enqueue(encodeEvent(chunk))
					return
				}
			} catch (error) {
				if (ended) return
				const failure = options.toFailure(error)
				controller.enqueue(encodeEvent(toOpenAIError(failure)))
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

// The upstream HTTP calls, without the official SDKs: on the gateway's hot path their CPU per call was most
// of its overhead (docs/performance.md, "SDK vs fetch"), so the adapters speak the wire formats directly
// and keep the SDKs' types. Every call goes through `fetch`, which never sends a request twice
// (tests/providers/http.test.ts proves it); Bun's HTTP client thread that sends it is tuned at boot
// (`src/runtime/tuning.ts`).
import { readTextWithin } from '../lib/bounded-text'
import type { CallOptions } from './types'
import { UpstreamError } from './upstream-error'

const decoder = new TextDecoder()

/**
 * What one upstream answer may weigh (UPSTREAM_MAX_ANSWER_BYTES): the largest real answers (128K output
 * tokens, or images as base64) stay far below; past it the attempt fails instead of the server buffering
 * without end. A stream's events are bounded one by one.
 */
export interface AnswerLimits {
	maxAnswerBytes: number
}

/**
 * A POST with a JSON body, resolved once the answer's headers arrive (its body is read from there); a
 * non-2xx answer is thrown as an `UpstreamError` carrying the upstream message, and a 2xx one tells
 * `call.began()` that the upstream is answering.
 */
export async function postJson(
	url: string,
	headers: Record<string, string>,
	body: unknown,
	call: CallOptions,
	limits: AnswerLimits,
): Promise<Response> {
	let response: Response
	try {
		response = await fetch(url, {
			method: 'POST',
			headers: { 'content-type': 'application/json', accept: 'application/json', ...headers },
			body: JSON.stringify(body),
			// Following a 301/302 would turn the POST into a GET: a base URL to correct, not a hop.
			redirect: 'manual',
			signal: call.signal,
		})
	} catch (error) {
		throw fetchFailure(error)
	}
	if (!response.ok) {
		const text = await readText(response, limits.maxAnswerBytes).catch(() => '')
		throw httpFailure(response.status, text)
	}
	call.began()
	return response
}

/** A POST with a JSON body, resolved with the whole answer text (at most `limits.maxAnswerBytes`). */
export async function postJsonForText(
	url: string,
	headers: Record<string, string>,
	body: unknown,
	call: CallOptions,
	limits: AnswerLimits,
): Promise<string> {
	const response = await postJson(url, headers, body, call, limits)
	try {
		return await readText(response, limits.maxAnswerBytes)
	} catch (error) {
		throw fetchFailure(error)
	}
}

const tooLarge = (limit: number) =>
	new UpstreamError('protocol', 0, `the upstream answer is larger than ${limit} bytes`)

/** The body as text, refusing to buffer more than `limit` bytes. */
const readText = (response: Response, limit: number) => readTextWithin(response, limit, () => tooLarge(limit))

export function parseJson<T>(text: string): T {
	try {
		return JSON.parse(text) as T
	} catch {
		throw new UpstreamError('protocol', 0, 'the upstream sent a malformed response')
	}
}

function fetchFailure(error: unknown): UpstreamError {
	if (error instanceof UpstreamError) return error
	if (error instanceof Error && (error.name === 'AbortError' || error.name === 'TimeoutError')) {
		return new UpstreamError('aborted', 0, 'request aborted')
	}
	// Only the first sentence: runtimes append advice meant for developers (Bun: "pass `verbose: true`…").
	const reason = (error instanceof Error ? error.message : String(error)).split(/\.\s/)[0]
	return new UpstreamError('connection', 0, `connection failed: ${reason}`)
}

/** The message inside an OpenAI (`{error:{message}}`) or Anthropic (`{type:'error', error:{message}}`) body. */
export function upstreamMessage(body: unknown): string | undefined {
	if (!body || typeof body !== 'object') return undefined
	const inner = 'error' in body ? (body as { error: unknown }).error : body
	if (inner && typeof inner === 'object' && 'message' in inner) {
		const message = (inner as { message: unknown }).message
		if (typeof message === 'string') return message
	}
	return undefined
}

interface ErrorFields {
	type?: string
	param?: string | null
	code?: string | null
}

const CALLER_ERROR_TYPES = new Set(['invalid_request_error', 'not_found_error', 'permission_error'])

/** A non-2xx answer as an `UpstreamError` carrying the upstream message. */
function httpFailure(status: number, text: string): UpstreamError {
	if (status >= 300 && status < 400) {
		return new UpstreamError(
			'protocol',
			status,
			`the upstream redirected (HTTP ${status}): set the provider's base URL to the final address`,
		)
	}
	let body: unknown
	try {
		body = JSON.parse(text)
	} catch {
		body = undefined
	}
	const fields = ((body as { error?: ErrorFields } | undefined)?.error ?? {}) as ErrorFields
	const message = upstreamMessage(body) ?? `HTTP ${status}`
	const type =
		fields.type && CALLER_ERROR_TYPES.has(fields.type) ? (fields.type as 'invalid_request_error') : undefined
	return new UpstreamError('http', status, message, {
		type,
		param: fields.param ?? null,
		code: fields.code ?? null,
	})
}

export interface ServerSentEvent {
	event: string | undefined
	data: string
}

/**
 * Server-sent events as they arrive (https://html.spec.whatwg.org/multipage/server-sent-events.html):
 * `event:` and `data:` fields, events separated by a blank line, comments ignored. A connection that
 * breaks mid-stream surfaces as an `UpstreamError`.
 */
export async function* readEvents(
	body: ReadableStream<Uint8Array>,
	limits: AnswerLimits,
): AsyncGenerator<ServerSentEvent> {
	const reader = body.getReader()
	let buffer = ''
	let event: string | undefined
	let data: string[] = []
	let finished = false
	try {
		for (;;) {
			let chunk: Awaited<ReturnType<typeof reader.read>>
			try {
				chunk = await reader.read()
			} catch (error) {
				throw fetchFailure(error)
			}
			if (chunk.done) break
			buffer += decoder.decode(chunk.value, { stream: true })
			if (buffer.length > limits.maxAnswerBytes) throw tooLarge(limits.maxAnswerBytes)
			let newline = buffer.indexOf('\n')
			while (newline !== -1) {
				const line =
					buffer.charCodeAt(newline - 1) === 13 ? buffer.slice(0, newline - 1) : buffer.slice(0, newline)
				buffer = buffer.slice(newline + 1)
				if (line === '') {
					if (data.length > 0) yield { event, data: data.join('\n') }
					event = undefined
					data = []
				} else if (line.startsWith('data:')) {
					data.push(line.charCodeAt(5) === 32 ? line.slice(6) : line.slice(5))
				} else if (line.startsWith('event:')) {
					event = line.slice(line.charCodeAt(6) === 32 ? 7 : 6)
				}
				newline = buffer.indexOf('\n')
			}
		}
		finished = true
		if (data.length > 0) yield { event, data: data.join('\n') }
	} finally {
		// Stopped early (the client left, or an error): drop the upstream body so its connection is freed.
		if (!finished) await reader.cancel().catch(() => {})
		reader.releaseLock()
	}
}

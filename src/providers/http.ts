// The upstream HTTP calls, without the official SDKs: they cost 60–80 µs of CPU per call on top of the
// request itself (docs/performance.md, "SDK vs fetch"); on the gateway's hot path that was most of its
// overhead, so the adapters speak the wire formats directly and keep the SDKs' types. Streams go through
// `fetch`; JSON calls through our own HTTP/1.1 client on the event loop (`http1.ts`), unless a proxy is set.
import { batchThreadsNamed, HTTP_CLIENT_THREAD, warnIfFailed } from '../threads'
import { UpstreamError } from './errors'
import { Http1Client } from './http1'

const decoder = new TextDecoder()

let httpThreadScheduled = false

/** After an answer, Bun's HTTP client thread exists: switch it to SCHED_BATCH (`src/threads.ts`), once. */
function scheduleHttpThread() {
	if (httpThreadScheduled) return
	httpThreadScheduled = true
	warnIfFailed(
		batchThreadsNamed(HTTP_CLIENT_THREAD),
		"upstream calls: could not switch Bun's HTTP client thread to SCHED_BATCH",
		'each call costs more CPU',
	)
}

function post(url: string, headers: Record<string, string>, body: unknown, signal: AbortSignal) {
	return fetch(url, {
		method: 'POST',
		headers: { 'content-type': 'application/json', accept: 'application/json', ...headers },
		body: JSON.stringify(body),
		signal,
	})
}

/**
 * A POST with a JSON body, resolved once the answer's headers arrive (a stream is read from there); a
 * non-2xx answer is thrown as an `UpstreamError` carrying the upstream message.
 */
export async function postJson(
	url: string,
	headers: Record<string, string>,
	body: unknown,
	signal: AbortSignal,
): Promise<Response> {
	let response: Response
	try {
		response = await post(url, headers, body, signal)
	} catch (error) {
		throw fetchFailure(error)
	}
	scheduleHttpThread()
	if (!response.ok) throw httpFailure(response.status, await response.text().catch(() => ''))
	return response
}

/**
 * Bun's `fetch` follows HTTP(S)_PROXY and NO_PROXY; our own client does not, so with a proxy set every
 * call keeps going through `fetch`.
 */
const PROXY_VARIABLES = ['http_proxy', 'https_proxy', 'all_proxy']

export const proxyConfigured = (env: Record<string, string | undefined>) =>
	Object.entries(env).some(([name, value]) => value && PROXY_VARIABLES.includes(name.toLowerCase()))

/** The JSON calls' client (`http1.ts`), shared by every adapter so connections are reused across them. */
const client = proxyConfigured(process.env) ? undefined : new Http1Client()

/**
 * A POST with a JSON body, resolved with the whole answer text; a broken connection or an abort while it
 * is read fails like the request itself.
 */
export async function postJsonForText(
	url: string,
	headers: Record<string, string>,
	body: unknown,
	signal: AbortSignal,
): Promise<string> {
	try {
		const { status, text } = client
			? await client.post(url, headers, JSON.stringify(body), signal)
			: await fetchForText(url, headers, body, signal)
		if (status < 200 || status > 299) throw httpFailure(status, text)
		return text
	} catch (error) {
		throw fetchFailure(error)
	}
}

/** The same call through `fetch` (behind a proxy); an error answer whose body cannot be read has none. */
async function fetchForText(
	url: string,
	headers: Record<string, string>,
	body: unknown,
	signal: AbortSignal,
) {
	const response = await post(url, headers, body, signal)
	scheduleHttpThread()
	const text = response.ok ? await response.text() : await response.text().catch(() => '')
	return { status: response.status, text }
}

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
		// Our client does not follow redirects (`fetch` would, turning the POST into a GET on 301/302): a base
		// URL to correct, not a hop.
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
	const type =
		fields.type && CALLER_ERROR_TYPES.has(fields.type) ? (fields.type as 'invalid_request_error') : undefined
	return new UpstreamError('http', status, upstreamMessage(body) ?? `HTTP ${status}`, {
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
export async function* readEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<ServerSentEvent> {
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

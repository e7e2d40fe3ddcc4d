/** What every wire format shares: SSE framing, ids, chunking of text, and each provider's error bodies. */

export type Body = Record<string, unknown>

export const JSON_HEADERS = { 'content-type': 'application/json' }
const SSE_HEADERS = { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' }

export function isRecord(value: unknown): value is Record<string, unknown> {
	return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** A field a rule looks at: present and not null (an explicit null means "not set" to these APIs). */
export function given(body: Body, field: string): boolean {
	return body[field] !== undefined && body[field] !== null
}

export function randomId(prefix: string, length = 24): string {
	return prefix + crypto.randomUUID().replaceAll('-', '').slice(0, length)
}

/** Mistral's tool call ids: nine letters and digits. */
export function mistralCallId(): string {
	const alphabet = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'
	let id = ''
	for (const byte of crypto.getRandomValues(new Uint8Array(9))) id += alphabet[byte % alphabet.length]
	return id
}

export function requestIdHeader(anthropic: boolean): Record<string, string> {
	return anthropic ? { 'request-id': randomId('req_') } : { 'x-request-id': randomId('req_') }
}

export function sseHeaders(anthropic: boolean): Record<string, string> {
	return { ...SSE_HEADERS, ...requestIdHeader(anthropic) }
}

export function dataLine(payload: unknown): string {
	return `data: ${JSON.stringify(payload)}\n\n`
}

export function event(type: string, payload: unknown): string {
	return `event: ${type}\ndata: ${JSON.stringify(payload)}\n\n`
}

/** Text as several deltas, whitespace kept: "Hello from x" → ["Hello", " from", " x"]. */
export function words(text: string): string[] {
	return text.match(/\s*\S+|\s+$/g) ?? []
}

/** Tool arguments in up to three pieces, at least two when there are two characters. */
export function split(text: string): string[] {
	if (text.length < 2) return text === '' ? [] : [text]
	const size = Math.ceil(text.length / Math.min(3, text.length))
	const pieces: string[] = []
	for (let at = 0; at < text.length; at += size) pieces.push(text.slice(at, at + size))
	return pieces
}

export function parseArguments(text: string): unknown {
	try {
		return JSON.parse(text)
	} catch {
		return {}
	}
}

export function nowSeconds(): number {
	return Math.floor(Date.now() / 1000)
}

export interface OpenAIErrorFields {
	message: string
	type: string
	param: string | null
	code: string | null
}

const OPENAI_ERRORS: Record<number, Omit<OpenAIErrorFields, 'param'>> = {
	400: { type: 'invalid_request_error', code: null, message: 'Invalid request.' },
	401: { type: 'invalid_request_error', code: 'invalid_api_key', message: 'Incorrect API key provided' },
	403: { type: 'invalid_request_error', code: 'unsupported_country_region_territory', message: 'Forbidden.' },
	404: { type: 'invalid_request_error', code: 'model_not_found', message: 'The model does not exist.' },
	429: { type: 'requests', code: 'rate_limit_exceeded', message: 'Rate limit reached for requests.' },
}

/** OpenAI's body for a status: the message and type given, or what the API says for that status. */
export function openaiErrorFields(status: number, message?: string): OpenAIErrorFields {
	const known = OPENAI_ERRORS[status] ?? {
		type: status >= 500 ? 'server_error' : 'invalid_request_error',
		code: null,
		message:
			status >= 500
				? 'The server had an error while processing your request. Sorry about that!'
				: `Request failed with status ${status}.`,
	}
	return { message: message ?? known.message, type: known.type, param: null, code: known.code }
}

export function openaiError(status: number, error: OpenAIErrorFields): Response {
	return Response.json({ error }, { status, headers: requestIdHeader(false) })
}

/** A 400 `invalid_request_error`, the shape of nearly every OpenAI refusal. */
export function openaiRefusal(message: string, param: string | null = null, code: string | null = null) {
	return openaiError(400, { message, type: 'invalid_request_error', param, code })
}

const ANTHROPIC_ERROR_TYPES: Record<number, string> = {
	400: 'invalid_request_error',
	401: 'authentication_error',
	402: 'billing_error',
	403: 'permission_error',
	404: 'not_found_error',
	413: 'request_too_large',
	429: 'rate_limit_error',
	500: 'api_error',
	504: 'timeout_error',
	529: 'overloaded_error',
}

const ANTHROPIC_MESSAGES: Record<string, string> = {
	billing_error: "There's an issue with your billing or payment information.",
	not_found_error: 'The requested resource was not found.',
	request_too_large: 'Request exceeds the maximum allowed number of bytes.',
	overloaded_error: 'Overloaded',
}

export function anthropicErrorType(status: number): string {
	return ANTHROPIC_ERROR_TYPES[status] ?? (status >= 500 ? 'api_error' : 'invalid_request_error')
}

export function anthropicError(
	status: number,
	message?: string,
	type = anthropicErrorType(status),
): Response {
	const headers = requestIdHeader(true)
	const error = { type, message: message ?? ANTHROPIC_MESSAGES[type] ?? type.replaceAll('_', ' ') }
	return Response.json({ type: 'error', error, request_id: headers['request-id'] }, { status, headers })
}

/** A 400 `invalid_request_error`, the shape of every Anthropic rule here but AN-17. */
export function anthropicRefusal(message: string): Response {
	return anthropicError(400, message)
}

/** Resolves true once `deadline` (a `performance.now()` time) has passed, never earlier; false on abort. */
export function sleep(deadline: number, signal: AbortSignal): Promise<boolean> {
	return new Promise((resolve) => {
		if (signal.aborted) return resolve(false)
		let timer: ReturnType<typeof setTimeout> | undefined
		const onAbort = () => {
			clearTimeout(timer)
			resolve(false)
		}
		const check = () => {
			const left = deadline - performance.now()
			if (left > 0) {
				timer = setTimeout(check, Math.ceil(left))
				return
			}
			signal.removeEventListener('abort', onAbort)
			resolve(true)
		}
		signal.addEventListener('abort', onAbort, { once: true })
		check()
	})
}

/**
 * JSON with sorted keys and without `cache_control`, so that two spellings of one conversation (key
 * order, cache breakpoints moved) hash alike.
 */
export function canonicalJson(value: unknown): string {
	if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`
	if (!isRecord(value)) return JSON.stringify(value) ?? 'null'
	const keys = Object.keys(value)
		.filter((key) => key !== 'cache_control' && value[key] !== undefined)
		.sort()
	return `{${keys.map((key) => `${JSON.stringify(key)}:${canonicalJson(value[key])}`).join(',')}}`
}

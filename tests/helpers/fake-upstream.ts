/**
 * A fake LLM upstream for the test suite and the benchmark. One Bun server speaks both wire formats:
 * OpenAI Chat Completions (`POST /v1/chat/completions`, `GET /v1/models`) and Anthropic Messages
 * (`POST /v1/messages`, `GET /v1/models` when called with Anthropic headers), JSON and SSE, with the
 * providers' own error bodies. Shapes follow the `openai` 7.x and `@anthropic-ai/sdk` 1.x types.
 */

export interface FakeUpstreamOptions {
	/**
	 * Keys accepted per wire format; a request with any other key gets the provider's real 401 shape.
	 * @default { openai: ['sk-openai-test'], anthropic: ['sk-ant-test'] }
	 */
	keys?: { openai?: string[]; anthropic?: string[] }
	/**
	 * What an unscripted request gets, e.g. `{ kind: 'slow', … }` to give every benchmark request latency.
	 * @default { kind: 'reply' }
	 */
	defaultBehaviour?: Behaviour
	/**
	 * Keep every request in `requests`. Turn off for long benchmark runs; `waitForRequests` still counts.
	 * @default true
	 */
	record?: boolean
}

export interface RecordedRequest {
	format: 'openai' | 'anthropic'
	method: string
	path: string
	/** Lower-cased names. */
	headers: Record<string, string>
	/** Parsed JSON; the raw text when it did not parse; null without a body. */
	// biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary fields of what the gateway sent
	body: any
	/**
	 * Settles once the exchange is over: true when the client went away before the response finished
	 * (stream cancelled, request aborted), false when the response finished or the server was stopped.
	 */
	aborted: Promise<boolean>
}

export interface ScriptedUsage {
	/** Reported as given: OpenAI `prompt_tokens` (cached included) / Anthropic `input_tokens` (cached excluded). */
	prompt?: number
	completion?: number
	/** OpenAI `prompt_tokens_details.cached_tokens` / Anthropic `cache_read_input_tokens`. */
	cached?: number
	/** Anthropic `cache_creation_input_tokens` / OpenAI `prompt_tokens_details.cache_write_tokens`. */
	cacheWrite?: number
}

export type Behaviour =
	| {
			kind: 'reply'
			text?: string
			toolCalls?: { name: string; arguments: string }[]
			usage?: ScriptedUsage
			/** OpenAI only: no usage anywhere, even with `stream_options.include_usage`. Anthropic always reports it. */
			omitUsage?: boolean
			/** The model the upstream reports; defaults to the requested one. */
			model?: string
	  }
	| { kind: 'error'; status: number; message?: string; retryAfter?: number }
	/** Accept the request and never send headers. */
	| { kind: 'hang' }
	/**
	 * Stream: headers and first chunk after firstByteMs (from arrival), each next chunk chunkMs later.
	 * Non-stream: headers and the first half of the body after firstByteMs, the rest chunkMs later.
	 */
	| { kind: 'slow'; firstByteMs: number; chunkMs: number }
	/**
	 * OpenAI: `afterChunks` SSE chunks, then the connection is cut. Anthropic: `afterChunks` events (ping
	 * included), then an `overloaded_error` event. Never the whole stream. Non-stream: half a JSON body,
	 * then the connection is cut.
	 */
	| { kind: 'fail-mid-stream'; afterChunks: number }
	/** 200 with a body that is not JSON (an SSE `data:` line that is not JSON when streaming). */
	| { kind: 'bad-json' }

export interface FakeUpstream extends AsyncDisposable {
	/** http://127.0.0.1:<port> */
	url: string
	/** url + '/v1' */
	openaiBaseUrl: string
	/** url (the Anthropic SDK appends /v1/messages) */
	anthropicBaseUrl: string
	requests: RecordedRequest[]
	/** Script the next responses for a model id (a queue; then the default reply). `'*'` matches any model. */
	script(model: string, ...behaviours: Behaviour[]): void
	/** Resolves when `n` requests have been received since the start or the last `reset()`. */
	waitForRequests(n: number): Promise<void>
	/** Forget recorded requests and scripts. */
	reset(): void
	stop(): Promise<void>
}

type Format = RecordedRequest['format']
type Body = Record<string, unknown>
type Reply = Extract<Behaviour, { kind: 'reply' }>

interface Answer {
	model: string
	text: string | null
	toolCalls: { name: string; arguments: string }[]
	prompt: number
	completion: number
	cached: number
	cacheWrite: number | undefined
	omitUsage: boolean
}

/** Pause before cutting a connection: an abortive close makes the client drop bytes it has not read yet. */
const CUT_GRACE_MS = 25
const OPENAI_MODELS = ['gpt-4o-mini', 'gpt-4o']
const ANTHROPIC_MODELS = ['claude-haiku-4-5', 'claude-opus-4-1']
const SSE_HEADERS = { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' }
const JSON_HEADERS = { 'content-type': 'application/json' }
const encoder = new TextEncoder()

const OPENAI_ERRORS: Record<number, { type: string; code: string | null; message: string }> = {
	400: { type: 'invalid_request_error', code: null, message: 'Invalid request.' },
	401: { type: 'invalid_request_error', code: 'invalid_api_key', message: 'Incorrect API key provided' },
	403: { type: 'invalid_request_error', code: 'unsupported_country_region_territory', message: 'Forbidden.' },
	404: { type: 'invalid_request_error', code: 'model_not_found', message: 'The model does not exist.' },
	429: { type: 'requests', code: 'rate_limit_exceeded', message: 'Rate limit reached for requests.' },
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

/** The default prompt count: characters of every text in system and messages / 4, rounded up, at least 1. */
export function countPromptTokens(body: unknown): number {
	let chars = 0
	const add = (content: unknown): void => {
		if (typeof content === 'string') {
			chars += content.length
		} else if (Array.isArray(content)) {
			for (const part of content) {
				if (!isRecord(part)) continue
				if (typeof part.text === 'string') chars += part.text.length
				if (part.content !== undefined) add(part.content)
			}
		}
	}
	if (isRecord(body)) {
		add(body.system)
		if (Array.isArray(body.messages)) {
			for (const message of body.messages) if (isRecord(message)) add(message.content)
		}
	}
	return Math.max(1, Math.ceil(chars / 4))
}

/** The default completion count: words of the text, plus (name + arguments length) / 4 per tool call, min 1. */
export function countCompletionTokens(text: string | null, toolCalls: { name: string; arguments: string }[]) {
	let tokens = text ? text.split(/\s+/).filter(Boolean).length : 0
	for (const call of toolCalls) tokens += Math.ceil((call.name.length + call.arguments.length) / 4)
	return Math.max(1, tokens)
}

export async function startFakeUpstream(options: FakeUpstreamOptions = {}): Promise<FakeUpstream> {
	const keys = {
		openai: new Set(options.keys?.openai ?? ['sk-openai-test']),
		anthropic: new Set(options.keys?.anthropic ?? ['sk-ant-test']),
	}
	const defaultBehaviour: Behaviour = options.defaultBehaviour ?? { kind: 'reply' }
	const keepRequests = options.record ?? true
	const requests: RecordedRequest[] = []
	const scripts = new Map<string, Behaviour[]>()
	const pending = new Set<Exchange>()
	let waiters: { n: number; resolve: () => void }[] = []
	let received = 0
	let stopping = false
	let stopped: Promise<void> | undefined

	class Exchange {
		readonly aborted: Promise<boolean>
		private settle!: (aborted: boolean) => void
		private done = false
		private controller: AbortController | undefined

		constructor() {
			this.aborted = new Promise((resolve) => {
				this.settle = resolve
			})
		}

		/** For responses that take time: a signal that fires when the client leaves or the server stops. */
		watch(request: Request): AbortSignal {
			this.controller = new AbortController()
			pending.add(this)
			if (request.signal.aborted) this.finish(true)
			else request.signal.addEventListener('abort', () => this.finish(!stopping), { once: true })
			return this.controller.signal
		}

		finish(aborted: boolean): void {
			if (this.done) return
			this.done = true
			pending.delete(this)
			this.controller?.abort()
			this.settle(aborted)
		}
	}

	function record(entry: RecordedRequest): void {
		if (keepRequests) requests.push(entry)
		received++
		if (waiters.length === 0) return
		waiters = waiters.filter((waiter) => {
			if (received < waiter.n) return true
			waiter.resolve()
			return false
		})
	}

	function nextBehaviour(model: string): Behaviour {
		return scripts.get(model)?.shift() ?? scripts.get('*')?.shift() ?? defaultBehaviour
	}

	async function handle(request: Request): Promise<Response> {
		const startedAt = performance.now()
		const path = new URL(request.url).pathname
		const format = formatOf(request, path)
		// A client that leaves while uploading gets recorded with an empty body.
		const raw =
			request.method === 'GET' || request.method === 'HEAD' ? '' : await request.text().catch(() => '')
		let body: unknown = null
		let parsed = raw === ''
		if (raw !== '') {
			try {
				body = JSON.parse(raw)
				parsed = true
			} catch {
				body = raw
			}
		}
		const exchange = new Exchange()
		record({
			format,
			method: request.method,
			path,
			headers: Object.fromEntries(request.headers),
			body,
			aborted: exchange.aborted,
		})
		const early = reject(request, format, path, parsed, body)
		if (early) {
			exchange.finish(false)
			return early
		}
		const fields = body as Body
		const model = fields.model as string
		const behaviour = nextBehaviour(model)
		const stream = fields.stream === true
		const includeUsage = isRecord(fields.stream_options) && fields.stream_options.include_usage === true

		switch (behaviour.kind) {
			case 'reply': {
				exchange.finish(false)
				const answer = answerFor(behaviour, model, fields)
				if (!stream) return Response.json(completionBody(format, answer), { headers: idHeader(format) })
				return new Response(streamParts(format, answer, includeUsage).join(''), {
					headers: sseHeaders(format),
				})
			}
			case 'error':
				exchange.finish(false)
				return errorResponse(format, behaviour.status, behaviour.message, behaviour.retryAfter)
			case 'bad-json':
				exchange.finish(false)
				if (stream) return new Response('data: this is not json\n\n', { headers: sseHeaders(format) })
				return new Response('<html>this is not json', { headers: { ...JSON_HEADERS, ...idHeader(format) } })
			case 'hang': {
				const signal = exchange.watch(request)
				await new Promise<void>((resolve) =>
					signal.addEventListener('abort', () => resolve(), { once: true }),
				)
				return new Response(null, { status: 499 })
			}
			case 'slow': {
				const signal = exchange.watch(request)
				if (!(await sleep(startedAt + behaviour.firstByteMs, signal)))
					return new Response(null, { status: 499 })
				const answer = answerFor({ kind: 'reply' }, model, fields)
				if (!stream) {
					const json = JSON.stringify(completionBody(format, answer))
					const halves = [json.slice(0, json.length >> 1), json.slice(json.length >> 1)]
					return new Response(pace(halves, behaviour.chunkMs, 'close', exchange, signal), {
						headers: { ...JSON_HEADERS, ...idHeader(format) },
					})
				}
				const parts = streamParts(format, answer, includeUsage)
				return new Response(pace(parts, behaviour.chunkMs, 'close', exchange, signal), {
					headers: sseHeaders(format),
				})
			}
			case 'fail-mid-stream': {
				const signal = exchange.watch(request)
				const answer = answerFor({ kind: 'reply' }, model, fields)
				if (!stream) {
					const json = JSON.stringify(completionBody(format, answer))
					const half = [json.slice(0, json.length >> 1)]
					return new Response(pace(half, 0, 'cut', exchange, signal), {
						headers: { ...JSON_HEADERS, ...idHeader(format) },
					})
				}
				const parts = streamParts(format, answer, includeUsage)
				// Never the whole stream: the point is that it does not finish.
				const sent = parts.slice(0, Math.max(0, Math.min(behaviour.afterChunks, parts.length - 1)))
				if (format === 'openai') {
					return new Response(pace(sent, 0, 'cut', exchange, signal), { headers: sseHeaders(format) })
				}
				exchange.finish(false)
				const overloaded = { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }
				return new Response(sent.join('') + event('error', overloaded), { headers: sseHeaders(format) })
			}
		}
	}

	/** Auth, version header, route and body checks, in the order the real APIs apply them. */
	function reject(request: Request, format: Format, path: string, parsed: boolean, body: unknown) {
		const route = `${request.method} ${path}`
		const known =
			route === 'POST /v1/chat/completions' || route === 'POST /v1/messages' || route === 'GET /v1/models'
		if (!known) {
			if (format === 'openai') {
				return openaiError(404, `Invalid URL (${route})`, { type: 'invalid_request_error', code: null })
			}
			return anthropicError(404, 'Not Found')
		}
		if (format === 'openai') {
			const key = bearer(request)
			if (key === undefined) {
				const message =
					"You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY)."
				return openaiError(401, message, { type: 'invalid_request_error', code: null })
			}
			if (!keys.openai.has(key)) return openaiError(401)
			if (route === 'GET /v1/models') return openaiModels()
			if (!parsed || !isRecord(body)) {
				const message =
					"We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON.)"
				return openaiError(400, message, { type: 'invalid_request_error', code: null })
			}
			if (typeof body.model !== 'string') {
				return openaiError(400, 'you must provide a model parameter', {
					type: 'invalid_request_error',
					code: null,
				})
			}
			if (!Array.isArray(body.messages)) {
				return openaiError(400, "Missing required parameter: 'messages'.", {
					type: 'invalid_request_error',
					code: 'missing_required_parameter',
					param: 'messages',
				})
			}
			return undefined
		}
		const key = request.headers.get('x-api-key') ?? bearer(request)
		if (key === undefined) return anthropicError(401, 'x-api-key header is required')
		if (!keys.anthropic.has(key)) return anthropicError(401, 'invalid x-api-key')
		if (!request.headers.has('anthropic-version')) {
			return anthropicError(400, 'anthropic-version: header is required')
		}
		if (route === 'GET /v1/models') return anthropicModels()
		if (!parsed || !isRecord(body)) return anthropicError(400, 'There was an error parsing the body')
		for (const field of ['model', 'messages', 'max_tokens']) {
			if (body[field] === undefined) return anthropicError(400, `${field}: Field required`)
		}
		if (typeof body.model !== 'string') return anthropicError(400, 'model: Input should be a valid string')
		return undefined
	}

	/** Sends `parts` one by one, `gapMs` apart, then closes the stream or cuts the connection. */
	function pace(
		parts: string[],
		gapMs: number,
		end: 'close' | 'cut',
		exchange: Exchange,
		signal: AbortSignal,
	): ReadableStream<Uint8Array> {
		return new ReadableStream<Uint8Array>({
			start(controller) {
				const run = async () => {
					for (const [index, part] of parts.entries()) {
						if (index > 0 && gapMs > 0 && !(await sleep(performance.now() + gapMs, signal))) return
						if (signal.aborted) return
						controller.enqueue(encoder.encode(part))
					}
					if (end === 'close') {
						exchange.finish(false)
						controller.close()
						return
					}
					if (!(await sleep(performance.now() + CUT_GRACE_MS, signal))) return
					exchange.finish(false)
					// No reason given: Bun then resets the connection without logging an error.
					controller.error()
				}
				void run()
			},
			cancel() {
				exchange.finish(!stopping)
			},
		})
	}

	const server = Bun.serve({ port: 0, hostname: '127.0.0.1', idleTimeout: 0, fetch: handle })
	const url = `http://127.0.0.1:${server.port}`

	async function stop(): Promise<void> {
		if (!stopped) {
			stopping = true
			// Close connections first, so a hanging handler released below cannot answer anyone.
			stopped = server.stop(true)
			for (const exchange of [...pending]) exchange.finish(false)
		}
		await stopped
	}

	return {
		url,
		openaiBaseUrl: `${url}/v1`,
		anthropicBaseUrl: url,
		requests,
		script(model, ...behaviours) {
			const queue = scripts.get(model)
			if (queue) queue.push(...behaviours)
			else scripts.set(model, [...behaviours])
		},
		waitForRequests(n) {
			if (received >= n) return Promise.resolve()
			return new Promise((resolve) => {
				waiters.push({ n, resolve })
			})
		},
		reset() {
			requests.length = 0
			received = 0
			scripts.clear()
		},
		stop,
		[Symbol.asyncDispose]: stop,
	}
}

function formatOf(request: Request, path: string): Format {
	if (path === '/v1/chat/completions') return 'openai'
	if (path === '/v1/messages') return 'anthropic'
	return request.headers.has('anthropic-version') || request.headers.has('x-api-key') ? 'anthropic' : 'openai'
}

function bearer(request: Request): string | undefined {
	const header = request.headers.get('authorization')
	if (!header?.startsWith('Bearer ')) return undefined
	return header.slice('Bearer '.length).trim()
}

function answerFor(reply: Reply, requested: string, body: Body): Answer {
	const model = reply.model ?? requested
	const toolCalls = reply.toolCalls ?? []
	const text = reply.text ?? (toolCalls.length > 0 ? null : `Hello from ${model}`)
	return {
		model,
		text,
		toolCalls,
		prompt: reply.usage?.prompt ?? countPromptTokens(body),
		completion: reply.usage?.completion ?? countCompletionTokens(text, toolCalls),
		cached: reply.usage?.cached ?? 0,
		cacheWrite: reply.usage?.cacheWrite,
		omitUsage: reply.omitUsage === true,
	}
}

function completionBody(format: Format, answer: Answer): unknown {
	if (format === 'openai') {
		const toolCalls = answer.toolCalls.map((call) => ({
			id: randomId('call_'),
			type: 'function',
			function: { name: call.name, arguments: call.arguments },
		}))
		return {
			id: randomId('chatcmpl-'),
			object: 'chat.completion',
			created: Math.floor(Date.now() / 1000),
			model: answer.model,
			choices: [
				{
					index: 0,
					message: {
						role: 'assistant',
						content: answer.text,
						refusal: null,
						...(toolCalls.length > 0 && { tool_calls: toolCalls }),
					},
					logprobs: null,
					finish_reason: toolCalls.length > 0 ? 'tool_calls' : 'stop',
				},
			],
			...(!answer.omitUsage && { usage: openaiUsage(answer) }),
		}
	}
	const content: unknown[] = []
	if (answer.text !== null) content.push({ type: 'text', text: answer.text })
	for (const call of answer.toolCalls) {
		content.push({
			type: 'tool_use',
			id: randomId('toolu_'),
			name: call.name,
			input: parseArguments(call.arguments),
		})
	}
	return {
		id: randomId('msg_'),
		type: 'message',
		role: 'assistant',
		model: answer.model,
		content,
		stop_reason: answer.toolCalls.length > 0 ? 'tool_use' : 'end_turn',
		stop_sequence: null,
		usage: {
			input_tokens: answer.prompt,
			output_tokens: answer.completion,
			cache_read_input_tokens: answer.cached,
			cache_creation_input_tokens: answer.cacheWrite ?? 0,
		},
	}
}

function openaiUsage(answer: Answer) {
	return {
		prompt_tokens: answer.prompt,
		completion_tokens: answer.completion,
		total_tokens: answer.prompt + answer.completion,
		prompt_tokens_details: {
			cached_tokens: answer.cached,
			...(answer.cacheWrite !== undefined && { cache_write_tokens: answer.cacheWrite }),
		},
	}
}

/** The SSE transcript, one string per chunk (OpenAI `data:` line, Anthropic event). */
function streamParts(format: Format, answer: Answer, includeUsage: boolean): string[] {
	return format === 'openai' ? openaiStream(answer, includeUsage) : anthropicStream(answer)
}

function openaiStream(answer: Answer, includeUsage: boolean): string[] {
	const withUsage = includeUsage && !answer.omitUsage
	const base = {
		id: randomId('chatcmpl-'),
		object: 'chat.completion.chunk',
		created: Math.floor(Date.now() / 1000),
		model: answer.model,
	}
	const chunk = (delta: unknown, finishReason: string | null = null) =>
		dataLine({
			...base,
			choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
			...(withUsage && { usage: null }),
		})
	const parts = [chunk({ role: 'assistant', content: answer.text === null ? null : '', refusal: null })]
	for (const piece of words(answer.text ?? '')) parts.push(chunk({ content: piece }))
	for (const [index, call] of answer.toolCalls.entries()) {
		const head = {
			index,
			id: randomId('call_'),
			type: 'function',
			function: { name: call.name, arguments: '' },
		}
		parts.push(chunk({ tool_calls: [head] }))
		for (const piece of split(call.arguments)) {
			parts.push(chunk({ tool_calls: [{ index, function: { arguments: piece } }] }))
		}
	}
	parts.push(chunk({}, answer.toolCalls.length > 0 ? 'tool_calls' : 'stop'))
	if (withUsage) parts.push(dataLine({ ...base, choices: [], usage: openaiUsage(answer) }))
	parts.push('data: [DONE]\n\n')
	return parts
}

function anthropicStream(answer: Answer): string[] {
	const parts = [
		event('message_start', {
			type: 'message_start',
			message: {
				id: randomId('msg_'),
				type: 'message',
				role: 'assistant',
				model: answer.model,
				content: [],
				stop_reason: null,
				stop_sequence: null,
				usage: {
					input_tokens: answer.prompt,
					output_tokens: 1,
					cache_read_input_tokens: answer.cached,
					cache_creation_input_tokens: answer.cacheWrite ?? 0,
				},
			},
		}),
	]
	const ping = event('ping', { type: 'ping' })
	let index = 0
	if (answer.text !== null) {
		parts.push(
			event('content_block_start', {
				type: 'content_block_start',
				index,
				content_block: { type: 'text', text: '' },
			}),
		)
		parts.push(ping)
		for (const text of words(answer.text)) {
			parts.push(
				event('content_block_delta', {
					type: 'content_block_delta',
					index,
					delta: { type: 'text_delta', text },
				}),
			)
		}
		parts.push(event('content_block_stop', { type: 'content_block_stop', index }))
		index++
	} else {
		parts.push(ping)
	}
	for (const call of answer.toolCalls) {
		const block = { type: 'tool_use', id: randomId('toolu_'), name: call.name, input: {} }
		parts.push(event('content_block_start', { type: 'content_block_start', index, content_block: block }))
		for (const partial_json of split(call.arguments)) {
			const delta = { type: 'input_json_delta', partial_json }
			parts.push(event('content_block_delta', { type: 'content_block_delta', index, delta }))
		}
		parts.push(event('content_block_stop', { type: 'content_block_stop', index }))
		index++
	}
	const stop_reason = answer.toolCalls.length > 0 ? 'tool_use' : 'end_turn'
	parts.push(
		event('message_delta', {
			type: 'message_delta',
			delta: { stop_reason, stop_sequence: null },
			usage: { output_tokens: answer.completion },
		}),
	)
	parts.push(event('message_stop', { type: 'message_stop' }))
	return parts
}

function errorResponse(format: Format, status: number, message?: string, retryAfter?: number): Response {
	const response = format === 'openai' ? openaiError(status, message) : anthropicError(status, message)
	if (retryAfter !== undefined) response.headers.set('retry-after', String(retryAfter))
	return response
}

function openaiError(
	status: number,
	message?: string,
	shape?: { type: string; code: string | null; param?: string },
): Response {
	const fallback =
		status >= 500
			? {
					type: 'server_error',
					code: null,
					message: 'The server had an error while processing your request. Sorry about that!',
				}
			: { type: 'invalid_request_error', code: null, message: `Request failed with status ${status}.` }
	const known = OPENAI_ERRORS[status] ?? fallback
	const error = {
		message: message ?? known.message,
		type: shape?.type ?? known.type,
		param: shape?.param ?? null,
		code: shape ? shape.code : known.code,
	}
	return Response.json({ error }, { status, headers: idHeader('openai') })
}

function anthropicError(status: number, message?: string): Response {
	const type = ANTHROPIC_ERROR_TYPES[status] ?? (status >= 500 ? 'api_error' : 'invalid_request_error')
	const error = {
		type,
		message: message ?? (type === 'overloaded_error' ? 'Overloaded' : type.replaceAll('_', ' ')),
	}
	return Response.json({ type: 'error', error }, { status, headers: idHeader('anthropic') })
}

function openaiModels(): Response {
	const data = OPENAI_MODELS.map((id) => ({
		id,
		object: 'model',
		created: 1_715_367_049,
		owned_by: 'system',
	}))
	return Response.json({ object: 'list', data }, { headers: idHeader('openai') })
}

function anthropicModels(): Response {
	const data = ANTHROPIC_MODELS.map((id) => ({
		type: 'model',
		id,
		display_name: id,
		created_at: '2025-10-01T00:00:00Z',
	}))
	const page = { data, has_more: false, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null }
	return Response.json(page, { headers: idHeader('anthropic') })
}

function idHeader(format: Format): Record<string, string> {
	return format === 'openai' ? { 'x-request-id': randomId('req_') } : { 'request-id': randomId('req_') }
}

function sseHeaders(format: Format): Record<string, string> {
	return { ...SSE_HEADERS, ...idHeader(format) }
}

function dataLine(payload: unknown): string {
	return `data: ${JSON.stringify(payload)}\n\n`
}

function event(type: string, payload: unknown): string {
	return `event: ${type}\ndata: ${JSON.stringify(payload)}\n\n`
}

/** Text as several deltas, whitespace kept: "Hello from x" → ["Hello", " from", " x"]. */
function words(text: string): string[] {
	return text.match(/\s*\S+|\s+$/g) ?? []
}

/** Tool arguments in up to three pieces, at least two when there are two characters. */
function split(text: string): string[] {
	if (text.length < 2) return text === '' ? [] : [text]
	const size = Math.ceil(text.length / Math.min(3, text.length))
	const pieces: string[] = []
	for (let at = 0; at < text.length; at += size) pieces.push(text.slice(at, at + size))
	return pieces
}

function parseArguments(text: string): unknown {
	try {
		return JSON.parse(text)
	} catch {
		return {}
	}
}

function randomId(prefix: string): string {
	return prefix + crypto.randomUUID().replaceAll('-', '').slice(0, 24)
}

function isRecord(value: unknown): value is Record<string, unknown> {
	return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** Resolves true once `deadline` (a `performance.now()` time) has passed, never earlier; false on abort. */
function sleep(deadline: number, signal: AbortSignal): Promise<boolean> {
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

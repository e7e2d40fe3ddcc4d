/**
 * A strict fake of the LLM upstreams for the test suite and the benchmark: one Bun server speaking OpenAI
 * Chat Completions, Responses and Embeddings, Anthropic Messages and token counting, and the OpenAI-compatible
 * providers, JSON and SSE.
 * Every request first meets the rules of docs/providers.md (the providers' own refusals, with their
 * status, type and message); only a request the real API would take reaches the scripted behaviour.
 * Shapes follow the `openai` 7.x and `@anthropic-ai/sdk` 1.x types.
 */
import { checkCountTokens, checkMessages } from './anthropic'
import { PromptCache } from './cache'
import { checkCompatible } from './compatible'
import { checkEmbeddings } from './embeddings'
import type { Provider } from './models'
import { checkChat } from './openai'
import { checkResponses } from './responses'
import { formatOf, reject } from './routes'
import type {
	Behaviour,
	Context,
	FakeUpstream,
	FakeUpstreamOptions,
	Format,
	Plan,
	RecordedRequest,
	ResponseStore,
	StreamErrorBehaviour,
} from './types'
import { type Body, JSON_HEADERS, requestIdHeader, sleep, sseHeaders } from './wire'

export { base64Of, embed } from './embeddings'
export { EMBEDDING_MODELS, FAKE_MODELS, type Provider } from './models'
export { ANTHROPIC_VERSIONS } from './routes'
export { countCompletionTokens, countPromptTokens } from './tokens'
export type {
	Behaviour,
	FakeUpstream,
	FakeUpstreamOptions,
	RecordedRequest,
	ReplyBehaviour,
	ScriptedUsage,
	StopReason,
	StreamErrorBehaviour,
	ToolCall,
} from './types'

/** Pause before cutting a connection: an abortive close makes the client drop bytes it has not read yet. */
const CUT_GRACE_MS = 25
const encoder = new TextEncoder()

const CHECKS: Record<Format, (body: Body, ctx: Context) => Response | Plan> = {
	openai: checkChat,
	'openai-responses': checkResponses,
	'openai-embeddings': checkEmbeddings,
	anthropic: checkMessages,
	'anthropic-count-tokens': checkCountTokens,
	groq: (body, ctx) => checkCompatible('groq', body, ctx),
	mistral: (body, ctx) => checkCompatible('mistral', body, ctx),
	deepseek: (body, ctx) => checkCompatible('deepseek', body, ctx),
	together: (body, ctx) => checkCompatible('together', body, ctx),
}

const DEFAULT_KEYS: Record<Provider, string[]> = {
	openai: ['sk-openai-test'],
	anthropic: ['sk-ant-test'],
	groq: ['sk-groq-test'],
	mistral: ['sk-mistral-test'],
	deepseek: ['sk-deepseek-test'],
	together: ['sk-together-test'],
}

export async function startFakeUpstream(options: FakeUpstreamOptions = {}): Promise<FakeUpstream> {
	const keys = Object.fromEntries(
		Object.entries(DEFAULT_KEYS).map(([provider, fallback]) => [
			provider,
			new Set(options.keys?.[provider as Provider] ?? fallback),
		]),
	) as Record<Provider, Set<string>>
	const defaultBehaviour: Behaviour = options.defaultBehaviour ?? { kind: 'reply' }
	const keepRequests = options.record ?? true
	const now = options.now ?? (() => new Date())
	const gate = { keys, now }
	const cache = new PromptCache()
	const stored: ResponseStore = new Map()
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

	function nextBehaviour(plan: Plan): Behaviour {
		if (plan.scriptKey !== undefined) {
			const wildcard = `${plan.scriptKey.split(':')[0]}:*`
			return scripts.get(plan.scriptKey)?.shift() ?? scripts.get(wildcard)?.shift() ?? defaultBehaviour
		}
		return scripts.get(plan.model)?.shift() ?? scripts.get('*')?.shift() ?? defaultBehaviour
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
		const headers = Object.fromEntries(request.headers)
		record({ format, method: request.method, path, headers, body, aborted: exchange.aborted })
		const early = reject(gate, request, format, path, parsed, body)
		if (early) {
			exchange.finish(false)
			return early
		}
		// Every rule comes before any script: a test never gets a 200 the real API would refuse.
		const plan = CHECKS[format](body as Body, { now: now(), headers: request.headers, cache, stored })
		if (plan instanceof Response) {
			exchange.finish(false)
			return plan
		}
		const behaviour = nextBehaviour(plan)
		const anthropic = format === 'anthropic' || format === 'anthropic-count-tokens'
		const stream = plan.stream
		const jsonHeaders = { ...JSON_HEADERS, ...requestIdHeader(anthropic) }

		switch (behaviour.kind) {
			case 'reply': {
				exchange.finish(false)
				const answer = plan.answer(behaviour)
				if (!stream) return Response.json(answer.body(), { headers: requestIdHeader(anthropic) })
				return new Response(answer.parts().join(''), { headers: sseHeaders(anthropic) })
			}
			case 'error': {
				exchange.finish(false)
				const response = plan.error(behaviour.status, behaviour.message)
				if (behaviour.retryAfter !== undefined) {
					response.headers.set('retry-after', String(behaviour.retryAfter))
				}
				return response
			}
			case 'bad-json':
				exchange.finish(false)
				if (stream) return new Response('data: this is not json\n\n', { headers: sseHeaders(anthropic) })
				return new Response('<html>this is not json', { headers: jsonHeaders })
			case 'hang': {
				const signal = exchange.watch(request)
				await new Promise<void>((resolve) =>
					signal.addEventListener('abort', () => resolve(), { once: true }),
				)
				return new Response(null, { status: 499 })
			}
			case 'slow': {
				const signal = exchange.watch(request)
				if (!(await sleep(startedAt + behaviour.firstByteMs, signal))) {
					return new Response(null, { status: 499 })
				}
				const answer = plan.answer({ kind: 'reply' })
				if (!stream) {
					const json = JSON.stringify(answer.body())
					const halves = [json.slice(0, json.length >> 1), json.slice(json.length >> 1)]
					return new Response(pace(halves, behaviour.chunkMs, 'close', exchange, signal), {
						headers: jsonHeaders,
					})
				}
				return new Response(pace(answer.parts(), behaviour.chunkMs, 'close', exchange, signal), {
					headers: sseHeaders(anthropic),
				})
			}
			case 'fail-mid-stream':
			case 'stream-error': {
				const failure: StreamErrorBehaviour =
					behaviour.kind === 'stream-error'
						? behaviour
						: { kind: 'stream-error', afterChunks: behaviour.afterChunks }
				if (!stream && behaviour.kind === 'stream-error') {
					exchange.finish(false)
					const status = behaviour.status ?? (anthropic ? 529 : 500)
					return plan.error(status, behaviour.message, behaviour.errorType)
				}
				const signal = exchange.watch(request)
				const answer = plan.answer({ kind: 'reply' })
				if (!stream) {
					const json = JSON.stringify(answer.body())
					return new Response(pace([json.slice(0, json.length >> 1)], 0, 'cut', exchange, signal), {
						headers: jsonHeaders,
					})
				}
				const parts = answer.parts()
				// Never the whole stream: the point is that it does not finish.
				const sent = parts.slice(0, Math.max(0, Math.min(failure.afterChunks, parts.length - 1)))
				if (behaviour.kind === 'fail-mid-stream' && !anthropic) {
					return new Response(pace(sent, 0, 'cut', exchange, signal), { headers: sseHeaders(anthropic) })
				}
				exchange.finish(false)
				const tail = answer.streamError(failure, sent.length)
				return new Response([...sent, ...tail].join(''), { headers: sseHeaders(anthropic) })
			}
		}
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
		baseUrls: {
			groq: `${url}/groq/openai/v1`,
			mistral: `${url}/mistral/v1`,
			deepseek: `${url}/deepseek`,
			together: `${url}/together/v1`,
		},
		requests,
		script(model, ...behaviours) {
			const queue = scripts.get(model)
			if (queue) queue.push(...behaviours)
			else scripts.set(model, [...behaviours])
		},
		waitForRequests(n, timeoutMs = 2000) {
			if (received >= n) return Promise.resolve()
			return new Promise((resolve, reject) => {
				const timer = setTimeout(() => {
					waiters = waiters.filter((waiter) => waiter.resolve !== done)
					reject(new Error(`the fake upstream received ${received} of ${n} requests within ${timeoutMs} ms`))
				}, timeoutMs)
				const done = () => {
					clearTimeout(timer)
					resolve()
				}
				waiters.push({ n, resolve: done })
			})
		},
		reset() {
			requests.length = 0
			received = 0
			scripts.clear()
			cache.clear()
			stored.clear()
		},
		stop,
		[Symbol.asyncDispose]: stop,
	}
}

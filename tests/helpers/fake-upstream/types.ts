import type { PromptCache } from './cache'
import type { Provider } from './models'

export interface FakeUpstreamOptions {
	/**
	 * Keys accepted per provider; a request with any other key gets the provider's real 401 shape.
	 * @default { openai: ['sk-openai-test'], anthropic: ['sk-ant-test'], groq: ['sk-groq-test'],
	 *   mistral: ['sk-mistral-test'], deepseek: ['sk-deepseek-test'], together: ['sk-together-test'] }
	 */
	keys?: Partial<Record<Provider, string[]>>
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
	/**
	 * The clock behind model retirement (OA-9, AN-17) and Anthropic cache lifetimes.
	 * @default () => new Date()
	 */
	now?: () => Date
}

export interface RecordedRequest {
	/**
	 * The API the request was addressed to: `openai` is Chat Completions (and OpenAI's `/v1/models`),
	 * `openai-responses` the Responses API, `openai-embeddings` OpenAI's `/v1/embeddings`, `anthropic` the
	 * Messages API (and Anthropic's `/v1/models`), `anthropic-count-tokens` its `/v1/messages/count_tokens`;
	 * the others are the OpenAI-compatible providers under their path prefix.
	 */
	format:
		| 'openai'
		| 'openai-responses'
		| 'openai-embeddings'
		| 'anthropic'
		| 'anthropic-count-tokens'
		| 'groq'
		| 'mistral'
		| 'deepseek'
		| 'together'
	method: string
	path: string
	/**
	 * Every header as received, names lower-cased; a header sent several times is one value joined by ", "
	 * (`anthropic-beta: a,b` and `anthropic-beta: c` read `"a,b, c"`: split on commas and trim).
	 */
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
	/** Reported as given, reasoning and thinking included. */
	completion?: number
	/** OpenAI `prompt_tokens_details.cached_tokens` / Anthropic `cache_read_input_tokens`. */
	cached?: number
	/** Anthropic `cache_creation_input_tokens` (all 5-minute) / OpenAI `prompt_tokens_details.cache_write_tokens`. */
	cacheWrite?: number
	/** OpenAI `completion_tokens_details.reasoning_tokens`. */
	reasoning?: number
}

export interface ToolCall {
	name: string
	arguments: string
}

export type StopReason = 'refusal' | 'pause_turn' | 'model_context_window_exceeded' | 'max_tokens'

export interface ReplyBehaviour {
	kind: 'reply'
	text?: string
	toolCalls?: ToolCall[]
	usage?: ScriptedUsage
	/** OpenAI only: no usage anywhere, even with `stream_options.include_usage`. Anthropic always reports it. */
	omitUsage?: boolean
	/** The model the upstream reports; defaults to the requested one. */
	model?: string
	/**
	 * Why the answer stopped. Anthropic: the `stop_reason` (`refusal` with `stop_details`). OpenAI:
	 * `max_tokens` is `finish_reason: 'length'` / a Responses `incomplete` answer; the others change nothing.
	 * @default end_turn / tool_use
	 */
	stopReason?: StopReason
	/** Anthropic: answer with a `redacted_thinking` block instead of a `thinking` block when thinking is on. */
	redactedThinking?: boolean
	/** The thinking or reasoning text where the answer shows one (legacy Claude, `display: summarized`, …). */
	thinking?: string
}

export interface StreamErrorBehaviour {
	/**
	 * `afterChunks` chunks (OpenAI `data:` lines, Anthropic and Responses events), then the provider's
	 * in-stream error and the end of the stream: OpenAI `data: {"error": …}` without `[DONE]`, Responses
	 * `error` and `response.failed`, Anthropic an `error` event. Non-stream: the same error as an HTTP status.
	 */
	kind: 'stream-error'
	afterChunks: number
	/** @default 500 (OpenAI and compatible), 529 (Anthropic) */
	status?: number
	/** @default the type of `status`: `server_error`, `overloaded_error`, … */
	errorType?: string
	message?: string
}

export type Behaviour =
	| ReplyBehaviour
	| { kind: 'error'; status: number; message?: string; retryAfter?: number }
	/** Accept the request and never send headers. */
	| { kind: 'hang' }
	/**
	 * Stream: headers and first chunk after firstByteMs (from arrival), each next chunk chunkMs later.
	 * Non-stream: headers and the first half of the body after firstByteMs, the rest chunkMs later.
	 */
	| { kind: 'slow'; firstByteMs: number; chunkMs: number }
	/**
	 * OpenAI formats: `afterChunks` SSE chunks, then the connection is cut. Anthropic: `afterChunks` events
	 * (`afterChunks: 1` is message_start alone), then an `overloaded_error` event. Never the whole stream.
	 * Non-stream: half a JSON body, then the connection is cut.
	 */
	| { kind: 'fail-mid-stream'; afterChunks: number }
	| StreamErrorBehaviour
	/** 200 with a body that is not JSON (an SSE `data:` line that is not JSON when streaming). */
	| { kind: 'bad-json' }

export interface FakeUpstream extends AsyncDisposable {
	/** http://127.0.0.1:<port> */
	url: string
	/** url + '/v1' (Chat Completions, the Responses API and Embeddings) */
	openaiBaseUrl: string
	/** url (the Anthropic SDK appends /v1/messages) */
	anthropicBaseUrl: string
	/** The OpenAI-compatible providers' base URLs, each as the provider documents its own. */
	baseUrls: { groq: string; mistral: string; deepseek: string; together: string }
	requests: RecordedRequest[]
	/** Script the next responses for a model id (a queue; then the default reply). `'*'` matches any model. */
	script(model: string, ...behaviours: Behaviour[]): void
	/**
	 * Resolves when `n` requests have been received since the start or the last `reset()`; rejects, naming
	 * how many came, when they have not within `timeoutMs`.
	 * @default timeoutMs 2000
	 */
	waitForRequests(n: number, timeoutMs?: number): Promise<void>
	/** Forget recorded requests, scripts and prompt caches. */
	reset(): void
	stop(): Promise<void>
}

export type Format = RecordedRequest['format']

/** What a format module needs besides the body. */
export interface Context {
	now: Date
	headers: Headers
	cache: PromptCache
	/** Responses the fake keeps for `previous_response_id` (those not created with `store: false`). */
	stored: ResponseStore
}

/** A stored Response: what a later request that continues it may refer to. */
export interface StoredResponse {
	/** `call_id`s of every function call in the chain up to and including this response. */
	callIds: Set<string>
	/** Ids of the output items of every response of the chain, reasoning items included. */
	itemIds: Set<string>
}

export type ResponseStore = Map<string, StoredResponse>

/** A request that passed every rule, ready to be answered. */
export interface Plan {
	/** The requested model: what scripts are keyed on. */
	model: string
	/**
	 * Where a request that is not a generation takes its scripts from instead of `model` and `*`:
	 * token counting reads only `count_tokens:<model>`, then `count_tokens:*`.
	 */
	scriptKey?: string
	stream: boolean
	/** The answer to a reply (text, tool calls, usage); builds usage and updates the prompt cache. */
	answer(reply: ReplyBehaviour): Rendered
	/** An HTTP error in this format's shape. */
	error(status: number, message?: string, type?: string): Response
}

export interface Rendered {
	body(): unknown
	/** The SSE transcript, one string per chunk (a `data:` line or an event). */
	parts(): string[]
	/** The in-stream error of `stream-error` in this format, sent after `sent` parts of the transcript. */
	streamError(behaviour: StreamErrorBehaviour, sent: number): string[]
}

import type {
	ChatCompletion,
	ChatCompletionChunk,
	ChatCompletionCreateParams,
} from 'openai/resources/chat/completions'
import type { CatalogModel, CatalogProvider } from './catalog'

/** The canonical formats are OpenAI's Chat Completions types. */
export type ChatRequest = ChatCompletionCreateParams
export type ChatResponse = ChatCompletion
export type ChatChunk = ChatCompletionChunk

/** Token usage as the upstream reported it. promptTokens includes cached reads and cache writes. */
export interface TokenUsage {
	promptTokens: number
	/** Reasoning included. */
	completionTokens: number
	cachedTokens: number
	/** Every cache write, the 1-hour ones included. */
	cacheWriteTokens: number
	/** Anthropic's 1-hour cache writes, priced at their own rate. */
	cacheWrite1hTokens: number
	/** Of completionTokens, the ones spent reasoning, where the upstream says. */
	reasoningTokens: number
}

/** One concrete call: which model, at which provider, with which key. */
export interface UpstreamTarget {
	provider: CatalogProvider
	model: CatalogModel
	apiKey: string
}

export interface CallOptions {
	/** Aborts the upstream call: the client went away, or a time limit ran out. */
	signal: AbortSignal
	/** The answer's headers came with a 2xx status: the upstream is answering, and billing. */
	began(): void
}

export interface ChatResult {
	response: ChatResponse
	usage: TokenUsage | null
	/** The upstream's own JSON text when `response` is exactly it, so it is relayed without re-serialising. */
	raw?: string
}

/** A stream of chunks, and the usage known so far should it break off. */
export interface ChatStream extends AsyncIterable<ChatChunk> {
	/** What the upstream reported before the end (Anthropic reports its input at the start), or null. */
	usageSoFar(): TokenUsage | null
}

/** A request shaped for one model by its adapter, ready to send. */
export interface PreparedCall {
	/** The adapter's own request: which API of the provider, and the body it takes. */
	readonly upstream: unknown
	/** Request fields the model has no equivalent for, left out (reported in `x-switchyard-dropped`). */
	readonly dropped: readonly string[]
	/** Values changed to ones the model takes (reported in `x-switchyard-adjusted`). */
	readonly adjusted: readonly string[]
}

/**
 * One module per provider kind implements this; the pipeline never branches on a provider's name.
 * Failures are thrown as `UpstreamError` (src/providers/errors.ts).
 */
export interface ProviderAdapter {
	/**
	 * Shapes the request for the model, from what the catalog says it accepts. Throws a `GatewayError` when
	 * the model cannot take the request at all; the pipeline then skips it as incapable. No I/O.
	 */
	prepare(request: ChatRequest, model: CatalogModel, provider: CatalogProvider): PreparedCall
	chat(call: PreparedCall, target: UpstreamTarget, options: CallOptions): Promise<ChatResult>
	/**
	 * Resolves once the upstream accepted the request; the chunks then arrive as the upstream produces
	 * them. The last chunk carries `usage` (with empty `choices`) whenever the upstream reported it.
	 */
	stream(call: PreparedCall, target: UpstreamTarget, options: CallOptions): Promise<ChatStream>
}

/**
 * One step of a relayed stream: the canonical chunks it stands for (usage, content, the model), and, when
 * the client speaks the upstream's own API, the upstream's event as it came, relayed untouched.
 */
export interface StreamPiece {
	readonly chunks: readonly ChatChunk[]
	readonly native: string | null
}

/** A body in a provider's own API, as a front door's caller sent it, with the headers it forwards. */
export interface NativeRequest {
	body: Record<string, unknown>
	headers: Record<string, string>
}

export interface NativeResult {
	/** The upstream's answer text, relayed as it is. */
	raw: string
	/** The answer parsed, for what the door keeps of it (stored responses). */
	answer: Record<string, unknown>
	usage: TokenUsage | null
	/** The model the upstream says answered. */
	model: string
}

export interface NativeStream extends AsyncIterable<StreamPiece> {
	usageSoFar(): TokenUsage | null
	/** The whole answer where the stream ends with one (the Responses API's `response.completed`). */
	final(): Record<string, unknown> | null
}

/**
 * A provider API that a front door speaks too (Anthropic Messages, OpenAI Responses): the caller's body
 * goes to it untouched but for the model, and the answer comes back as the upstream wrote it. Usage is
 * read on the way through, with the same translation the chat door uses, so both are priced alike.
 */
export interface NativeApi {
	call(request: NativeRequest, target: UpstreamTarget, options: CallOptions): Promise<NativeResult>
	stream(request: NativeRequest, target: UpstreamTarget, options: CallOptions): Promise<NativeStream>
}

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

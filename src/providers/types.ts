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
	completionTokens: number
	cachedTokens: number
	cacheWriteTokens: number
}

/** One concrete call: which model, at which provider, with which key. */
export interface UpstreamTarget {
	provider: CatalogProvider
	model: CatalogModel
	apiKey: string
}

export interface CallOptions {
	/** Aborts the upstream call: the client went away, or the time to first byte ran out. */
	signal: AbortSignal
}

export interface ChatResult {
	response: ChatResponse
	usage: TokenUsage | null
	/** The upstream's own JSON text when `response` is exactly it, so it is relayed without re-serialising. */
	raw?: string
}

/**
 * One module per provider kind implements this; the pipeline never branches on a provider's name.
 * Failures are thrown as `UpstreamError` (src/providers/errors.ts).
 */
export interface ProviderAdapter {
	chat(request: ChatRequest, target: UpstreamTarget, call: CallOptions): Promise<ChatResult>
	/**
	 * Resolves once the upstream accepted the request; the chunks then arrive as the upstream produces
	 * them. The last chunk carries `usage` (with empty `choices`) whenever the upstream reported it.
	 */
	stream(request: ChatRequest, target: UpstreamTarget, call: CallOptions): Promise<AsyncIterable<ChatChunk>>
}

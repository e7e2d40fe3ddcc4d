import { createAnthropicAdapter } from './anthropic'
import { createMessagesApi, createTokenCounter } from './anthropic/native'
import type { ProviderKind } from './catalog'
import { createOpenAIAdapter } from './openai'
import { createEmbeddingsApi, createResponsesApi } from './openai-native'
import type { NativeApi, ProviderAdapter } from './types'
import type { AnswerLimits } from './upstream-http'

export type ProviderAdapters = Readonly<Record<ProviderKind, ProviderAdapter>>

/**
 * One adapter per provider kind. An OpenAI-compatible server (Groq, Mistral, DeepSeek, Together, a local
 * Ollama or vLLM) is the OpenAI adapter; how its API differs is the provider's `chatApi` in the catalog.
 */
export function createProviderAdapters(limits: AnswerLimits): ProviderAdapters {
	const openai = createOpenAIAdapter(limits)
	return { openai, anthropic: createAnthropicAdapter(limits), 'openai-compatible': openai }
}

/** The provider APIs a front door speaks natively, by the provider kind that serves them. */
export interface NativeApis {
	/** Anthropic Messages, for `/v1/messages`. */
	readonly anthropic: NativeApi
	/** OpenAI Responses, for `/v1/responses`. */
	readonly openai: NativeApi
	/** OpenAI Embeddings, for `/v1/embeddings`, at OpenAI and OpenAI-compatible providers. */
	readonly embeddings: NativeApi
	/** Anthropic's free token count, for `/v1/messages/count_tokens`. */
	readonly countTokens: ReturnType<typeof createTokenCounter>
}

export function createNativeApis(limits: AnswerLimits): NativeApis {
	return {
		anthropic: createMessagesApi(limits),
		openai: createResponsesApi(limits),
		embeddings: createEmbeddingsApi(limits),
		countTokens: createTokenCounter(limits),
	}
}

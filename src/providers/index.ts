import { createAnthropicAdapter } from './anthropic'
import type { ProviderKind } from './catalog'
import { createOpenAIAdapter } from './openai'
import type { ProviderAdapter } from './types'

export type ProviderAdapters = Readonly<Record<ProviderKind, ProviderAdapter>>

/**
 * One adapter per provider kind. An OpenAI-compatible server (Groq, Mistral, DeepSeek, Together, a local
 * Ollama or vLLM) is the OpenAI adapter with the provider's base URL and `max_tokens` left as it is.
 */
export function createProviderAdapters(): ProviderAdapters {
	return {
		openai: createOpenAIAdapter({ renameMaxTokens: true }),
		anthropic: createAnthropicAdapter(),
		'openai-compatible': createOpenAIAdapter({ renameMaxTokens: false }),
	}
}

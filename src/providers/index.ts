import { createAnthropicAdapter } from './anthropic'
import type { ProviderKind } from './catalog'
import { createOpenAIAdapter } from './openai'
import type { ProviderAdapter } from './types'
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

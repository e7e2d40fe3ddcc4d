import { createAnthropicAdapter } from './anthropic'
import type { ProviderKind } from './catalog'
import { createOpenAIAdapter } from './openai'
import { createOpenAICompatibleAdapter } from './openai-compatible'
import type { ProviderAdapter } from './types'

export type ProviderAdapters = Readonly<Record<ProviderKind, ProviderAdapter>>

/** One adapter per provider kind; each keeps its own SDK clients, built once per (base URL, key). */
export function createProviderAdapters(): ProviderAdapters {
	return {
		openai: createOpenAIAdapter({ renameMaxTokens: true }),
		anthropic: createAnthropicAdapter(),
		'openai-compatible': createOpenAICompatibleAdapter(),
	}
}

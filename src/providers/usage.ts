// Token usage between the canonical OpenAI `usage` object and what the gateway prices.
import type { CompletionUsage } from 'openai/resources/completions'
import type { TokenUsage } from './types'

/** OpenAI-compatible servers that report cache hits in their own field (DeepSeek). */
interface CompatibleUsage extends CompletionUsage {
	prompt_cache_hit_tokens?: number
}

/** Chat Completions usage as the gateway prices it. */
export function toTokenUsage(usage: CompatibleUsage | null | undefined): TokenUsage | null {
	if (!usage) return null
	return {
		promptTokens: usage.prompt_tokens ?? 0,
		completionTokens: usage.completion_tokens ?? 0,
		cachedTokens: usage.prompt_tokens_details?.cached_tokens ?? usage.prompt_cache_hit_tokens ?? 0,
		cacheWriteTokens: usage.prompt_tokens_details?.cache_write_tokens ?? 0,
		cacheWrite1hTokens: 0,
		reasoningTokens: usage.completion_tokens_details?.reasoning_tokens ?? 0,
	}
}

/** The `usage` object a translated answer carries, details included. */
export function toOpenAIUsage(usage: TokenUsage): CompletionUsage {
	return {
		prompt_tokens: usage.promptTokens,
		completion_tokens: usage.completionTokens,
		total_tokens: usage.promptTokens + usage.completionTokens,
		prompt_tokens_details: { cached_tokens: usage.cachedTokens, cache_write_tokens: usage.cacheWriteTokens },
		completion_tokens_details: { reasoning_tokens: usage.reasoningTokens },
	}
}

import type { CatalogModel } from './catalog'
import type { TokenUsage } from './types'

type PriceSheet = Pick<
	CatalogModel,
	'inputPerMTok' | 'outputPerMTok' | 'cachedInputPerMTok' | 'cacheWritePerMTok'
>

const PER_TOKEN = 1 / 1_000_000

/**
 * Cost in USD of the tokens the upstream reported, at this price sheet. Cached reads and cache writes
 * are priced at their own rates (falling back to the input rate where the model has none), never all at
 * the full input rate.
 */
export function costUsd(prices: PriceSheet, usage: TokenUsage): number {
	const cached = Math.min(usage.cachedTokens, usage.promptTokens)
	const written = Math.min(usage.cacheWriteTokens, usage.promptTokens - cached)
	const uncached = usage.promptTokens - cached - written
	return (
		(uncached * prices.inputPerMTok +
			cached * (prices.cachedInputPerMTok ?? prices.inputPerMTok) +
			written * (prices.cacheWritePerMTok ?? prices.inputPerMTok) +
			usage.completionTokens * prices.outputPerMTok) *
		PER_TOKEN
	)
}

/** Several usages as one, field by field. */
export function sumUsage(usages: readonly TokenUsage[]): TokenUsage {
	const total: TokenUsage = { promptTokens: 0, completionTokens: 0, cachedTokens: 0, cacheWriteTokens: 0 }
	for (const usage of usages) {
		total.promptTokens += usage.promptTokens
		total.completionTokens += usage.completionTokens
		total.cachedTokens += usage.cachedTokens
		total.cacheWriteTokens += usage.cacheWriteTokens
	}
	return total
}

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

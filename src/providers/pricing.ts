import type { CatalogModel } from './catalog'
import type { TokenUsage } from './types'

type PriceSheet = Pick<
	CatalogModel,
	'inputPerMTok' | 'outputPerMTok' | 'cachedInputPerMTok' | 'cacheWritePerMTok' | 'cacheWrite1hPerMTok'
>

const PER_TOKEN = 1 / 1_000_000

/**
 * Cost in USD of the tokens the upstream reported, at this price sheet. Cached reads and cache writes
 * (5-minute or OpenAI's, and Anthropic's 1-hour) are priced at their own rates, falling back to the input
 * rate where the model has none (a 1-hour write to the write rate), never all at the full input rate.
 */
export function costUsd(prices: PriceSheet, usage: TokenUsage): number {
	const cached = Math.min(usage.cachedTokens, usage.promptTokens)
	const written = Math.min(usage.cacheWriteTokens, usage.promptTokens - cached)
	const writtenFor1h = Math.min(usage.cacheWrite1hTokens, written)
	const uncached = usage.promptTokens - cached - written
	const writeRate = prices.cacheWritePerMTok ?? prices.inputPerMTok
	return (
		(uncached * prices.inputPerMTok +
			cached * (prices.cachedInputPerMTok ?? prices.inputPerMTok) +
			(written - writtenFor1h) * writeRate +
			writtenFor1h * (prices.cacheWrite1hPerMTok ?? writeRate) +
			usage.completionTokens * prices.outputPerMTok) *
		PER_TOKEN
	)
}

export const NO_USAGE: Readonly<TokenUsage> = Object.freeze({
	promptTokens: 0,
	completionTokens: 0,
	cachedTokens: 0,
	cacheWriteTokens: 0,
	cacheWrite1hTokens: 0,
	reasoningTokens: 0,
})

/** Several usages as one, field by field. */
export function sumUsage(usages: readonly TokenUsage[]): TokenUsage {
	// The usual case, one answer and no failed attempt before it: nothing to add.
	if (usages.length === 1 && usages[0]) return usages[0]
	const total = { ...NO_USAGE }
	for (const usage of usages) {
		for (const field of Object.keys(total) as (keyof TokenUsage)[]) total[field] += usage[field]
	}
	return total
}

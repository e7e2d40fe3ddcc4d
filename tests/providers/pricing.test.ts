import { describe, expect, it } from 'bun:test'
import { costUsd, NO_USAGE, sumUsage } from '../../src/providers/pricing'

const MILLION = 1_000_000
const prices = {
	inputPerMTok: 2,
	outputPerMTok: 8,
	cachedInputPerMTok: 0.5,
	cacheWritePerMTok: 2.5,
	cacheWrite1hPerMTok: 4,
}

describe('costUsd', () => {
	it.each([
		['uncached input', { promptTokens: MILLION }, 2],
		['cached reads', { promptTokens: MILLION, cachedTokens: MILLION }, 0.5],
		['5-minute (or OpenAI) cache writes', { promptTokens: MILLION, cacheWriteTokens: MILLION }, 2.5],
		[
			'1-hour cache writes',
			{ promptTokens: MILLION, cacheWriteTokens: MILLION, cacheWrite1hTokens: MILLION },
			4,
		],
		['output, reasoning included', { completionTokens: MILLION, reasoningTokens: 900_000 }, 8],
	])('prices %s at their own rate', (_, usage, expected) => {
		expect(costUsd(prices, { ...NO_USAGE, ...usage })).toBeCloseTo(expected, 12)
	})

	it('adds every kind of token at its rate', () => {
		const usage = {
			...NO_USAGE,
			promptTokens: 400,
			cachedTokens: 100,
			cacheWriteTokens: 200,
			cacheWrite1hTokens: 50,
			completionTokens: 100,
		}
		// 100 uncached × $2 + 100 cached × $0.50 + 150 5-minute writes × $2.50 + 50 1-hour writes × $4
		// + 100 output × $8 = 1,625 per million tokens.
		expect(costUsd(prices, usage)).toBeCloseTo(0.001625, 15)
	})

	it('prices writes at the input rate, and 1-hour writes at the write rate, where the model has none', () => {
		const usage = {
			...NO_USAGE,
			promptTokens: MILLION,
			cacheWriteTokens: MILLION,
			cacheWrite1hTokens: MILLION,
		}
		expect(costUsd({ inputPerMTok: 3, outputPerMTok: 15, cacheWritePerMTok: 3.75 }, usage)).toBeCloseTo(
			3.75,
			12,
		)
		expect(costUsd({ inputPerMTok: 3, outputPerMTok: 15 }, usage)).toBeCloseTo(3, 12)
	})
})

describe('sumUsage', () => {
	it('adds usages field by field', () => {
		const one = { ...NO_USAGE, promptTokens: 10, completionTokens: 2, reasoningTokens: 1 }
		const two = { ...NO_USAGE, promptTokens: 5, cachedTokens: 4, cacheWriteTokens: 1, cacheWrite1hTokens: 1 }
		expect(sumUsage([one, two])).toEqual({
			promptTokens: 15,
			completionTokens: 2,
			cachedTokens: 4,
			cacheWriteTokens: 1,
			cacheWrite1hTokens: 1,
			reasoningTokens: 1,
		})
	})
})

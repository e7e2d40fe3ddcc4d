export const DAY_MS = 24 * 60 * 60_000

/** Days since the Unix epoch, UTC: the day of the rollup tables. */
export const utcDay = (ms: number) => Math.floor(ms / DAY_MS)

/** Latencies under this are their own bucket, exact to the millisecond. */
const EXACT_BELOW_MS = 100
/** Above it, each bucket is 1 % wider than the previous one, so a percentile is off by at most 0.5 %. */
const GROWTH = 1.01
const LOG_GROWTH = Math.log(GROWTH)

export function latencyBucket(ms: number): number {
	if (ms < EXACT_BELOW_MS) return Math.max(0, Math.round(ms))
	return EXACT_BELOW_MS + Math.floor(Math.log(ms / EXACT_BELOW_MS) / LOG_GROWTH)
}

/** The latency a bucket stands for: exact below 100 ms, else the geometric middle of the bucket. */
export function bucketLatency(bucket: number): number {
	if (bucket < EXACT_BELOW_MS) return bucket
	return Math.round(EXACT_BELOW_MS * GROWTH ** (bucket - EXACT_BELOW_MS + 0.5))
}

/** Nearest-rank percentile from `[bucket, count]` pairs sorted by bucket. */
export function percentileFromHistogram(histogram: [number, number][], fraction: number): number {
	const total = histogram.reduce((sum, [, count]) => sum + count, 0)
	if (total === 0) return 0
	const rank = Math.ceil(fraction * total)
	let seen = 0
	for (const [bucket, count] of histogram) {
		seen += count
		if (seen >= rank) return bucketLatency(bucket)
	}
	return bucketLatency(histogram.at(-1)?.[0] ?? 0)
}

/** What the daily rollups take from one log row. */
export interface RollupInput {
	createdAtMs: number
	userId: number
	keyId: number
	/** '' when none: the rollups' primary key has no nulls. */
	model: string
	provider: string
	tier: string
	status: number
	promptTokens: number
	completionTokens: number
	cachedTokens: number
	costUsd: number
	baselineCostUsd: number
	latencyMs: number
	usageReported: boolean
	/** Answered from the response cache (no upstream call, so no usage either). */
	cacheHit: boolean
	/** What the cache hit avoided spending; 0 for other rows. */
	cacheSavedUsd: number
}

/** One `usage_daily` row's increments, in its columns' order. */
export type UsageTotals = [
	day: number,
	userId: number,
	keyId: number,
	model: string,
	provider: string,
	tier: string,
	requests: number,
	errors: number,
	upstreamErrors: number,
	costUsd: number,
	baselineCostUsd: number,
	promptTokens: number,
	completionTokens: number,
	cachedTokens: number,
	latencyMsSum: number,
	unpriced: number,
	missingUsage: number,
	cacheHits: number,
	cacheSavedUsd: number,
]

/** One `latency_daily` row's increment. */
export type LatencyCount = [day: number, userId: number, bucket: number, count: number]

/**
 * What a batch of rows adds to the daily rollups, summed per rollup row: each database writer then
 * upserts these in the transaction that inserts the rows, so totals never disagree with the rows.
 */
export function rollupsOf(rows: Iterable<RollupInput>): { usage: UsageTotals[]; latency: LatencyCount[] } {
	const usage = new Map<string, UsageTotals>()
	const latency = new Map<string, LatencyCount>()
	for (const row of rows) {
		const day = utcDay(row.createdAtMs)
		const id = `${day}\u0000${row.userId}\u0000${row.keyId}\u0000${row.model}\u0000${row.tier}`
		let totals = usage.get(id)
		if (!totals) {
			totals = [
				day,
				row.userId,
				row.keyId,
				row.model,
				row.provider,
				row.tier,
				0,
				0,
				0,
				0,
				0,
				0,
				0,
				0,
				0,
				0,
				0,
				0,
				0,
			]
			usage.set(id, totals)
		}
		totals[6]++
		if (row.status >= 400) totals[7]++
		if (row.status >= 500) totals[8]++
		totals[9] += row.costUsd
		totals[10] += row.baselineCostUsd
		totals[11] += row.promptTokens
		totals[12] += row.completionTokens
		totals[13] += row.cachedTokens
		totals[14] += row.latencyMs
		if (row.promptTokens + row.completionTokens > 0 && row.costUsd === 0) totals[15]++
		// A cache hit has no usage because no upstream was asked, not because one failed to report it.
		if (row.status === 200 && !row.usageReported && !row.cacheHit) totals[16]++
		if (row.cacheHit) totals[17]++
		totals[18] += row.cacheSavedUsd
		const bucket = latencyBucket(row.latencyMs)
		const latencyId = `${day}\u0000${row.userId}\u0000${bucket}`
		const counted = latency.get(latencyId)
		if (counted) counted[3]++
		else latency.set(latencyId, [day, row.userId, bucket, 1])
	}
	return { usage: [...usage.values()], latency: [...latency.values()] }
}

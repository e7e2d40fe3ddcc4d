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

import type { Database } from 'bun:sqlite'
import type { FlushHook, RequestLogEntry } from '../gateway/request-log'

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

interface UsageTotals {
	day: number
	userId: number
	keyId: number
	model: string
	provider: string
	tier: string
	requests: number
	errors: number
	costUsd: number
	baselineCostUsd: number
	promptTokens: number
	completionTokens: number
	cachedTokens: number
	latencyMsSum: number
	unpriced: number
	missingUsage: number
}

function addEntry(totals: Map<string, UsageTotals>, entry: RequestLogEntry) {
	const day = utcDay(entry.createdAt.getTime())
	const model = entry.model ?? ''
	const tier = entry.tier ?? ''
	const id = `${day}\u0000${entry.userId}\u0000${entry.keyId}\u0000${model}\u0000${tier}`
	let row = totals.get(id)
	if (!row) {
		row = {
			day,
			userId: entry.userId,
			keyId: entry.keyId,
			model,
			provider: entry.provider ?? '',
			tier,
			requests: 0,
			errors: 0,
			costUsd: 0,
			baselineCostUsd: 0,
			promptTokens: 0,
			completionTokens: 0,
			cachedTokens: 0,
			latencyMsSum: 0,
			unpriced: 0,
			missingUsage: 0,
		}
		totals.set(id, row)
	}
	const tokens = (entry.promptTokens ?? 0) + (entry.completionTokens ?? 0)
	row.requests++
	if (entry.status >= 400) row.errors++
	row.costUsd += entry.costUsd ?? 0
	row.baselineCostUsd += entry.baselineCostUsd ?? 0
	row.promptTokens += entry.promptTokens ?? 0
	row.completionTokens += entry.completionTokens ?? 0
	row.cachedTokens += entry.cachedTokens ?? 0
	row.latencyMsSum += entry.latencyMs
	if (tokens > 0 && !entry.costUsd) row.unpriced++
	if (entry.status === 200 && !entry.usageReported) row.missingUsage++
}

/**
 * Keeps `usage_daily` and `latency_daily` current: runs inside the request log's write transaction,
 * so the rollups never disagree with the rows they count.
 */
export function createRollupWriter(sqlite: Database): FlushHook {
	const upsertUsage = sqlite.prepare(
		`INSERT INTO usage_daily (day, user_id, key_id, model, provider, tier, requests, errors, cost_usd, baseline_cost_usd,
		   prompt_tokens, completion_tokens, cached_tokens, latency_ms_sum, unpriced, missing_usage)
		 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		 ON CONFLICT (day, user_id, key_id, model, tier) DO UPDATE SET
		   requests = requests + excluded.requests,
		   errors = errors + excluded.errors,
		   cost_usd = cost_usd + excluded.cost_usd,
		   baseline_cost_usd = baseline_cost_usd + excluded.baseline_cost_usd,
		   prompt_tokens = prompt_tokens + excluded.prompt_tokens,
		   completion_tokens = completion_tokens + excluded.completion_tokens,
		   cached_tokens = cached_tokens + excluded.cached_tokens,
		   latency_ms_sum = latency_ms_sum + excluded.latency_ms_sum,
		   unpriced = unpriced + excluded.unpriced,
		   missing_usage = missing_usage + excluded.missing_usage`,
	)
	const upsertLatency = sqlite.prepare(
		`INSERT INTO latency_daily (day, user_id, bucket, count) VALUES (?, ?, ?, ?)
		 ON CONFLICT (day, user_id, bucket) DO UPDATE SET count = count + excluded.count`,
	)
	return function writeRollups(entries) {
		const totals = new Map<string, UsageTotals>()
		const latencies = new Map<string, [number, number, number, number]>()
		for (const entry of entries) {
			addEntry(totals, entry)
			const day = utcDay(entry.createdAt.getTime())
			const bucket = latencyBucket(entry.latencyMs)
			const id = `${day}\u0000${entry.userId}\u0000${bucket}`
			const row = latencies.get(id)
			if (row) row[3]++
			else latencies.set(id, [day, entry.userId, bucket, 1])
		}
		for (const t of totals.values()) {
			upsertUsage.run(
				t.day,
				t.userId,
				t.keyId,
				t.model,
				t.provider,
				t.tier,
				t.requests,
				t.errors,
				t.costUsd,
				t.baselineCostUsd,
				t.promptTokens,
				t.completionTokens,
				t.cachedTokens,
				t.latencyMsSum,
				t.unpriced,
				t.missingUsage,
			)
		}
		for (const row of latencies.values()) upsertLatency.run(...row)
	}
}

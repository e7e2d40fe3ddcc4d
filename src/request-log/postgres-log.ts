import type { DataStore } from '../../db/client'
import { TextDigester } from '../lib/text-digest'
import type { RequestLogEntry } from './log-store'
import { type RollupInput, rollupsOf, type UsageTotals } from './rollup'

/** @default 10 ms between batches, as the SQLite log */
const BATCH_INTERVAL_MS = 10
/** Rows per transaction: large enough to amortise the round trip, small enough to keep it short. */
const MAX_BATCH_ROWS = 1000
/** @default 1 s, then doubling to 30 s, between tries while PostgreSQL cannot be written */
const RETRY_MS = 1000
const MAX_RETRY_MS = 30_000

export interface PostgresLogOptions {
	/** Rows kept in memory while PostgreSQL cannot take them; past it new rows are dropped and counted. */
	maxBufferedRows?: number
	/** The key of the rows' text digests (`Secrets.textDigestKey`); without it, no digest is kept. */
	textDigestKey?: Uint8Array
	/** @default 1 s */
	retryMs?: number
}

/** The counter columns of a `usage_daily` row, in `UsageTotals` order after its six key columns. */
const USAGE_COUNTERS = [
	'requests',
	'errors',
	'upstream_errors',
	'cost_usd',
	'baseline_cost_usd',
	'prompt_tokens',
	'completion_tokens',
	'cached_tokens',
	'latency_ms_sum',
	'unpriced',
	'missing_usage',
	'cache_hits',
	'cache_saved_usd',
] as const

/** An upsert adds a batch's counts to the row's (fixed text, so the statement stays the same). */
const USAGE_SUMS = USAGE_COUNTERS.map((name) => `${name} = usage_daily.${name} + excluded.${name}`).join(', ')

function usageRow([day, user_id, key_id, model, provider, tier, ...counters]: UsageTotals) {
	const values = Object.fromEntries(USAGE_COUNTERS.map((name, i) => [name, counters[i] ?? 0]))
	return { day, user_id, key_id, model, provider, tier, ...values }
}

/** The database's own words, without the statement and its values (which hold the rows). */
function reasonOf(error: unknown): string {
	const cause = (error as { cause?: unknown } | null)?.cause
	const message =
		cause instanceof Error ? cause.message : error instanceof Error ? error.message : String(error)
	return message.slice(0, 300)
}

/**
 * The request log on PostgreSQL. As on SQLite, a request only appends its row to a buffer; every 10 ms the
 * buffer is written in one transaction with its rollups, by this process (the driver's I/O never holds
 * the event loop, so no writer thread is needed). While PostgreSQL cannot be written, requests are still
 * served: rows wait in memory up to `maxBufferedRows` and are written when it returns; rows past that are
 * dropped, counted in `dropped`, and logged, never silently. `close()` writes what is left before exit.
 */
export class PostgresRequestLog {
	private buffer: RequestLogEntry[] = []
	private timer: ReturnType<typeof setTimeout> | undefined
	private writing: Promise<void> | undefined
	private readonly digester: TextDigester | null
	private readonly maxBufferedRows: number
	private readonly retryMs: number
	private retryDelay: number
	private closed = false
	/** Flushes waiting: batches then follow each other without the 10 ms pause. */
	private flushing = 0
	/** Failed write attempts so far (each is retried). */
	failures = 0
	/** Rows given up on: recorded while the buffer was full, or still unwritten when the log was closed. */
	dropped = 0

	constructor(
		private readonly store: DataStore,
		options: PostgresLogOptions = {},
	) {
		this.maxBufferedRows = options.maxBufferedRows ?? 100_000
		this.retryMs = options.retryMs ?? RETRY_MS
		this.retryDelay = this.retryMs
		this.digester = options.textDigestKey ? new TextDigester(options.textDigestKey) : null
	}

	record(entry: RequestLogEntry) {
		if (this.buffer.length >= this.maxBufferedRows) {
			if (this.dropped++ === 0)
				console.error('request log: PostgreSQL is not taking rows and the buffer is full; dropping rows')
			return
		}
		this.buffer.push(entry)
		this.schedule(BATCH_INTERVAL_MS)
	}

	/** Rows recorded but not yet written. */
	get pending() {
		return this.buffer.length
	}

	/** Resolves once every row recorded before the call is written (waits out an outage). */
	async flush(): Promise<void> {
		this.flushing++
		try {
			while (this.buffer.length > 0 || this.writing) {
				if (!this.writing) this.startWriting()
				await this.writing
			}
		} finally {
			this.flushing--
		}
	}

	/** Writes what is left, for at most `deadlineMs`; what is still unwritten then is counted as dropped. */
	async close(deadlineMs = 5000): Promise<void> {
		this.closed = true
		if (this.timer) clearTimeout(this.timer)
		const flushed = await Promise.race([
			this.flush().then(() => true),
			Bun.sleep(deadlineMs).then(() => false),
		])
		if (!flushed && this.buffer.length > 0) {
			this.dropped += this.buffer.length
			console.error(`request log: ${this.buffer.length} rows could not be written to PostgreSQL before exit`)
			this.buffer = []
		}
	}

	private schedule(delayMs: number) {
		if (this.timer || this.writing) return
		this.timer = setTimeout(() => {
			this.timer = undefined
			this.startWriting()
		}, delayMs)
	}

	/** One writer at a time: a second would take the same rows from the buffer and write them twice. */
	private startWriting() {
		if (this.timer) clearTimeout(this.timer)
		this.timer = undefined
		this.writing ??= this.writeBatches().finally(() => {
			this.writing = undefined
		})
	}

	private async writeBatches() {
		while (this.buffer.length > 0) {
			const batch = this.buffer.slice(0, MAX_BATCH_ROWS)
			try {
				await this.write(batch)
			} catch (error) {
				this.failures++
				if (this.failures === 1 || this.retryDelay === MAX_RETRY_MS)
					console.error(`request log: a write to PostgreSQL failed and will be retried: ${reasonOf(error)}`)
				if (this.closed) await Bun.sleep(Math.min(this.retryDelay, 200))
				else await Bun.sleep(this.retryDelay)
				this.retryDelay = Math.min(this.retryDelay * 2, MAX_RETRY_MS)
				continue
			}
			this.retryDelay = this.retryMs
			this.buffer.splice(0, batch.length)
			// Less than a full batch waiting: the next one goes 10 ms later (or at a flush), so a moderate
			// rate makes one transaction per 10 ms, not one per few rows as fast as each one ends.
			if (this.buffer.length < MAX_BATCH_ROWS && !this.flushing) break
		}
		if (this.buffer.length > 0 && !this.closed) {
			this.writing = undefined
			this.schedule(BATCH_INTERVAL_MS)
		}
	}

	/**
	 * The rows and their rollups, in one transaction, with the driver's own multi-row insert: building the
	 * 28-column statement through the query builder cost 40–67 µs a row (the benchmark's profile).
	 */
	private async write(entries: RequestLogEntry[]) {
		const batches = this.store.postgresBatches
		if (!batches) throw new Error('the PostgreSQL request log needs a PostgreSQL store')
		const { usage, latency } = rollupsOf(entries.map(rollupInput))
		const rows = entries.map((entry) => this.rowOf(entry))
		await batches.begin(async (tx) => {
			await tx`INSERT INTO request_log ${tx(rows)}`
			await tx`INSERT INTO usage_daily ${tx(usage.map(usageRow))}
				ON CONFLICT (day, user_id, key_id, model, tier) DO UPDATE SET ${tx.unsafe(USAGE_SUMS)}`
			await tx`INSERT INTO latency_daily ${tx(latency.map(([day, user_id, bucket, count]) => ({ day, user_id, bucket, count })))}
				ON CONFLICT (day, user_id, bucket) DO UPDATE SET count = latency_daily.count + excluded.count`
		})
	}

	/** A log row as its columns, with the digest made and the JSON columns as their text. */
	private rowOf(entry: RequestLogEntry) {
		return {
			request_id: entry.requestId,
			created_at: entry.createdAt,
			user_id: entry.userId,
			key_id: entry.keyId,
			requested_model: entry.requestedModel ?? null,
			model: entry.model ?? null,
			upstream_model: entry.upstreamModel ?? null,
			provider: entry.provider ?? null,
			tier: entry.tier ?? null,
			rule: entry.rule ?? null,
			rules_revision: entry.rulesRevision ?? null,
			stream: entry.stream ?? false,
			status: entry.status,
			error_type: entry.errorType ?? null,
			error: entry.error ?? null,
			attempts: JSON.stringify(entry.attempts),
			prompt_tokens: entry.promptTokens ?? 0,
			completion_tokens: entry.completionTokens ?? 0,
			cached_tokens: entry.cachedTokens ?? 0,
			cache_write_tokens: entry.cacheWriteTokens ?? 0,
			usage_reported: entry.usageReported ?? false,
			cost_usd: entry.costUsd ?? 0,
			baseline_cost_usd: entry.baselineCostUsd ?? 0,
			latency_ms: entry.latencyMs,
			ttft_ms: entry.ttftMs ?? null,
			features: entry.features ? JSON.stringify(entry.features) : null,
			prompt_text: entry.promptText ?? null,
			system_text: entry.systemText ?? null,
			text_digest:
				entry.textDigest && this.digester
					? Buffer.from(this.digester.digest(entry.textDigest.input, entry.textDigest.patterns))
					: null,
			door: entry.door ?? 'chat',
			pin: entry.pin ?? null,
			cache_hit: entry.cacheHit ?? false,
			cache_saved_usd: entry.cacheSavedUsd ?? 0,
		}
	}
}

function rollupInput(entry: RequestLogEntry): RollupInput {
	return {
		createdAtMs: entry.createdAt.getTime(),
		userId: entry.userId,
		keyId: entry.keyId,
		model: entry.model ?? '',
		provider: entry.provider ?? '',
		tier: entry.tier ?? '',
		status: entry.status,
		promptTokens: entry.promptTokens ?? 0,
		completionTokens: entry.completionTokens ?? 0,
		cachedTokens: entry.cachedTokens ?? 0,
		costUsd: entry.costUsd ?? 0,
		baselineCostUsd: entry.baselineCostUsd ?? 0,
		latencyMs: entry.latencyMs,
		usageReported: entry.usageReported ?? false,
		cacheHit: entry.cacheHit ?? false,
		cacheSavedUsd: entry.cacheSavedUsd ?? 0,
	}
}

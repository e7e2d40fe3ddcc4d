import { type AnyColumn, sql } from 'drizzle-orm'
import type { DataStore } from '../../db/client'
import type { usageDaily } from '../../db/schema'
import { TextDigester } from '../lib/text-digest'
import type { RequestLogEntry } from './log-store'
import { rollupsOf, type UsageTotals } from './rollup'

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

/** The counters of a `usage_daily` row, in `UsageTotals` order after its six key columns. */
const USAGE_COUNTERS = [
	'requests',
	'errors',
	'upstreamErrors',
	'costUsd',
	'baselineCostUsd',
	'promptTokens',
	'completionTokens',
	'cachedTokens',
	'latencyMsSum',
	'unpriced',
	'missingUsage',
] as const

function usageValues([day, userId, keyId, model, provider, tier, ...counters]: UsageTotals) {
	const values = Object.fromEntries(USAGE_COUNTERS.map((name, i) => [name, counters[i] ?? 0]))
	return { day, userId, keyId, model, provider, tier, ...values } as typeof usageDaily.$inferInsert
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
		while (this.buffer.length > 0 || this.writing) {
			if (!this.writing) this.startWriting()
			await this.writing
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
		}
	}

	/** The rows and their rollups, in one transaction. */
	private async write(entries: RequestLogEntry[]) {
		const { db, tables } = this.store
		const { requestLog, usageDaily, latencyDaily } = tables
		const rows = entries.map((entry) => ({
			...entry,
			textDigest:
				entry.textDigest && this.digester
					? Buffer.from(this.digester.digest(entry.textDigest.input, entry.textDigest.patterns))
					: null,
		}))
		const { usage, latency } = rollupsOf(
			entries.map((entry) => ({
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
			})),
		)
		const add = (column: AnyColumn) => sql`${column} + excluded.${sql.identifier(column.name)}`
		await db.transaction(async (tx) => {
			await tx.insert(requestLog).values(rows)
			await tx
				.insert(usageDaily)
				.values(usage.map(usageValues))
				.onConflictDoUpdate({
					target: [usageDaily.day, usageDaily.userId, usageDaily.keyId, usageDaily.model, usageDaily.tier],
					set: Object.fromEntries(USAGE_COUNTERS.map((name) => [name, add(usageDaily[name])])),
				})
			await tx
				.insert(latencyDaily)
				.values(latency.map(([day, userId, bucket, count]) => ({ day, userId, bucket, count })))
				.onConflictDoUpdate({
					target: [latencyDaily.day, latencyDaily.userId, latencyDaily.bucket],
					set: { count: add(latencyDaily.count) },
				})
		})
	}
}

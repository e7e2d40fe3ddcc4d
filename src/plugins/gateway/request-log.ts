import type { Database, Statement } from 'bun:sqlite'
import type { requestLog } from '../../../db/schema'

export type RequestLogEntry = typeof requestLog.$inferInsert

/** @default 100 ms between writes */
const FLUSH_INTERVAL_MS = 100
/** @default 512 rows: a fuller buffer is written at once */
const MAX_BATCH = 512
/** Past this, the oldest rows are dropped rather than exhausting memory while the disk refuses writes. */
const MAX_BUFFERED = 200_000

const COLUMNS = [
	'request_id',
	'created_at',
	'user_id',
	'key_id',
	'requested_model',
	'model',
	'upstream_model',
	'provider',
	'tier',
	'rule',
	'rules_revision',
	'stream',
	'status',
	'error_type',
	'error',
	'attempts',
	'prompt_tokens',
	'completion_tokens',
	'cached_tokens',
	'cache_write_tokens',
	'usage_reported',
	'cost_usd',
	'baseline_cost_usd',
	'latency_ms',
	'ttft_ms',
	'features',
	'prompt_text',
	'system_text',
] as const

type Row = (string | number | null)[]

function toRow(entry: RequestLogEntry): Row {
	return [
		entry.requestId,
		entry.createdAt.getTime(),
		entry.userId,
		entry.keyId,
		entry.requestedModel ?? null,
		entry.model ?? null,
		entry.upstreamModel ?? null,
		entry.provider ?? null,
		entry.tier ?? null,
		entry.rule ?? null,
		entry.rulesRevision ?? null,
		entry.stream ? 1 : 0,
		entry.status,
		entry.errorType ?? null,
		entry.error ?? null,
		JSON.stringify(entry.attempts),
		entry.promptTokens ?? 0,
		entry.completionTokens ?? 0,
		entry.cachedTokens ?? 0,
		entry.cacheWriteTokens ?? 0,
		entry.usageReported ? 1 : 0,
		entry.costUsd ?? 0,
		entry.baselineCostUsd ?? 0,
		entry.latencyMs,
		entry.ttftMs ?? null,
		entry.features ? JSON.stringify(entry.features) : null,
		entry.promptText ?? null,
		entry.systemText ?? null,
	]
}

/** Runs inside the log's write transaction, e.g. to keep rollup tables current with the rows. */
export type FlushHook = (entries: readonly RequestLogEntry[]) => void

/**
 * The request log's writer. Requests only append to an in-memory buffer; a timer writes the buffer in
 * batches, each inside one transaction, so responses never wait on the disk. A failed write keeps the
 * rows for the next attempt; `flush()` is awaited by tests and called at shutdown.
 */
export class RequestLog {
	private buffer: RequestLogEntry[] = []
	private timer: ReturnType<typeof setTimeout> | undefined
	private readonly insert: Statement
	private readonly hooks: FlushHook[] = []

	constructor(private readonly sqlite: Database) {
		this.insert = sqlite.prepare(
			`INSERT INTO request_log (${COLUMNS.join(', ')}) VALUES (${COLUMNS.map(() => '?').join(', ')})`,
		)
	}

	/** Also run `hook` in each write transaction. */
	onFlush(hook: FlushHook) {
		this.hooks.push(hook)
	}

	record(entry: RequestLogEntry) {
		this.buffer.push(entry)
		if (this.buffer.length > MAX_BUFFERED) {
			const dropped = this.buffer.splice(0, this.buffer.length - MAX_BUFFERED)
			console.error(`request log: the database refuses writes; dropped the ${dropped.length} oldest rows`)
		}
		if (this.buffer.length >= MAX_BATCH) this.schedule(0)
		else this.schedule(FLUSH_INTERVAL_MS)
	}

	get pending() {
		return this.buffer.length
	}

	/** Writes everything buffered now; returns the number of rows written. */
	flush(): number {
		this.clearTimer()
		if (this.buffer.length === 0) return 0
		const batch = this.buffer
		this.buffer = []
		try {
			this.sqlite.transaction(() => {
				for (const entry of batch) this.insert.run(...toRow(entry))
				for (const hook of this.hooks) hook(batch)
			})()
			return batch.length
		} catch (error) {
			console.error('request log: write failed, will retry', error)
			this.buffer = batch.concat(this.buffer)
			this.schedule(FLUSH_INTERVAL_MS * 10)
			return 0
		}
	}

	close() {
		this.flush()
		this.clearTimer()
	}

	private schedule(delayMs: number) {
		if (this.timer !== undefined && delayMs > 0) return
		this.clearTimer()
		this.timer = setTimeout(() => {
			this.timer = undefined
			this.flush()
		}, delayMs)
		this.timer.unref?.()
	}

	private clearTimer() {
		if (this.timer !== undefined) clearTimeout(this.timer)
		this.timer = undefined
	}
}

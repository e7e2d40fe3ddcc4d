import type { Database, Statement } from 'bun:sqlite'
import type { requestLog } from '../../../db/schema'

export type RequestLogEntry = typeof requestLog.$inferInsert

/** @default 100 ms between writes */
const FLUSH_INTERVAL_MS = 100
/** @default 0.25 ms: the longest a background write holds the event loop */
const SLICE_BUDGET_MS = 0.25
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
 * The request log's writer. Requests only append to an in-memory buffer. In the background the buffer is
 * written in short slices, each one transaction with its rollups and each stopped after about a quarter
 * of a millisecond, so a burst of rows never holds the event loop long enough to delay a response.
 * A failed write keeps the rows for the next attempt. `flush()` writes everything at once: tests await
 * it, dashboard reads call it, and shutdown ends with it.
 */
export class RequestLog {
	private buffer: RequestLogEntry[] = []
	private timer: ReturnType<typeof setTimeout> | undefined
	private draining = false
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
		if (this.timer === undefined && !this.draining) this.schedule(FLUSH_INTERVAL_MS)
	}

	get pending() {
		return this.buffer.length
	}

	/** Writes everything buffered now, in one transaction; returns the number of rows written. */
	flush(): number {
		this.clearTimer()
		return this.write(this.buffer.length)
	}

	close() {
		this.flush()
		this.clearTimer()
	}

	/** Writes the oldest `limit` rows, or fewer once `budgetMs` has passed; returns how many it wrote. */
	private write(limit: number, budgetMs = Number.POSITIVE_INFINITY): number {
		if (this.buffer.length === 0 || limit === 0) return 0
		const started = performance.now()
		let written = 0
		try {
			this.sqlite.transaction(() => {
				while (written < limit) {
					this.insert.run(...toRow(this.buffer[written] as RequestLogEntry))
					written++
					if ((written & 15) === 0 && performance.now() - started > budgetMs) break
				}
				const slice = this.buffer.slice(0, written)
				for (const hook of this.hooks) hook(slice)
			})()
		} catch (error) {
			console.error('request log: write failed, will retry', error)
			this.schedule(FLUSH_INTERVAL_MS * 10)
			return 0
		}
		this.buffer.splice(0, written)
		return written
	}

	/** One background slice; while rows remain, the next slice waits behind the I/O already queued. */
	private drain = () => {
		this.timer = undefined
		const written = this.write(this.buffer.length, SLICE_BUDGET_MS)
		// Nothing written with rows left means the write failed: its retry timer takes over.
		this.draining = written > 0 && this.buffer.length > 0
		if (this.draining) setImmediate(this.drain)
	}

	private schedule(delayMs: number) {
		this.clearTimer()
		this.timer = setTimeout(this.drain, delayMs)
		this.timer.unref?.()
	}

	private clearTimer() {
		if (this.timer !== undefined) clearTimeout(this.timer)
		this.timer = undefined
	}
}

import type { Database } from 'bun:sqlite'
import { DAY_MS, utcDay } from './rollup'

/** Rows deleted per transaction: small enough that a request's log write never waits long behind one. */
const CHUNK = 2000
const DAILY_MS = DAY_MS

const nextTick = () => new Promise((resolve) => setTimeout(resolve, 0))

/**
 * Prunes request log rows (and their daily rollups) older than LOG_RETENTION_DAYS, once a day. Deletes
 * run in small chunks with a pause between them, so the gateway keeps serving and logging meanwhile.
 */
export class LogRetention {
	private timer: ReturnType<typeof setInterval> | undefined
	private running: Promise<number> | undefined

	constructor(
		private readonly sqlite: Database,
		private readonly days: number,
	) {}

	/** Deletes what is older than the retention; returns the number of request log rows removed. */
	prune(now = Date.now()): Promise<number> {
		this.running ??= this.pruneInChunks(now).finally(() => {
			this.running = undefined
		})
		return this.running
	}

	start() {
		void this.prune()
		this.timer = setInterval(() => void this.prune(), DAILY_MS)
		this.timer.unref?.()
	}

	stop() {
		if (this.timer) clearInterval(this.timer)
	}

	private async pruneInChunks(now: number): Promise<number> {
		const cutoff = now - this.days * DAY_MS
		// Rows are written in time order, so the oldest are the lowest ids: walk the primary key from the
		// start, a chunk at a time, and stop at the first chunk that reaches into the kept period.
		const oldest = this.sqlite.prepare<{ id: number; created_at: number }, [number]>(
			'SELECT id, created_at FROM request_log ORDER BY id LIMIT ?',
		)
		const deleteOld = this.sqlite.prepare('DELETE FROM request_log WHERE id <= ? AND created_at < ?')
		let removed = 0
		for (;;) {
			const chunk = oldest.all(CHUNK)
			const last = chunk.at(-1)
			if (!last) break
			removed += deleteOld.run(last.id, cutoff).changes
			if (chunk.length < CHUNK || chunk.some((row) => row.created_at >= cutoff)) break
			await nextTick()
		}
		const cutoffDay = utcDay(cutoff)
		this.sqlite.run('DELETE FROM usage_daily WHERE day < ?', [cutoffDay])
		this.sqlite.run('DELETE FROM latency_daily WHERE day < ?', [cutoffDay])
		if (removed > 0) console.log(`request log: pruned ${removed} rows older than ${this.days} days`)
		return removed
	}
}

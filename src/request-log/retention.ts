import { and, asc, lt, lte } from 'drizzle-orm'
import type { DataStore } from '../../db/client'
import { DAY_MS, utcDay } from './rollup'

/** Rows deleted per transaction: small enough that a request's log write never waits long behind one. */
const CHUNK = 2000
const DAILY_MS = DAY_MS

const nextTick = () => new Promise((resolve) => setTimeout(resolve, 0))

/**
 * Something else the daily job prunes with the log (expired session pins, stored responses): `prune` gets
 * the time of the run and the log's cutoff, and answers how many rows it deleted.
 */
export interface RetentionTask {
	/** What its rows are, for the log line: `session pins`. */
	readonly name: string
	prune(now: number, cutoff: Date): Promise<number>
}

/**
 * Prunes request log rows (and their daily rollups) older than LOG_RETENTION_DAYS, once a day, and then
 * runs its `RetentionTask`s (what else is kept no longer than that, or has expired). Log deletes
 * run in small chunks with a pause between them, so the gateway keeps serving and logging meanwhile.
 * Every instance prunes; deleting what another instance already deleted removes nothing.
 */
export class LogRetention {
	private timer: ReturnType<typeof setInterval> | undefined
	private running: Promise<number> | undefined

	constructor(
		private readonly store: DataStore,
		private readonly days: number,
		private readonly tasks: readonly RetentionTask[] = [],
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
		const { db, tables } = this.store
		const { requestLog, usageDaily, latencyDaily } = tables
		const cutoff = new Date(now - this.days * DAY_MS)
		// Rows are written in time order, so the oldest are the lowest ids: walk the primary key from the
		// start, a chunk at a time, and stop at the first chunk that reaches into the kept period.
		let removed = 0
		for (;;) {
			const chunk = await db
				.select({ id: requestLog.id, createdAt: requestLog.createdAt })
				.from(requestLog)
				.orderBy(asc(requestLog.id))
				.limit(CHUNK)
			const last = chunk.at(-1)
			if (!last) break
			const deleted = await db
				.delete(requestLog)
				.where(and(lte(requestLog.id, last.id), lt(requestLog.createdAt, cutoff)))
				.returning({ id: requestLog.id })
			removed += deleted.length
			if (chunk.length < CHUNK || chunk.some((row) => row.createdAt >= cutoff)) break
			await nextTick()
		}
		const cutoffDay = utcDay(cutoff.getTime())
		await db.delete(usageDaily).where(lt(usageDaily.day, cutoffDay))
		await db.delete(latencyDaily).where(lt(latencyDaily.day, cutoffDay))
		if (removed > 0) console.log(`request log: pruned ${removed} rows older than ${this.days} days`)
		await this.runTasks(now, cutoff)
		return removed
	}

	/** Each task on its own: one that fails is logged and tried again the next day, and the others still run. */
	private async runTasks(now: number, cutoff: Date) {
		for (const task of this.tasks) {
			try {
				const pruned = await task.prune(now, cutoff)
				if (pruned > 0) console.log(`retention: pruned ${pruned} ${task.name}`)
			} catch (error) {
				console.error(`retention: could not prune ${task.name}`, error)
			}
		}
	}
}

import { hostname } from 'node:os'
import { desc, eq, lt } from 'drizzle-orm'
import type { DataStore } from '../../db/client'
import { randomBase64Url } from '../lib/crypto'

/**
 * A "still here" stamp every second: one small update, and the unwritten-rows count a killed server
 * leaves behind is never more than a second old.
 */
export const HEARTBEAT_MS = 1000
/** Not heard from for five heartbeats: stopped without leaving (killed, or cut off from the database). */
const SILENT_AFTER_MS = 5 * HEARTBEAT_MS
/** Forgotten a day after it fell silent. */
const FORGET_AFTER_MS = 24 * 60 * 60_000

export interface InstanceView {
	id: string
	host: string
	pid: number
	startedAt: Date
	lastSeenAt: Date
	/** The rules revision it routed with when last heard from. */
	rulesRevision: number | null
	/** Its request log's unwritten rows when last heard from: for a silent one, about what it lost. */
	pendingRows: number
	/** Rows its request log gave up on (the database away for longer than its buffer lasts). */
	droppedRows: number
	/** This server, the one answering. */
	self: boolean
	/** Not heard from for a while: it stopped without leaving. */
	silent: boolean
}

/**
 * This server's entry among the servers on the database, so the dashboard can say which rules revision
 * each one runs (after a save, every instance should show the new one within a second). Stamped at start,
 * every second, and whenever its rules change; removed at a clean stop.
 */
export class InstanceRegistry {
	readonly id = randomBase64Url(9)
	private timer: ReturnType<typeof setInterval> | undefined
	private readonly startedAt = new Date()

	constructor(
		private readonly store: DataStore,
		private readonly rulesRevision: () => number | null,
		private readonly log: { readonly pending: number; readonly dropped?: number },
		private readonly clock: () => number = Date.now,
	) {}

	async start() {
		const { db, tables } = this.store
		await db.insert(tables.instances).values({
			id: this.id,
			host: hostname(),
			pid: process.pid,
			startedAt: this.startedAt,
			lastSeenAt: new Date(this.clock()),
			...this.state(),
		})
		this.timer = setInterval(() => {
			this.stamp().catch((error) => console.error('instances: could not say this server is alive', error))
		}, HEARTBEAT_MS)
		this.timer.unref?.()
	}

	/** Says this server is alive, with the revision it routes with now. */
	async stamp() {
		const { db, tables } = this.store
		const now = this.clock()
		await db
			.update(tables.instances)
			.set({ lastSeenAt: new Date(now), ...this.state() })
			.where(eq(tables.instances.id, this.id))
		await db.delete(tables.instances).where(lt(tables.instances.lastSeenAt, new Date(now - FORGET_AFTER_MS)))
	}

	private state() {
		return {
			rulesRevision: this.rulesRevision(),
			pendingRows: this.log.pending,
			droppedRows: this.log.dropped ?? 0,
		}
	}

	async list(): Promise<InstanceView[]> {
		const { db, tables } = this.store
		const now = this.clock()
		const rows = await db.select().from(tables.instances).orderBy(desc(tables.instances.startedAt))
		return rows.map((row) => ({
			...row,
			self: row.id === this.id,
			silent: row.id !== this.id && now - row.lastSeenAt.getTime() > SILENT_AFTER_MS,
		}))
	}

	async stop() {
		if (this.timer) clearInterval(this.timer)
		const { db, tables } = this.store
		await db.delete(tables.instances).where(eq(tables.instances.id, this.id))
	}
}

import { type LogRow, type RequestLogEntry, toRow } from './log-store'
import type { FromWriter, ToWriter } from './log-worker'

export type { RequestLogEntry } from './log-store'

/** @default 10 ms between batches posted to the writer thread */
const POST_INTERVAL_MS = 10

/**
 * The request log, as the server sees it. A request only turns its entry into a row and appends it to a
 * buffer; every 10 ms the buffer goes to the writer thread (`log-worker.ts`), which writes each batch in
 * one transaction with its rollups. Nothing on the request path waits for the disk, and the writer's
 * transactions and checkpoints never hold the event loop. `flush()` resolves once everything recorded
 * so far is written: tests await it, dashboard reads call it, and shutdown ends with it.
 */
export class RequestLog {
	private buffer: LogRow[] = []
	private timer: ReturnType<typeof setTimeout> | undefined
	private readonly writer: Worker
	private posted = 0
	private written = 0
	private inFlight = 0
	private readonly waiters: { seq: number; resolve: () => void }[] = []
	private closed: (() => void) | undefined
	private lastFailure = ''
	/** Failed write attempts so far (each is retried). */
	failures = 0

	constructor(databasePath: string) {
		this.writer = new Worker(new URL('./log-worker.ts', import.meta.url).href, {
			smol: true,
		} as WorkerOptions)
		// Shutdown closes the writer after the last flush; until then it must not keep a script alive.
		;(this.writer as Worker & { unref(): void }).unref()
		this.writer.onmessage = (event: MessageEvent<FromWriter>) => this.receive(event.data)
		this.send({ type: 'open', path: databasePath })
	}

	record(entry: RequestLogEntry) {
		this.buffer.push(toRow(entry))
		this.timer ??= setTimeout(() => this.post(), POST_INTERVAL_MS)
	}

	/** Rows recorded but not yet written. */
	get pending() {
		return this.buffer.length + this.inFlight
	}

	/** Resolves once every row recorded before the call is written. */
	flush(): Promise<void> {
		this.post()
		if (this.written >= this.posted) return Promise.resolve()
		const seq = this.posted
		return new Promise((resolve) => this.waiters.push({ seq, resolve }))
	}

	/** Writes what is left, then stops the writer thread. */
	async close(): Promise<void> {
		// While the last rows are written, the writer is what keeps the process alive.
		;(this.writer as Worker & { ref(): void }).ref()
		await this.flush()
		await new Promise<void>((resolve) => {
			this.closed = resolve
			this.send({ type: 'close' })
		})
		this.writer.terminate()
	}

	private post() {
		if (this.timer !== undefined) clearTimeout(this.timer)
		this.timer = undefined
		if (this.buffer.length === 0) return
		const rows = this.buffer
		this.buffer = []
		this.posted++
		this.inFlight += rows.length
		this.send({ type: 'rows', seq: this.posted, rows: JSON.stringify(rows) })
	}

	private send(message: ToWriter) {
		this.writer.postMessage(message)
	}

	private receive(message: FromWriter) {
		if (message.type === 'written') {
			this.written = message.seq
			this.inFlight -= message.count
			while (this.waiters[0] && this.waiters[0].seq <= this.written) this.waiters.shift()?.resolve()
		} else if (message.type === 'failed') {
			this.failures++
			if (message.message !== this.lastFailure) {
				console.error(`request log: a write failed and will be retried: ${message.message}`)
				this.lastFailure = message.message
			}
		} else {
			this.closed?.()
		}
	}
}

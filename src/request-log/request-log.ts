import type { Database } from 'bun:sqlite'
import { type LogWriterTuning, TUNED_RUNTIME } from '../runtime/tuning'
import {
	addSpend,
	type LogRow,
	LogStore,
	type RequestLogEntry,
	type SpendLog,
	type SpendRow,
	toRow,
} from './log-store'
import type { FromWriter, ToWriter } from './log-worker'
import { PatternSets, RowDigester } from './text-digests'

export type { RequestLogEntry } from './log-store'

/** What the gateway and the dashboard need of a request log, on either database. */
export interface RequestLogWriter {
	record(entry: RequestLogEntry): void
	/** Resolves once every row recorded before the call is written. */
	flush(): Promise<void>
	/** Writes what is left and stops. */
	close(): Promise<void>
	/** Rows recorded and not yet written. */
	readonly pending: number
	/** Failed write attempts (each is retried). */
	readonly failures: number
	/** Rows given up on (PostgreSQL away for longer than its buffer lasts); SQLite's log drops none. */
	readonly dropped?: number
}

/** @default 10 ms between batches posted to the writer thread */
const POST_INTERVAL_MS = 10

/**
 * Rows the writer thread may have in hand before the server writes a batch itself: under a sustained
 * overload on a shared core the writer could otherwise fall behind without bound.
 */
const MAX_BACKLOG_ROWS = 50_000

/**
 * Batches the writer thread may be behind before the server waits for it. Tuned, the writer runs only on
 * CPU time nothing else wants (SCHED_IDLE, `src/runtime/tuning.ts`); on a core with none left it would
 * fall behind for as long as the load lasts. 16 (160 ms of rows) rather than 4: more throughput at
 * saturation for a little more memory, since the writer catches up in fewer, longer turns
 * (docs/performance.md, "The log writer thread").
 */
const MAX_BATCHES_BEHIND = 16

/**
 * @default 25 ms: the longest the server waits for its writer at a time, above what catching up from
 * MAX_BATCHES_BEHIND at saturation takes (docs/performance.md, "The log writer thread"). A writer that
 * makes no progress in that time (a slow checkpoint, failing writes, other programs taking every core) is
 * not waited for again until it moves.
 */
const MAX_WAIT_MS = 25

/** @default 1 s before an in-process write that failed is tried again */
const RETRY_MS = 1000

/**
 * From source, the writer is this module's sibling; the bundle (`bun run build`) puts its `log-worker.js`
 * next to `index.js`.
 */
const WRITER_URL = new URL(
	import.meta.url.endsWith('.ts') ? './log-worker.ts' : './log-worker.js',
	import.meta.url,
).href

export interface RequestLogOptions {
	/** The writer thread's module; tests substitute broken, stalled or slow writers. */
	writerUrl?: string
	/** @default 16 */
	maxBatchesBehind?: number
	/** @default 25 ms */
	maxWaitMs?: number
	/** @default 50,000 rows */
	maxBacklogRows?: number
	/** The writer thread's runtime tuning (`createDeps` passes RUNTIME_TUNING's). @default TUNED_RUNTIME's */
	writerTuning?: LogWriterTuning
	/** The key of the rows' text digests (`Secrets.textDigestKey`); without it, no digest is kept. */
	textDigestKey?: Uint8Array
}

/**
 * The request log, as the server sees it. A request only turns its entry into a row and appends it to a
 * buffer; every 10 ms the buffer goes to the writer thread (`log-worker.ts`), which writes each batch in
 * one transaction with its rollups. Nothing on the request path waits for the disk, and the writer's
 * transactions and checkpoints never hold the event loop. `flush()` resolves once everything recorded
 * so far is written: tests await it, dashboard reads call it, and shutdown ends with it.
 *
 * The writer thread only gets CPU time the server does not want. When it falls more than
 * MAX_BATCHES_BEHIND batches behind, the core has none to spare, and the event loop blocks until the writer
 * is within one batch: that hands it the core for as long as it needs, and no longer.
 *
 * Batches are kept until the writer confirms them. Should the writer thread die, the server writes the
 * unconfirmed batches itself and goes on writing in-process: slower, but no row is lost.
 */
export class RequestLog implements SpendLog {
	private buffer: LogRow[] = []
	/** Budget costs settled since the last batch, per window: they go with its rows. */
	private spend = new Map<string, SpendRow>()
	private timer: ReturnType<typeof setTimeout> | undefined
	private writer: Worker | undefined
	private readonly maxBacklogRows: number
	private readonly maxBatchesBehind: number
	private readonly maxWaitMs: number
	/** [0]: the number of the last batch the writer thread wrote, published by the writer itself. */
	private readonly progress = new Int32Array(new SharedArrayBuffer(4))
	/** The writer's progress when a wait for it last ran out of time; no waiting until it moves on. */
	private stalledAt = -1
	private local: LogStore | undefined
	/** Used only while the writer thread is behind by more than MAX_BACKLOG_ROWS. */
	private overflow: LogStore | undefined
	private posted = 0
	private written = 0
	/**
	 * Batches posted and not yet confirmed, kept as the JSON text that was sent: one string per batch is
	 * far lighter for the garbage collector than holding every row's objects until the writer answers.
	 */
	private readonly unconfirmed = new Map<number, { json: string; count: number; spend: SpendRow[] }>()
	private readonly waiters: { seq: number; resolve: () => void }[] = []
	private closed: (() => void) | undefined
	private lastFailure = ''
	/** Failed write attempts so far (each is retried). */
	failures = 0
	private readonly patternSets = new PatternSets()
	/** Digests rows written on this thread (in-process writing); the writer thread has its own. */
	private readonly digester: RowDigester | null

	constructor(
		private readonly sqlite: Database,
		databasePath: string,
		options: RequestLogOptions = {},
	) {
		this.maxBacklogRows = options.maxBacklogRows ?? MAX_BACKLOG_ROWS
		this.maxBatchesBehind = options.maxBatchesBehind ?? MAX_BATCHES_BEHIND
		this.maxWaitMs = options.maxWaitMs ?? MAX_WAIT_MS
		this.digester = options.textDigestKey ? new RowDigester(options.textDigestKey) : null
		const tuning = options.writerTuning ?? TUNED_RUNTIME.logWriter
		const writer = new Worker(options.writerUrl ?? WRITER_URL, { smol: tuning.smolHeap } as WorkerOptions)
		this.writer = writer
		// Shutdown closes the writer after the last flush; until then it must not keep a script alive.
		;(writer as Worker & { unref(): void }).unref()
		writer.onmessage = (event: MessageEvent<FromWriter>) => this.receive(event.data)
		writer.addEventListener('error', (event) => this.writeLocally(event.message))
		writer.addEventListener('close', () => this.writeLocally('the writer thread stopped'))
		this.send({
			type: 'open',
			path: databasePath,
			progress: this.progress.buffer as SharedArrayBuffer,
			tuning,
			digestKey: options.textDigestKey ?? null,
		})
	}

	record(entry: RequestLogEntry) {
		const patterns = entry.textDigest?.patterns
		const patternSet = patterns
			? this.patternSets.idOf(patterns, (id) => {
					this.digester?.define(id, patterns)
					this.send({ type: 'patterns', id, patterns })
				})
			: -1
		this.buffer.push(toRow(entry, patternSet))
		this.timer ??= setTimeout(() => this.post(), POST_INTERVAL_MS)
	}

	/**
	 * A budget's window spent `micros` more (SQLite's `LocalSpendBook`): written with the next batch, in its
	 * transaction, so a crash loses a request's cost only together with its row.
	 */
	recordSpend(budgetId: number, windowStartMs: number, micros: number) {
		addSpend(this.spend, budgetId, windowStartMs, micros)
		this.timer ??= setTimeout(() => this.post(), POST_INTERVAL_MS)
	}

	/** Rows recorded but not yet written. */
	get pending() {
		let inFlight = 0
		for (const batch of this.unconfirmed.values()) inFlight += batch.count
		return this.buffer.length + inFlight
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
		const writer = this.writer
		// While the last rows are written, the writer is what keeps the process alive.
		;(writer as (Worker & { ref(): void }) | undefined)?.ref()
		await this.flush()
		if (!writer || this.writer !== writer) return
		await new Promise<void>((resolve) => {
			this.closed = resolve
			this.send({ type: 'close' })
		})
		this.writer = undefined
		writer.terminate()
	}

	private post() {
		if (this.timer !== undefined) clearTimeout(this.timer)
		this.timer = undefined
		if (this.buffer.length === 0 && this.spend.size === 0) return
		const rows = this.buffer
		const spend = [...this.spend.values()]
		this.buffer = []
		this.spend = new Map()
		if (this.local) {
			this.writeHere(this.local, rows, spend)
			return
		}
		if (this.pending > this.maxBacklogRows) {
			this.overflow ??= new LogStore(this.sqlite, this.digester)
			this.writeHere(this.overflow, rows, spend)
			return
		}
		const seq = ++this.posted
		const json = JSON.stringify(rows)
		this.unconfirmed.set(seq, { json, count: rows.length, spend })
		this.send({ type: 'rows', seq, rows: json, spend })
		this.keepPaceWithWriter()
	}

	/** Blocks the event loop while the writer is more than `maxBatchesBehind` batches behind (above). */
	private keepPaceWithWriter() {
		const before = Atomics.load(this.progress, 0)
		if (before === this.stalledAt || this.batchesAfter(before) <= this.maxBatchesBehind) return
		const deadline = performance.now() + this.maxWaitMs
		let written = before
		while (this.batchesAfter(written) > 1) {
			const left = deadline - performance.now()
			if (left <= 0 || Atomics.wait(this.progress, 0, written, left) === 'timed-out') {
				if (Atomics.load(this.progress, 0) === before) this.stalledAt = before
				return
			}
			written = Atomics.load(this.progress, 0)
		}
	}

	/** Batches posted to the writer after batch `seq`. */
	private batchesAfter(seq: number) {
		let count = 0
		for (const posted of this.unconfirmed.keys()) if (posted > seq) count++
		return count
	}

	/** In-process writing (the writer thread is gone): a failed write keeps its rows and costs for a later try. */
	private writeHere(local: LogStore, rows: LogRow[], spend: SpendRow[]) {
		try {
			local.write(rows, spend)
		} catch (error) {
			this.writeFailed(error)
			this.buffer = rows.concat(this.buffer)
			for (const [budgetId, start, micros] of spend) addSpend(this.spend, budgetId, start, micros)
			this.timer ??= setTimeout(() => this.post(), RETRY_MS)
			return
		}
		this.confirm(++this.posted)
	}

	private writeFailed(error: unknown) {
		this.failures++
		console.error('request log: a write failed and will be retried', error)
	}

	private send(message: ToWriter) {
		this.writer?.postMessage(message)
	}

	/** Every batch up to the oldest still unconfirmed is written: flushes waiting on those resolve. */
	private confirm(seq: number) {
		this.unconfirmed.delete(seq)
		const oldest = this.unconfirmed.keys().next()
		this.written = oldest.done ? this.posted : oldest.value - 1
		while (this.waiters[0] && this.waiters[0].seq <= this.written) this.waiters.shift()?.resolve()
	}

	private receive(message: FromWriter) {
		if (message.type === 'written') this.confirm(message.seq)
		else if (message.type === 'failed') {
			this.failures++
			if (message.message !== this.lastFailure) {
				console.error(`request log: a write failed and will be retried: ${message.message}`)
				this.lastFailure = message.message
			}
		} else this.closed?.()
	}

	/** The writer thread is gone: write its unconfirmed batches here, and every later one too. */
	private writeLocally(reason: string) {
		if (this.local || this.closed) return
		console.error(`request log: ${reason}; writing the log from the server's own thread from now on`)
		this.writer = undefined
		this.local = new LogStore(this.sqlite, this.digester)
		this.writeUnconfirmed(this.local)
	}

	private writeUnconfirmed(local: LogStore) {
		// A Map iterates in insertion order, which is the order the batches were posted in.
		for (const [seq, batch] of this.unconfirmed) {
			try {
				local.write(JSON.parse(batch.json) as LogRow[], batch.spend)
			} catch (error) {
				this.writeFailed(error)
				setTimeout(() => this.writeUnconfirmed(local), RETRY_MS)
				return
			}
			this.confirm(seq)
		}
	}
}

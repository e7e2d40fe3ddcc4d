// The request log's writer thread: owns its own SQLite connection, writes each batch of rows the server
// posts in one transaction with its rollups and the budget costs settled with them, and (tuned) runs the
// WAL checkpoints and their fsyncs, so none of that ever holds the server's event loop. Tuned, it runs as
// SCHED_IDLE, so it never holds a request up either (`src/runtime/tuning.ts`); after each batch it
// publishes the batch's number in `progress`, which the server reads without waiting for a message when it
// must wait for the writer to catch up (`request-log.ts`).
import { Database } from 'bun:sqlite'
import type { TextPattern } from '../lib/text-digest'
import { type LogWriterTuning, tuneLogWriterConnection, tuneLogWriterThread } from '../runtime/tuning'
import { type LogRow, LogStore, type SpendRow } from './log-store'
import { RowDigester } from './text-digests'

declare const self: Worker

/** `rows` travels as JSON text: a string crosses threads for a fraction of what cloning the arrays costs. */
export type ToWriter =
	| {
			type: 'open'
			path: string
			progress: SharedArrayBuffer
			tuning: LogWriterTuning
			/** Null when text digests are not kept. */
			digestKey: Uint8Array | null
	  }
	| { type: 'patterns'; id: number; patterns: readonly TextPattern[] }
	| { type: 'rows'; seq: number; rows: string; spend: SpendRow[] }
	| { type: 'close' }
export type FromWriter =
	| { type: 'written'; seq: number }
	| { type: 'failed'; message: string }
	| { type: 'closed' }

/** @default 1 s before a failed write is tried again */
const RETRY_MS = 1000

let sqlite: Database | undefined
let store: LogStore | undefined
let digester: RowDigester | null = null
let checkpoints: ReturnType<typeof setInterval> | undefined
/** [0]: the number of the last batch written. */
let progress: Int32Array | undefined
const queue: { seq: number; rows: LogRow[]; spend: SpendRow[] }[] = []
let retrying = false

const send = (message: FromWriter) => self.postMessage(message)

function open(
	path: string,
	progressBuffer: SharedArrayBuffer,
	tuning: LogWriterTuning,
	digestKey: Uint8Array | null,
) {
	progress = new Int32Array(progressBuffer)
	void tuneLogWriterThread(tuning)
	sqlite = new Database(path)
	sqlite.run('PRAGMA busy_timeout = 5000')
	sqlite.run('PRAGMA synchronous = NORMAL')
	sqlite.run('PRAGMA foreign_keys = ON')
	checkpoints = tuneLogWriterConnection(sqlite, tuning)
	digester = digestKey ? new RowDigester(digestKey) : null
	store = new LogStore(sqlite, digester)
}

/** Writes queued batches in order; a failure keeps the batch and retries it, so no row is dropped. */
function drain() {
	if (retrying) return
	while (queue.length > 0) {
		const batch = queue[0]
		if (!batch || !store) return
		try {
			store.write(batch.rows, batch.spend)
		} catch (error) {
			send({ type: 'failed', message: error instanceof Error ? error.message : String(error) })
			retrying = true
			setTimeout(() => {
				retrying = false
				drain()
			}, RETRY_MS)
			return
		}
		queue.shift()
		if (progress) {
			Atomics.store(progress, 0, batch.seq)
			Atomics.notify(progress, 0)
		}
		send({ type: 'written', seq: batch.seq })
	}
}

self.onmessage = (event: MessageEvent<ToWriter>) => {
	const message = event.data
	if (message.type === 'open') open(message.path, message.progress, message.tuning, message.digestKey)
	else if (message.type === 'patterns') digester?.define(message.id, message.patterns)
	else if (message.type === 'rows') {
		queue.push({ seq: message.seq, rows: JSON.parse(message.rows) as LogRow[], spend: message.spend })
		drain()
	} else if (message.type === 'close') {
		if (checkpoints) clearInterval(checkpoints)
		sqlite?.run('PRAGMA wal_checkpoint(PASSIVE)')
		sqlite?.close()
		send({ type: 'closed' })
	}
}

import { describe, expect, it } from 'bun:test'
import type { DataStore } from '../../db/client'
import type { RequestLogEntry } from '../../src/request-log/log-store'
import { PostgresRequestLog } from '../../src/request-log/postgres-log'
import { RequestLog, type RequestLogWriter } from '../../src/request-log/request-log'
import { minimalEntry } from '../helpers/log-entries'
import { BACKENDS, openTestStore } from '../helpers/stores'

const PIN =
	'session header s-123: pinned to anthropic/claude-sonnet-5 (tier hard) at 12:03:44Z; escalated from tier simple'

/** The writer the server runs on this database: SQLite's writer thread, or PostgreSQL's batches. */
function writerFor(store: DataStore): RequestLogWriter {
	if (store.sqlite) return new RequestLog(store.sqlite, store.sqlite.filename)
	return new PostgresRequestLog(store)
}

describe.each(BACKENDS)('the request log’s door and pin on %s', (backend) => {
	it('writes each row’s door and pin, and chat with no pin for an entry that names neither', async () => {
		await using test = await openTestStore(backend)
		const log = writerFor(test.store)
		const entries: RequestLogEntry[] = [
			minimalEntry('req_chat'),
			{ ...minimalEntry('req_messages'), door: 'messages', pin: PIN },
			{ ...minimalEntry('req_responses'), door: 'responses', pin: null },
			{ ...minimalEntry('req_embeddings'), door: 'embeddings' },
		]
		for (const entry of entries) log.record(entry)
		await log.close()
		const { db, tables } = test.store
		const rows = await db
			.select({
				requestId: tables.requestLog.requestId,
				door: tables.requestLog.door,
				pin: tables.requestLog.pin,
			})
			.from(tables.requestLog)
			.orderBy(tables.requestLog.id)
		expect(rows).toEqual([
			{ requestId: 'req_chat', door: 'chat', pin: null },
			{ requestId: 'req_messages', door: 'messages', pin: PIN },
			{ requestId: 'req_responses', door: 'responses', pin: null },
			{ requestId: 'req_embeddings', door: 'embeddings', pin: null },
		])
	})

	it('gives rows inserted without a door the door chat, as the migration gives rows logged before it', async () => {
		await using test = await openTestStore(backend)
		const { db, tables } = test.store
		const { textDigest: _, ...row } = minimalEntry('req_plain')
		await db.insert(tables.requestLog).values({ ...row, door: undefined })
		expect(await db.select({ door: tables.requestLog.door }).from(tables.requestLog)).toEqual([
			{ door: 'chat' },
		])
	})
})

import type { Database } from 'bun:sqlite'
import { describe, expect, it, spyOn } from 'bun:test'
import { RequestLog, type RequestLogOptions } from '../../../src/request-log/request-log'
import { makeApp, type TestApp } from '../../helpers/app'
import { startGateway } from '../../helpers/gateway'
import { minimalEntry } from '../../helpers/log-entries'
import { until } from '../../helpers/until'

const hello = [{ role: 'user' as const, content: 'Say hello' }]

/** The SQLite connection of an app these tests made on SQLite: they are about its writer thread. */
function sqliteOf(t: TestApp): Database {
	if (!t.deps.sqlite) throw new Error('this test needs an app on SQLite')
	return t.deps.sqlite
}

/** Request ids of the rows on disk, in write order, without waiting for the writer. */
const writtenIds = (t: TestApp) =>
	sqliteOf(t)
		.query<{ request_id: string }, []>('SELECT request_id FROM request_log ORDER BY id')
		.all()
		.map((row) => row.request_id)

/** A request log whose writer thread is one of the stand-ins in tests/fixtures/workers. */
const logWithWriter = (t: TestApp, writer: string, options: Omit<RequestLogOptions, 'writerUrl'> = {}) =>
	new RequestLog(sqliteOf(t), t.deps.config.databasePath, {
		writerUrl: new URL(`../../fixtures/workers/${writer}.ts`, import.meta.url).href,
		...options,
	})

/** Stops a stalled writer: the server then writes what it held itself. */
async function stopStalledWriter(log: RequestLog) {
	using _silenced = spyOn(console, 'error').mockImplementation(() => {})
	;(log as unknown as { writer: Worker }).writer.terminate()
	await log.flush()
}

describe('request log', () => {
	it('answers without writing: rows are written by the writer thread, and flush waits for them', async () => {
		await using g = await startGateway({}, { backend: 'sqlite' })
		await Promise.all(
			Array.from({ length: 20 }, () =>
				g.openai.chat.completions.create({ model: 'gpt-4o-mini', messages: hello }),
			),
		)
		expect(writtenIds(g.t).length + g.t.deps.requestLog.pending).toBe(20)
		// With nothing left in flight, the count below can only move if record() itself wrote.
		await g.t.deps.requestLog.flush()
		g.t.deps.requestLog.record(minimalEntry('req_direct'))
		const before = writtenIds(g.t).length
		expect(g.t.deps.requestLog.pending).toBe(1)
		expect(writtenIds(g.t)).toHaveLength(before)
		await g.t.deps.requestLog.flush()
		expect(g.t.deps.requestLog.pending).toBe(0)
		expect(writtenIds(g.t)).toHaveLength(21)
		expect(new Set((await g.rows()).map((row) => row.requestId)).size).toBe(21)
	})

	it('keeps the rows when a write fails, and writes them once the database accepts them again', async () => {
		await using g = await startGateway({}, { backend: 'sqlite' })
		sqliteOf(g.t).run(
			'CREATE TRIGGER refuse BEFORE INSERT ON request_log BEGIN SELECT RAISE(ABORT, "disk full"); END',
		)
		{
			using _silenced = spyOn(console, 'error').mockImplementation(() => {})
			await g.openai.chat.completions.create({ model: 'gpt-4o-mini', messages: hello })
			await until(() => g.t.deps.requestLog.failures > 0, 2000, 'the writer reports the failed write')
		}
		expect(g.t.deps.requestLog.pending).toBe(1)
		sqliteOf(g.t).run('DROP TRIGGER refuse')
		await g.t.deps.requestLog.flush()
		expect(g.t.deps.requestLog.pending).toBe(0)
		expect(await g.rows()).toHaveLength(1)
	})

	it('keeps the opt-in text excerpts only with LOG_PROMPT_TEXT, cut to 2,000 characters', async () => {
		await using g = await startGateway({ LOG_PROMPT_TEXT: 'true' })
		await g.openai.chat.completions.create({
			model: 'gpt-4o-mini',
			messages: [
				{ role: 'system', content: 'Be kind.' },
				{ role: 'user', content: 'y'.repeat(3000) },
			],
		})
		const [row] = await g.rows()
		expect(row?.systemText).toBe('Be kind.')
		expect(row?.promptText).toBe('y'.repeat(2000))
	})

	it('stores the extracted features of each request, never its text', async () => {
		await using g = await startGateway()
		await g.openai.chat.completions.create({ model: 'gpt-4o-mini', messages: hello, max_tokens: 20 })
		expect((await g.rows())[0]?.features).toEqual({
			// "Say hello": 9 characters / 4, rounded up, + 4 for its message = 7.
			promptTokens: 7,
			messages: 1,
			hasTools: false,
			hasImages: false,
			jsonMode: false,
			maxTokens: 20,
		})
	})

	it('keeps the key last-use time current without writing per request', async () => {
		await using g = await startGateway()
		const before = Date.now()
		await g.openai.chat.completions.create({ model: 'gpt-4o-mini', messages: hello })
		const after = Date.now()
		const [key] = await g.t.deps.gatewayKeys.list(g.userId)
		// The time of this request, held in memory.
		expect(key?.lastUsedAt?.getTime()).toBeWithin(before, after + 1)
		const [stored] = await g.t.deps.store.db.select().from(g.t.deps.store.tables.gatewayKeys)
		expect(stored?.lastUsedAt).toBeNull()
	})
})

describe('background writes', () => {
	it('writes a large buffer in short slices, all rows and their rollups, without a flush call', async () => {
		await using g = await startGateway({}, { backend: 'sqlite' })
		const log = g.t.deps.requestLog
		for (let i = 0; i < 5000; i++) log.record(minimalEntry(`req_${i}`))
		await until(() => log.pending === 0, 3000, 'the writer has written all 5,000 rows')
		expect(writtenIds(g.t)).toHaveLength(5000)
		const rollup = sqliteOf(g.t).query('SELECT SUM(requests) AS n FROM usage_daily').get() as { n: number }
		expect(rollup.n).toBe(5000)
	})
})

describe('a writer thread that dies', () => {
	it('leaves no row behind: the server writes the log itself from then on', async () => {
		await using t = await makeApp({}, { backend: 'sqlite' })
		{
			using _silenced = spyOn(console, 'error').mockImplementation(() => {})
			const log = logWithWriter(t, 'broken-log-writer')
			for (const requestId of ['req_a', 'req_b']) log.record(minimalEntry(requestId))
			await log.flush()
			log.record(minimalEntry('req_c'))
			await log.close()
		}
		expect(writtenIds(t)).toEqual(['req_a', 'req_b', 'req_c'])
	})

	it('writes the budget costs its batches carried too, with their rows', async () => {
		await using t = await makeApp({}, { backend: 'sqlite' })
		{
			using _silenced = spyOn(console, 'error').mockImplementation(() => {})
			const log = logWithWriter(t, 'broken-log-writer')
			log.record(minimalEntry('req_a'))
			log.recordSpend(7, 0, 1_500)
			log.recordSpend(7, 0, 500)
			await log.flush()
			log.recordSpend(7, 0, 250)
			await log.close()
		}
		expect(writtenIds(t)).toEqual(['req_a'])
		expect(sqliteOf(t).query('SELECT budget_id, window_start, spent_micros FROM budget_usage').all()).toEqual(
			[{ budget_id: 7, window_start: 0, spent_micros: 2_250 }],
		)
	})
})

describe('a writer thread that falls behind', () => {
	it('writes batches itself once the backlog passes its limit, and nothing is lost', async () => {
		await using t = await makeApp({}, { backend: 'sqlite' })
		const log = logWithWriter(t, 'stalled-log-writer', { maxBacklogRows: 3 })
		for (const id of ['a', 'b', 'c', 'd']) log.record(minimalEntry(id))
		void log.flush()
		expect(log.pending).toBe(4)
		expect(writtenIds(t)).toEqual([])
		log.record(minimalEntry('e'))
		void log.flush()
		// Four rows already wait on the writer, more than the limit of three: the server wrote this one itself.
		expect(writtenIds(t)).toEqual(['e'])
		// The stalled writer never answers; when it stops, its four rows are written here too.
		await stopStalledWriter(log)
		expect(writtenIds(t).sort()).toEqual(['a', 'b', 'c', 'd', 'e'])
	})

	it('holds the event loop until the writer is within one batch, when it is more batches behind', async () => {
		await using t = await makeApp({}, { backend: 'sqlite' })
		const log = logWithWriter(t, 'slow-log-writer', { maxBatchesBehind: 2, maxWaitMs: 1000 })
		log.record(minimalEntry('req_0'))
		await log.flush()
		const started = performance.now()
		for (let i = 1; i <= 3; i++) {
			log.record(minimalEntry(`req_${i}`))
			void log.flush()
		}
		// The third batch put the writer three behind: posting it waited for two of its 40 ms writes.
		expect(performance.now() - started).toBeGreaterThanOrEqual(75)
		expect(writtenIds(t).length).toBeGreaterThanOrEqual(3)
		await log.close()
		expect(writtenIds(t)).toEqual(['req_0', 'req_1', 'req_2', 'req_3'])
	})

	it('waits for a writer that makes no progress once, for at most 25 ms, and not again', async () => {
		await using t = await makeApp({}, { backend: 'sqlite' })
		const log = logWithWriter(t, 'stalled-log-writer', { maxBatchesBehind: 1 })
		const started = performance.now()
		for (let i = 0; i < 10; i++) {
			log.record(minimalEntry(`req_${i}`))
			void log.flush()
		}
		const blocked = performance.now() - started
		expect(blocked).toBeGreaterThanOrEqual(24)
		expect(blocked).toBeLessThan(150)
		expect(log.pending).toBe(10)
		await stopStalledWriter(log)
		expect(writtenIds(t)).toHaveLength(10)
	})
})

import { describe, expect, it } from 'bun:test'
import type { RequestLogEntry } from '../../src/request-log/log-store'
import { PostgresRequestLog } from '../../src/request-log/postgres-log'
import { errorsLoggedDuring } from '../helpers/console'
import { minimalEntry } from '../helpers/log-entries'
import { openTestStore, TEST_DATABASE_URL } from '../helpers/stores'
import { until } from '../helpers/until'

const entry = (fields: Partial<RequestLogEntry>): RequestLogEntry => ({
	...minimalEntry(crypto.randomUUID()),
	...fields,
})

describe('the request log on PostgreSQL', () => {
	if (!TEST_DATABASE_URL) return

	it('writes rows in batches with their daily rollups', async () => {
		await using test = await openTestStore('postgres')
		const log = new PostgresRequestLog(test.store)
		const at = new Date('2026-12-01T10:00:00Z')
		log.record(
			entry({
				createdAt: at,
				costUsd: 0.5,
				baselineCostUsd: 1,
				promptTokens: 10,
				completionTokens: 5,
				latencyMs: 120,
			}),
		)
		log.record(entry({ createdAt: at, status: 502, costUsd: 0.25, baselineCostUsd: 0.25, latencyMs: 80 }))
		await log.flush()
		const { db, tables } = test.store
		expect(await db.select().from(tables.requestLog)).toHaveLength(2)
		const [usage] = await db.select().from(tables.usageDaily)
		expect(usage).toMatchObject({
			requests: 2,
			errors: 1,
			upstreamErrors: 1,
			costUsd: 0.75,
			baselineCostUsd: 1.25,
			promptTokens: 10,
		})
		log.record(entry({ createdAt: at, costUsd: 1 }))
		await log.flush()
		const [again] = await db.select().from(tables.usageDaily)
		expect(again).toMatchObject({ requests: 3, costUsd: 1.75 })
		expect((await db.select().from(tables.latencyDaily)).reduce((sum, row) => sum + row.count, 0)).toBe(3)
		await log.close()
	})

	it('writes each row once when rows keep coming while batches and flushes are under way', async () => {
		await using test = await openTestStore('postgres')
		const log = new PostgresRequestLog(test.store)
		const flushes: Promise<void>[] = []
		for (let burst = 0; burst < 25; burst++) {
			for (let i = 0; i < 100; i++) log.record(entry({ requestId: `req_${burst}_${i}` }))
			if (burst % 3 === 0) flushes.push(log.flush())
			await Bun.sleep(burst % 5)
		}
		await Promise.all(flushes)
		await log.flush()
		const { db, tables } = test.store
		expect(await db.$count(tables.requestLog)).toBe(2500)
		const usage = await db.select().from(tables.usageDaily)
		expect(usage.reduce((sum, row) => sum + row.requests, 0)).toBe(2500)
		await log.close()
	})

	it('writes at most one batch per 10 ms at a moderate rate, not one per few rows', async () => {
		await using test = await openTestStore('postgres')
		const log = new PostgresRequestLog(test.store)
		let writes = 0
		const write = (log as unknown as { write: (rows: RequestLogEntry[]) => Promise<void> }).write.bind(log)
		;(log as unknown as { write: typeof write }).write = (rows) => {
			writes++
			return write(rows)
		}
		const started = performance.now()
		for (let i = 0; i < 150; i++) {
			log.record(entry({}))
			await Bun.sleep(2)
		}
		const elapsed = performance.now() - started
		await log.flush()
		expect(await test.store.db.$count(test.store.tables.requestLog)).toBe(150)
		// One batch per 10 ms of recording, a few more for timer slack and the final flush.
		expect(writes).toBeLessThanOrEqual(Math.ceil(elapsed / 10) + 3)
		expect(writes).toBeLessThan(75)
		await log.close()
	})

	it('keeps rows while PostgreSQL refuses writes, writes them when it takes them again, and counts what did not fit', async () => {
		await using test = await openTestStore('postgres')
		const postgres = test.store.postgres
		if (!postgres) throw new Error('not PostgreSQL')
		const log = new PostgresRequestLog(test.store, { maxBufferedRows: 5, retryMs: 20 })
		await postgres`ALTER TABLE request_log RENAME TO request_log_away`
		const logged = await errorsLoggedDuring(async () => {
			for (let i = 0; i < 8; i++) log.record(entry({ requestId: `req_${i}`, promptText: 'secret words' }))
			await until(() => log.failures > 0, 2000)
		})
		expect(logged).toEqual([
			'request log: PostgreSQL is not taking rows and the buffer is full; dropping rows',
			'request log: a write to PostgreSQL failed and will be retried: relation "request_log" does not exist',
		])
		expect(log.pending).toBe(5)
		expect(log.dropped).toBe(3)
		await postgres`ALTER TABLE request_log_away RENAME TO request_log`
		await log.flush()
		const { db, tables } = test.store
		const written = await db.select({ requestId: tables.requestLog.requestId }).from(tables.requestLog)
		expect(written.map((row) => row.requestId).sort()).toEqual(['req_0', 'req_1', 'req_2', 'req_3', 'req_4'])
		expect((await db.select().from(tables.usageDaily))[0]?.requests).toBe(5)
		await log.close()
	})

	it('counts the rows it could not write before closing, and says so', async () => {
		await using test = await openTestStore('postgres')
		const postgres = test.store.postgres
		if (!postgres) throw new Error('not PostgreSQL')
		const log = new PostgresRequestLog(test.store, { retryMs: 20 })
		await postgres`ALTER TABLE request_log RENAME TO request_log_away`
		log.record(entry({}))
		log.record(entry({}))
		const logged = await errorsLoggedDuring(() => log.close(300))
		expect(log.dropped).toBe(2)
		expect(logged.at(-1)).toContain('2 rows could not be written to PostgreSQL before exit')
		await postgres`ALTER TABLE request_log_away RENAME TO request_log`
	})
})

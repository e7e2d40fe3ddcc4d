import { describe, expect, it } from 'bun:test'
import type { RequestLogEntry } from '../../src/request-log/log-store'
import { LogRetention } from '../../src/request-log/retention'
import { DAY_MS, utcDay } from '../../src/request-log/rollup'
import { minimalEntry } from '../helpers/log-entries'
import { BACKENDS, openTestStore } from '../helpers/stores'

const NOW = Date.UTC(2026, 11, 3, 12)

describe.each(BACKENDS)('log retention on %s', (backend) => {
	it('deletes rows and rollups older than the retention, in chunks, and keeps the rest', async () => {
		await using test = await openTestStore(backend)
		const { db, tables } = test.store
		const rows: RequestLogEntry[] = Array.from({ length: 4500 }, (_, i) => ({
			...minimalEntry(`req_${i}`),
			createdAt: new Date(NOW - (i < 4400 ? 40 : 5) * DAY_MS + i),
			attempts: [],
		}))
		for (let i = 0; i < rows.length; i += 500)
			await db
				.insert(tables.requestLog)
				.values(rows.slice(i, i + 500).map(({ textDigest: _, ...row }) => row))
		const rollup = (day: number) => ({
			day,
			userId: 1,
			keyId: 1,
			model: '',
			provider: '',
			tier: '',
			requests: 1,
			errors: 0,
			costUsd: 0,
			baselineCostUsd: 0,
			promptTokens: 0,
			completionTokens: 0,
			cachedTokens: 0,
			latencyMsSum: 1,
			unpriced: 0,
			missingUsage: 0,
		})
		await db
			.insert(tables.usageDaily)
			.values([rollup(utcDay(NOW - 40 * DAY_MS)), rollup(utcDay(NOW - 5 * DAY_MS))])
		await db.insert(tables.latencyDaily).values([
			{ day: utcDay(NOW - 40 * DAY_MS), userId: 1, bucket: 1, count: 1 },
			{ day: utcDay(NOW - 5 * DAY_MS), userId: 1, bucket: 1, count: 1 },
		])
		expect(await new LogRetention(test.store, 30).prune(NOW)).toBe(4400)
		expect(await db.$count(tables.requestLog)).toBe(100)
		expect((await db.select().from(tables.usageDaily)).map((row) => row.day)).toEqual([
			utcDay(NOW - 5 * DAY_MS),
		])
		expect(await db.$count(tables.latencyDaily)).toBe(1)
	})
})

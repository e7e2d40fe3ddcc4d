import { describe, expect, it } from 'bun:test'
import { SessionPins } from '../../src/gateway/session-pins'
import { StoredResponses } from '../../src/gateway/stored-responses'
import type { RequestLogEntry } from '../../src/request-log/log-store'
import { LogRetention } from '../../src/request-log/retention'
import { DAY_MS, utcDay } from '../../src/request-log/rollup'
import { errorsLoggedDuring } from '../helpers/console'
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

	it('prunes expired session pins and stored responses older than the retention in the same run', async () => {
		await using test = await openTestStore(backend)
		const pins = new SessionPins(test.store)
		const responses = new StoredResponses(test.store)
		const choice = { model: 'openai/gpt-4o', tier: null, reason: 'pinned' }
		await pins.pin(1, 'expired', choice, 60_000, NOW - 60_000)
		await pins.pin(1, 'live', choice, 60_000, NOW)
		const response = (id: string, createdAt: number) => ({
			id,
			userId: 1,
			keyId: 1,
			model: 'openai/gpt-4o',
			input: [],
			output: [],
			createdAt: new Date(createdAt),
		})
		await responses.save(response('resp_old', NOW - 31 * DAY_MS))
		await responses.save(response('resp_kept', NOW - 29 * DAY_MS))
		const retention = new LogRetention(test.store, 30, [
			{ name: 'expired session pins', prune: (now) => pins.prune(now) },
			{ name: 'stored responses', prune: (_, cutoff) => responses.prune(cutoff) },
		])
		expect(await retention.prune(NOW)).toBe(0)
		expect(await pins.find(1, 'live', NOW)).not.toBeNull()
		const { db, tables } = test.store
		expect(await db.select({ key: tables.sessionPins.sessionKey }).from(tables.sessionPins)).toEqual([
			{ key: 'live' },
		])
		expect(await db.select({ id: tables.storedResponses.id }).from(tables.storedResponses)).toEqual([
			{ id: 'resp_kept' },
		])
	})
})

describe('log retention’s other tasks', () => {
	it('runs every task with the time of the run and the cutoff, past one that fails, and says which failed', async () => {
		await using test = await openTestStore('sqlite')
		const seen: [number, Date][] = []
		const retention = new LogRetention(test.store, 30, [
			{
				name: 'broken things',
				prune: async () => {
					throw new Error('disk on fire')
				},
			},
			{
				name: 'other things',
				prune: async (now, cutoff) => {
					seen.push([now, cutoff])
					return 0
				},
			},
		])
		const logged = await errorsLoggedDuring(async () => {
			await retention.prune(NOW)
		})
		expect(logged).toEqual(['retention: could not prune broken things'])
		expect(seen).toEqual([[NOW, new Date(NOW - 30 * DAY_MS)]])
	})
})

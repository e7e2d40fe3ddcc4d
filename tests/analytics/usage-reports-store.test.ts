import { describe, expect, it } from 'bun:test'
import type { DataStore } from '../../db/client'
import type { Window } from '../../src/analytics/scope'
import { HOUR_MS, UsageReports } from '../../src/analytics/usage-reports'
import { loadConfig } from '../../src/config'
import { loadCatalog } from '../../src/providers/catalog'
import { DAY_MS, utcDay } from '../../src/request-log/rollup'
import { BACKENDS, openTestStore } from '../helpers/stores'

const catalog = loadCatalog(loadConfig({}))
/** A past UTC day, and the window of it and the day before. */
const DAY = utcDay(Date.parse('2026-12-03T00:00:00Z'))
const START = DAY * DAY_MS
const WINDOW: Window = { days: 2, firstDay: DAY - 1, lastDay: DAY }
const EVERYONE = { userId: null }
const at = (hour: number, minute = 0) => new Date(START + hour * HOUR_MS + minute * 60_000)

const usage = {
	upstreamErrors: 0,
	costUsd: 0,
	baselineCostUsd: 0,
	promptTokens: 0,
	completionTokens: 0,
	cachedTokens: 0,
	unpriced: 0,
	missingUsage: 0,
}

/**
 * Two users, three keys and one key id whose key is gone; rollup rows written as the log's writer would
 * have, one of them before the window.
 */
async function seed(store: DataStore) {
	const { db, tables } = store
	const [alice, bob] = await db
		.insert(tables.users)
		.values([
			{ email: 'alice@example.com', passwordHash: 'x', role: 'developer' },
			{ email: 'bob@example.com', passwordHash: 'x', role: 'developer' },
		])
		.returning({ id: tables.users.id })
	if (!alice || !bob) throw new Error('no users')
	const key = (userId: number, name: string) => ({ userId, name, prefix: 'sy_x', keyHash: `hash-${name}` })
	const [aliceApp, aliceCli, bobApp] = await db
		.insert(tables.gatewayKeys)
		.values([key(alice.id, 'alice-app'), key(alice.id, 'alice-cli'), key(bob.id, 'bob-app')])
		.returning({ id: tables.gatewayKeys.id })
	if (!aliceApp || !aliceCli || !bobApp) throw new Error('no keys')
	const goneKey = 999
	await db.insert(tables.usageDaily).values([
		{
			...usage,
			day: DAY,
			userId: alice.id,
			keyId: aliceApp.id,
			model: 'openai/gpt-4o-mini',
			provider: 'openai',
			tier: 'simple',
			requests: 3,
			errors: 1,
			upstreamErrors: 1,
			costUsd: 0.3,
			baselineCostUsd: 0.9,
			promptTokens: 300,
			completionTokens: 30,
			latencyMsSum: 600,
			missingUsage: 1,
			// One of the three was answered from the response cache.
			cacheHits: 1,
			cacheSavedUsd: 0.15,
		},
		// Refused before routing: no model, no tier.
		{
			...usage,
			day: DAY - 1,
			userId: alice.id,
			keyId: aliceCli.id,
			model: '',
			provider: '',
			tier: '',
			requests: 2,
			errors: 2,
			latencyMsSum: 100,
		},
		// Named by the caller (no tier), and priced at nothing.
		{
			...usage,
			day: DAY,
			userId: bob.id,
			keyId: bobApp.id,
			model: 'ollama/llama3.2',
			provider: 'ollama',
			tier: '',
			requests: 1,
			errors: 0,
			baselineCostUsd: 0.5,
			promptTokens: 100,
			completionTokens: 10,
			latencyMsSum: 300,
			unpriced: 1,
		},
		{
			...usage,
			day: DAY - 1,
			userId: bob.id,
			keyId: goneKey,
			model: 'example/free',
			provider: 'example',
			tier: 'complex',
			requests: 1,
			errors: 0,
			baselineCostUsd: 0.25,
			promptTokens: 50,
			completionTokens: 5,
			latencyMsSum: 200,
			unpriced: 1,
		},
		// Before the window.
		{
			...usage,
			day: DAY - 5,
			userId: alice.id,
			keyId: aliceApp.id,
			model: 'openai/gpt-4o',
			provider: 'openai',
			tier: 'complex',
			requests: 100,
			errors: 0,
			costUsd: 10,
			baselineCostUsd: 20,
			promptTokens: 1000,
			completionTokens: 100,
			latencyMsSum: 10_000,
			cacheHits: 50,
			cacheSavedUsd: 5,
		},
	])
	await db.insert(tables.latencyDaily).values([
		{ day: DAY, userId: alice.id, bucket: 50, count: 10 },
		{ day: DAY - 1, userId: alice.id, bucket: 80, count: 3 },
		{ day: DAY, userId: bob.id, bucket: 50, count: 2 },
		{ day: DAY - 1, userId: bob.id, bucket: 90, count: 1 },
		{ day: DAY - 5, userId: alice.id, bucket: 99, count: 100 },
	])
	return {
		reports: new UsageReports(store, catalog),
		alice: alice.id,
		bob: bob.id,
		keys: { aliceApp: aliceApp.id, aliceCli: aliceCli.id, bobApp: bobApp.id, gone: goneKey },
	}
}

/** A row of the request log, for the hourly chart; only what it sums is varied. */
function logRow(userId: number, createdAt: Date, costUsd: number, status = 200, latencyMs = 100) {
	return {
		requestId: crypto.randomUUID(),
		createdAt,
		userId,
		keyId: 1,
		model: 'openai/gpt-4o-mini',
		provider: 'openai',
		tier: 'simple',
		status,
		attempts: [],
		promptTokens: 10,
		completionTokens: 5,
		usageReported: true,
		costUsd,
		baselineCostUsd: costUsd * 3,
		latencyMs,
	}
}

describe.each(BACKENDS)('UsageReports on %s', (backend) => {
	it('totals the window’s rollups, its savings and its latency percentile, for everyone and for one user', async () => {
		await using test = await openTestStore(backend)
		const { reports, alice } = await seed(test.store)
		expect(await reports.overview(EVERYONE, WINDOW)).toEqual({
			requests: 7,
			errors: 3,
			upstreamErrors: 1,
			costUsd: 0.3,
			baselineCostUsd: 1.65,
			savingsUsd: 1.35,
			promptTokens: 450,
			completionTokens: 45,
			// 1,200 ms over 7 requests.
			avgLatencyMs: 171,
			// 16 latencies (50 ms ×12, 80 ms ×3, 90 ms): the 16th is the 95th percentile.
			p95LatencyMs: 90,
			cacheHits: 1,
			cacheHitRate: 0.142857,
			cacheSavingsUsd: 0.15,
		})
		expect(await reports.overview({ userId: alice }, WINDOW)).toEqual({
			requests: 5,
			errors: 3,
			upstreamErrors: 1,
			costUsd: 0.3,
			baselineCostUsd: 0.9,
			savingsUsd: 0.6,
			promptTokens: 300,
			completionTokens: 30,
			avgLatencyMs: 140,
			// 13 latencies (50 ms ×10, 80 ms ×3): the 13th.
			p95LatencyMs: 80,
			cacheHits: 1,
			cacheHitRate: 0.2,
			cacheSavingsUsd: 0.15,
		})
	})

	it('answers zeros for a window without requests', async () => {
		await using test = await openTestStore(backend)
		const { reports } = await seed(test.store)
		const empty: Window = { days: 1, firstDay: DAY + 10, lastDay: DAY + 10 }
		expect(await reports.overview(EVERYONE, empty)).toEqual({
			requests: 0,
			errors: 0,
			upstreamErrors: 0,
			costUsd: 0,
			baselineCostUsd: 0,
			savingsUsd: 0,
			promptTokens: 0,
			completionTokens: 0,
			avgLatencyMs: 0,
			p95LatencyMs: 0,
			cacheHits: 0,
			cacheHitRate: 0,
			cacheSavingsUsd: 0,
		})
		expect(await reports.breakdown(EVERYONE, 'model', empty)).toEqual([])
	})

	it('breaks down by model costliest first, null for no model, ties in the order of their names', async () => {
		await using test = await openTestStore(backend)
		const { reports } = await seed(test.store)
		expect(await reports.breakdown(EVERYONE, 'model', WINDOW)).toEqual([
			{
				key: 'openai/gpt-4o-mini',
				requests: 3,
				costUsd: 0.3,
				baselineCostUsd: 0.9,
				promptTokens: 300,
				completionTokens: 30,
				avgLatencyMs: 200,
			},
			{
				key: null,
				requests: 2,
				costUsd: 0,
				baselineCostUsd: 0,
				promptTokens: 0,
				completionTokens: 0,
				avgLatencyMs: 50,
			},
			{
				key: 'example/free',
				requests: 1,
				costUsd: 0,
				baselineCostUsd: 0.25,
				promptTokens: 50,
				completionTokens: 5,
				avgLatencyMs: 200,
			},
			{
				key: 'ollama/llama3.2',
				requests: 1,
				costUsd: 0,
				baselineCostUsd: 0.5,
				promptTokens: 100,
				completionTokens: 10,
				avgLatencyMs: 300,
			},
		])
		expect((await reports.breakdown(EVERYONE, 'provider', WINDOW)).map((row) => row.key)).toEqual([
			'openai',
			null,
			'example',
			'ollama',
		])
	})

	it('splits the requests without a tier by whether a model answered them', async () => {
		await using test = await openTestStore(backend)
		const { reports } = await seed(test.store)
		const rows = await reports.breakdown(EVERYONE, 'tier', WINDOW)
		expect(rows.map(({ key, answered, requests }) => ({ key, answered, requests }))).toEqual([
			{ key: 'simple', answered: undefined, requests: 3 },
			{ key: null, answered: false, requests: 2 },
			{ key: null, answered: true, requests: 1 },
			{ key: 'complex', answered: undefined, requests: 1 },
		])
	})

	it('names each key, and a key that is gone by its id', async () => {
		await using test = await openTestStore(backend)
		const { reports, keys } = await seed(test.store)
		const rows = await reports.breakdown(EVERYONE, 'key', WINDOW)
		expect(rows.map(({ key, keyId, requests, costUsd }) => ({ key, keyId, requests, costUsd }))).toEqual([
			{ key: 'alice-app', keyId: keys.aliceApp, requests: 3, costUsd: 0.3 },
			{ key: 'alice-cli', keyId: keys.aliceCli, requests: 2, costUsd: 0 },
			{ key: 'bob-app', keyId: keys.bobApp, requests: 1, costUsd: 0 },
			{ key: 'key 999', keyId: keys.gone, requests: 1, costUsd: 0 },
		])
	})

	it('gives every day of the window a row, in order', async () => {
		await using test = await openTestStore(backend)
		const { reports } = await seed(test.store)
		expect(await reports.breakdown(EVERYONE, 'day', WINDOW)).toEqual([
			{
				key: '2026-12-02',
				requests: 3,
				costUsd: 0,
				baselineCostUsd: 0.25,
				promptTokens: 50,
				completionTokens: 5,
				avgLatencyMs: 100,
			},
			{
				key: '2026-12-03',
				requests: 4,
				costUsd: 0.3,
				baselineCostUsd: 1.4,
				promptTokens: 400,
				completionTokens: 40,
				avgLatencyMs: 225,
			},
		])
	})

	it('sums each user’s spend in the window', async () => {
		await using test = await openTestStore(backend)
		const { reports, alice, bob } = await seed(test.store)
		const spend = await reports.spendByUser(WINDOW)
		expect([...spend].sort(([a], [b]) => a - b)).toEqual([
			[alice, 0.3],
			[bob, 0],
		])
	})

	it('counts the unpriced and the answers without usage, and names the unpriced models', async () => {
		await using test = await openTestStore(backend)
		const { reports, alice } = await seed(test.store)
		expect(await reports.integrity(EVERYONE, WINDOW)).toEqual({
			unpricedRequests: 2,
			missingUsageRequests: 1,
			unpricedModels: ['example/free', 'ollama/llama3.2'],
			uncleanStop: null,
		})
		expect(await reports.integrity({ userId: alice }, WINDOW)).toEqual({
			unpricedRequests: 0,
			missingUsageRequests: 1,
			unpricedModels: [],
			uncleanStop: null,
		})
	})

	it('offers the filter values of every day, sorted, and says which absent values occur', async () => {
		await using test = await openTestStore(backend)
		const { reports, bob, keys } = await seed(test.store)
		expect(await reports.filterOptions(EVERYONE)).toEqual({
			models: ['example/free', 'ollama/llama3.2', 'openai/gpt-4o', 'openai/gpt-4o-mini'],
			tiers: ['complex', 'simple'],
			keys: [
				{ id: keys.aliceApp, name: 'alice-app' },
				{ id: keys.aliceCli, name: 'alice-cli' },
				{ id: keys.bobApp, name: 'bob-app' },
				{ id: keys.gone, name: 'key 999' },
			],
			unanswered: true,
			untiered: true,
			untieredUnanswered: true,
		})
		expect(await reports.filterOptions({ userId: bob })).toEqual({
			models: ['example/free', 'ollama/llama3.2'],
			tiers: ['complex'],
			keys: [
				{ id: keys.bobApp, name: 'bob-app' },
				{ id: keys.gone, name: 'key 999' },
			],
			unanswered: false,
			untiered: true,
			untieredUnanswered: false,
		})
		expect(await reports.filterOptions({ userId: bob + 100 })).toEqual({
			models: [],
			tiers: [],
			keys: [],
			unanswered: false,
			untiered: false,
			untieredUnanswered: false,
		})
	})

	it('draws a day by the hour from the log, keeping to the rows begun that day', async () => {
		await using test = await openTestStore(backend)
		const { reports, alice, bob } = await seed(test.store)
		const { db, tables } = test.store
		// In the order the log wrote them: a long stream begun before midnight lands after the day's first row,
		// and yesterday's last row (and tomorrow's first) may come late.
		await db
			.insert(tables.requestLog)
			.values([
				logRow(alice, at(-30), 4),
				logRow(alice, at(0, 5), 0.01),
				logRow(alice, at(0, -10), 8),
				logRow(alice, at(3, 10), 0.02, 502, 300),
				logRow(bob, at(3, 30), 1, 404),
				logRow(alice, at(23, 59), 0.5),
				logRow(alice, at(24, 1), 16),
				logRow(alice, at(-1), 32),
			])
		const hours = await reports.hourly(EVERYONE, DAY, START + DAY_MS + HOUR_MS)
		expect(hours.map((row) => row.key)).toEqual(
			Array.from({ length: 24 }, (_, hour) => at(hour).toISOString()),
		)
		const costs = Array.from({ length: 24 }, () => 0)
		costs[0] = 0.01
		costs[3] = 1.02
		costs[23] = 0.5
		expect(hours.map((row) => row.costUsd)).toEqual(costs)
		expect(hours[3]).toEqual({
			key: '2026-12-03T03:00:00.000Z',
			requests: 2,
			costUsd: 1.02,
			baselineCostUsd: 3.06,
			promptTokens: 20,
			completionTokens: 10,
			avgLatencyMs: 200,
		})
		expect(hours[4]).toEqual({
			key: '2026-12-03T04:00:00.000Z',
			requests: 0,
			costUsd: 0,
			baselineCostUsd: 0,
			promptTokens: 0,
			completionTokens: 0,
			avgLatencyMs: 0,
		})
		const alices = await reports.hourly({ userId: alice }, DAY, at(3, 30).getTime())
		expect(alices.map((row) => [row.requests, row.costUsd])).toEqual([
			[1, 0.01],
			[0, 0],
			[0, 0],
			[1, 0.02],
		])
		expect(await reports.hourly(EVERYONE, DAY, START - 1)).toEqual([])
	})
})

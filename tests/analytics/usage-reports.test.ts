import { describe, expect, it } from 'bun:test'
import { HOUR_MS } from '../../src/analytics/usage-reports'
import type { RequestLogEntry } from '../../src/request-log/request-log'
import { DAY_MS, utcDay } from '../../src/request-log/rollup'
import { makeApp, signupUser } from '../helpers/app'

/** A past UTC day, so that every hour of it is known; "now" is set within it where a test needs. */
const DAY = utcDay(Date.parse('2026-12-03T00:00:00Z'))
const START = DAY * DAY_MS
const at = (hour: number, minute = 0) => new Date(START + hour * HOUR_MS + minute * 60_000)

async function twoUsers() {
	const t = await makeApp()
	const one = await signupUser(t, 'one@example.com')
	const two = await signupUser(t, 'two@example.com')
	const oneKey = (await t.deps.gatewayKeys.create(one.user.id, 'one')).id
	const twoKey = (await t.deps.gatewayKeys.create(two.user.id, 'two')).id
	const record = (
		user: 'one' | 'two',
		createdAt: Date,
		costUsd: number,
		over: Partial<RequestLogEntry> = {},
	) =>
		t.deps.requestLog.record({
			requestId: crypto.randomUUID(),
			createdAt,
			userId: user === 'one' ? one.user.id : two.user.id,
			keyId: user === 'one' ? oneKey : twoKey,
			requestedModel: 'auto',
			model: 'openai/gpt-4o-mini',
			provider: 'openai',
			tier: 'simple',
			rule: 'short-chat',
			status: 200,
			attempts: [],
			promptTokens: 10,
			completionTokens: 5,
			usageReported: true,
			costUsd,
			baselineCostUsd: costUsd * 3,
			latencyMs: 100,
			...over,
		})
	return { t, oneId: one.user.id, record }
}

const costs = (rows: { costUsd: number }[]) => rows.map((row) => row.costUsd)

describe('UsageReports.hourly', () => {
	it('puts requests at known hours in their hourly buckets, one row per hour begun, zeros included', async () => {
		const { t, oneId, record } = await twoUsers()
		await using _ = t
		record('one', at(0, 1), 0.01)
		record('one', at(3, 10), 0.02)
		record('one', at(3, 59), 0.04, { status: 502, model: null, provider: null, latencyMs: 300 })
		record('two', at(3, 30), 1)
		record('one', at(14, 20), 0.08)
		await t.deps.requestLog.flush()
		const now = at(14, 30).getTime()
		const everyone = await t.deps.analytics.hourly({ userId: null }, DAY, now)
		expect(everyone.map((row) => row.key)).toEqual(
			Array.from({ length: 15 }, (_, hour) => at(hour).toISOString()),
		)
		expect(costs(everyone)).toEqual([0.01, 0, 0, 1.06, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0.08])
		const mine = await t.deps.analytics.hourly({ userId: oneId }, DAY, now)
		expect(mine[3]).toEqual({
			key: '2026-12-03T03:00:00.000Z',
			requests: 2,
			costUsd: 0.06,
			baselineCostUsd: 0.18,
			promptTokens: 20,
			completionTokens: 10,
			avgLatencyMs: 200,
		})
		expect(mine[0]).toMatchObject({ requests: 1, costUsd: 0.01 })
		expect(mine[1]).toMatchObject({ requests: 0, costUsd: 0, avgLatencyMs: 0 })
	})

	it('gives a whole past day 24 hours, and a day that has not begun none', async () => {
		const { t, record } = await twoUsers()
		await using _ = t
		record('one', at(23, 59), 0.5)
		await t.deps.requestLog.flush()
		const hours = await t.deps.analytics.hourly({ userId: null }, DAY, START + 3 * DAY_MS)
		expect(hours).toHaveLength(24)
		expect(hours[23]?.costUsd).toBe(0.5)
		// Its first minute already has a point of its own: the chart is never empty while the day is on.
		expect(await t.deps.analytics.hourly({ userId: null }, DAY, START)).toHaveLength(1)
		expect(await t.deps.analytics.hourly({ userId: null }, DAY, START - 1)).toEqual([])
	})

	it('keeps the day to its own requests, whatever order the log wrote them in', async () => {
		const { t, record } = await twoUsers()
		await using _ = t
		record('one', at(-30), 4)
		// Begun before midnight, written after the day's first request: a long stream.
		record('one', at(0, 5), 0.01)
		record('one', at(0, -10), 8)
		record('one', at(1), 0.02)
		// Tomorrow's first request, and yesterday's last one written (very) late.
		record('one', at(24, 1), 16)
		record('one', at(-1), 32)
		await t.deps.requestLog.flush()
		const hours = await t.deps.analytics.hourly({ userId: null }, DAY, START + DAY_MS + HOUR_MS)
		expect(hours.reduce((sum, row) => sum + row.requests, 0)).toBe(2)
		expect(costs(hours).slice(0, 3)).toEqual([0.01, 0.02, 0])
	})

	it('adds up to the day of the daily totals', async () => {
		const { t, record } = await twoUsers()
		await using _ = t
		for (let i = 0; i < 48; i++) record(i % 2 ? 'one' : 'two', at(Math.floor(i / 2), i), 0.001 * (i + 1))
		await t.deps.requestLog.flush()
		const window = { days: 1, firstDay: DAY, lastDay: DAY }
		const [daily] = await t.deps.analytics.breakdown({ userId: null }, 'day', window)
		const hours = await t.deps.analytics.hourly({ userId: null }, DAY, START + DAY_MS)
		const sum = (field: 'requests' | 'costUsd' | 'baselineCostUsd' | 'promptTokens') =>
			hours.reduce((total, row) => total + row[field], 0)
		expect(sum('requests')).toBe(daily?.requests ?? -1)
		expect(sum('costUsd')).toBeCloseTo(daily?.costUsd ?? -1, 10)
		expect(sum('baselineCostUsd')).toBeCloseTo(daily?.baselineCostUsd ?? -1, 10)
		expect(sum('promptTokens')).toBe(daily?.promptTokens ?? -1)
	})
})

describe('UsageReports breakdowns without a tier or a model', () => {
	it('says null, and splits the tierless rows by whether a model answered', async () => {
		const { t, record } = await twoUsers()
		await using _ = t
		const named = { requestedModel: 'gpt-4o-mini', tier: null, rule: 'explicit' }
		record('one', at(1), 0.1)
		record('one', at(2), 0.2, named)
		record('one', at(3), 0, { ...named, model: null, provider: null, status: 502 })
		record('one', at(4), 0, {
			requestedModel: 'nope',
			model: null,
			provider: null,
			tier: null,
			rule: null,
			status: 404,
		})
		await t.deps.requestLog.flush()
		const window = { days: 1, firstDay: DAY, lastDay: DAY }
		const by = async (what: 'tier' | 'model' | 'provider') =>
			(await t.deps.analytics.breakdown({ userId: null }, what, window)).map(
				({ key, answered, requests }) => ({ key, answered, requests }),
			)
		expect(await by('tier')).toEqual([
			{ key: null, answered: true, requests: 1 },
			{ key: 'simple', answered: undefined, requests: 1 },
			{ key: null, answered: false, requests: 2 },
		])
		expect(await by('model')).toEqual([
			{ key: 'openai/gpt-4o-mini', answered: undefined, requests: 2 },
			{ key: null, answered: undefined, requests: 2 },
		])
		expect((await by('provider')).map((row) => row.key)).toEqual(['openai', null])
		expect(await t.deps.analytics.filterOptions({ userId: null })).toMatchObject({
			models: ['openai/gpt-4o-mini'],
			tiers: ['simple'],
			unanswered: true,
			untiered: true,
			untieredUnanswered: true,
		})
	})
})

import { describe, expect, it } from 'bun:test'
import type { RequestLogEntry } from '../../src/request-log/request-log'
import { DAY_MS, utcDay } from '../../src/request-log/rollup'
import { makeApp, signupUser } from '../helpers/app'

/** A past UTC day, so that every hour of it is known; "now" is set within it where a test needs. */
const DAY = utcDay(Date.parse('2026-12-03T00:00:00Z'))
const START = DAY * DAY_MS
const at = (hour: number, minute = 0) => new Date(START + hour * 3_600_000 + minute * 60_000)

async function twoUsers() {
	const t = await makeApp()
	const one = await signupUser(t, 'one@example.com')
	const two = await signupUser(t, 'two@example.com')
	const oneKey = t.deps.gatewayKeys.create(one.user.id, 'one').id
	const twoKey = t.deps.gatewayKeys.create(two.user.id, 'two').id
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
		const by = (what: 'tier' | 'model' | 'provider') =>
			t.deps.analytics
				.breakdown({ userId: null }, what, window)
				.map(({ key, answered, requests }) => ({ key, answered, requests }))
		expect(by('tier')).toEqual([
			{ key: null, answered: true, requests: 1 },
			{ key: 'simple', answered: undefined, requests: 1 },
			{ key: null, answered: false, requests: 2 },
		])
		expect(by('model')).toEqual([
			{ key: 'openai/gpt-4o-mini', answered: undefined, requests: 2 },
			{ key: null, answered: undefined, requests: 2 },
		])
		expect(by('provider').map((row) => row.key)).toEqual(['openai', null])
		expect(t.deps.analytics.filterOptions({ userId: null })).toMatchObject({
			models: ['openai/gpt-4o-mini'],
			tiers: ['simple'],
			unanswered: true,
			untiered: true,
			untieredUnanswered: true,
		})
	})
})

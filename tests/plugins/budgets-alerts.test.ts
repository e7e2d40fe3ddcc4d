import { describe, expect, it } from 'bun:test'
import type { Budget } from '../../src/budgets/ledger'
import { makeApp, type SignedUp, signupUser, type TestApp } from '../helpers/app'
import { BACKENDS } from '../helpers/stores'

interface AlertRow {
	budgetId: number
	scope: string
	scopeId: number
	window: string
	threshold: number
	limitUsd: number
	spentUsd: number
	windowStart: string
	resetsAt: string | null
	createdAt: string
	notifiedAt: string | null
	attempts: number
	lastError: string | null
	delivery: string
}

interface ErrorAnswer {
	error: { message: string; type: string; param: string | null }
}

const HOSTILE = '</li><script>alert(1)</script><img src=x onerror=alert(2)>'

async function createKey(t: TestApp, token: string, name: string) {
	const res = await t.call('POST', '/api/keys', { token, body: { name } })
	expect(res.status).toBe(201)
	return (await res.json()) as { id: number; key: string }
}

/**
 * Spends `usd` against `budget` as a request would: reserve (`reservedUsd`, less when the real cost is to
 * beat its reservation), settle, then the check that follows each request.
 */
async function spend(t: TestApp, budget: Budget, usd: number, at: number, reservedUsd = usd) {
	const requestId = crypto.randomUUID()
	const reserved = Math.round(reservedUsd * 1_000_000)
	expect(await t.deps.budgets.reserve(requestId, [budget], reserved, at, at + 60_000)).toEqual({ ok: true })
	await t.deps.budgets.settle(requestId, Math.round(usd * 1_000_000))
	await t.deps.budgetAlerts.check([budget], at)
}

async function onlyBudget(t: TestApp, scope: 'key' | 'user' | 'org', scopeId: number): Promise<Budget> {
	const [budget] = await t.deps.budgets.list({ scope, scopeId })
	if (!budget) throw new Error(`no ${scope} budget`)
	return budget
}

describe.each(BACKENDS)('GET /api/budget-alerts on %s', (backend) => {
	/**
	 * An admin and two developers. The developer's key has a $1 daily budget at 85 % (one alert), the other
	 * developer's key a $2 total budget spent past its limit (two alerts), and the organisation a $100 month
	 * with no alert.
	 */
	async function setup() {
		const t = await makeApp({}, { backend })
		const admin = await signupUser(t, 'admin@example.com')
		const dev = await signupUser(t, 'dev@example.com')
		const other = await signupUser(t, 'other@example.com')
		const devKey = await createKey(t, dev.token, 'dev app')
		const otherKey = await createKey(t, other.token, HOSTILE)
		const set = (who: SignedUp, id: number, budgets: unknown) =>
			t.call('PATCH', `/api/keys/${id}`, { token: who.token, body: { budgets } })
		expect((await set(dev, devKey.id, [{ window: 'day', usd: 1 }])).status).toBe(200)
		expect((await set(other, otherKey.id, [{ window: 'total', usd: 2 }])).status).toBe(200)
		await t.call('PUT', '/api/org/budgets', { token: admin.token, body: [{ window: 'month', usd: 100 }] })
		const now = Date.now()
		await spend(t, await onlyBudget(t, 'key', devKey.id), 0.85, now - 2000)
		await spend(t, await onlyBudget(t, 'key', otherKey.id), 1.7, now - 1000)
		await spend(t, await onlyBudget(t, 'key', otherKey.id), 0.5, now, 0.1)
		return { t, admin, dev, other, devKey, otherKey, now }
	}

	const get = async (t: TestApp, who: SignedUp, query = '') => {
		const res = await t.call('GET', `/api/budget-alerts${query}`, { token: who.token })
		expect(res.status).toBe(200)
		return (await res.json()) as AlertRow[]
	}

	it('answers a developer the alerts of the budgets they can see, in dollars, with the delivery state', async () => {
		const { t, dev, devKey } = await setup()
		await using _ = t
		const alerts = await get(t, dev)
		expect(alerts).toHaveLength(1)
		const [alert] = alerts
		expect(alert).toMatchObject({
			scope: 'key',
			scopeId: devKey.id,
			window: 'day',
			threshold: 80,
			limitUsd: 1,
			spentUsd: 0.85,
			notifiedAt: null,
			attempts: 0,
			lastError: null,
			// No BUDGET_WEBHOOK_URL in the test app: recorded, never sent.
			delivery: 'off',
		})
		expect(Date.parse(alert?.createdAt ?? '')).toBeGreaterThan(0)
		expect(alert?.windowStart).toEndWith('T00:00:00.000Z')
		expect(alert?.resetsAt).toEndWith('T00:00:00.000Z')
	})

	it('answers an admin everyone’s alerts newest first, and their own with scope=mine', async () => {
		const { t, admin, otherKey } = await setup()
		await using _ = t
		const all = await get(t, admin)
		expect(all.map((alert) => [alert.scopeId, alert.threshold])).toEqual([
			[otherKey.id, 100],
			[otherKey.id, 80],
			[expect.any(Number), 80],
		])
		expect(all[0]).toMatchObject({ window: 'total', limitUsd: 2, spentUsd: 2.2, resetsAt: null })
		expect(await get(t, admin, '?scope=all')).toEqual(all)
		expect(await get(t, admin, '?scope=mine')).toEqual([])
	})

	it('keeps other users’ alerts from a developer, and refuses them scope=all', async () => {
		const { t, other, dev, otherKey } = await setup()
		await using _ = t
		expect((await get(t, other)).map((alert) => alert.scopeId)).toEqual([otherKey.id, otherKey.id])
		const res = await t.call('GET', '/api/budget-alerts?scope=all', { token: dev.token })
		expect(res.status).toBe(403)
	})

	it('shows everyone the organisation’s alerts', async () => {
		const { t, admin, dev, other, now } = await setup()
		await using _ = t
		await spend(t, await onlyBudget(t, 'org', 0), 95, now + 1000)
		for (const who of [dev, other, admin]) {
			const [newest] = await get(t, who)
			expect(newest).toMatchObject({ scope: 'org', scopeId: 0, window: 'month', threshold: 80 })
		}
	})

	it('keeps to alerts since a time, and to a limit', async () => {
		const { t, admin, now } = await setup()
		await using _ = t
		const since = encodeURIComponent(new Date(now - 1500).toISOString())
		expect((await get(t, admin, `?since=${since}`)).map((alert) => alert.threshold)).toEqual([100, 80])
		expect(await get(t, admin, `?since=${new Date(now + 60_000).toISOString()}`)).toEqual([])
		expect((await get(t, admin, '?since=2026-01-01')).length).toBe(3)
		expect((await get(t, admin, '?limit=1')).map((alert) => alert.threshold)).toEqual([100])
	})

	it.each([
		['since=yesterday', 'since'],
		['since=2026-13-45T99:00:00Z', 'since'],
		['limit=0', 'limit'],
		['limit=501', 'limit'],
		['limit=few', 'limit'],
	])('answers 400 naming the parameter for %s', async (query, param) => {
		const t = await makeApp({}, { backend })
		await using _ = t
		const dev = await signupUser(t, 'dev@example.com')
		const res = await t.call('GET', `/api/budget-alerts?${query}`, { token: dev.token })
		expect(res.status).toBe(400)
		expect(((await res.json()) as ErrorAnswer).error.param).toBe(param)
	})

	it('answers 401 without a session', async () => {
		const t = await makeApp({}, { backend })
		await using _ = t
		expect((await t.call('GET', '/api/budget-alerts')).status).toBe(401)
	})

	it('lists the recent alerts on the overview’s budget card, the budget’s name escaped', async () => {
		const { t, admin, dev } = await setup()
		await using _ = t
		const card = async (who: SignedUp) =>
			(await t.call('GET', '/budgets/status', { token: who.token, headers: { 'hx-request': 'true' } })).text()
		const mine = await card(dev)
		expect(mine).toContain('<h3>Recent alerts</h3>')
		expect(mine).toContain('<span class="budget-alert-threshold">80 %</span>')
		expect(mine).toContain('Key dev app · daily budget of ')
		expect(mine).toContain('$0.85 of $1.00')
		expect(mine).toContain('no webhook configured')
		expect(mine).not.toContain('other@example.com')
		const everyone = await card(admin)
		expect(everyone).toContain('data-threshold="100"')
		expect(everyone).toContain(
			'Key &lt;/li&gt;&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt; (other@example.com) · total budget',
		)
		expect(everyone).not.toContain('<script>')
		expect(everyone).not.toContain('<img src=x')
	})
})

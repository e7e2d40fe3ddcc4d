import { describe, expect, it } from 'bun:test'
import { windowOf } from '../../src/analytics/scope'
import type { RequestLogEntry } from '../../src/request-log/request-log'
import { DAY_MS } from '../../src/request-log/rollup'
import { makeApp, signupUser, type TestApp } from '../helpers/app'

const NOW = Date.now()
const today = new Date(NOW)
const daysAgo = (n: number) => new Date(NOW - n * DAY_MS)
const isoDay = (date: Date) => date.toISOString().slice(0, 10)

function entry(over: Partial<RequestLogEntry> & Pick<RequestLogEntry, 'userId' | 'keyId'>): RequestLogEntry {
	return {
		requestId: crypto.randomUUID(),
		createdAt: today,
		requestedModel: 'auto',
		model: 'openai/gpt-4o-mini',
		provider: 'openai',
		tier: 'simple',
		rule: 'short-chat',
		status: 200,
		attempts: [],
		usageReported: true,
		latencyMs: 10,
		...over,
	}
}

interface Fixture {
	t: TestApp
	admin: string
	dev: string
	other: string
	devId: number
	otherId: number
	devKey: number
	otherKey: number
}

/**
 * Two developers' requests, by hand: dev has 4 in the last 7 days (one failed) and 1 older; the other
 * user has 2 today. All costs and latencies are chosen so the totals can be checked by eye.
 */
async function fixture(): Promise<Fixture> {
	const t = await makeApp()
	const admin = await signupUser(t, 'admin@example.com')
	const dev = await signupUser(t, 'dev@example.com')
	const other = await signupUser(t, 'other@example.com')
	const devKey = (await t.deps.gatewayKeys.create(dev.user.id, 'dev-app')).id
	const otherKey = (await t.deps.gatewayKeys.create(other.user.id, 'other-app')).id
	const log = t.deps.requestLog
	const d = { userId: dev.user.id, keyId: devKey }
	log.record(
		entry({
			...d,
			promptTokens: 100,
			completionTokens: 50,
			costUsd: 0.01,
			baselineCostUsd: 0.04,
			latencyMs: 10,
		}),
	)
	log.record(
		entry({
			...d,
			promptTokens: 200,
			completionTokens: 100,
			costUsd: 0.02,
			baselineCostUsd: 0.05,
			latencyMs: 20,
		}),
	)
	log.record(
		entry({
			...d,
			createdAt: daysAgo(2),
			model: 'anthropic/claude-sonnet-5-5',
			provider: 'anthropic',
			tier: 'medium',
			promptTokens: 1000,
			completionTokens: 500,
			costUsd: 0.1,
			baselineCostUsd: 0.2,
			latencyMs: 30,
		}),
	)
	log.record(
		entry({
			...d,
			createdAt: daysAgo(3),
			model: null,
			provider: null,
			tier: null,
			status: 502,
			usageReported: false,
			latencyMs: 40,
		}),
	)
	log.record(entry({ ...d, createdAt: daysAgo(20), costUsd: 5, baselineCostUsd: 5, latencyMs: 99 }))
	const o = { userId: other.user.id, keyId: otherKey }
	log.record(
		entry({ ...o, promptTokens: 10, completionTokens: 10, costUsd: 1, baselineCostUsd: 1, latencyMs: 50 }),
	)
	log.record(
		entry({ ...o, promptTokens: 10, completionTokens: 10, costUsd: 1, baselineCostUsd: 1, latencyMs: 60 }),
	)
	await log.flush()
	return {
		t,
		admin: admin.token,
		dev: dev.token,
		other: other.token,
		devId: dev.user.id,
		otherId: other.user.id,
		devKey,
		otherKey,
	}
}

async function json<T>(t: TestApp, path: string, token: string): Promise<T> {
	const res = await t.call('GET', path, { token })
	expect(res.status).toBe(200)
	return (await res.json()) as T
}

describe('GET /api/analytics/overview', () => {
	it("totals a developer's own requests in the window, checked against the hand-computed fixture", async () => {
		const f = await fixture()
		await using _ = f.t
		const overview = await json<Record<string, number>>(f.t, '/api/analytics/overview?days=7', f.dev)
		expect(overview.requests).toBe(4)
		expect(overview.errors).toBe(1)
		expect(overview.costUsd).toBeCloseTo(0.13, 10)
		expect(overview.baselineCostUsd).toBeCloseTo(0.29, 10)
		expect(overview.savingsUsd).toBeCloseTo(0.16, 10)
		expect(overview.promptTokens).toBe(1300)
		expect(overview.completionTokens).toBe(650)
		// (10 + 20 + 30 + 40) / 4
		expect(overview.avgLatencyMs).toBe(25)
		// Nearest rank: ceil(0.95 × 4) = 4th of 10, 20, 30, 40.
		expect(overview.p95LatencyMs).toBe(40)
		const today1 = await json<Record<string, number>>(f.t, '/api/analytics/overview?days=1', f.dev)
		expect(today1).toMatchObject({ requests: 2, errors: 0, promptTokens: 300, p95LatencyMs: 20 })
		const month = await json<Record<string, number>>(f.t, '/api/analytics/overview?days=30', f.dev)
		expect(month.requests).toBe(5)
	})

	it('adds everyone for an admin with scope=all, and refuses developers 403', async () => {
		const f = await fixture()
		await using _ = f.t
		const all = await json<Record<string, number>>(f.t, '/api/analytics/overview?days=7&scope=all', f.admin)
		expect(all.requests).toBe(6)
		expect(all.costUsd).toBeCloseTo(2.13, 10)
		const mine = await json<Record<string, number>>(f.t, '/api/analytics/overview?days=7', f.admin)
		expect(mine.requests).toBe(0)
		expect((await f.t.call('GET', '/api/analytics/overview?scope=all', { token: f.dev })).status).toBe(403)
	})

	it.each(['0', '91', '1.5', 'week', '-3'])('answers 400 for days=%s', async (days) => {
		const f = await fixture()
		await using _ = f.t
		const res = await f.t.call('GET', `/api/analytics/overview?days=${days}`, { token: f.dev })
		expect(res.status).toBe(400)
		expect(((await res.json()) as { error: { param: string } }).error.param).toBe('days')
	})

	it('answers 401 without a session', async () => {
		const f = await fixture()
		await using _ = f.t
		expect((await f.t.call('GET', '/api/analytics/overview')).status).toBe(401)
	})

	it('counts the cache’s hits, its hit rate and what it saved, keeping every other figure', async () => {
		const f = await fixture()
		await using _ = f.t
		const d = { userId: f.devId, keyId: f.devKey }
		// Answered from the cache: no usage, $0, and the cost of the answer it replayed as its saving.
		const hit = { ...d, usageReported: false, latencyMs: 1, cacheHit: true }
		f.t.deps.requestLog.record(entry({ ...hit, cacheSavedUsd: 0.02 }))
		f.t.deps.requestLog.record(entry({ ...hit, createdAt: daysAgo(20), cacheSavedUsd: 3 }))
		const overview = await json<Record<string, number>>(f.t, '/api/analytics/overview?days=7', f.dev)
		expect(Object.keys(overview).sort()).toEqual(
			[
				'requests',
				'errors',
				'upstreamErrors',
				'costUsd',
				'baselineCostUsd',
				'savingsUsd',
				'promptTokens',
				'completionTokens',
				'avgLatencyMs',
				'p95LatencyMs',
				'cacheHits',
				'cacheHitRate',
				'cacheSavingsUsd',
			].sort(),
		)
		expect(overview).toMatchObject({ requests: 5, cacheHits: 1, cacheHitRate: 0.2, cacheSavingsUsd: 0.02 })
		// A hit costs nothing and saves nothing by routing: spend and savings are as before.
		expect(overview.costUsd).toBeCloseTo(0.13, 10)
		expect(overview.savingsUsd).toBeCloseTo(0.16, 10)
		const month = await json<Record<string, number>>(f.t, '/api/analytics/overview?days=30', f.dev)
		expect(month).toMatchObject({ requests: 7, cacheHits: 2, cacheSavingsUsd: 3.02 })
		expect(month.cacheHitRate).toBeCloseTo(2 / 7, 5)
		const all = await json<Record<string, number>>(f.t, '/api/analytics/overview?days=7&scope=all', f.admin)
		expect(all).toMatchObject({ requests: 7, cacheHits: 1 })
		expect(all.cacheHitRate).toBeCloseTo(1 / 7, 5)
		const integrity = await json<Record<string, unknown>>(f.t, '/api/analytics/integrity?days=7', f.dev)
		// The hit has no usage because no upstream was asked: not an answer that lost its usage.
		expect(integrity.missingUsageRequests).toBe(0)
	})
})

describe('GET /api/analytics/breakdown', () => {
	it('has a row for every UTC day of the window, zeros included, oldest first', async () => {
		const f = await fixture()
		await using _ = f.t
		const { by, rows } = await json<{ by: string; rows: Record<string, number | string>[] }>(
			f.t,
			'/api/analytics/breakdown?by=day&days=7',
			f.dev,
		)
		expect(by).toBe('day')
		expect(rows.map((row) => row.key)).toEqual([6, 5, 4, 3, 2, 1, 0].map((n) => isoDay(daysAgo(n))))
		const byKey = Object.fromEntries(rows.map((row) => [row.key, row]))
		expect(byKey[isoDay(today)]).toMatchObject({
			requests: 2,
			promptTokens: 300,
			completionTokens: 150,
			avgLatencyMs: 15,
		})
		expect(byKey[isoDay(daysAgo(2))]).toMatchObject({ requests: 1, costUsd: 0.1 })
		expect(byKey[isoDay(daysAgo(1))]).toEqual({
			key: isoDay(daysAgo(1)),
			requests: 0,
			costUsd: 0,
			baselineCostUsd: 0,
			promptTokens: 0,
			completionTokens: 0,
			avgLatencyMs: 0,
		})
	})

	it.each([
		// The failed request: no model answered it, so it has no provider, and it had no tier. Null, as in the log.
		['model', ['anthropic/claude-sonnet-5-5', 'openai/gpt-4o-mini', null]],
		['provider', ['anthropic', 'openai', null]],
		['tier', ['medium', 'simple', null]],
	])('groups by %s', async (by, keys) => {
		const f = await fixture()
		await using _ = f.t
		const { rows } = await json<{ rows: { key: string | null }[] }>(
			f.t,
			`/api/analytics/breakdown?by=${by}&days=7`,
			f.dev,
		)
		expect(rows.map((row) => row.key)).toEqual(keys)
	})

	it('groups by key with the key name, and everyone for an admin', async () => {
		const f = await fixture()
		await using _ = f.t
		const { rows } = await json<{ rows: { key: string; keyId: number; requests: number }[] }>(
			f.t,
			'/api/analytics/breakdown?by=key&days=7&scope=all',
			f.admin,
		)
		expect(rows.map((row) => [row.key, row.keyId, row.requests])).toEqual([
			['other-app', f.otherKey, 2],
			['dev-app', f.devKey, 4],
		])
	})

	it('answers 400 for an unknown grouping, and groups by day when none is given', async () => {
		const f = await fixture()
		await using _ = f.t
		const res = await f.t.call('GET', '/api/analytics/breakdown?by=colour', { token: f.dev })
		expect(res.status).toBe(400)
		expect(((await res.json()) as { error: { param: string } }).error.param).toBe('by')
		expect((await json<{ by: string }>(f.t, '/api/analytics/breakdown', f.dev)).by).toBe('day')
	})
})

describe('GET /api/requests', () => {
	it('lists own requests newest first with the SPEC fields, never the text', async () => {
		const f = await fixture()
		await using _ = f.t
		const rows = await json<Record<string, unknown>[]>(f.t, '/api/requests', f.dev)
		expect(rows).toHaveLength(5)
		expect(rows.map((row) => row.id)).toEqual([5, 4, 3, 2, 1])
		expect(rows[4]).toEqual({
			id: 1,
			createdAt: today.toISOString(),
			door: 'chat',
			keyName: 'dev-app',
			userEmail: 'dev@example.com',
			requestedModel: 'auto',
			model: 'openai/gpt-4o-mini',
			provider: 'openai',
			tier: 'simple',
			rule: 'short-chat',
			status: 200,
			promptTokens: 100,
			completionTokens: 50,
			costUsd: 0.01,
			latencyMs: 10,
			attempts: [],
			error: null,
			cacheHit: false,
			cacheSavedUsd: 0,
		})
	})

	it('marks a request the cache answered, with what it saved, in the list and in its detail', async () => {
		const f = await fixture()
		await using _ = f.t
		f.t.deps.requestLog.record(
			entry({ userId: f.devId, keyId: f.devKey, usageReported: false, cacheHit: true, cacheSavedUsd: 0.02 }),
		)
		const [hit] = await json<Record<string, unknown>[]>(f.t, '/api/requests?limit=1', f.dev)
		expect(hit).toMatchObject({ costUsd: 0, cacheHit: true, cacheSavedUsd: 0.02 })
		const detail = await json<Record<string, unknown>>(f.t, `/api/requests/${hit?.id}`, f.dev)
		expect(detail).toMatchObject({ cacheHit: true, cacheSavedUsd: 0.02 })
		const page = await f.t.call('GET', `/requests/${hit?.id}`, { token: f.dev })
		expect(await page.text()).toContain('<dt>Cache</dt><dd>Answered from the cache, saving $0.02</dd>')
	})

	it('pages with a cursor', async () => {
		const f = await fixture()
		await using _ = f.t
		const first = await f.t.call('GET', '/api/requests?limit=2', { token: f.dev })
		const page1 = (await first.json()) as { id: number }[]
		expect(page1.map((row) => row.id)).toEqual([5, 4])
		expect(first.headers.get('x-next-before')).toBe('4')
		const page2 = await json<{ id: number }[]>(f.t, '/api/requests?limit=2&before=4', f.dev)
		expect(page2.map((row) => row.id)).toEqual([3, 2])
		const page3 = await json<{ id: number }[]>(f.t, '/api/requests?limit=2&before=2', f.dev)
		expect(page3.map((row) => row.id)).toEqual([1])
	})

	it.each([
		['status=502', [4]],
		['status=error', [4]],
		['status=ok', [5, 3, 2, 1]],
		['model=anthropic/claude-sonnet-5-5', [3]],
		['tier=simple', [5, 2, 1]],
	])('filters by %s', async (filter, ids) => {
		const f = await fixture()
		await using _ = f.t
		const rows = await json<{ id: number }[]>(f.t, `/api/requests?${filter}`, f.dev)
		expect(rows.map((row) => row.id)).toEqual(ids)
	})

	it('filters by key, and never shows another user rows, even by guessing ids', async () => {
		const f = await fixture()
		await using _ = f.t
		expect(await json<unknown[]>(f.t, `/api/requests?key=${f.otherKey}`, f.dev)).toEqual([])
		expect((await json<unknown[]>(f.t, `/api/requests?key=${f.devKey}`, f.dev)).length).toBe(5)
		expect((await f.t.call('GET', '/api/requests/6', { token: f.dev })).status).toBe(404)
		expect((await f.t.call('GET', '/api/requests/6', { token: f.other })).status).toBe(200)
		expect((await f.t.call('GET', '/api/requests?scope=all', { token: f.dev })).status).toBe(403)
		const everyone = await json<{ id: number }[]>(f.t, '/api/requests?scope=all', f.admin)
		expect(everyone.map((row) => row.id)).toEqual([7, 6, 5, 4, 3, 2, 1])
		expect((await f.t.call('GET', '/api/requests/6', { token: f.admin })).status).toBe(404)
		expect((await f.t.call('GET', '/api/requests/6?scope=all', { token: f.admin })).status).toBe(200)
	})

	it.each(['limit=0', 'limit=500', 'before=abc', 'status=teapot', 'key=x', 'door=fax'])(
		'answers 400 for %s',
		async (query) => {
			const f = await fixture()
			await using _ = f.t
			expect((await f.t.call('GET', `/api/requests?${query}`, { token: f.dev })).status).toBe(400)
		},
	)

	it('gives one request in detail', async () => {
		const f = await fixture()
		await using _ = f.t
		const detail = await json<Record<string, unknown>>(f.t, '/api/requests/3', f.dev)
		expect(detail).toMatchObject({
			id: 3,
			door: 'chat',
			pin: null,
			model: 'anthropic/claude-sonnet-5-5',
			tier: 'medium',
			baselineCostUsd: 0.2,
		})
	})
})

describe('doors and session pins on the requests API and pages', () => {
	const PIN = 'session header s-123: pinned to anthropic/claude-sonnet-5-5 (tier hard) at 12:03:44Z'

	/** Today: a chat request (1), a pinned Messages request (2), a Responses one (3) and an embedding (4). */
	async function doors() {
		const t = await makeApp()
		const { token, user } = await signupUser(t, 'dev@example.com')
		const keyId = (await t.deps.gatewayKeys.create(user.id, 'app')).id
		const d = { userId: user.id, keyId }
		t.deps.requestLog.record(entry(d))
		t.deps.requestLog.record(
			entry({ ...d, door: 'messages', pin: PIN, model: 'anthropic/claude-sonnet-5-5', tier: 'hard' }),
		)
		t.deps.requestLog.record(entry({ ...d, door: 'responses' }))
		t.deps.requestLog.record(
			entry({
				...d,
				door: 'embeddings',
				requestedModel: 'text-embedding-3-small',
				tier: null,
				rule: 'explicit',
			}),
		)
		await t.deps.requestLog.flush()
		return { t, token }
	}

	it('gives each request’s door in the list, and its door and pin in the detail', async () => {
		const { t, token } = await doors()
		await using _ = t
		const rows = await json<{ id: number; door: string }[]>(t, '/api/requests', token)
		expect(rows.map(({ id, door }) => ({ id, door }))).toEqual([
			{ id: 4, door: 'embeddings' },
			{ id: 3, door: 'responses' },
			{ id: 2, door: 'messages' },
			{ id: 1, door: 'chat' },
		])
		expect(await json<object>(t, '/api/requests/2', token)).toMatchObject({
			id: 2,
			door: 'messages',
			pin: PIN,
		})
		expect(await json<object>(t, '/api/requests/1', token)).toMatchObject({ id: 1, door: 'chat', pin: null })
	})

	it.each([
		['door=messages', [2]],
		['door=chat', [1]],
		['door=', [4, 3, 2, 1]],
		['door=responses&tier=simple', [3]],
	])('filters /api/requests by %s', async (filter, ids) => {
		const { t, token } = await doors()
		await using _ = t
		const rows = await json<{ id: number }[]>(t, `/api/requests?${filter}`, token)
		expect(rows.map((row) => row.id)).toEqual(ids)
	})

	it('shows the door column on the requests page, filters it, and the door and pin on a request’s page', async () => {
		const { t, token } = await doors()
		await using _ = t
		const page = await (await t.call('GET', '/requests', { token })).text()
		expect(
			[...page.matchAll(/<td data-label="API"><span [^>]*>([^<]*)<\/span><\/td>/g)].map((m) => m[1]),
		).toEqual(['embeddings', 'responses', 'messages', 'chat'])
		expect(page).toContain('<select name="door">')
		const filtered = await (
			await t.call('GET', '/requests?door=messages', { token, headers: { 'hx-request': 'true' } })
		).text()
		expect([...filtered.matchAll(/href="\/requests\/(\d+)"/g)].map((m) => m[1])).toEqual(['2'])
		const detail = await (await t.call('GET', '/requests/2', { token })).text()
		expect(detail).toContain('<dt>API</dt><dd>POST /v1/messages (messages)</dd>')
		expect(detail).toContain(`<dt>Session pin</dt><dd>${PIN}</dd>`)
		const unpinned = await (await t.call('GET', '/requests/1', { token })).text()
		expect(unpinned).toContain('<dt>API</dt><dd>POST /v1/chat/completions (chat)</dd>')
		expect(unpinned).not.toContain('Session pin')
	})
})

/**
 * Today, one request of each route: routed (1), named its model (2), named a model that failed (3), and
 * refused before routing (4, an unknown model).
 */
async function routes() {
	const t = await makeApp()
	const { token, user } = await signupUser(t, 'dev@example.com')
	const keyId = (await t.deps.gatewayKeys.create(user.id, 'app')).id
	const d = { userId: user.id, keyId }
	const named = { requestedModel: 'gpt-4o-mini', tier: null, rule: 'explicit' }
	const none = { model: null, provider: null, usageReported: false }
	t.deps.requestLog.record(entry({ ...d, costUsd: 0.01, baselineCostUsd: 0.04 }))
	t.deps.requestLog.record(entry({ ...d, ...named, costUsd: 0.02, baselineCostUsd: 0.02 }))
	t.deps.requestLog.record(entry({ ...d, ...named, ...none, status: 502 }))
	t.deps.requestLog.record(
		entry({ ...d, ...none, requestedModel: 'no-such-model', tier: null, rule: null, status: 404 }),
	)
	await t.deps.requestLog.flush()
	return { t, token }
}

describe('routes without a tier or a model', () => {
	it.each([
		['tier=_explicit', [3, 2]],
		['tier=_before-routing', [4]],
		['model=_unanswered', [4, 3]],
		['tier=simple', [1]],
	])('filters /api/requests by %s', async (filter, ids) => {
		const { t, token } = await routes()
		await using _ = t
		const rows = await json<{ id: number }[]>(t, `/api/requests?${filter}`, token)
		expect(rows.map((row) => row.id)).toEqual(ids)
	})

	it('keeps null in the JSON: the words are the views’', async () => {
		const { t, token } = await routes()
		await using _ = t
		const rows = await json<{ id: number; tier: string | null; model: string | null }[]>(
			t,
			'/api/requests',
			token,
		)
		expect(rows.map(({ id, tier, model }) => ({ id, tier, model }))).toEqual([
			{ id: 4, tier: null, model: null },
			{ id: 3, tier: null, model: null },
			{ id: 2, tier: null, model: 'openai/gpt-4o-mini' },
			{ id: 1, tier: 'simple', model: 'openai/gpt-4o-mini' },
		])
		const { rows: tiers } = await json<{ rows: object[] }>(
			t,
			'/api/analytics/breakdown?by=tier&days=1',
			token,
		)
		expect(tiers).toMatchObject([
			{ key: null, answered: true, requests: 1 },
			{ key: 'simple', requests: 1 },
			{ key: null, answered: false, requests: 2 },
		])
	})

	it('names them on the overview’s breakdowns', async () => {
		const { t, token } = await routes()
		await using _ = t
		const page = await (await t.call('GET', '/?days=1', { token })).text()
		expect(page).toContain('<td data-label="Tier" class="absent">explicit</td>')
		expect(page).toContain(
			'<td data-label="Tier" class="absent">failed before routing, or named model failed</td>',
		)
		expect(page).toContain('<td data-label="Model" class="absent">no model answered</td>')
		expect(page).not.toContain('>none<')
	})

	it('names them in the request list and its filters, and the filters find them', async () => {
		const { t, token } = await routes()
		await using _ = t
		const page = await (await t.call('GET', '/requests', { token })).text()
		const tiers = [...page.matchAll(/<td data-label="Tier"[^>]*>([^<]*)<\/td>/g)].map((match) => match[1])
		expect(tiers).toEqual(['failed before routing', 'explicit', 'explicit', 'simple'])
		expect(page).toContain('<span class="absent">no model (failed before routing)</span>')
		expect(page).toContain('<span class="absent">no model answered</span>')
		expect(page).toContain('<option value="_explicit">explicit</option>')
		expect(page).toContain('<option value="_before-routing">failed before routing</option>')
		expect(page).toContain('<option value="_unanswered">no model answered</option>')
		const htmx = { 'hx-request': 'true' }
		const explicitOnly = await (
			await t.call('GET', '/requests?tier=_explicit', { token, headers: htmx })
		).text()
		expect([...explicitOnly.matchAll(/href="\/requests\/(\d+)"/g)].map((match) => match[1])).toEqual([
			'3',
			'2',
		])
	})

	it.each([
		[1, 'simple', 'openai/gpt-4o-mini (?)'],
		[2, 'explicit', 'openai/gpt-4o-mini (?)'],
		[3, 'explicit', 'no model answered'],
		[4, 'failed before routing', 'no model (failed before routing)'],
	])('names them in the detail of request %d', async (id, tier, answeredBy) => {
		const { t, token } = await routes()
		await using _ = t
		const page = await (await t.call('GET', `/requests/${id}`, { token })).text()
		expect(page).toContain(`<dt>Tier</dt><dd>${tier}</dd>`)
		expect(page).toContain(`<dt>Answered by</dt><dd>${answeredBy}</dd>`)
	})
})

describe('the overview chart', () => {
	/** The series the page hands the chart (`data-series`). */
	async function series(t: TestApp, token: string, days: number) {
		const page = await (await t.call('GET', `/?days=${days}`, { token })).text()
		const [, attribute = ''] = /data-series="([^"]*)"/.exec(page) ?? []
		return JSON.parse(attribute.replaceAll('&#34;', '"')) as {
			labels: string[]
			cost: (number | null)[]
			baseline: (number | null)[]
		}
	}

	it('draws Today by the hour: 24 hours, each request in its hour, nothing after now', async () => {
		const t = await makeApp()
		await using _ = t
		const { token, user } = await signupUser(t, 'dev@example.com')
		const keyId = (await t.deps.gatewayKeys.create(user.id, 'app')).id
		const now = Date.now()
		const midnight = Math.floor(now / DAY_MS) * DAY_MS
		const hour = Math.floor((now - midnight) / 3_600_000)
		// Midnight exactly, and the current minute: the first and the last hour drawn.
		t.deps.requestLog.record(entry({ userId: user.id, keyId, createdAt: new Date(midnight), costUsd: 0.25 }))
		t.deps.requestLog.record(entry({ userId: user.id, keyId, createdAt: new Date(now), costUsd: 0.5 }))
		t.deps.requestLog.record(
			entry({ userId: user.id, keyId, createdAt: new Date(midnight - 60_000), costUsd: 8 }),
		)
		await t.deps.requestLog.flush()
		const today = await series(t, token, 1)
		expect(today.labels).toEqual(Array.from({ length: 24 }, (_, h) => `${String(h).padStart(2, '0')}:00`))
		const expected: (number | null)[] = Array.from({ length: 24 }, (_, h) => (h <= hour ? 0 : null))
		expected[0] = 0.25
		expected[hour] = hour === 0 ? 0.75 : 0.5
		expect(today.cost).toEqual(expected)
		const week = await series(t, token, 7)
		expect(week.labels).toEqual([6, 5, 4, 3, 2, 1, 0].map((n) => isoDay(new Date(now - n * DAY_MS))))
		expect(week.cost.at(-1)).toBe(0.75)
		expect(week.cost.at(-2)).toBe(8)
	})
})

describe('GET /api/analytics/integrity', () => {
	it('flags tokens without cost and answers without usage; zero rows means none', async () => {
		const f = await fixture()
		await using _ = f.t
		expect(await json(f.t, '/api/analytics/integrity?days=7', f.dev)).toEqual({
			unpricedRequests: 0,
			missingUsageRequests: 0,
			unpricedModels: [],
			uncleanStop: null,
		})
		f.t.deps.requestLog.record(
			entry({
				userId: f.devId,
				keyId: f.devKey,
				model: 'ollama/llama3.2',
				promptTokens: 10,
				completionTokens: 5,
				costUsd: 0,
			}),
		)
		f.t.deps.requestLog.record(entry({ userId: f.devId, keyId: f.devKey, usageReported: false }))
		expect(await json(f.t, '/api/analytics/integrity?days=7', f.dev)).toEqual({
			unpricedRequests: 1,
			missingUsageRequests: 1,
			unpricedModels: ['ollama/llama3.2'],
			uncleanStop: null,
		})
	})

	it('reports an unclean stop of the last run while the period reaches the moment it was noticed', async () => {
		const f = await fixture()
		await using _ = f.t
		const stop = { startedAt: daysAgo(4).toISOString(), pid: 7, noticedAt: daysAgo(3).toISOString() }
		const integrity = (days: number) =>
			f.t.deps.analytics.integrity({ userId: null }, windowOf(days, NOW), stop)
		expect((await integrity(7)).uncleanStop).toEqual(stop)
		expect((await integrity(1)).uncleanStop).toBeNull()
	})
})

describe('log retention', () => {
	it('prunes rows and rollups older than LOG_RETENTION_DAYS, keeping the rest', async () => {
		const f = await fixture()
		await using _ = f.t
		const retention = new (await import('../../src/request-log/retention')).LogRetention(f.t.deps.store, 10)
		expect(await retention.prune()).toBe(1)
		const remaining = await json<{ id: number }[]>(f.t, '/api/requests', f.dev)
		expect(remaining.map((row) => row.id)).toEqual([4, 3, 2, 1])
		const month = await json<Record<string, number>>(f.t, '/api/analytics/overview?days=30', f.dev)
		expect(month.requests).toBe(4)
	})
})

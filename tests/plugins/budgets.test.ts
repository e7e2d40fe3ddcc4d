import { describe, expect, it } from 'bun:test'
import { makeApp, type SignedUp, signupUser, type TestApp } from '../helpers/app'
import { BACKENDS } from '../helpers/stores'

interface KeyAnswer {
	id: number
	name: string
	rpm: number | null
	rateLimitPerMinute: number | null
	budgets: { window: string; usd: number; spentUsd: number; reservedUsd: number; resetsAt: string | null }[]
}

interface BudgetRow {
	scope: string
	id: number
	window: string
	usd: number
	spentUsd: number
	reservedUsd: number
	remainingUsd: number
	percentSpent: number
	resetsAt: string | null
}

interface ErrorAnswer {
	error: { message: string; type: string; param: string | null; code: string | null }
}

async function createKey(t: TestApp, token: string, name: string) {
	const res = await t.call('POST', '/api/keys', { token, body: { name } })
	expect(res.status).toBe(201)
	return (await res.json()) as { id: number; key: string }
}

const nextUtcDay = (now = Date.now()) => {
	const at = new Date(now)
	return new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate() + 1)).toISOString()
}

describe.each(BACKENDS)('budgets JSON API on %s', (backend) => {
	/** An admin (the first account), a developer, and a key of each. */
	async function setup() {
		const t = await makeApp({}, { backend })
		const admin = await signupUser(t, 'admin@example.com')
		const dev = await signupUser(t, 'dev@example.com')
		const adminKey = await createKey(t, admin.token, 'admin app')
		const devKey = await createKey(t, dev.token, 'dev app')
		return { t, admin, dev, adminKey, devKey }
	}

	const patch = (t: TestApp, who: SignedUp, id: number, body: unknown, query = '') =>
		t.call('PATCH', `/api/keys/${id}${query}`, { token: who.token, body })

	it('sets a key’s budgets and rpm, answering the key with where each budget stands', async () => {
		const { t, dev, devKey } = await setup()
		await using _ = t
		const res = await patch(t, dev, devKey.id, {
			name: 'renamed',
			rpm: 60,
			budgets: [
				{ window: 'month', usd: 20 },
				{ window: 'day', usd: 1.5 },
				{ window: 'total', usd: 0.000001 },
			],
		})
		expect(res.status).toBe(200)
		const key = (await res.json()) as KeyAnswer
		expect(key).toEqual({
			id: devKey.id,
			ownerEmail: 'dev@example.com',
			name: 'renamed',
			prefix: expect.any(String),
			rateLimitPerMinute: 60,
			rpm: 60,
			tpm: null,
			concurrency: null,
			cacheTtlSeconds: null,
			createdAt: expect.any(String),
			lastUsedAt: null,
			revokedAt: null,
			budgets: [
				{ window: 'day', usd: 1.5, spentUsd: 0, reservedUsd: 0, resetsAt: nextUtcDay() },
				{ window: 'month', usd: 20, spentUsd: 0, reservedUsd: 0, resetsAt: expect.any(String) },
				{ window: 'total', usd: 0.000001, spentUsd: 0, reservedUsd: 0, resetsAt: null },
			],
		} as unknown as KeyAnswer)
		const principal = await t.deps.gatewayKeys.authenticate(devKey.key)
		expect(principal?.rateLimitPerMinute).toBe(60)
		expect(principal?.keyName).toBe('renamed')
	})

	it('replaces the key’s budgets with the list given, and clears them and the rpm with null', async () => {
		const { t, dev, devKey } = await setup()
		await using _ = t
		await patch(t, dev, devKey.id, { rpm: 10, budgets: [{ window: 'day', usd: 1 }] })
		// The cached lookup follows the change.
		expect((await t.deps.gatewayKeys.authenticate(devKey.key))?.rateLimitPerMinute).toBe(10)
		const replaced = (await (
			await patch(t, dev, devKey.id, { budgets: [{ window: 'month', usd: 3 }] })
		).json()) as KeyAnswer
		expect(replaced.budgets.map((budget) => [budget.window, budget.usd])).toEqual([['month', 3]])
		expect(replaced.rpm).toBe(10)
		const cleared = (await (await patch(t, dev, devKey.id, { budgets: null, rpm: null })).json()) as KeyAnswer
		expect([cleared.budgets, cleared.rpm, cleared.rateLimitPerMinute]).toEqual([[], null, null])
		expect((await t.deps.gatewayKeys.authenticate(devKey.key))?.rateLimitPerMinute).toBeNull()
		expect(await t.deps.budgets.list({ scope: 'key' })).toEqual([])
		// An empty body changes nothing and answers the key.
		const same = (await (await patch(t, dev, devKey.id, {})).json()) as KeyAnswer
		expect([same.name, same.budgets]).toEqual(['dev app', []])
	})

	it.each([
		[{ budgets: [{ window: 'day', usd: -1 }] }, 'budgets[0].usd'],
		[
			{
				budgets: [
					{ window: 'day', usd: 1 },
					{ window: 'week', usd: 1 },
				],
			},
			'budgets[1].window',
		],
		[{ budgets: [{ window: 'day', usd: 'ten' }] }, 'budgets[0].usd'],
		[{ budgets: [{ window: 'day', usd: 0.1234567 }] }, 'budgets[0].usd'],
		[{ budgets: [{ window: 'day', usd: 2_000_000_000 }] }, 'budgets[0].usd'],
		[
			{
				budgets: [
					{ window: 'day', usd: 1 },
					{ window: 'day', usd: 2 },
				],
			},
			'budgets[1].window',
		],
		[{ rpm: 0 }, 'rpm'],
		[{ rpm: 1.5 }, 'rpm'],
		[{ name: ' ' }, 'name'],
		[{ tpm: 0 }, 'tpm'],
		[{ concurrency: 1001 }, 'concurrency'],
		[{ cacheTtlSeconds: 'long' }, 'cacheTtlSeconds'],
	])('refuses %j with 400 and param %s, changing nothing', async (body, param) => {
		const { t, dev, devKey } = await setup()
		await using _ = t
		await patch(t, dev, devKey.id, { rpm: 5, budgets: [{ window: 'total', usd: 9 }] })
		const res = await patch(t, dev, devKey.id, { name: 'changed', ...body })
		expect(res.status).toBe(400)
		const { error } = (await res.json()) as ErrorAnswer
		expect([error.type, error.param]).toEqual(['invalid_request_error', param])
		const [key] = (await (await t.call('GET', '/api/keys', { token: dev.token })).json()) as KeyAnswer[]
		expect([key?.name, key?.rateLimitPerMinute]).toEqual(['dev app', 5])
		const budgets = await t.deps.budgets.list({ scope: 'key' })
		expect(budgets.map((budget) => [budget.window, budget.limitMicros])).toEqual([['total', 9_000_000]])
	})

	it('refuses a name another live key of the owner has, 409', async () => {
		const { t, dev, devKey } = await setup()
		await using _ = t
		await createKey(t, dev.token, 'taken')
		const res = await patch(t, dev, devKey.id, { name: 'taken' })
		expect(res.status).toBe(409)
		expect(((await res.json()) as ErrorAnswer).error.code).toBe('key_name_taken')
	})

	it('lets a developer patch only their own keys: another’s is 404, scope=all is 403', async () => {
		const { t, admin, dev, adminKey, devKey } = await setup()
		await using _ = t
		expect((await patch(t, dev, adminKey.id, { rpm: 1 })).status).toBe(404)
		expect((await patch(t, dev, adminKey.id, { rpm: 1 }, '?scope=all')).status).toBe(403)
		// An admin follows the same convention: another user's key needs scope=all.
		expect((await patch(t, admin, devKey.id, { rpm: 7 })).status).toBe(404)
		const res = await patch(
			t,
			admin,
			devKey.id,
			{ rpm: 7, budgets: [{ window: 'day', usd: 2 }] },
			'?scope=all',
		)
		expect(res.status).toBe(200)
		expect(((await res.json()) as KeyAnswer).rpm).toBe(7)
		expect((await patch(t, dev, 999, { rpm: 1 })).status).toBe(404)
		expect((await t.call('PATCH', `/api/keys/${devKey.id}`, { body: { rpm: 1 } })).status).toBe(401)
	})

	it('lists the budgets a developer may see: their keys’, their own and the organisation’s', async () => {
		const { t, admin, dev, adminKey, devKey } = await setup()
		await using _ = t
		await patch(t, dev, devKey.id, { budgets: [{ window: 'day', usd: 1 }] })
		await patch(t, admin, adminKey.id, { budgets: [{ window: 'day', usd: 5 }] })
		const put = (path: string, body: unknown, who = admin) => t.call('PUT', path, { token: who.token, body })
		expect((await put(`/api/users/${dev.user.id}/budgets`, [{ window: 'month', usd: 10 }])).status).toBe(200)
		expect((await put(`/api/users/${admin.user.id}/budgets`, [{ window: 'month', usd: 50 }])).status).toBe(
			200,
		)
		expect((await put('/api/org/budgets', [{ window: 'total', usd: 1000 }])).status).toBe(200)

		const seen = async (who: SignedUp, query = '') => {
			const res = await t.call('GET', `/api/budgets${query}`, { token: who.token })
			expect(res.status).toBe(200)
			return ((await res.json()) as BudgetRow[]).map((row) => [row.scope, row.id, row.window, row.usd])
		}
		expect(await seen(dev)).toEqual([
			['key', devKey.id, 'day', 1],
			['user', dev.user.id, 'month', 10],
			['org', 0, 'total', 1000],
		])
		expect(await seen(admin)).toEqual([
			['key', adminKey.id, 'day', 5],
			['user', admin.user.id, 'month', 50],
			['org', 0, 'total', 1000],
		])
		expect(await seen(admin, '?scope=all')).toEqual([
			['key', adminKey.id, 'day', 5],
			['key', devKey.id, 'day', 1],
			['user', admin.user.id, 'month', 50],
			['user', dev.user.id, 'month', 10],
			['org', 0, 'total', 1000],
		])
		expect((await t.call('GET', '/api/budgets?scope=all', { token: dev.token })).status).toBe(403)
		expect((await t.call('GET', '/api/budgets')).status).toBe(401)
	})

	it('answers each budget with what is spent, reserved and left in its window', async () => {
		const { t, dev, devKey } = await setup()
		await using _ = t
		await patch(t, dev, devKey.id, { budgets: [{ window: 'day', usd: 1 }] })
		const [budget] = await t.deps.budgets.list({ scope: 'key' })
		if (!budget) throw new Error('no budget')
		const now = Date.now()
		expect(await t.deps.budgets.reserve('req_a', [budget], 250_000, now, now + 60_000)).toEqual({ ok: true })
		await t.deps.budgets.settle('req_a', 200_000)
		expect(await t.deps.budgets.reserve('req_b', [budget], 300_000, now, now + 60_000)).toEqual({ ok: true })
		const rows = (await (await t.call('GET', '/api/budgets', { token: dev.token })).json()) as BudgetRow[]
		expect(rows).toEqual([
			{
				scope: 'key',
				id: devKey.id,
				window: 'day',
				usd: 1,
				spentUsd: 0.2,
				reservedUsd: 0.3,
				remainingUsd: 0.5,
				percentSpent: 20,
				resetsAt: nextUtcDay(now),
			},
		])
		await t.deps.budgets.release('req_b')
	})

	it('sets user and organisation budgets for an admin only, answering them', async () => {
		const { t, admin, dev } = await setup()
		await using _ = t
		const put = (path: string, body: unknown, who: SignedUp) =>
			t.call('PUT', path, { token: who.token, body })
		expect((await put('/api/org/budgets', [{ window: 'day', usd: 1 }], dev)).status).toBe(403)
		expect((await put(`/api/users/${dev.user.id}/budgets`, [{ window: 'day', usd: 1 }], dev)).status).toBe(
			403,
		)
		const res = await put(
			`/api/users/${dev.user.id}/budgets`,
			[
				{ window: 'day', usd: 2 },
				{ window: 'total', usd: 30 },
			],
			admin,
		)
		expect(res.status).toBe(200)
		expect(
			((await res.json()) as BudgetRow[]).map((row) => [row.scope, row.id, row.window, row.usd]),
		).toEqual([
			['user', dev.user.id, 'day', 2],
			['user', dev.user.id, 'total', 30],
		])
		const org = await put('/api/org/budgets', [{ window: 'month', usd: 100 }], admin)
		expect(
			((await org.json()) as BudgetRow[]).map((row) => [row.scope, row.id, row.window, row.usd]),
		).toEqual([['org', 0, 'month', 100]])
		const cleared = await put(`/api/users/${dev.user.id}/budgets`, [], admin)
		expect(await cleared.json()).toEqual([])
		expect((await put('/api/users/999/budgets', [{ window: 'day', usd: 1 }], admin)).status).toBe(404)
	})

	it.each([
		['/api/org/budgets', [{ window: 'day', usd: -2 }], '[0].usd'],
		[
			'/api/org/budgets',
			[
				{ window: 'day', usd: 1 },
				{ window: 'hour', usd: 1 },
			],
			'[1].window',
		],
		['/api/org/budgets', [{ window: 'day', usd: 1.0000001 }], '[0].usd'],
		[
			'/api/org/budgets',
			[
				{ window: 'day', usd: 1 },
				{ window: 'day', usd: 1 },
			],
			'[1].window',
		],
		['/api/users/2/budgets', [{ window: 'month' }], '[0].usd'],
	])('refuses a bad budget list for %s with 400 and param %s', async (path, body, param) => {
		const { t, admin } = await setup()
		await using _ = t
		const res = await t.call('PUT', path, { token: admin.token, body })
		expect(res.status).toBe(400)
		expect(((await res.json()) as ErrorAnswer).error.param).toBe(param)
		expect(await t.deps.budgets.list()).toEqual([])
	})
})

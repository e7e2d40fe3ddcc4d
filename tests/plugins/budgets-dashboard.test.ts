import { describe, expect, it } from 'bun:test'
import { makeApp, SAME_ORIGIN, signupUser, type TestApp } from '../helpers/app'

const HTMX = { ...SAME_ORIGIN, 'hx-request': 'true' }

/** A dashboard form post, as the browser sends it (htmx or a plain form). */
function postForm(t: TestApp, cookie: string, path: string, fields: Record<string, string>, htmx = true) {
	return t.call('POST', path, {
		cookie,
		headers: { ...(htmx ? HTMX : SAME_ORIGIN), 'content-type': 'application/x-www-form-urlencoded' },
		body: new URLSearchParams(fields).toString(),
	})
}

async function setup() {
	const t = await makeApp()
	const admin = await signupUser(t, 'admin@example.com')
	const dev = await signupUser(t, 'dev@example.com')
	const created = await t.call('POST', '/api/keys', { token: dev.token, body: { name: 'dev app' } })
	const devKey = (await created.json()) as { id: number; key: string }
	return { t, admin, dev, devKey }
}

describe('budgets on the dashboard', () => {
	it('sets a key’s limits through the Keys page form and swaps its row', async () => {
		const { t, dev, devKey } = await setup()
		await using _ = t
		const page = await (await t.call('GET', '/keys', { cookie: dev.cookie })).text()
		expect(page).toContain(`hx-post="/keys/${devKey.id}/limits"`)
		expect(page).toContain('No budget')

		const res = await postForm(t, dev.cookie, `/keys/${devKey.id}/limits`, {
			rpm: '30',
			day: '2.5',
			month: '',
			total: '100',
		})
		expect(res.status).toBe(200)
		const row = await res.text()
		expect(row).toStartWith(`<tr id="key-${devKey.id}"`)
		expect(row).toContain('30 requests/min')
		expect(row).toContain('data-window="day"')
		expect(row).toContain('$0.00 of $2.50')
		expect(row).toContain('data-window="total"')
		expect(row).not.toContain('data-window="month"')
		expect(row).toContain('value="2.5"')
		const budgets = await t.deps.budgets.list({ scope: 'key', scopeId: devKey.id })
		expect(budgets.map((budget) => [budget.window, budget.limitMicros])).toEqual([
			['day', 2_500_000],
			['total', 100_000_000],
		])
		expect((await t.deps.gatewayKeys.authenticate(devKey.key))?.rateLimitPerMinute).toBe(30)
	})

	it('clears the limits left empty, and works without JavaScript (303 back to the page)', async () => {
		const { t, dev, devKey } = await setup()
		await using _ = t
		await postForm(t, dev.cookie, `/keys/${devKey.id}/limits`, { rpm: '30', day: '1' })
		const res = await postForm(t, dev.cookie, `/keys/${devKey.id}/limits`, { rpm: '', day: '' }, false)
		expect(res.status).toBe(303)
		expect(res.headers.get('location')).toBe('/keys')
		expect(await t.deps.budgets.list()).toEqual([])
		expect((await t.deps.gatewayKeys.authenticate(devKey.key))?.rateLimitPerMinute).toBeNull()
	})

	it('shows a refused amount in the row with 422, its form open, and changes nothing', async () => {
		const { t, dev, devKey } = await setup()
		await using _ = t
		const res = await postForm(t, dev.cookie, `/keys/${devKey.id}/limits`, { day: '0.1234567' })
		expect(res.status).toBe(422)
		const row = await res.text()
		expect(row).toStartWith(`<tr id="key-${devKey.id}"`)
		expect(row).toContain('at most 6 decimals')
		expect(row).toContain('<details class="limits-edit" open>')
		const negative = await postForm(t, dev.cookie, `/keys/${devKey.id}/limits`, { month: '-3' })
		expect(negative.status).toBe(422)
		expect(await negative.text()).toContain('The monthly budget must be a number of dollars, 0 or more')
		expect(await t.deps.budgets.list()).toEqual([])
		const plain = await postForm(t, dev.cookie, `/keys/${devKey.id}/limits`, { rpm: 'many' }, false)
		expect(plain.status).toBe(422)
		expect(await plain.text()).toContain('<title>Keys · Switchyard</title>')
	})

	it('sets, shows and clears a key’s tokens per minute, requests in flight and cache TTL', async () => {
		const { t, dev, devKey } = await setup()
		await using _ = t
		const page = await (await t.call('GET', '/keys', { cookie: dev.cookie })).text()
		expect(page).toContain('No token limit')
		expect(page).toContain('No in-flight limit')
		expect(page).toContain('Cache off')

		const res = await postForm(t, dev.cookie, `/keys/${devKey.id}/limits`, {
			rpm: '',
			tpm: '50000',
			concurrency: '4',
			cacheTtlSeconds: '300',
			day: '',
		})
		expect(res.status).toBe(200)
		const row = await res.text()
		expect(row).toStartWith(`<tr id="key-${devKey.id}"`)
		expect(row).toContain('<li class="limit-tpm">50,000 tokens/min</li>')
		expect(row).toContain('<li class="limit-concurrency">4 in flight at most</li>')
		expect(row).toContain('<li class="limit-cache">Cache TTL 300 s</li>')
		expect(row).toContain('name="tpm" type="number" min="1" step="1" value="50000"')
		expect(row).toContain('name="cacheTtlSeconds" type="number" min="1" step="1" value="300"')
		expect(await t.deps.gatewayKeys.limits(dev.user.id, devKey.id)).toEqual({
			rateLimitPerMinute: null,
			tokensPerMinute: 50_000,
			maxConcurrent: 4,
			cacheTtlSeconds: 300,
		})
		const shown = await (await t.call('GET', '/keys', { cookie: dev.cookie })).text()
		expect(shown).toContain('<li class="limit-concurrency">4 in flight at most</li>')

		const cleared = await postForm(
			t,
			dev.cookie,
			`/keys/${devKey.id}/limits`,
			{ rpm: '', tpm: '', concurrency: '', cacheTtlSeconds: '', day: '' },
			false,
		)
		expect([cleared.status, cleared.headers.get('location')]).toEqual([303, '/keys'])
		expect(await t.deps.gatewayKeys.limits(dev.user.id, devKey.id)).toEqual({
			rateLimitPerMinute: null,
			tokensPerMinute: null,
			maxConcurrent: null,
			cacheTtlSeconds: null,
		})
		expect(await t.deps.gatewayKeys.authenticate(devKey.key)).toMatchObject({
			tokensPerMinute: null,
			maxConcurrent: null,
			cacheTtlSeconds: null,
		})
	})

	it.each([
		['tpm', '1000000001', 'Tokens per minute is a whole number from 1 to 1000000000'],
		['tpm', '0', 'Tokens per minute is a whole number from 1 to 1000000000'],
		['rpm', '2.5', 'Requests per minute is a whole number from 1 to 1000000'],
		['concurrency', '2.5', 'Requests in flight is a whole number from 1 to 1000'],
		['concurrency', '1001', 'Requests in flight is a whole number from 1 to 1000'],
		['cacheTtlSeconds', '2592001', 'The cache TTL in seconds is a whole number from 1 to 2592000'],
		['cacheTtlSeconds', 'soon', 'The cache TTL in seconds is a whole number from 1 to 2592000'],
	])('refuses %s=%s in the row with 422 and changes nothing', async (field, value, message) => {
		const { t, dev, devKey } = await setup()
		await using _ = t
		const before = { rpm: '30', tpm: '1000', concurrency: '2', cacheTtlSeconds: '60', day: '1' }
		await postForm(t, dev.cookie, `/keys/${devKey.id}/limits`, before)
		const res = await postForm(t, dev.cookie, `/keys/${devKey.id}/limits`, {
			...before,
			rpm: '45',
			day: '',
			[field]: value,
		})
		expect(res.status).toBe(422)
		const row = await res.text()
		expect(row).toStartWith(`<tr id="key-${devKey.id}"`)
		expect(row).toContain(message)
		expect(row).toContain('<details class="limits-edit" open>')
		expect(await t.deps.gatewayKeys.limits(dev.user.id, devKey.id)).toEqual({
			rateLimitPerMinute: 30,
			tokensPerMinute: 1000,
			maxConcurrent: 2,
			cacheTtlSeconds: 60,
		})
		expect((await t.deps.budgets.list()).map((budget) => budget.limitMicros)).toEqual([1_000_000])
	})

	it('refuses another user’s key: 404 for a developer, scope=all for an admin', async () => {
		const { t, admin, dev, devKey } = await setup()
		await using _ = t
		const theirs = await t.call('POST', '/api/keys', { token: admin.token, body: { name: 'admin app' } })
		const { id } = (await theirs.json()) as { id: number }
		expect((await postForm(t, dev.cookie, `/keys/${id}/limits`, { day: '1' })).status).toBe(404)
		expect((await postForm(t, dev.cookie, `/keys/${id}/limits?scope=all`, { day: '1' })).status).toBe(403)
		const res = await postForm(t, admin.cookie, `/keys/${devKey.id}/limits?scope=all`, {
			day: '4',
			concurrency: '3',
		})
		expect(res.status).toBe(200)
		const row = await res.text()
		expect(row).toStartWith(`<tr id="any-key-${devKey.id}"`)
		expect(row).toContain(`hx-post="/keys/${devKey.id}/limits?scope=all"`)
		expect(row).toContain('3 in flight at most')
		// The admin's Keys page shows everyone's keys with their budgets and limits.
		const page = await (await t.call('GET', '/keys', { cookie: admin.cookie })).text()
		expect(page).toContain('$0.00 of $4.00')
		expect(page).toContain('3 in flight at most')
	})

	it('lets an admin set a user’s and the organisation’s budgets on the Users page', async () => {
		const { t, admin, dev } = await setup()
		await using _ = t
		const page = await (await t.call('GET', '/users', { cookie: admin.cookie })).text()
		expect(page).toContain('Organisation budgets')
		expect(page).toContain(`hx-post="/users/${dev.user.id}/budgets"`)

		const users = await postForm(t, admin.cookie, `/users/${dev.user.id}/budgets`, { month: '12' })
		expect(users.status).toBe(200)
		const section = await users.text()
		expect(section).toStartWith('<section id="users"')
		expect(section).toContain('$0.00 of $12.00')

		const org = await postForm(t, admin.cookie, '/org/budgets', { day: '50', total: '5000' })
		expect(org.status).toBe(200)
		const orgSection = await org.text()
		expect(orgSection).toStartWith('<section class="card" id="org-budgets"')
		expect(orgSection).toContain('$0.00 of $5,000.00')
		const plain = await postForm(t, admin.cookie, '/org/budgets', { day: '60' }, false)
		expect([plain.status, plain.headers.get('location')]).toEqual([303, '/users'])

		const refused = await postForm(t, admin.cookie, '/org/budgets', { day: '-1' })
		expect(refused.status).toBe(422)
		expect(await refused.text()).toContain('The daily budget must be a number of dollars, 0 or more')
		const refusedUser = await postForm(t, admin.cookie, `/users/${dev.user.id}/budgets`, { day: '1e-9' })
		expect(refusedUser.status).toBe(422)
		expect(await refusedUser.text()).toContain('at most 6 decimals')

		const rows = (await t.deps.budgets.list()).map((budget) => [
			budget.scope,
			budget.window,
			budget.limitMicros,
		])
		expect(rows).toEqual([
			['user', 'month', 12_000_000],
			['org', 'day', 60_000_000],
		])
		expect((await postForm(t, dev.cookie, '/org/budgets', { day: '1' })).status).toBe(403)
		expect((await postForm(t, dev.cookie, `/users/${dev.user.id}/budgets`, { day: '1' })).status).toBe(403)
	})

	it('draws the overview’s budget card: the caller’s budgets, and for an admin the most spent', async () => {
		const { t, admin, dev, devKey } = await setup()
		await using _ = t
		const overview = await (await t.call('GET', '/', { cookie: dev.cookie })).text()
		expect(overview).toContain('hx-get="/budgets/status"')
		const empty = await (await t.call('GET', '/budgets/status', { cookie: dev.cookie, headers: HTMX })).text()
		expect(empty).toContain('No budget applies to your requests')

		await t.call('PATCH', `/api/keys/${devKey.id}`, {
			token: dev.token,
			body: { budgets: [{ window: 'day', usd: 1 }] },
		})
		await t.call('PUT', '/api/org/budgets', { token: admin.token, body: [{ window: 'month', usd: 500 }] })
		const [budget] = await t.deps.budgets.list({ scope: 'key' })
		if (!budget) throw new Error('no budget')
		const now = Date.now()
		await t.deps.budgets.reserve('req_1', [budget], 900_000, now, now + 60_000)
		await t.deps.budgets.settle('req_1', 850_000)

		const card = await (await t.call('GET', '/budgets/status', { cookie: dev.cookie })).text()
		expect(card).toContain('Key dev app · Today (UTC)')
		expect(card).toContain('Organisation · This month (UTC)')
		expect(card).toContain('class="budget budget-near"')
		expect(card).toContain('style="width: 85%"')
		expect(card).not.toContain('Closest to their limit')

		const adminCard = await (await t.call('GET', '/budgets/status', { cookie: admin.cookie })).text()
		expect(adminCard).toContain('Organisation · This month (UTC)')
		expect(adminCard).toContain('Closest to their limit, across everyone')
		expect(adminCard).toContain('Key dev app (dev@example.com) · Today (UTC)')
	})
})

import { describe, expect, it } from 'bun:test'
import { makeApp, SAME_ORIGIN, signupUser } from '../helpers/app'
import { startGateway } from '../helpers/gateway'

describe('users API', () => {
	it('lists every user for an admin, with their spend of the last 30 days', async () => {
		await using g = await startGateway()
		g.upstream.script('gpt-4o-mini', { kind: 'reply', usage: { prompt: 1000, completion: 200 } })
		await g.openai.chat.completions.create({
			model: 'gpt-4o-mini',
			messages: [{ role: 'user', content: 'hi' }],
		})
		await signupUser(g.t, 'second@example.com')
		const res = await g.t.call('GET', '/api/users', { token: g.token })
		expect(res.status).toBe(200)
		const users = (await res.json()) as Record<string, unknown>[]
		// gpt-4o-mini, per million tokens: (1000 × $0.15 + 200 × $0.60) / 1M = $0.00027.
		expect(users.map(({ createdAt: _, ...user }) => user)).toEqual([
			{ id: 1, email: 'dev@example.com', role: 'admin', active: true, spentUsd30d: 0.00027 },
			{ id: 2, email: 'second@example.com', role: 'developer', active: true, spentUsd30d: 0 },
		])
	})

	it('refuses developers 403 and strangers 401', async () => {
		await using t = await makeApp()
		await signupUser(t, 'admin@example.com')
		const { token } = await signupUser(t, 'dev@example.com')
		expect((await t.call('GET', '/api/users', { token })).status).toBe(403)
		expect((await t.call('PATCH', '/api/users/1', { token, body: { active: false } })).status).toBe(403)
		expect((await t.call('GET', '/api/users')).status).toBe(401)
	})

	it('deactivating a user stops their sessions, gateway keys and log-ins at once', async () => {
		await using g = await startGateway()
		const { token: session, user } = await signupUser(g.t, 'leaver@example.com')
		const created = await g.t.call('POST', '/api/keys', { token: session, body: { name: 'laptop' } })
		const { key } = (await created.json()) as { key: string }
		const call = () =>
			g.fetch('/models', { headers: { authorization: `Bearer ${key}` } }).then((res) => res.status)
		expect(await call()).toBe(200)

		const res = await g.t.call('PATCH', `/api/users/${user.id}`, { token: g.token, body: { active: false } })
		expect(res.status).toBe(200)
		expect(await res.json()).toMatchObject({ id: user.id, active: false, role: 'developer' })
		expect(await call()).toBe(401)
		expect((await g.t.call('GET', '/api/me', { token: session })).status).toBe(401)
		const login = await g.t.call('POST', '/api/auth/login', {
			body: { email: 'leaver@example.com', password: 'correct horse' },
		})
		expect(login.status).toBe(403)
		expect(((await login.json()) as { error: { code: string } }).error.code).toBe('account_deactivated')

		await g.t.call('PATCH', `/api/users/${user.id}`, { token: g.token, body: { active: true } })
		expect(await call()).toBe(200)
	})

	it('changes a role, effective for the user’s next request', async () => {
		await using t = await makeApp()
		const { token: admin } = await signupUser(t, 'admin@example.com')
		const { token, user } = await signupUser(t, 'dev@example.com')
		expect((await t.call('GET', '/api/users', { token })).status).toBe(403)
		const res = await t.call('PATCH', `/api/users/${user.id}`, { token: admin, body: { role: 'admin' } })
		expect(await res.json()).toMatchObject({ role: 'admin' })
		expect((await t.call('GET', '/api/users', { token })).status).toBe(200)
		// A change names only what changes: deactivating leaves the role as it is.
		const off = await t.call('PATCH', `/api/users/${user.id}`, { token: admin, body: { active: false } })
		expect(await off.json()).toMatchObject({ role: 'admin', active: false })
	})

	it('will not let an admin demote or deactivate themselves, and names a bad change', async () => {
		await using t = await makeApp()
		const { token, user } = await signupUser(t, 'admin@example.com')
		const self = await t.call('PATCH', `/api/users/${user.id}`, { token, body: { active: false } })
		expect(self.status).toBe(400)
		expect(((await self.json()) as { error: { param: string } }).error.param).toBe('active')
		expect((await t.call('PATCH', `/api/users/${user.id}`, { token, body: {} })).status).toBe(400)
		expect((await t.call('PATCH', '/api/users/99', { token, body: { active: true } })).status).toBe(404)
		const bad = await t.call('PATCH', '/api/users/1', { token, body: { role: 'owner' } })
		expect(bad.status).toBe(400)
		expect(((await bad.json()) as { error: { message: string } }).error.message).toBe(
			'role must be "developer" or "admin"',
		)
	})
})

describe('the Users page', () => {
	const form = (fields: Record<string, string>) => ({
		body: new URLSearchParams(fields).toString(),
		headers: { ...SAME_ORIGIN, 'content-type': 'application/x-www-form-urlencoded', 'hx-request': 'true' },
	})

	it('makes an invite link shown once, and deactivates a user in place', async () => {
		await using t = await makeApp({ SIGNUP: 'invite' })
		const { cookie } = await signupUser(t, 'admin@example.com')
		const page = await (await t.call('GET', '/users', { cookie })).text()
		expect(page).toContain('<td data-label="Email">admin@example.com</td>')

		const made = await t.call('POST', '/invites', {
			cookie,
			...form({ email: 'ada@example.com', role: 'developer' }),
		})
		expect(made.status).toBe(200)
		const html = await made.text()
		const url = html.match(/<code id="invite-url">([^<]+)<\/code>/)?.[1] ?? ''
		expect(url).toStartWith('http://localhost/signup?invite=')
		const invite = new URL(url).searchParams.get('invite') ?? ''
		const signup = await t.call('POST', '/api/auth/signup', {
			body: { email: 'ada@example.com', password: 'correct horse', invite },
		})
		expect(signup.status).toBe(201)
		const { user } = (await signup.json()) as { user: { id: number } }

		const off = await t.call('POST', `/users/${user.id}`, { cookie, ...form({ active: 'false' }) })
		expect(off.status).toBe(200)
		expect(await off.text()).toContain('<td data-label="Status">deactivated</td>')
		expect((await t.deps.accounts.list()).find((row) => row.id === user.id)).toMatchObject({
			active: false,
			role: 'developer',
		})
	})

	it('shows a refused change next to the form', async () => {
		await using t = await makeApp()
		const { cookie, user } = await signupUser(t, 'admin@example.com')
		const res = await t.call('POST', `/users/${user.id}`, { cookie, ...form({ active: 'false' }) })
		expect(res.status).toBe(422)
		expect(await res.text()).toContain('You cannot demote or deactivate yourself; ask another admin')
	})
})

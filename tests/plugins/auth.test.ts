import { describe, expect, it } from 'bun:test'
import { makeApp, SAME_ORIGIN, signupUser } from '../helpers/app'

const credentials = (email: string, password = 'correct horse') => ({ email, password })

describe('POST /api/auth/signup', () => {
	it('creates the account, returns a token and sets an httpOnly SameSite cookie', async () => {
		await using t = await makeApp()
		const res = await t.call('POST', '/api/auth/signup', { body: credentials('Ada@Example.com') })
		expect(res.status).toBe(201)
		const body = (await res.json()) as { user: unknown; token: string }
		expect(body.user).toEqual({ id: 1, email: 'ada@example.com', role: 'admin' })
		expect(body.token).toBeString()
		const cookie = res.headers.get('set-cookie') ?? ''
		expect(cookie).toStartWith(`switchyard_session=${body.token}`)
		expect(cookie).toContain('HttpOnly')
		expect(cookie).toContain('SameSite=Lax')
		expect(cookie).not.toContain('Secure')
	})

	it('marks the cookie Secure in production', async () => {
		await using t = await makeApp({
			NODE_ENV: 'production',
			JWT_SECRET: 'p'.repeat(48),
			ENCRYPTION_KEY: Buffer.alloc(32, 1).toString('base64'),
		})
		const res = await t.call('POST', '/api/auth/signup', { body: credentials('ada@example.com') })
		expect(res.headers.get('set-cookie')).toContain('Secure')
	})

	it('makes the first account the admin and later ones developers', async () => {
		await using t = await makeApp()
		expect((await signupUser(t, 'first@example.com')).user.role).toBe('admin')
		expect((await signupUser(t, 'second@example.com')).user.role).toBe('developer')
	})

	it('makes every signup a developer when ADMIN_EMAIL is set, and creates that admin at start', async () => {
		await using t = await makeApp({ ADMIN_EMAIL: 'boss@example.com', ADMIN_PASSWORD: 'boss password' })
		expect((await signupUser(t, 'first@example.com')).user.role).toBe('developer')
		const res = await t.call('POST', '/api/auth/login', {
			body: credentials('boss@example.com', 'boss password'),
		})
		expect(res.status).toBe(200)
		expect(((await res.json()) as { user: { role: string } }).user.role).toBe('admin')
	})

	it.each([
		[{ email: 'not-an-email', password: 'long enough' }, 'email'],
		[{ email: 'ada@example.com', password: 'short' }, 'password'],
		[{ email: 'ada@example.com' }, 'password'],
		[{ password: 'long enough' }, 'email'],
	])('answers 400 naming the field for %j', async (body, param) => {
		await using t = await makeApp()
		const res = await t.call('POST', '/api/auth/signup', { body })
		expect(res.status).toBe(400)
		const { error } = (await res.json()) as { error: { type: string; param: string } }
		expect(error.type).toBe('invalid_request_error')
		expect(error.param).toBe(param)
	})

	it('answers 400 for a body that is not JSON', async () => {
		await using t = await makeApp()
		const res = await t.call('POST', '/api/auth/signup', { body: '{not json' })
		expect(res.status).toBe(400)
	})

	it('answers 409 when the email is taken, whatever its case', async () => {
		await using t = await makeApp()
		await signupUser(t, 'ada@example.com')
		const res = await t.call('POST', '/api/auth/signup', { body: credentials('ADA@example.com') })
		expect(res.status).toBe(409)
		expect(((await res.json()) as { error: { code: string } }).error.code).toBe('email_taken')
	})

	it('never stores the password in clear', async () => {
		await using t = await makeApp()
		await signupUser(t, 'ada@example.com', 'a very secret password')
		const row = t.deps.sqlite.query('SELECT password_hash FROM users').get() as { password_hash: string }
		expect(row.password_hash).toStartWith('$argon2id$')
	})
})

describe('POST /api/auth/login', () => {
	it('returns the user and a working token', async () => {
		await using t = await makeApp()
		await signupUser(t, 'ada@example.com')
		const res = await t.call('POST', '/api/auth/login', { body: credentials('ada@example.com') })
		expect(res.status).toBe(200)
		const { token, user } = (await res.json()) as { token: string; user: unknown }
		expect(user).toEqual({ id: 1, email: 'ada@example.com', role: 'admin' })
		expect(res.headers.get('set-cookie')).toContain('HttpOnly')
		const me = await t.call('GET', '/api/me', { token })
		expect(await me.json()).toEqual({ user: { id: 1, email: 'ada@example.com', role: 'admin' } })
	})

	it.each([
		['a wrong password', credentials('ada@example.com', 'wrong password')],
		['an unknown email', credentials('nobody@example.com')],
	])('answers 401 for %s', async (_, body) => {
		await using t = await makeApp()
		await signupUser(t, 'ada@example.com')
		const res = await t.call('POST', '/api/auth/login', { body })
		expect(res.status).toBe(401)
		expect(((await res.json()) as { error: { message: string } }).error.message).toBe(
			'Invalid email or password',
		)
	})

	it('answers 429 with Retry-After after 10 failures for one email, even for the right password', async () => {
		await using t = await makeApp()
		await signupUser(t, 'ada@example.com')
		for (let attempt = 0; attempt < 10; attempt++) {
			const res = await t.call('POST', '/api/auth/login', {
				body: credentials('ada@example.com', `guess ${attempt}`),
			})
			expect(res.status).toBe(401)
		}
		const blocked = await t.call('POST', '/api/auth/login', { body: credentials('ada@example.com') })
		expect(blocked.status).toBe(429)
		const retryAfter = Number(blocked.headers.get('retry-after'))
		expect(retryAfter).toBeGreaterThan(0)
		expect(retryAfter).toBeLessThanOrEqual(15 * 60)
		expect(((await blocked.json()) as { error: { code: string } }).error.code).toBe('rate_limit_exceeded')
	})

	it('answers 429 after 10 failures from one client address across emails', async () => {
		await using t = await makeApp()
		const server = t.app.listen({ port: 0, hostname: '127.0.0.1' })
		try {
			const url = `http://127.0.0.1:${server.server?.port}/api/auth/login`
			const post = (email: string) =>
				fetch(url, {
					method: 'POST',
					headers: { 'content-type': 'application/json' },
					body: JSON.stringify(credentials(email, 'wrong password')),
				})
			for (let attempt = 0; attempt < 10; attempt++)
				expect((await post(`user${attempt}@example.com`)).status).toBe(401)
			const blocked = await post('someone-else@example.com')
			expect(blocked.status).toBe(429)
			expect(blocked.headers.get('retry-after')).toMatch(/^\d+$/)
		} finally {
			await server.stop(true)
		}
	})

	it('refuses a login posted from another site', async () => {
		await using t = await makeApp()
		await signupUser(t, 'ada@example.com')
		const res = await t.call('POST', '/api/auth/login', {
			body: credentials('ada@example.com'),
			headers: { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' },
		})
		expect(res.status).toBe(403)
	})
})

describe('POST /api/auth/logout', () => {
	it('ends the session: the same token and cookie are refused afterwards', async () => {
		await using t = await makeApp()
		const { token, cookie } = await signupUser(t, 'ada@example.com')
		const res = await t.call('POST', '/api/auth/logout', { token })
		expect(res.status).toBe(204)
		expect((await t.call('GET', '/api/me', { token })).status).toBe(401)
		expect((await t.call('GET', '/api/me', { cookie })).status).toBe(401)
	})

	it('ends only that session', async () => {
		await using t = await makeApp()
		const first = await signupUser(t, 'ada@example.com')
		const login = await t.call('POST', '/api/auth/login', { body: credentials('ada@example.com') })
		const { token: second } = (await login.json()) as { token: string }
		await t.call('POST', '/api/auth/logout', { token: first.token })
		expect((await t.call('GET', '/api/me', { token: second })).status).toBe(200)
	})

	it('answers 401 without a session', async () => {
		await using t = await makeApp()
		expect((await t.call('POST', '/api/auth/logout')).status).toBe(401)
	})
})

describe('GET /api/me', () => {
	it('works with the session cookie', async () => {
		await using t = await makeApp()
		const { cookie } = await signupUser(t, 'ada@example.com')
		const res = await t.call('GET', '/api/me', { cookie })
		expect(await res.json()).toEqual({ user: { id: 1, email: 'ada@example.com', role: 'admin' } })
	})

	it.each([
		['no credentials', {}],
		['a forged token', { token: 'eyJhbGciOiJIUzI1NiJ9.eyJzaWQiOiJ4In0.bad' }],
		['garbage', { token: 'not-a-token' }],
	])('answers 401 with %s', async (_, options) => {
		await using t = await makeApp()
		const res = await t.call('GET', '/api/me', options)
		expect(res.status).toBe(401)
		expect(((await res.json()) as { error: { type: string } }).error.type).toBe('authentication_error')
	})

	it('refuses a token signed with another secret', async () => {
		await using a = await makeApp()
		await using b = await makeApp()
		const { token } = await signupUser(a, 'ada@example.com')
		await signupUser(b, 'ada@example.com')
		expect((await b.call('GET', '/api/me', { token })).status).toBe(401)
	})
})

describe('cross-site protection', () => {
	it('refuses a state-changing request authenticated by cookie from another site', async () => {
		await using t = await makeApp()
		const { cookie } = await signupUser(t, 'ada@example.com')
		const res = await t.call('POST', '/api/keys', {
			cookie,
			body: { name: 'stolen' },
			headers: { origin: 'https://evil.example' },
		})
		expect(res.status).toBe(403)
	})

	it('refuses a cookie-authenticated change that does not say where it came from', async () => {
		await using t = await makeApp()
		const { cookie } = await signupUser(t, 'ada@example.com')
		expect((await t.call('POST', '/api/keys', { cookie, body: { name: 'k' } })).status).toBe(403)
	})

	it('accepts the same change from the dashboard itself', async () => {
		await using t = await makeApp()
		const { cookie } = await signupUser(t, 'ada@example.com')
		const res = await t.call('POST', '/api/keys', { cookie, body: { name: 'k' }, headers: SAME_ORIGIN })
		expect(res.status).toBe(201)
	})

	it('does not apply to bearer-token requests', async () => {
		await using t = await makeApp()
		const { token } = await signupUser(t, 'ada@example.com')
		const res = await t.call('POST', '/api/keys', {
			token,
			body: { name: 'k' },
			headers: { origin: 'https://elsewhere' },
		})
		expect(res.status).toBe(201)
	})
})

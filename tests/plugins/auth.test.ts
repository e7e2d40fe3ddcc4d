import { describe, expect, it } from 'bun:test'
import { makeApp, SAME_ORIGIN, signupUser, type TestApp } from '../helpers/app'

const credentials = (email: string, password = 'correct horse') => ({ email, password })

type Login = (email: string, password: string, attempt: number) => Promise<Response>

const login = (t: TestApp, email: string, password: string) =>
	t.call('POST', '/api/auth/login', { body: credentials(email, password) })

/** Ten wrong passwords, each for another email, so that only the address reaches the limit. */
async function failLogins(attempt: Login, status = 401) {
	for (let n = 0; n < 10; n++)
		expect((await attempt(`guess${n}@example.com`, 'wrong password', n)).status).toBe(status)
}

/** The app on a real socket, for the tests where the client's address is the socket's. */
function listen(t: TestApp) {
	t.app.listen({ port: 0, hostname: '127.0.0.1' })
	const url = `http://127.0.0.1:${t.app.server?.port}/api/auth/login`
	return {
		login: (email: string, password: string, headers: Record<string, string> = {}) =>
			fetch(url, {
				method: 'POST',
				headers: { 'content-type': 'application/json', ...headers },
				body: JSON.stringify(credentials(email, password)),
			}),
		async [Symbol.asyncDispose]() {
			await t.app.stop(true)
		},
	}
}

describe('POST /api/auth/signup', () => {
	it('creates the account, returns a token and sets an httpOnly SameSite cookie', async () => {
		await using t = await makeApp()
		const res = await t.call('POST', '/api/auth/signup', { body: credentials('Ada@Example.com') })
		expect(res.status).toBe(201)
		const body = (await res.json()) as { user: unknown; token: string }
		expect(body.user).toEqual({ id: 1, email: 'ada@example.com', role: 'admin' })
		// A JWT naming the session, valid for 30 days.
		const [, payload = ''] = body.token.split('.')
		const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as {
			sid: string
			iat: number
			exp: number
		}
		expect(claims).toEqual({
			sid: expect.stringMatching(/^[\w-]{43}$/),
			iat: expect.any(Number),
			exp: claims.iat + 30 * 86_400,
		})
		// Issued now, in seconds.
		expect(claims.iat * 1000).toBeWithin(Date.now() - 10_000, Date.now() + 1)
		const cookie = res.headers.get('set-cookie') ?? ''
		expect(cookie).toStartWith(`switchyard_session=${body.token}`)
		expect(cookie).toContain('HttpOnly')
		expect(cookie).toContain('SameSite=Lax')
		expect(cookie).not.toContain('Secure')
	})

	/** The session cookie a sign-up sets for a request to `url` with these headers. */
	async function signupCookie(
		t: Awaited<ReturnType<typeof makeApp>>,
		url: string,
		headers: Record<string, string> = {},
	) {
		const res = await t.app.handle(
			new Request(url, {
				method: 'POST',
				headers: { 'content-type': 'application/json', ...headers },
				body: JSON.stringify(credentials('ada@example.com')),
			}),
		)
		expect(res.status).toBe(201)
		return res.headers.get('set-cookie') ?? ''
	}

	it('marks the cookie Secure when the request arrived over HTTPS, even outside production', async () => {
		await using t = await makeApp()
		expect(await signupCookie(t, 'https://localhost/api/auth/signup')).toContain('; Secure')
	})

	it('leaves it without Secure over plain HTTP, even in production, so a login there still holds', async () => {
		await using t = await makeApp({
			NODE_ENV: 'production',
			JWT_SECRET: 'p'.repeat(48),
			ENCRYPTION_KEY: Buffer.alloc(32, 1).toString('base64'),
		})
		expect(await signupCookie(t, 'http://192.168.1.20:3000/api/auth/signup')).not.toContain('Secure')
	})

	it('believes X-Forwarded-Proto only from a trusted proxy, and only its last entry', async () => {
		const https = { 'x-forwarded-proto': 'https' }
		await using trusting = await makeApp({ TRUST_PROXY: 'true' })
		expect(await signupCookie(trusting, 'http://localhost/api/auth/signup', https)).toContain('; Secure')
		await using spoofed = await makeApp({ TRUST_PROXY: 'true' })
		const claimed = { 'x-forwarded-proto': 'https, http' }
		expect(await signupCookie(spoofed, 'http://localhost/api/auth/signup', claimed)).not.toContain('Secure')
		await using direct = await makeApp()
		expect(await signupCookie(direct, 'http://localhost/api/auth/signup', https)).not.toContain('Secure')
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
		const [row] = await t.deps.store.db.select().from(t.deps.store.tables.users)
		expect(row?.passwordHash).toStartWith('$argon2id$')
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

describe('login throttling', () => {
	it('answers 429 with Retry-After after 10 failures for one email, even for the right password', async () => {
		await using t = await makeApp()
		await signupUser(t, 'ada@example.com')
		for (let attempt = 0; attempt < 10; attempt++)
			expect((await login(t, 'ada@example.com', `guess ${attempt}`)).status).toBe(401)
		const blocked = await login(t, 'ada@example.com', 'correct horse')
		expect(blocked.status).toBe(429)
		const retryAfter = Number(blocked.headers.get('retry-after'))
		// The 15-minute window from the first failure, less the few seconds at most the ten took.
		expect(retryAfter).toBeWithin(15 * 60 - 10, 15 * 60 + 1)
		expect(((await blocked.json()) as { error: { code: string } }).error.code).toBe('rate_limit_exceeded')
	})

	it('answers 429 with Retry-After to a wrong password from an address with 10 failures', async () => {
		await using t = await makeApp()
		await using client = listen(t)
		await failLogins((email, password) => client.login(email, password))
		const blocked = await client.login('someone-else@example.com', 'wrong password')
		expect(blocked.status).toBe(429)
		expect(blocked.headers.get('retry-after')).toMatch(/^[1-9]\d*$/)
	})

	it('lets the right password in from an address with 10 failures', async () => {
		await using t = await makeApp()
		await signupUser(t, 'admin@example.com')
		await using client = listen(t)
		await failLogins((email, password) => client.login(email, password))
		const res = await client.login('admin@example.com', 'correct horse')
		expect(res.status).toBe(200)
		expect(((await res.json()) as { user: unknown }).user).toEqual({
			id: 1,
			email: 'admin@example.com',
			role: 'admin',
		})
	})

	it("keeps an address's failures after a right password from it", async () => {
		await using t = await makeApp()
		await signupUser(t, 'admin@example.com')
		await using client = listen(t)
		await failLogins((email, password) => client.login(email, password))
		expect((await client.login('admin@example.com', 'correct horse')).status).toBe(200)
		expect((await client.login('someone-else@example.com', 'wrong password')).status).toBe(429)
	})

	it('lets the right password in through the dashboard form from an address with 10 failures', async () => {
		await using t = await makeApp()
		await signupUser(t, 'admin@example.com')
		const formLogin = (email: string, password: string) =>
			t.call('POST', '/login', {
				body: new URLSearchParams({ email, password }).toString(),
				headers: { ...SAME_ORIGIN, 'content-type': 'application/x-www-form-urlencoded' },
			})
		await failLogins((email, password) => formLogin(email, password), 422)
		const wrong = await formLogin('someone-else@example.com', 'wrong password')
		expect(wrong.status).toBe(429)
		expect(wrong.headers.get('retry-after')).toMatch(/^[1-9]\d*$/)
		const right = await formLogin('admin@example.com', 'correct horse')
		expect(right.status).toBe(303)
		expect(right.headers.get('location')).toBe('/')
		expect(right.headers.get('set-cookie')).toContain('switchyard_session=')
	})

	it("ignores X-Forwarded-For without TRUST_PROXY: all share the socket's count", async () => {
		await using t = await makeApp({ TRUST_PROXY: 'false' })
		await using client = listen(t)
		await failLogins((email, password, attempt) =>
			client.login(email, password, { 'x-forwarded-for': `203.0.113.${attempt}` }),
		)
		const res = await client.login('someone-else@example.com', 'wrong password', {
			'x-forwarded-for': '198.51.100.7',
		})
		expect(res.status).toBe(429)
	})

	it('counts failures per right-most X-Forwarded-For address with TRUST_PROXY', async () => {
		await using t = await makeApp({ TRUST_PROXY: 'true' })
		await using proxy = listen(t)
		await failLogins((email, password) => proxy.login(email, password, { 'x-forwarded-for': '192.0.2.10' }))
		const other = await proxy.login('someone-else@example.com', 'wrong password', {
			'x-forwarded-for': '192.0.2.10, 192.0.2.20',
		})
		expect(other.status).toBe(401)
		const same = await proxy.login('someone-else@example.com', 'wrong password', {
			'x-forwarded-for': '192.0.2.10',
		})
		expect(same.status).toBe(429)
	})

	it('does not let a forged left-most X-Forwarded-For entry escape the count with TRUST_PROXY', async () => {
		await using t = await makeApp({ TRUST_PROXY: 'true' })
		await using proxy = listen(t)
		await failLogins((email, password, attempt) =>
			proxy.login(email, password, { 'x-forwarded-for': `203.0.113.${attempt}, 192.0.2.10` }),
		)
		const res = await proxy.login('someone-else@example.com', 'wrong password', {
			'x-forwarded-for': '198.51.100.7, 192.0.2.10',
		})
		expect(res.status).toBe(429)
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

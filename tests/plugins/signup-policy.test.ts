import { describe, expect, it } from 'bun:test'
import { makeApp, SAME_ORIGIN, signupUser, type TestApp } from '../helpers/app'

const password = 'correct horse'

async function signup(t: TestApp, email: string, invite?: string) {
	const res = await t.call('POST', '/api/auth/signup', {
		body: { email, password, ...(invite ? { invite } : {}) },
	})
	const body = (await res.json()) as { user?: { role: string }; error?: { code: string; message: string } }
	return { status: res.status, role: body.user?.role, code: body.error?.code, message: body.error?.message }
}

async function invite(t: TestApp, token: string, body: { email?: string; role?: string } = {}) {
	const res = await t.call('POST', '/api/invites', { token, body })
	expect(res.status).toBe(201)
	const created = (await res.json()) as { url: string; expiresAt: string }
	return { ...created, token: new URL(created.url).searchParams.get('invite') ?? '' }
}

describe('SIGNUP', () => {
	it('open: anyone signs up, as a developer once the admin exists', async () => {
		await using t = await makeApp()
		expect(await signup(t, 'admin@example.com')).toMatchObject({ status: 201, role: 'admin' })
		expect(await signup(t, 'dev@example.com')).toMatchObject({ status: 201, role: 'developer' })
	})

	it('closed: only the very first account, the admin, can be created by signing up', async () => {
		await using t = await makeApp({ SIGNUP: 'closed' })
		expect(await signup(t, 'admin@example.com')).toMatchObject({ status: 201, role: 'admin' })
		expect(await signup(t, 'dev@example.com')).toEqual({
			status: 403,
			role: undefined,
			code: 'signup_closed',
			message: 'Sign-up is closed: ask an admin for an account',
		})
	})

	it('invite: a sign-up needs a valid invite, which works once and gives its role', async () => {
		await using t = await makeApp({ SIGNUP: 'invite' })
		const { token: admin } = await signupUser(t, 'admin@example.com')
		expect(await signup(t, 'dev@example.com')).toMatchObject({ status: 403, code: 'invite_required' })
		const link = await invite(t, admin, { role: 'admin' })
		expect(link.url).toStartWith('http://localhost/signup?invite=')
		expect(await signup(t, 'second-admin@example.com', link.token)).toMatchObject({
			status: 201,
			role: 'admin',
		})
		expect(await signup(t, 'again@example.com', link.token)).toMatchObject({
			status: 403,
			code: 'invite_invalid',
		})
		expect(await signup(t, 'guess@example.com', 'not-a-real-invite')).toMatchObject({
			status: 403,
			code: 'invite_invalid',
		})
	})

	it('invite: an invite for one address refuses another, and expires after 7 days', async () => {
		await using t = await makeApp({ SIGNUP: 'invite' })
		const { token: admin, user } = await signupUser(t, 'admin@example.com')
		const forAda = await invite(t, admin, { email: 'Ada@Example.com' })
		expect(await signup(t, 'eve@example.com', forAda.token)).toMatchObject({
			status: 403,
			message: 'This invite is for another email address',
		})
		expect(await signup(t, 'ada@example.com', forAda.token)).toMatchObject({ status: 201, role: 'developer' })
		const old = await t.deps.invites.create(user.id, {}, Date.now() - 7 * 24 * 60 * 60_000 - 1)
		expect(await signup(t, 'late@example.com', old.token)).toMatchObject({
			status: 403,
			code: 'invite_invalid',
		})
	})

	it('lets only admins make invites', async () => {
		await using t = await makeApp()
		await signupUser(t, 'admin@example.com')
		const { token: developer } = await signupUser(t, 'dev@example.com')
		expect((await t.call('POST', '/api/invites', { token: developer, body: {} })).status).toBe(403)
		expect((await t.call('POST', '/api/invites', { body: {} })).status).toBe(401)
	})

	it('stores only the hash of an invite token', async () => {
		await using t = await makeApp()
		const { token: admin } = await signupUser(t, 'admin@example.com')
		const link = await invite(t, admin)
		const rows = await t.deps.store.db
			.select({ tokenHash: t.deps.store.tables.invites.tokenHash })
			.from(t.deps.store.tables.invites)
		expect(rows).toEqual([{ tokenHash: new Bun.CryptoHasher('sha256').update(link.token).digest('hex') }])
	})

	it('shows why on the sign-up page, and carries an invite link through the form', async () => {
		await using t = await makeApp({ SIGNUP: 'invite' })
		const { token: admin } = await signupUser(t, 'admin@example.com')
		const page = await (await t.call('GET', '/signup')).text()
		expect(page).toContain('Sign-up is by invitation: open the link an admin sent you.')
		const link = await invite(t, admin)
		const invited = await (await t.call('GET', `/signup?invite=${link.token}`)).text()
		expect(invited).toContain(`<input type="hidden" name="invite" value="${link.token}"/>`)
		expect(invited).not.toContain('Sign-up is by invitation')
		const res = await t.call('POST', '/signup', {
			body: new URLSearchParams({ email: 'dev@example.com', password, invite: link.token }).toString(),
			headers: { ...SAME_ORIGIN, 'content-type': 'application/x-www-form-urlencoded' },
		})
		expect(res.status).toBe(303)
		expect(res.headers.get('location')).toBe('/')
	})
})

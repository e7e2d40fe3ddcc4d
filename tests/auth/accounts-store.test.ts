import { describe, expect, it } from 'bun:test'
import type { DataStore } from '../../db/client'
import { Accounts, argon2idHasher } from '../../src/auth/accounts'
import { Invites } from '../../src/auth/invites'
import { LoginThrottle } from '../../src/auth/login-throttle'
import { SessionStore } from '../../src/auth/sessions'
import type { SignupPolicy } from '../../src/config'
import { TEST_PASSWORD_COST } from '../helpers/app'
import { BACKENDS, openTestStore } from '../helpers/stores'

const PASSWORD = 'correct horse'

function accountsOn(store: DataStore, policy: SignupPolicy = 'open', adminConfigured = false) {
	const invites = new Invites(store)
	const accounts = new Accounts(
		store,
		argon2idHasher(TEST_PASSWORD_COST),
		new LoginThrottle(),
		adminConfigured,
		invites,
		policy,
	)
	return { accounts, invites }
}

const outcome = (promise: Promise<{ role: string }>) =>
	promise.then(
		(user) => user.role,
		(error: { status?: number; code?: string }) => `${error.status} ${error.code}`,
	)

describe.each(BACKENDS)('accounts on %s', (backend) => {
	it('makes exactly one admin of sign-ups that race to be first', async () => {
		await using test = await openTestStore(backend)
		const { accounts } = accountsOn(test.store)
		const roles = await Promise.all(
			Array.from({ length: 6 }, (_, i) =>
				outcome(accounts.signup({ email: `p${i}@example.com`, password: PASSWORD })),
			),
		)
		expect(roles.filter((role) => role === 'admin')).toHaveLength(1)
		expect(roles.filter((role) => role === 'developer')).toHaveLength(5)
		const admins = (await accounts.list()).filter((user) => user.role === 'admin')
		expect(admins).toHaveLength(1)
	})

	it('gives one invite to one of the sign-ups that race for it, and refuses the rest', async () => {
		await using test = await openTestStore(backend)
		const { accounts, invites } = accountsOn(test.store, 'invite')
		const admin = await accounts.signup({ email: 'admin@example.com', password: PASSWORD })
		const { token } = await invites.create(admin.id)
		const results = await Promise.all(
			Array.from({ length: 8 }, (_, i) =>
				outcome(accounts.signup({ email: `racer${i}@example.com`, password: PASSWORD, invite: token })),
			),
		)
		expect(results.filter((result) => result === 'developer')).toHaveLength(1)
		expect(results.filter((result) => result === '403 invite_invalid')).toHaveLength(7)
		expect(await accounts.list()).toHaveLength(2)
	})

	it('gives an invite back when the sign-up that took it fails', async () => {
		await using test = await openTestStore(backend)
		const { accounts, invites } = accountsOn(test.store, 'invite')
		const admin = await accounts.signup({ email: 'admin@example.com', password: PASSWORD })
		const { token } = await invites.create(admin.id)
		await expect(
			outcome(accounts.signup({ email: 'admin@example.com', password: PASSWORD, invite: token })),
		).resolves.toBe('409 email_taken')
		await expect(
			outcome(accounts.signup({ email: 'ada@example.com', password: PASSWORD, invite: token })),
		).resolves.toBe('developer')
	})

	it('refuses a second account for one email even when both sign-ups come at once', async () => {
		await using test = await openTestStore(backend)
		const { accounts } = accountsOn(test.store)
		const results = await Promise.all(
			Array.from({ length: 4 }, () =>
				outcome(accounts.signup({ email: 'same@example.com', password: PASSWORD })),
			),
		)
		expect(results.filter((result) => result === '409 email_taken')).toHaveLength(3)
	})

	it('creates the configured admin once when instances start together', async () => {
		await using test = await openTestStore(backend)
		const { accounts } = accountsOn(test.store, 'open', true)
		await Promise.all(
			Array.from({ length: 3 }, () =>
				accounts.ensureAdmin({ email: 'Boss@Example.com', password: PASSWORD }),
			),
		)
		expect((await accounts.list()).map((user) => [user.email, user.role])).toEqual([
			['boss@example.com', 'admin'],
		])
	})

	it('ends a deactivated user’s sessions for every reader of the database', async () => {
		await using test = await openTestStore(backend)
		const { accounts } = accountsOn(test.store)
		const admin = await accounts.signup({ email: 'admin@example.com', password: PASSWORD })
		const user = await accounts.signup({ email: 'dev@example.com', password: PASSWORD })
		const sessions = new SessionStore(test.store)
		// A second instance would have its own SessionStore over the same database.
		const elsewhere = new SessionStore(test.store)
		const session = await sessions.create(user.id)
		expect(await elsewhere.findUser(session.id)).toEqual({
			id: user.id,
			email: user.email,
			role: 'developer',
		})
		await accounts.update(admin.id, user.id, { active: false })
		expect(await elsewhere.findUser(session.id)).toBeNull()
		await sessions.deleteAllOf(user.id)
		await accounts.update(admin.id, user.id, { active: true })
		expect(await elsewhere.findUser(session.id)).toBeNull()
	})
})

import { describe, expect, it } from 'bun:test'
import { Accounts, argon2idHasher } from '../../src/auth/accounts'
import { Invites } from '../../src/auth/invites'
import { LoginThrottle } from '../../src/auth/login-throttle'
import { GatewayKeyStore } from '../../src/keys/gateway-keys'
import { TEST_PASSWORD_COST } from '../helpers/app'
import { BACKENDS, openTestStore } from '../helpers/stores'
import { until } from '../helpers/until'

describe.each(BACKENDS)('gateway keys on %s, seen from two instances', (backend) => {
	async function twoInstances() {
		const test = await openTestStore(backend)
		const other = await test.anotherInstance()
		const accounts = new Accounts(
			test.store,
			argon2idHasher(TEST_PASSWORD_COST),
			new LoginThrottle(),
			false,
			new Invites(test.store),
			'open',
		)
		const admin = await accounts.signup({ email: 'admin@example.com', password: 'correct horse' })
		const here = await GatewayKeyStore.open(test.store)
		const there = await GatewayKeyStore.open(other)
		return {
			store: test.store,
			accounts,
			admin,
			here,
			there,
			async [Symbol.asyncDispose]() {
				await Promise.all([here.close(), there.close()])
				await test[Symbol.asyncDispose]()
			},
		}
	}

	it('stops accepting a key on every instance once it is revoked on one', async () => {
		await using setup = await twoInstances()
		const { here, there, admin } = setup
		const created = await here.create(admin.id, 'app')
		// Both instances have looked the key up, so both hold it in their caches.
		expect(await here.authenticate(created.key)).toMatchObject({ keyId: created.id })
		expect(await there.authenticate(created.key)).toMatchObject({ keyId: created.id })
		await here.revoke(admin.id, created.id)
		expect(await here.authenticate(created.key)).toBeNull()
		await until(async () => (await there.authenticate(created.key)) === null, 1000)
	})

	it('stops a deactivated user’s keys on every instance', async () => {
		await using setup = await twoInstances()
		const { here, there, admin, accounts } = setup
		const dev = await accounts.signup({ email: 'dev@example.com', password: 'correct horse' })
		const created = await here.create(dev.id, 'app')
		expect(await there.authenticate(created.key)).toMatchObject({ userId: dev.id })
		await accounts.update(admin.id, dev.id, { active: false })
		await here.forgetUser(dev.id)
		await until(async () => (await there.authenticate(created.key)) === null, 1000)
	})

	it('writes last use at most once a minute per key, whichever instance saw it', async () => {
		await using setup = await twoInstances()
		const { here, there, admin } = setup
		const created = await here.create(admin.id, 'app')
		await there.authenticate(created.key, 1_000_000)
		await there.flushLastUsed()
		expect((await here.list(admin.id))[0]?.lastUsedAt?.getTime()).toBe(1_000_000)
		await there.authenticate(created.key, 1_030_000)
		await there.flushLastUsed()
		expect((await here.list(admin.id))[0]?.lastUsedAt?.getTime()).toBe(1_000_000)
		await there.flushLastUsed(true)
		expect((await here.list(admin.id))[0]?.lastUsedAt?.getTime()).toBe(1_030_000)
	})

	// Only PostgreSQL has a connection to drop: SQLite's instance tells itself.
	if (backend === 'postgres')
		it('forgets every cached key when its listening connection drops, since changes may have been missed', async () => {
			await using setup = await twoInstances()
			const { here, there, admin } = setup
			const created = await here.create(admin.id, 'app')
			expect(await there.authenticate(created.key)).toMatchObject({ keyId: created.id })
			const postgres = setup.store.postgres
			if (!postgres) throw new Error('not PostgreSQL')
			// Revoked behind the instances' backs while their LISTEN connections are cut.
			await postgres`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE 'LISTEN%' AND pid <> pg_backend_pid()`
			await postgres`UPDATE gateway_keys SET revoked_at = now() WHERE id = ${created.id}`
			await until(async () => (await there.authenticate(created.key)) === null, 5000)
		})
})

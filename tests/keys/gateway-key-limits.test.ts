import { describe, expect, it } from 'bun:test'
import { Accounts, argon2idHasher } from '../../src/auth/accounts'
import { Invites } from '../../src/auth/invites'
import { LoginThrottle } from '../../src/auth/login-throttle'
import { GatewayError } from '../../src/errors'
import { GatewayKeyStore, MAX_CONCURRENT } from '../../src/keys/gateway-keys'
import { TEST_PASSWORD_COST } from '../helpers/app'
import { BACKENDS, openTestStore } from '../helpers/stores'
import { until } from '../helpers/until'

const NO_LIMITS = {
	rateLimitPerMinute: null,
	tokensPerMinute: null,
	maxConcurrent: null,
	cacheTtlSeconds: null,
}

describe.each(BACKENDS)('a gateway key’s limits on %s', (backend) => {
	async function twoInstances() {
		const test = await openTestStore(backend)
		const accounts = new Accounts(
			test.store,
			argon2idHasher(TEST_PASSWORD_COST),
			new LoginThrottle(),
			false,
			new Invites(test.store),
			'open',
		)
		const user = await accounts.signup({ email: 'dev@example.com', password: 'correct horse' })
		const here = await GatewayKeyStore.open(test.store)
		const there = await GatewayKeyStore.open(await test.anotherInstance())
		return {
			user,
			here,
			there,
			async [Symbol.asyncDispose]() {
				await Promise.all([here.close(), there.close()])
				await test[Symbol.asyncDispose]()
			},
		}
	}

	it('has none until set, and reaches every instance’s principal once set', async () => {
		await using setup = await twoInstances()
		const { here, there, user } = setup
		const created = await here.create(user.id, 'app')
		expect(await there.authenticate(created.key)).toMatchObject(NO_LIMITS)
		const limits = { rateLimitPerMinute: 60, tokensPerMinute: 90_000, maxConcurrent: 4, cacheTtlSeconds: 300 }
		await here.update(user.id, created.id, limits)
		expect(await here.limits(user.id, created.id)).toEqual(limits)
		expect(await here.authenticate(created.key)).toMatchObject(limits)
		await until(async () => (await there.authenticate(created.key))?.maxConcurrent === 4, 1000)
		expect(await there.authenticate(created.key)).toMatchObject(limits)
	})

	it('changes only the limits given, and clears one with null', async () => {
		await using setup = await twoInstances()
		const { here, user } = setup
		const created = await here.create(user.id, 'app', 10)
		await here.update(user.id, created.id, { tokensPerMinute: 1000, maxConcurrent: 2 })
		await here.update(user.id, created.id, { maxConcurrent: null, cacheTtlSeconds: 60 })
		expect(await here.limits(user.id, created.id)).toEqual({
			rateLimitPerMinute: 10,
			tokensPerMinute: 1000,
			maxConcurrent: null,
			cacheTtlSeconds: 60,
		})
	})

	it.each([
		[{ tokensPerMinute: 0 }, 'tokensPerMinute'],
		[{ tokensPerMinute: 1.5 }, 'tokensPerMinute'],
		[{ maxConcurrent: MAX_CONCURRENT + 1 }, 'maxConcurrent'],
		[{ cacheTtlSeconds: -1 }, 'cacheTtlSeconds'],
	])('refuses %j with 400 and param %s, changing nothing', async (change, param) => {
		await using setup = await twoInstances()
		const { here, user } = setup
		const created = await here.create(user.id, 'app')
		const refused = await here
			.update(user.id, created.id, { maxConcurrent: 3, ...change })
			.catch((error: unknown) => error)
		expect(refused).toBeInstanceOf(GatewayError)
		expect([(refused as GatewayError).status, (refused as GatewayError).param]).toEqual([400, param])
		expect(await here.limits(user.id, created.id)).toEqual(NO_LIMITS)
	})

	it('finds no other user’s key', async () => {
		await using setup = await twoInstances()
		const { here, user } = setup
		const created = await here.create(user.id, 'app')
		await expect(here.limits(user.id + 1, created.id)).rejects.toMatchObject({ status: 404 })
		await expect(here.update(user.id + 1, created.id, { maxConcurrent: 1 })).rejects.toMatchObject({
			status: 404,
		})
		expect(await here.limits(null, created.id)).toEqual(NO_LIMITS)
	})
})

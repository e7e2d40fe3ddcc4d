import { describe, expect, it } from 'bun:test'
import {
	formatReset,
	type Grant,
	type KeyLimits,
	type LimitedPrincipal,
	rateLimitHeaders,
	type Taken,
	UNLIMITED,
} from '../../src/gateway/key-limits'
import { createKeyLimits, SharedKeyLimits } from '../../src/gateway/shared-key-limits'
import { BACKENDS, openTestStore, TEST_DATABASE_URL } from '../helpers/stores'

const T0 = 1_000_000_000
const LEASE_MS = 60_000

const key = (limits: Partial<LimitedPrincipal> = {}, keyId = 1): LimitedPrincipal => ({
	keyId,
	rateLimitPerMinute: null,
	tokensPerMinute: null,
	maxConcurrent: null,
	...limits,
})

function granted(taken: Taken): Grant {
	if (!taken.ok) throw new Error(`refused: ${taken.message}`)
	return taken.grant
}

describe('formatReset', () => {
	it.each([
		[0, '0s'],
		[-5, '0s'],
		[20, '20ms'],
		[0.4, '1ms'],
		[999.2, '1s'],
		[1000, '1s'],
		[8640, '8.64s'],
		[41_724, '41.724s'],
		[60_000, '1m0s'],
		[179_560, '2m59.56s'],
		[360_000, '6m0s'],
		[3_600_000, '1h0m0s'],
		[5_025_500, '1h23m45.5s'],
	])('writes %p ms as %p, as OpenAI does', (ms, text) => {
		expect(formatReset(ms)).toBe(text)
	})
})

describe('rateLimitHeaders', () => {
	it('reports both buckets with OpenAI’s six headers', () => {
		expect(
			rateLimitHeaders(
				{ limit: 60, remaining: 59, resetMs: 1000 },
				{ limit: 150_000, remaining: 149_984, resetMs: 6.4 },
			),
		).toEqual({
			'x-ratelimit-limit-requests': '60',
			'x-ratelimit-remaining-requests': '59',
			'x-ratelimit-reset-requests': '1s',
			'x-ratelimit-limit-tokens': '150000',
			'x-ratelimit-remaining-tokens': '149984',
			'x-ratelimit-reset-tokens': '7ms',
		})
	})

	it('reports only the buckets a key has', () => {
		expect(rateLimitHeaders(null, { limit: 10, remaining: 0, resetMs: 360_000 })).toEqual({
			'x-ratelimit-limit-tokens': '10',
			'x-ratelimit-remaining-tokens': '0',
			'x-ratelimit-reset-tokens': '6m0s',
		})
	})

	it('reports nothing for a key without limits, with one shared empty record', () => {
		expect(rateLimitHeaders(null, null)).toEqual({})
		expect(rateLimitHeaders(null, null)).toBe(rateLimitHeaders(null, null))
	})
})

describe.each(BACKENDS)('key limits on %s', (backend) => {
	async function open() {
		const test = await openTestStore(backend)
		return {
			limits: createKeyLimits(test.store, { leaseMs: LEASE_MS }),
			test,
			async [Symbol.asyncDispose]() {
				await test[Symbol.asyncDispose]()
			},
		}
	}
	const take = async (limits: KeyLimits, principal: LimitedPrincipal, tokens: number, now: number) =>
		limits.take(principal, tokens, now)

	it('admits a key without limits synchronously, with one shared answer and no headers', async () => {
		await using setup = await open()
		const { limits } = setup
		const taken = limits.take(key(), 1_000_000, T0)
		expect(taken).toBe(UNLIMITED)
		expect(taken instanceof Promise).toBe(false)
		const grant = granted(taken as Taken)
		expect(limits.headers(grant)).toEqual({})
		expect(limits.settle(grant, 5_000, T0)).toBeUndefined()
		expect(limits.release(grant, T0)).toBeUndefined()
		expect(limits.take(key({ rateLimitPerMinute: 0 }), 1, T0)).toBe(UNLIMITED)
	})

	it('refuses the request past the requests per minute, with the wait until the next one', async () => {
		await using setup = await open()
		const { limits } = setup
		const limited = key({ rateLimitPerMinute: 3 })
		for (const left of [2, 1, 0]) {
			const grant = granted(await take(limits, limited, 0, T0))
			expect(limits.headers(grant)).toEqual({
				'x-ratelimit-limit-requests': '3',
				'x-ratelimit-remaining-requests': String(left),
				'x-ratelimit-reset-requests': formatReset((3 - left) * 20_000),
			})
		}
		const refused = await take(limits, limited, 0, T0)
		expect(refused).toEqual({
			ok: false,
			code: 'rate_limit_exceeded',
			retryAfterSeconds: 20,
			message: 'Rate limit reached for this key on requests per min (RPM): Limit 3. Please try again in 20s.',
			headers: {
				'x-ratelimit-limit-requests': '3',
				'x-ratelimit-remaining-requests': '0',
				'x-ratelimit-reset-requests': '1m0s',
				'retry-after': '20',
			},
		})
		expect((await take(limits, limited, 0, T0 + 19_999)).ok).toBe(false)
		expect((await take(limits, limited, 0, T0 + 20_000)).ok).toBe(true)
	})

	it('reserves the estimate and gives back what the answer did not use', async () => {
		await using setup = await open()
		const { limits } = setup
		const limited = key({ tokensPerMinute: 1000 })
		const first = granted(await take(limits, limited, 400, T0))
		expect([first.reservedTokens, limits.headers(first)]).toEqual([
			400,
			{
				'x-ratelimit-limit-tokens': '1000',
				'x-ratelimit-remaining-tokens': '600',
				'x-ratelimit-reset-tokens': '24s',
			},
		])
		// 600 fit a request of 500 but not of 700, until the first settles with 100 of its 400 used.
		expect(granted(await take(limits, limited, 500, T0)).reservedTokens).toBe(500)
		expect((await take(limits, limited, 200, T0)).ok).toBe(false)
		await limits.settle(first, 100, T0)
		const third = granted(await take(limits, limited, 400, T0))
		expect(third.tokens).toEqual({ limit: 1000, remaining: 0, resetMs: 60_000 })
	})

	it('carries an answer that used more than it reserved into the next requests, which wait', async () => {
		await using setup = await open()
		const { limits } = setup
		const limited = key({ tokensPerMinute: 1000 })
		const grant = granted(await take(limits, limited, 400, T0))
		await limits.settle(grant, 1500, T0)
		// 1000 − 1500 = −500: a request of 100 waits for 600 tokens, 36 s at 1000 a minute.
		const refused = await take(limits, limited, 100, T0)
		if (refused.ok) throw new Error('admitted below zero')
		expect([refused.code, refused.retryAfterSeconds, refused.headers]).toEqual([
			'tokens_exceeded',
			36,
			{
				'x-ratelimit-limit-tokens': '1000',
				'x-ratelimit-remaining-tokens': '0',
				'x-ratelimit-reset-tokens': '1m30s',
				'retry-after': '36',
			},
		])
		expect(refused.message).toBe(
			'Rate limit reached for this key on tokens per min (TPM): Limit 1000, Remaining 0, Requested 100. Please try again in 36s.',
		)
		expect((await take(limits, limited, 100, T0 + 35_900)).ok).toBe(false)
		expect(granted(await take(limits, limited, 100, T0 + 36_000)).tokens?.remaining).toBe(0)
	})

	it('settles and releases once, however often it is asked', async () => {
		await using setup = await open()
		const { limits } = setup
		const limited = key({ tokensPerMinute: 1000, maxConcurrent: 1 })
		const grant = granted(await take(limits, limited, 500, T0))
		await limits.settle(grant, 0, T0)
		await limits.settle(grant, 0, T0)
		await limits.release(grant, T0)
		const next = granted(await take(limits, limited, 1000, T0))
		expect(next.tokens?.remaining).toBe(0)
		// The first request's slot was freed once: the second holds the only one.
		expect((await take(limits, limited, 0, T0)).ok).toBe(false)
	})

	it('lets a request larger than the whole limit through on a full bucket only', async () => {
		await using setup = await open()
		const { limits } = setup
		const limited = key({ tokensPerMinute: 1000 })
		const big = granted(await take(limits, limited, 50_000, T0))
		expect(big.reservedTokens).toBe(1000)
		expect((await take(limits, limited, 1, T0)).ok).toBe(false)
		await limits.settle(big, 3000, T0)
		// −2000: a full-size request waits for 3000 tokens, three minutes at 1000 a minute.
		const refused = await take(limits, limited, 50_000, T0)
		expect(refused.ok ? 0 : refused.retryAfterSeconds).toBe(180)
	})

	it('holds a key to its requests in flight, and frees a slot when one ends', async () => {
		await using setup = await open()
		const { limits } = setup
		const limited = key({ maxConcurrent: 2 })
		const a = granted(await take(limits, limited, 0, T0))
		granted(await take(limits, limited, 0, T0))
		const refused = await take(limits, limited, 0, T0)
		expect(refused).toEqual({
			ok: false,
			code: 'concurrency_exceeded',
			retryAfterSeconds: 1,
			message:
				'Too many requests in flight for this key: Limit 2 at once. Please try again when one has finished.',
			headers: { 'retry-after': '1' },
		})
		await limits.release(a, T0)
		await limits.release(a, T0)
		granted(await take(limits, limited, 0, T0))
		expect((await take(limits, limited, 0, T0)).ok).toBe(false)
	})

	it('takes nothing from any limit when one of them refuses', async () => {
		await using setup = await open()
		const { limits } = setup
		const limited = key({ rateLimitPerMinute: 2, tokensPerMinute: 1000, maxConcurrent: 5 })
		granted(await take(limits, limited, 900, T0))
		for (let i = 0; i < 5; i++) expect((await take(limits, limited, 500, T0)).ok).toBe(false)
		// Neither a request nor a slot went to the refusals: one request is left, and it has room.
		const grant = granted(await take(limits, limited, 100, T0))
		expect([grant.requests?.remaining, grant.tokens?.remaining]).toEqual([0, 0])
	})

	it('keeps each key’s limits apart', async () => {
		await using setup = await open()
		const { limits } = setup
		granted(await take(limits, key({ maxConcurrent: 1 }, 1), 0, T0))
		granted(await take(limits, key({ maxConcurrent: 1 }, 2), 0, T0))
		expect((await take(limits, key({ maxConcurrent: 1 }, 1), 0, T0)).ok).toBe(false)
	})

	it('gives requests admitted together the headers of one after another, and takes back their tokens together', async () => {
		await using setup = await open()
		const { limits } = setup
		const limited = key({ rateLimitPerMinute: 100, tokensPerMinute: 10_000, maxConcurrent: 20 })
		const grants = (await Promise.all(Array.from({ length: 10 }, () => take(limits, limited, 100, T0)))).map(
			granted,
		)
		expect(grants.map((grant) => grant.requests?.remaining).sort((a, b) => (a ?? 0) - (b ?? 0))).toEqual([
			90, 91, 92, 93, 94, 95, 96, 97, 98, 99,
		])
		expect(grants.map((grant) => grant.tokens?.remaining).sort((a, b) => (a ?? 0) - (b ?? 0))).toEqual([
			9_000, 9_100, 9_200, 9_300, 9_400, 9_500, 9_600, 9_700, 9_800, 9_900,
		])
		// PostgreSQL names each slot; memory counts them.
		if (backend === 'postgres') expect(new Set(grants.map((grant) => grant.lease)).size).toBe(10)
		// Each used 40 of its 100: 600 come back, and all ten slots.
		await Promise.all(grants.map((grant) => limits.settle(grant, 40, T0)))
		const after = granted(await take(limits, limited, 100, T0))
		expect(after.tokens?.remaining).toBe(9_500)
		const slots = await Promise.all(Array.from({ length: 25 }, () => take(limits, limited, 1, T0)))
		expect(slots.filter((taken) => taken.ok)).toHaveLength(19)
	})

	it('admits exactly what fits of 200 concurrent requests, wherever they arrive', async () => {
		await using setup = await open()
		const { limits, test } = setup
		// On SQLite one process serves the database; on PostgreSQL two instances share the key's row.
		const other =
			backend === 'postgres' ? createKeyLimits(await test.anotherInstance(), { leaseMs: LEASE_MS }) : limits
		const limited = key({ rateLimitPerMinute: 1000, tokensPerMinute: 2000, maxConcurrent: 50 })
		const outcomes = await Promise.all(
			Array.from({ length: 200 }, (_, i) => take(i % 2 ? other : limits, limited, 100, T0)),
		)
		const admitted = outcomes.filter((taken) => taken.ok)
		expect(admitted).toHaveLength(20)
		expect(new Set(outcomes.flatMap((taken) => (taken.ok ? [] : [taken.code])))).toEqual(
			new Set(['tokens_exceeded']),
		)
		const slots = key({ maxConcurrent: 7 }, 2)
		const racing = await Promise.all(
			Array.from({ length: 100 }, (_, i) => take(i % 2 ? other : limits, slots, 0, T0)),
		)
		expect(racing.filter((taken) => taken.ok)).toHaveLength(7)
		// Every slot given back, on either instance: seven more, and no more.
		await Promise.all(
			racing.flatMap((taken, i) => (taken.ok ? [(i % 2 ? other : limits).release(taken.grant, T0)] : [])),
		)
		const again = await Promise.all(
			Array.from({ length: 100 }, (_, i) => take(i % 2 ? other : limits, slots, 0, T0)),
		)
		expect(again.filter((taken) => taken.ok)).toHaveLength(7)
	})
})

describe('key limits shared on PostgreSQL', () => {
	if (!TEST_DATABASE_URL) return

	it('frees a slot whose request never ended once its lease has expired', async () => {
		await using test = await openTestStore('postgres')
		const postgres = test.store.postgres
		if (!postgres) throw new Error('not PostgreSQL')
		const crashed = new SharedKeyLimits(postgres, { leaseMs: LEASE_MS })
		const limited = key({ maxConcurrent: 2 })
		granted(await crashed.take(limited, 0, T0))
		granted(await crashed.take(limited, 0, T0 + 1000))
		const other = (await test.anotherInstance()).postgres
		if (!other) throw new Error('not PostgreSQL')
		const survivor = new SharedKeyLimits(other, { leaseMs: LEASE_MS })
		expect((await survivor.take(limited, 0, T0 + LEASE_MS - 1)).ok).toBe(false)
		// The first lease has expired, the second has not: one slot.
		granted(await survivor.take(limited, 0, T0 + LEASE_MS))
		expect((await survivor.take(limited, 0, T0 + LEASE_MS)).ok).toBe(false)
		const [row] = await postgres`SELECT leases FROM key_limit_state WHERE key_id = 1`
		// Expired leases are dropped by the admission that finds them: the row holds only live ones.
		expect(Object.keys(row.leases)).toHaveLength(2)
	})

	it('settles on one instance what was taken on another', async () => {
		await using test = await openTestStore('postgres')
		const here = createKeyLimits(test.store, { leaseMs: LEASE_MS })
		const there = createKeyLimits(await test.anotherInstance(), { leaseMs: LEASE_MS })
		const limited = key({ tokensPerMinute: 1000, maxConcurrent: 1 })
		const grant = granted(await here.take(limited, 800, T0))
		expect((await there.take(limited, 100, T0)).ok).toBe(false)
		await there.settle(grant, 300, T0)
		expect(granted(await there.take(limited, 700, T0)).tokens?.remaining).toBe(0)
	})
})

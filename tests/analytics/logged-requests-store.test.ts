import { describe, expect, it } from 'bun:test'
import type { DataStore } from '../../db/client'
import type { AttemptRecord } from '../../db/schema'
import { LoggedRequests, type RequestFilters } from '../../src/analytics/logged-requests'
import { BACKENDS, openTestStore } from '../helpers/stores'

const T0 = Date.parse('2026-12-03T10:00:00Z')
const EVERYONE = { userId: null }
const PIN = 'session header s-123: pinned to anthropic/claude-haiku (tier complex) at 10:01:00Z'

const FAILED_THEN_ANSWERED: AttemptRecord[] = [
	{
		model: 'openai/gpt-4o',
		provider: 'openai',
		status: 502,
		latencyMs: 120,
		error: 'upstream failed',
		costUsd: 0.001,
	},
	{ model: 'anthropic/claude-haiku', provider: 'anthropic', status: 200, latencyMs: 80 },
]

const FEATURES = {
	promptTokens: 12,
	messages: 2,
	hasTools: true,
	hasImages: false,
	jsonMode: false,
	maxTokens: null,
}

/**
 * Six requests by two users, oldest first (ids 1 to 6): answered by a tier, refused before routing,
 * named by the caller (answered, then failed), and one failed upstream with everything logged.
 */
async function seed(store: DataStore) {
	const { db, tables } = store
	const [alice, bob] = await db
		.insert(tables.users)
		.values([
			{ email: 'alice@example.com', passwordHash: 'x', role: 'developer' },
			{ email: 'bob@example.com', passwordHash: 'x', role: 'developer' },
		])
		.returning({ id: tables.users.id })
	if (!alice || !bob) throw new Error('no users')
	const key = (userId: number, name: string) => ({ userId, name, prefix: 'sy_x', keyHash: `hash-${name}` })
	const [aliceApp, aliceCli, bobApp] = await db
		.insert(tables.gatewayKeys)
		.values([key(alice.id, 'alice-app'), key(alice.id, 'alice-cli'), key(bob.id, 'bob-app')])
		.returning({ id: tables.gatewayKeys.id })
	if (!aliceApp || !aliceCli || !bobApp) throw new Error('no keys')
	const row = (minute: number, userId: number, keyId: number) => ({
		requestId: `req_${minute}`,
		createdAt: new Date(T0 + minute * 60_000),
		userId,
		keyId,
		requestedModel: 'auto',
		model: 'openai/gpt-4o-mini' as string | null,
		provider: 'openai' as string | null,
		tier: 'simple' as string | null,
		rule: 'short-chat' as string | null,
		status: 200,
		attempts: [] as AttemptRecord[],
		promptTokens: 10,
		completionTokens: 5,
		usageReported: true,
		costUsd: 0.01,
		baselineCostUsd: 0.03,
		latencyMs: 100,
	})
	const unrouted = { model: null, provider: null, tier: null, rule: null }
	const named = { requestedModel: 'gpt-4o-mini', tier: null, rule: 'explicit' }
	await db.insert(tables.requestLog).values([
		row(1, alice.id, aliceApp.id),
		{
			...row(2, alice.id, aliceCli.id),
			...unrouted,
			requestedModel: 'nope',
			status: 404,
			usageReported: false,
		},
		{ ...row(3, alice.id, aliceApp.id), ...named },
		{
			...row(4, bob.id, bobApp.id),
			model: 'anthropic/claude-haiku',
			upstreamModel: 'claude-haiku-4-5',
			provider: 'anthropic',
			tier: 'complex',
			rule: 'long-context',
			rulesRevision: 2,
			stream: true,
			status: 502,
			errorType: 'upstream_error',
			error: 'the stream broke off',
			attempts: FAILED_THEN_ANSWERED,
			cachedTokens: 3,
			cacheWriteTokens: 1,
			costUsd: 0.25,
			baselineCostUsd: 0.5,
			ttftMs: 40,
			features: FEATURES,
			promptText: 'summarise </td><script>',
			systemText: null,
			door: 'messages' as const,
			pin: PIN,
		},
		{ ...row(5, alice.id, aliceApp.id), ...named, model: null, provider: null, status: 502 },
		// Answered from the response cache: no upstream, no usage, $0, and what it saved.
		{
			...row(6, alice.id, aliceCli.id),
			promptTokens: 0,
			completionTokens: 0,
			usageReported: false,
			costUsd: 0,
			baselineCostUsd: 0,
			cacheHit: true,
			cacheSavedUsd: 0.0125,
		},
	])
	return {
		requests: new LoggedRequests(store),
		alice: alice.id,
		bob: bob.id,
		keys: { aliceApp: aliceApp.id, aliceCli: aliceCli.id, bobApp: bobApp.id },
	}
}

describe.each(BACKENDS)('LoggedRequests on %s', (backend) => {
	it('lists requests newest first with their key’s name, their user’s email and their attempts', async () => {
		await using test = await openTestStore(backend)
		const { requests } = await seed(test.store)
		const list = await requests.requests(EVERYONE, {}, 50)
		expect(list.map((item) => item.id)).toEqual([6, 5, 4, 3, 2, 1])
		expect(list[2]).toEqual({
			id: 4,
			createdAt: '2026-12-03T10:04:00.000Z',
			door: 'messages',
			keyName: 'bob-app',
			userEmail: 'bob@example.com',
			requestedModel: 'auto',
			model: 'anthropic/claude-haiku',
			provider: 'anthropic',
			tier: 'complex',
			rule: 'long-context',
			status: 502,
			promptTokens: 10,
			completionTokens: 5,
			costUsd: 0.25,
			latencyMs: 100,
			attempts: FAILED_THEN_ANSWERED,
			error: 'the stream broke off',
			cacheHit: false,
			cacheSavedUsd: 0,
		})
		expect(list[4]).toMatchObject({
			id: 2,
			door: 'chat',
			model: null,
			tier: null,
			rule: null,
			attempts: [],
			error: null,
		})
	})

	it.each<[string, RequestFilters, number[]]>([
		['no model answered', { model: null }, [5, 2]],
		['one model', { model: 'openai/gpt-4o-mini' }, [6, 3, 1]],
		['a tier', { tier: 'simple' }, [6, 1]],
		['the model named by the caller', { untiered: 'explicit' }, [5, 3]],
		['refused before routing', { untiered: 'before-routing' }, [2]],
		['failed', { status: 'error' }, [5, 4, 2]],
		['succeeded', { status: 'ok' }, [6, 3, 1]],
		['one status', { status: 404 }, [2]],
		['a model and a status', { model: 'openai/gpt-4o-mini', status: 'ok' }, [6, 3, 1]],
		['a door', { door: 'messages' }, [4]],
		['the chat door', { door: 'chat' }, [6, 5, 3, 2, 1]],
		['a door and a status', { door: 'chat', status: 'error' }, [5, 2]],
	])('filters by %s', async (_, filters, ids) => {
		await using test = await openTestStore(backend)
		const { requests } = await seed(test.store)
		expect((await requests.requests(EVERYONE, filters, 50)).map((item) => item.id)).toEqual(ids)
	})

	it('keeps a user to their own requests, and filters by key', async () => {
		await using test = await openTestStore(backend)
		const { requests, alice, bob, keys } = await seed(test.store)
		const ids = async (scope: { userId: number | null }, filters: RequestFilters) =>
			(await requests.requests(scope, filters, 50)).map((item) => item.id)
		expect(await ids({ userId: alice }, {})).toEqual([6, 5, 3, 2, 1])
		expect(await ids({ userId: alice }, { status: 'error' })).toEqual([5, 2])
		expect(await ids(EVERYONE, { keyId: keys.aliceCli })).toEqual([6, 2])
		expect(await ids({ userId: bob }, { keyId: keys.aliceCli })).toEqual([])
	})

	it('pages before an id, with and without filters', async () => {
		await using test = await openTestStore(backend)
		const { requests, alice } = await seed(test.store)
		const page = async (before: number | undefined, scope: { userId: number | null } = EVERYONE) =>
			(await requests.requests(scope, {}, 2, before)).map((item) => item.id)
		expect(await page(undefined)).toEqual([6, 5])
		expect(await page(5)).toEqual([4, 3])
		expect(await page(3)).toEqual([2, 1])
		expect(await page(1)).toEqual([])
		expect(await page(5, { userId: alice })).toEqual([3, 2])
	})

	it('shows one request in detail, its attempts and features decoded', async () => {
		await using test = await openTestStore(backend)
		const { requests, bob, keys } = await seed(test.store)
		expect(await requests.request(EVERYONE, 4)).toEqual({
			id: 4,
			createdAt: '2026-12-03T10:04:00.000Z',
			door: 'messages',
			keyName: 'bob-app',
			userEmail: 'bob@example.com',
			requestedModel: 'auto',
			model: 'anthropic/claude-haiku',
			provider: 'anthropic',
			tier: 'complex',
			rule: 'long-context',
			status: 502,
			promptTokens: 10,
			completionTokens: 5,
			costUsd: 0.25,
			latencyMs: 100,
			attempts: FAILED_THEN_ANSWERED,
			error: 'the stream broke off',
			cacheHit: false,
			cacheSavedUsd: 0,
			requestId: 'req_4',
			keyId: keys.bobApp,
			userId: bob,
			upstreamModel: 'claude-haiku-4-5',
			stream: true,
			errorType: 'upstream_error',
			rulesRevision: 2,
			cachedTokens: 3,
			cacheWriteTokens: 1,
			usageReported: true,
			baselineCostUsd: 0.5,
			ttftMs: 40,
			features: FEATURES,
			promptText: 'summarise </td><script>',
			systemText: null,
			pin: PIN,
		})
		expect(await requests.request({ userId: bob }, 4)).toMatchObject({ id: 4 })
		expect(await requests.request(EVERYONE, 2)).toMatchObject({
			stream: false,
			usageReported: false,
			features: null,
			ttftMs: null,
			upstreamModel: null,
			promptText: null,
			door: 'chat',
			pin: null,
		})
	})

	it('marks a request the cache answered, with what it saved, in the list and in detail', async () => {
		await using test = await openTestStore(backend)
		const { requests } = await seed(test.store)
		const [hit] = await requests.requests(EVERYONE, {}, 1)
		expect(hit).toMatchObject({ id: 6, costUsd: 0, cacheHit: true, cacheSavedUsd: 0.0125 })
		expect(await requests.request(EVERYONE, 6)).toMatchObject({
			cacheHit: true,
			cacheSavedUsd: 0.0125,
			usageReported: false,
		})
	})

	it('answers not found for another user’s request and for an id past the log', async () => {
		await using test = await openTestStore(backend)
		const { requests, alice } = await seed(test.store)
		await expect(requests.request({ userId: alice }, 4)).rejects.toMatchObject({ status: 404 })
		await expect(requests.request(EVERYONE, 7)).rejects.toMatchObject({ status: 404 })
		await expect(requests.request(EVERYONE, Number.MAX_SAFE_INTEGER)).rejects.toMatchObject({ status: 404 })
	})

	it('lists a request whose key and user are gone, without their names', async () => {
		await using test = await openTestStore(backend)
		const { requests } = await seed(test.store)
		const { db, tables } = test.store
		await db.insert(tables.requestLog).values({
			requestId: 'req_orphan',
			createdAt: new Date(T0 + 7 * 60_000),
			userId: 999,
			keyId: 999,
			status: 200,
			attempts: [],
			latencyMs: 100,
		})
		expect((await requests.requests(EVERYONE, {}, 1))[0]).toMatchObject({
			id: 7,
			keyName: null,
			userEmail: null,
		})
	})
})

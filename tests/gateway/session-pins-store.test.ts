import { describe, expect, it } from 'bun:test'
import { SessionPins } from '../../src/gateway/session-pins'
import { BACKENDS, openTestStore } from '../helpers/stores'

const T0 = Date.parse('2026-12-03T12:03:44Z')
const IDLE_MS = 30 * 60_000
const SONNET = {
	model: 'anthropic/claude-sonnet-5',
	tier: 'medium',
	reason: 'session header s-123: pinned to anthropic/claude-sonnet-5 (tier medium)',
}
const OPUS = {
	model: 'anthropic/claude-opus-5',
	tier: 'hard',
	reason: 'session header s-123: pinned to anthropic/claude-opus-5 (tier hard); escalated from tier medium',
}

describe.each(BACKENDS)('SessionPins on %s', (backend) => {
	it('finds a pin until it expires, then no longer', async () => {
		await using test = await openTestStore(backend)
		const pins = new SessionPins(test.store)
		expect(await pins.find(1, 'k1', T0)).toBeNull()
		await pins.pin(1, 'k1', SONNET, IDLE_MS, T0)
		const pinned = {
			...SONNET,
			createdAt: new Date(T0),
			lastSeenAt: new Date(T0),
			expiresAt: new Date(T0 + IDLE_MS),
		}
		expect(await pins.find(1, 'k1', T0 + IDLE_MS - 1)).toEqual(pinned)
		expect(await pins.find(1, 'k1', T0 + IDLE_MS)).toBeNull()
	})

	it('keeps each user’s sessions apart, even under the same key', async () => {
		await using test = await openTestStore(backend)
		const pins = new SessionPins(test.store)
		await pins.pin(1, 'k1', SONNET, IDLE_MS, T0)
		await pins.pin(2, 'k1', { ...OPUS, tier: null }, IDLE_MS, T0)
		expect(await pins.find(1, 'k1', T0)).toMatchObject({ model: SONNET.model, tier: 'medium' })
		expect(await pins.find(2, 'k1', T0)).toMatchObject({ model: OPUS.model, tier: null })
		expect(await pins.find(1, 'k2', T0)).toBeNull()
	})

	it('replaces the model, tier and reason of a pin and extends it, in one row', async () => {
		await using test = await openTestStore(backend)
		const pins = new SessionPins(test.store)
		await pins.pin(1, 'k1', SONNET, IDLE_MS, T0)
		await pins.pin(1, 'k1', OPUS, IDLE_MS, T0 + 60_000)
		expect(await pins.find(1, 'k1', T0 + 60_000)).toEqual({
			...OPUS,
			createdAt: new Date(T0 + 60_000),
			lastSeenAt: new Date(T0 + 60_000),
			expiresAt: new Date(T0 + 60_000 + IDLE_MS),
		})
		expect(await test.store.db.$count(test.store.tables.sessionPins)).toBe(1)
	})

	it('keeps when a live pin began when it is pinned to the same model again, not when it had expired', async () => {
		await using test = await openTestStore(backend)
		const pins = new SessionPins(test.store)
		await pins.pin(1, 'k1', SONNET, IDLE_MS, T0)
		await pins.pin(1, 'k1', { ...SONNET, reason: 'again' }, IDLE_MS, T0 + 60_000)
		expect(await pins.find(1, 'k1', T0 + 60_000)).toMatchObject({
			reason: 'again',
			createdAt: new Date(T0),
			expiresAt: new Date(T0 + 60_000 + IDLE_MS),
		})
		const later = T0 + 60_000 + IDLE_MS
		await pins.pin(1, 'k1', SONNET, IDLE_MS, later)
		expect(await pins.find(1, 'k1', later)).toMatchObject({ createdAt: new Date(later) })
	})

	it('extends a live pin when touched, and leaves an expired one expired', async () => {
		await using test = await openTestStore(backend)
		const pins = new SessionPins(test.store)
		await pins.pin(1, 'k1', SONNET, IDLE_MS, T0)
		expect(await pins.touch(1, 'k1', IDLE_MS, T0 + IDLE_MS - 1)).toBe(true)
		expect(await pins.find(1, 'k1', T0 + IDLE_MS)).toEqual({
			...SONNET,
			createdAt: new Date(T0),
			lastSeenAt: new Date(T0 + IDLE_MS - 1),
			expiresAt: new Date(T0 + 2 * IDLE_MS - 1),
		})
		expect(await pins.touch(1, 'k1', IDLE_MS, T0 + 2 * IDLE_MS)).toBe(false)
		expect(await pins.find(1, 'k1', T0 + 2 * IDLE_MS)).toBeNull()
		expect(await pins.touch(1, 'nobody', IDLE_MS, T0)).toBe(false)
	})

	it('prunes the expired pins and keeps the live ones', async () => {
		await using test = await openTestStore(backend)
		const pins = new SessionPins(test.store)
		await pins.pin(1, 'old', SONNET, IDLE_MS, T0)
		await pins.pin(1, 'live', SONNET, IDLE_MS, T0 + IDLE_MS)
		expect(await pins.prune(T0 + IDLE_MS)).toBe(1)
		expect(await pins.prune(T0 + IDLE_MS)).toBe(0)
		const keys = await test.store.db
			.select({ key: test.store.tables.sessionPins.sessionKey })
			.from(test.store.tables.sessionPins)
		expect(keys).toEqual([{ key: 'live' }])
	})

	it('refuses a session key longer than 128 characters: the gateway hashes them', async () => {
		await using test = await openTestStore(backend)
		const pins = new SessionPins(test.store)
		await pins.pin(1, 'k'.repeat(128), SONNET, IDLE_MS, T0)
		await expect(pins.pin(1, 'k'.repeat(129), SONNET, IDLE_MS, T0)).rejects.toThrow(RangeError)
	})
})

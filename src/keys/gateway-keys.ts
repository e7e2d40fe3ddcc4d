import { and, desc, eq, inArray, isNull, sql } from 'drizzle-orm'
import { type DataStore, RESYNC } from '../../db/client'
import type { Role } from '../../db/schema'
import { badRequest, GatewayError, notFound } from '../errors'
import { randomBase64Url, sha256Hex } from '../lib/crypto'

export const KEY_PREFIX = 'sy_'
/** 32 random bytes: 256 bits, comfortably above the 190 the issue asks for. */
const KEY_BYTES = 32
const VISIBLE_PREFIX_LENGTH = KEY_PREFIX.length + 8
const MAX_NAME_LENGTH = 100
/** How often at most `last_used_at` is written for one key. */
const LAST_USED_RESOLUTION_MS = 60_000

export interface GatewayKeyView {
	id: number
	/** Whose key it is: shown to an admin looking at everyone's keys. */
	ownerEmail: string
	name: string
	prefix: string
	rateLimitPerMinute: number | null
	createdAt: Date
	lastUsedAt: Date | null
	revokedAt: Date | null
}

/** Who is calling the gateway, resolved from a gateway key. */
export interface Principal {
	keyId: number
	keyName: string
	userId: number
	role: Role
	rateLimitPerMinute: number | null
	/** Input plus output tokens a minute (`gateway/key-limits.ts`); null for none. */
	tokensPerMinute: number | null
	/** Requests in flight at once; null for none. */
	maxConcurrent: number | null
	/** The response cache's time to live for this key's answers; null: the cache is off. */
	cacheTtlSeconds: number | null
}

/** A key's limits, as `update` changes them; `null` is "none" (for the cache, "off"). */
export interface KeyLimitSettings {
	rateLimitPerMinute: number | null
	tokensPerMinute: number | null
	maxConcurrent: number | null
	cacheTtlSeconds: number | null
}

export const MAX_RATE_LIMIT = 1_000_000
/** Within a 32-bit column, and beyond any provider's per-key limit. */
export const MAX_TOKENS_PER_MINUTE = 1_000_000_000
/** Each admission on PostgreSQL rewrites the key's set of leases: kept small (docs/architecture.md, "Key limits"). */
export const MAX_CONCURRENT = 1000
/** 30 days: an answer older than that is not worth serving as "the same request". */
export const MAX_CACHE_TTL_SECONDS = 30 * 24 * 3600

/** A whole number from 1 to `max`, or null (none); 400 with `param` otherwise. */
function checkLimit(value: number | null, max: number, param: string, what: string): number | null {
	if (value === null) return null
	if (!Number.isInteger(value) || value < 1 || value > max)
		throw badRequest(`${what} must be a whole number from 1 to ${max}, or null for none`, param)
	return value
}

function checkRateLimit(limit: number | null | undefined): number | null {
	if (limit === null || limit === undefined) return null
	if (!Number.isInteger(limit) || limit < 1 || limit > MAX_RATE_LIMIT) {
		throw badRequest(
			`The limit must be a whole number of requests per minute from 1 to ${MAX_RATE_LIMIT}`,
			'rateLimitPerMinute',
		)
	}
	return limit
}

export function checkKeyName(name: string): string {
	const trimmed = name.trim()
	if (!trimmed) throw badRequest('Give the key a name', 'name')
	if (trimmed.length > MAX_NAME_LENGTH)
		throw badRequest(`Key names have at most ${MAX_NAME_LENGTH} characters`, 'name')
	return trimmed
}

/**
 * Gateway keys: created and shown once, stored as SHA-256 only, looked up by hash through one indexed
 * query with the result cached in memory. A revocation, a role change or a deactivation on any instance
 * is published on the `keys` channel, and every instance drops the cached entries at once (within the
 * milliseconds a NOTIFY takes on PostgreSQL). `last_used_at` is kept in memory and written at most once a
 * minute per key.
 */
export class GatewayKeyStore {
	private readonly cache = new Map<string, Principal | null>()
	private readonly pendingLastUsed = new Map<number, number>()
	private readonly lastWritten = new Map<number, number>()
	private unsubscribe: (() => Promise<void>) | undefined

	private constructor(private readonly store: DataStore) {}

	static async open(store: DataStore): Promise<GatewayKeyStore> {
		const keys = new GatewayKeyStore(store)
		keys.unsubscribe = await store.subscribe('keys', (payload) => keys.forget(payload))
		return keys
	}

	async close() {
		await this.unsubscribe?.()
	}

	async create(
		userId: number,
		name: string,
		rateLimitPerMinute?: number | null,
	): Promise<{ id: number; name: string; prefix: string; rateLimitPerMinute: number | null; key: string }> {
		const { db, tables } = this.store
		const { gatewayKeys } = tables
		const values = { name: checkKeyName(name), rateLimitPerMinute: checkRateLimit(rateLimitPerMinute) }
		// Two live keys with one name cannot be told apart in the log or on the Keys page.
		const taken = await db
			.select({ id: gatewayKeys.id })
			.from(gatewayKeys)
			.where(
				and(eq(gatewayKeys.userId, userId), eq(gatewayKeys.name, values.name), isNull(gatewayKeys.revokedAt)),
			)
		if (taken.length > 0) {
			throw new GatewayError(409, 'invalid_request_error', `You already have a key named "${values.name}"`, {
				param: 'name',
				code: 'key_name_taken',
			})
		}
		const key = `${KEY_PREFIX}${randomBase64Url(KEY_BYTES)}`
		const prefix = key.slice(0, VISIBLE_PREFIX_LENGTH)
		const [row] = await db
			.insert(gatewayKeys)
			.values({ userId, ...values, prefix, keyHash: sha256Hex(key) })
			.returning({ id: gatewayKeys.id })
		if (!row) throw new Error('the new key was not returned')
		return { id: row.id, ...values, prefix, key }
	}

	/** A user's keys, newest first; `null` for every user's (an admin's view). */
	async list(userId: number | null): Promise<GatewayKeyView[]> {
		const { db, tables } = this.store
		const { gatewayKeys, users } = tables
		const rows = await db
			.select({
				id: gatewayKeys.id,
				ownerEmail: users.email,
				name: gatewayKeys.name,
				prefix: gatewayKeys.prefix,
				rateLimitPerMinute: gatewayKeys.rateLimitPerMinute,
				createdAt: gatewayKeys.createdAt,
				lastUsedAt: gatewayKeys.lastUsedAt,
				revokedAt: gatewayKeys.revokedAt,
			})
			.from(gatewayKeys)
			.innerJoin(users, eq(users.id, gatewayKeys.userId))
			.where(userId === null ? undefined : eq(gatewayKeys.userId, userId))
			.orderBy(desc(gatewayKeys.id))
		return rows.map((row) => ({ ...row, lastUsedAt: this.latestUse(row.id, row.lastUsedAt) }))
	}

	/**
	 * Revokes one of the user's own keys, or any key for `null` (an admin); another user's key id is
	 * "not found", never "forbidden". Every instance stops accepting it before this returns.
	 */
	async revoke(userId: number | null, keyId: number): Promise<GatewayKeyView> {
		const { db, tables } = this.store
		const { gatewayKeys } = tables
		const owned = userId === null ? undefined : eq(gatewayKeys.userId, userId)
		const [row] = await db
			.select({ keyHash: gatewayKeys.keyHash, revokedAt: gatewayKeys.revokedAt })
			.from(gatewayKeys)
			.where(and(eq(gatewayKeys.id, keyId), owned))
		if (!row) throw notFound('No such key')
		if (!row.revokedAt) {
			await db.update(gatewayKeys).set({ revokedAt: new Date() }).where(eq(gatewayKeys.id, keyId))
		}
		this.cache.delete(row.keyHash)
		await this.store.publish('keys', row.keyHash)
		const view = (await this.list(userId)).find((key) => key.id === keyId)
		if (!view) throw notFound('No such key')
		return view
	}

	/**
	 * Renames one of the user's own keys (any key for `null`, an admin) or changes its limits (`null`: none;
	 * absent: unchanged), in one statement that also refuses a name another live key of its owner has. Every
	 * value is checked before anything is written (400 with the field as `param`). Another user's key is
	 * "not found"; every instance drops its cached lookup before this returns, so the next request of the
	 * key runs under the new limits.
	 */
	async update(
		userId: number | null,
		keyId: number,
		change: { name?: string } & Partial<KeyLimitSettings>,
	): Promise<GatewayKeyView> {
		const { db, tables } = this.store
		const { gatewayKeys } = tables
		const name = change.name === undefined ? undefined : checkKeyName(change.name)
		const { tokensPerMinute, maxConcurrent, cacheTtlSeconds } = change
		const values = {
			...(name !== undefined && { name }),
			...(change.rateLimitPerMinute !== undefined && {
				rateLimitPerMinute: checkRateLimit(change.rateLimitPerMinute),
			}),
			...(tokensPerMinute !== undefined && {
				tokensPerMinute: checkLimit(
					tokensPerMinute,
					MAX_TOKENS_PER_MINUTE,
					'tokensPerMinute',
					'tokensPerMinute',
				),
			}),
			...(maxConcurrent !== undefined && {
				maxConcurrent: checkLimit(maxConcurrent, MAX_CONCURRENT, 'maxConcurrent', 'maxConcurrent'),
			}),
			...(cacheTtlSeconds !== undefined && {
				cacheTtlSeconds: checkLimit(
					cacheTtlSeconds,
					MAX_CACHE_TTL_SECONDS,
					'cacheTtlSeconds',
					'cacheTtlSeconds',
				),
			}),
		}
		if (Object.keys(values).length === 0) throw badRequest('Nothing to change', null)
		const owned = userId === null ? undefined : eq(gatewayKeys.userId, userId)
		// Parameters only, no correlated column: the subquery reads the same table under another name.
		const nameFree =
			name === undefined
				? undefined
				: sql`NOT EXISTS (SELECT 1 FROM ${gatewayKeys} other WHERE other.user_id = (SELECT k.user_id FROM ${gatewayKeys} k WHERE k.id = ${keyId}) AND other.name = ${name} AND other.revoked_at IS NULL AND other.id <> ${keyId})`
		const [row] = await db
			.update(gatewayKeys)
			.set(values)
			.where(and(eq(gatewayKeys.id, keyId), owned, nameFree))
			.returning({ keyHash: gatewayKeys.keyHash })
		if (!row) {
			const [exists] = await db
				.select({ id: gatewayKeys.id })
				.from(gatewayKeys)
				.where(and(eq(gatewayKeys.id, keyId), owned))
			if (!exists) throw notFound('No such key')
			throw new GatewayError(409, 'invalid_request_error', `You already have a key named "${name}"`, {
				param: 'name',
				code: 'key_name_taken',
			})
		}
		this.cache.delete(row.keyHash)
		await this.store.publish('keys', row.keyHash)
		const view = (await this.list(userId)).find((key) => key.id === keyId)
		if (!view) throw notFound('No such key')
		return view
	}

	/** A key's limits, for an answer that shows them; another user's key is "not found" (`null`: an admin). */
	async limits(userId: number | null, keyId: number): Promise<KeyLimitSettings> {
		const { db, tables } = this.store
		const { gatewayKeys } = tables
		const [row] = await db
			.select({
				rateLimitPerMinute: gatewayKeys.rateLimitPerMinute,
				tokensPerMinute: gatewayKeys.tokensPerMinute,
				maxConcurrent: gatewayKeys.maxConcurrent,
				cacheTtlSeconds: gatewayKeys.cacheTtlSeconds,
			})
			.from(gatewayKeys)
			.where(and(eq(gatewayKeys.id, keyId), userId === null ? undefined : eq(gatewayKeys.userId, userId)))
		if (!row) throw notFound('No such key')
		return row
	}

	/** The limits of keys already listed for the caller (the Keys page's rows), by key id, in one statement. */
	async limitsOf(keyIds: readonly number[]): Promise<Map<number, KeyLimitSettings>> {
		if (keyIds.length === 0) return new Map()
		const { db, tables } = this.store
		const { gatewayKeys } = tables
		const rows = await db
			.select({
				id: gatewayKeys.id,
				rateLimitPerMinute: gatewayKeys.rateLimitPerMinute,
				tokensPerMinute: gatewayKeys.tokensPerMinute,
				maxConcurrent: gatewayKeys.maxConcurrent,
				cacheTtlSeconds: gatewayKeys.cacheTtlSeconds,
			})
			.from(gatewayKeys)
			.where(inArray(gatewayKeys.id, [...keyIds]))
		return new Map(rows.map(({ id, ...limits }) => [id, limits]))
	}

	/** The hot path of every gateway request: a map hit, or one indexed query the first time. */
	async authenticate(key: string, now = Date.now()): Promise<Principal | null> {
		if (!key.startsWith(KEY_PREFIX)) return null
		const hash = sha256Hex(key)
		let principal = this.cache.get(hash)
		if (principal === undefined) {
			principal = await this.lookUp(hash)
			// Unknown keys are not cached, so a flood of random keys cannot grow the map.
			if (principal) this.cache.set(hash, principal)
		}
		if (principal) this.pendingLastUsed.set(principal.keyId, now)
		return principal
	}

	private async lookUp(hash: string): Promise<Principal | null> {
		const { db, tables } = this.store
		const { gatewayKeys, users } = tables
		const [row] = await db
			.select({
				keyId: gatewayKeys.id,
				keyName: gatewayKeys.name,
				userId: users.id,
				role: users.role,
				rateLimitPerMinute: gatewayKeys.rateLimitPerMinute,
				tokensPerMinute: gatewayKeys.tokensPerMinute,
				maxConcurrent: gatewayKeys.maxConcurrent,
				cacheTtlSeconds: gatewayKeys.cacheTtlSeconds,
			})
			.from(gatewayKeys)
			.innerJoin(users, eq(users.id, gatewayKeys.userId))
			.where(and(eq(gatewayKeys.keyHash, hash), isNull(gatewayKeys.revokedAt), eq(users.active, true)))
		return row ?? null
	}

	/**
	 * Tells every instance to drop its cached lookups for a user, after a change of role, a deactivation or
	 * the deletion of the account.
	 */
	async forgetUser(userId: number) {
		this.forget(`user:${userId}`)
		await this.store.publish('keys', `user:${userId}`)
	}

	/** A published change: one key's hash, `user:<id>`, or RESYNC for everything. */
	private forget(change: string) {
		if (change === RESYNC) this.cache.clear()
		else if (change.startsWith('user:')) {
			const userId = Number(change.slice('user:'.length))
			for (const [hash, principal] of this.cache) if (principal?.userId === userId) this.cache.delete(hash)
		} else this.cache.delete(change)
	}

	/** Writes the coalesced last-use times; called by the periodic flush (forced at shutdown), never per request. */
	async flushLastUsed(force = false) {
		if (this.pendingLastUsed.size === 0) return
		const due: [number, number][] = []
		for (const [keyId, at] of this.pendingLastUsed) {
			if (force || at - (this.lastWritten.get(keyId) ?? 0) >= LAST_USED_RESOLUTION_MS) due.push([keyId, at])
		}
		const { db, tables } = this.store
		for (const [keyId, at] of due) {
			this.lastWritten.set(keyId, at)
			this.pendingLastUsed.delete(keyId)
			await db
				.update(tables.gatewayKeys)
				.set({ lastUsedAt: new Date(at) })
				.where(eq(tables.gatewayKeys.id, keyId))
		}
	}

	private latestUse(keyId: number, stored: Date | null): Date | null {
		const pending = this.pendingLastUsed.get(keyId)
		if (pending && (!stored || pending > stored.getTime())) return new Date(pending)
		return stored
	}
}

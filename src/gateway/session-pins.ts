import { and, eq, gt, lte, sql } from 'drizzle-orm'
import type { DataStore } from '../../db/client'

/** The longest session key the gateway may use: a hash of the session's identity, never the raw text. */
export const MAX_SESSION_KEY_LENGTH = 128

/** The model a conversation stays on, and why. */
export interface SessionPin {
	/** The catalog model, as `<provider>/<id>`. */
	model: string
	/** The tier it was routed in; null for a named model. */
	tier: string | null
	/** Why it was pinned, in the gateway's words. */
	reason: string
	/** When this model was pinned (a replacement by another model starts it again). */
	createdAt: Date
	lastSeenAt: Date
	expiresAt: Date
}

export interface PinChoice {
	model: string
	tier: string | null
	reason: string
}

function checkKey(sessionKey: string) {
	if (sessionKey.length > MAX_SESSION_KEY_LENGTH)
		throw new RangeError(`a session key has at most ${MAX_SESSION_KEY_LENGTH} characters`)
}

/**
 * Session pins (SPEC "More front doors", sessions), in the database so every instance sees the same pin.
 * Each change is one statement: two turns of one session racing each other leave one pin, never two.
 * A pin lives for `idleMs` after its session was last seen; expired rows are ignored, and deleted by the
 * daily retention job (`prune`).
 */
export class SessionPins {
	constructor(private readonly store: DataStore) {}

	/** The session's live pin, or null when it has none or it expired. */
	async find(userId: number, sessionKey: string, now = Date.now()): Promise<SessionPin | null> {
		const { db, tables } = this.store
		const { sessionPins: pins } = tables
		const [row] = await db
			.select({
				model: pins.model,
				tier: pins.tier,
				reason: pins.reason,
				createdAt: pins.createdAt,
				lastSeenAt: pins.lastSeenAt,
				expiresAt: pins.expiresAt,
			})
			.from(pins)
			.where(and(eq(pins.userId, userId), eq(pins.sessionKey, sessionKey), gt(pins.expiresAt, new Date(now))))
		return row ?? null
	}

	/**
	 * Pins the session to a model, for `idleMs` from now: a new pin, or a replacement of the one it had (an
	 * escalation). One upsert. Re-pinning a live pin to the same model keeps when it was first pinned.
	 */
	async pin(
		userId: number,
		sessionKey: string,
		choice: PinChoice,
		idleMs: number,
		now = Date.now(),
	): Promise<void> {
		checkKey(sessionKey)
		const { db, tables } = this.store
		const { sessionPins: pins } = tables
		const at = new Date(now)
		const expiresAt = new Date(now + idleMs)
		const sameLivePin = and(gt(pins.expiresAt, at), eq(pins.model, sql`excluded.model`))
		await db
			.insert(pins)
			.values({
				userId,
				sessionKey,
				model: choice.model,
				tier: choice.tier,
				reason: choice.reason,
				createdAt: at,
				lastSeenAt: at,
				expiresAt,
			})
			.onConflictDoUpdate({
				target: [pins.userId, pins.sessionKey],
				set: {
					model: choice.model,
					tier: choice.tier,
					reason: choice.reason,
					createdAt: sql`CASE WHEN ${sameLivePin} THEN ${pins.createdAt} ELSE excluded.created_at END`,
					lastSeenAt: at,
					expiresAt,
				},
			})
	}

	/**
	 * Extends a live pin to `idleMs` from now (its session came back); an expired pin stays expired.
	 * Answers whether there was a live pin to extend.
	 */
	async touch(userId: number, sessionKey: string, idleMs: number, now = Date.now()): Promise<boolean> {
		const { db, tables } = this.store
		const { sessionPins: pins } = tables
		const at = new Date(now)
		const touched = await db
			.update(pins)
			.set({ lastSeenAt: at, expiresAt: new Date(now + idleMs) })
			.where(and(eq(pins.userId, userId), eq(pins.sessionKey, sessionKey), gt(pins.expiresAt, at)))
			.returning({ userId: pins.userId })
		return touched.length > 0
	}

	/** Deletes the pins expired by `now`; answers how many. */
	async prune(now = Date.now()): Promise<number> {
		const { db, tables } = this.store
		const { sessionPins: pins } = tables
		const deleted = await db
			.delete(pins)
			.where(lte(pins.expiresAt, new Date(now)))
			.returning({ userId: pins.userId })
		return deleted.length
	}
}

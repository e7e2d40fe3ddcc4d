import { and, eq, lt, sql } from 'drizzle-orm'
import type { Db } from '../../db/client'
import { sessions, users } from '../../db/schema'
import { randomBase64Url } from '../lib/crypto'
import type { PublicUser } from './accounts'

export const SESSION_TTL_MS = 30 * 24 * 60 * 60_000

export interface Authenticated {
	user: PublicUser
	sessionId: string
	via: 'cookie' | 'bearer'
}

export interface TokenVerifier {
	verify(token?: string): Promise<false | Record<string, unknown>>
}

function bearerToken(request: Request): string | undefined {
	const header = request.headers.get('authorization')
	return header?.toLowerCase().startsWith('bearer ') ? header.slice(7).trim() : undefined
}

/** Dashboard sessions: rows named by a random id, which a signed token (cookie or bearer) carries. */
export class SessionStore {
	/** Runs on every dashboard request: one indexed query through a prepared statement. */
	readonly #byId

	constructor(private readonly db: Db) {
		this.#byId = db
			.select({ id: users.id, email: users.email, role: users.role, expiresAt: sessions.expiresAt })
			.from(sessions)
			.innerJoin(users, eq(users.id, sessions.userId))
			.where(and(eq(sessions.id, sql.placeholder('id')), eq(users.active, true)))
			.prepare()
	}

	create(userId: number, now = Date.now()): { id: string; expiresAt: Date } {
		const id = randomBase64Url(32)
		const expiresAt = new Date(now + SESSION_TTL_MS)
		this.db.insert(sessions).values({ id, userId, expiresAt }).run()
		return { id, expiresAt }
	}

	/** Ends every session of a user at once (a deactivation). */
	deleteAllOf(userId: number) {
		this.db.delete(sessions).where(eq(sessions.userId, userId)).run()
	}

	delete(sessionId: string) {
		this.db.delete(sessions).where(eq(sessions.id, sessionId)).run()
	}

	pruneExpired(now = new Date()) {
		this.db.delete(sessions).where(lt(sessions.expiresAt, now)).run()
	}

	findUser(sessionId: string, now = Date.now()): PublicUser | null {
		const row = this.#byId.get({ id: sessionId })
		if (!row || row.expiresAt.getTime() <= now) return null
		return { id: row.id, email: row.email, role: row.role }
	}

	/**
	 * The caller's session from `Authorization: Bearer <token>` or else the session cookie. The token is a
	 * JWT naming a session id, and the session must still exist: logging out deletes it.
	 */
	async authenticate(
		verifier: TokenVerifier,
		request: Request,
		cookieToken: string | undefined,
	): Promise<Authenticated | null> {
		const bearer = bearerToken(request)
		const token = bearer ?? cookieToken
		if (!token) return null
		const payload = await verifier.verify(token)
		if (!payload || typeof payload.sid !== 'string') return null
		const user = this.findUser(payload.sid)
		return user ? { user, sessionId: payload.sid, via: bearer ? 'bearer' : 'cookie' } : null
	}
}

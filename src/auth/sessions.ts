import { and, eq, lt } from 'drizzle-orm'
import type { DataStore } from '../../db/client'
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
	constructor(private readonly store: DataStore) {}

	async create(userId: number, now = Date.now()): Promise<{ id: string; expiresAt: Date }> {
		const { db, tables } = this.store
		const id = randomBase64Url(32)
		const expiresAt = new Date(now + SESSION_TTL_MS)
		await db.insert(tables.sessions).values({ id, userId, expiresAt })
		return { id, expiresAt }
	}

	/** Ends every session of a user at once (a deactivation), on every instance: each asks the database. */
	async deleteAllOf(userId: number) {
		const { db, tables } = this.store
		await db.delete(tables.sessions).where(eq(tables.sessions.userId, userId))
	}

	async delete(sessionId: string) {
		const { db, tables } = this.store
		await db.delete(tables.sessions).where(eq(tables.sessions.id, sessionId))
	}

	async pruneExpired(now = new Date()) {
		const { db, tables } = this.store
		await db.delete(tables.sessions).where(lt(tables.sessions.expiresAt, now))
	}

	/** Runs on every dashboard request: one indexed query, so a logout or deactivation holds at once. */
	async findUser(sessionId: string, now = Date.now()): Promise<PublicUser | null> {
		const { db, tables } = this.store
		const { sessions, users } = tables
		const [row] = await db
			.select({ id: users.id, email: users.email, role: users.role, expiresAt: sessions.expiresAt })
			.from(sessions)
			.innerJoin(users, eq(users.id, sessions.userId))
			.where(and(eq(sessions.id, sessionId), eq(users.active, true)))
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
		const user = await this.findUser(payload.sid)
		return user ? { user, sessionId: payload.sid, via: bearer ? 'bearer' : 'cookie' } : null
	}
}

import { jwt } from '@elysiajs/jwt'
import { eq, lt, sql } from 'drizzle-orm'
import { Elysia } from 'elysia'
import { sessions, users } from '../../../db/schema'
import type { AppDeps } from '../../deps'
import { forbidden, unauthorized } from '../../errors'
import { isSafeMethod, requestSite } from '../http'
import type { PublicUser } from './service'

export const SESSION_COOKIE = 'switchyard_session'

export interface Authenticated {
	user: PublicUser
	sessionId: string
	via: 'cookie' | 'bearer'
}

interface TokenVerifier {
	verify(token?: string): Promise<false | Record<string, unknown>>
}

function bearerToken(request: Request): string | undefined {
	const header = request.headers.get('authorization')
	return header?.toLowerCase().startsWith('bearer ') ? header.slice(7).trim() : undefined
}

/** Looks the session up by id on every dashboard request; one indexed query through a prepared statement. */
export function createSessionLookup(deps: Pick<AppDeps, 'db'>) {
	const byId = deps.db
		.select({ id: users.id, email: users.email, role: users.role, expiresAt: sessions.expiresAt })
		.from(sessions)
		.innerJoin(users, eq(users.id, sessions.userId))
		.where(eq(sessions.id, sql.placeholder('id')))
		.prepare()
	return function findSessionUser(sessionId: string, now = Date.now()): PublicUser | null {
		const row = byId.get({ id: sessionId })
		if (!row || row.expiresAt.getTime() <= now) return null
		return { id: row.id, email: row.email, role: row.role }
	}
}

export function pruneExpiredSessions(deps: Pick<AppDeps, 'db'>, now = new Date()) {
	deps.db.delete(sessions).where(lt(sessions.expiresAt, now)).run()
}

/**
 * The caller's session from `Authorization: Bearer <token>` or else the session cookie. The token is a
 * JWT naming a session id, and the session must still exist: logging out deletes it.
 */
export async function authenticate(
	verifier: TokenVerifier,
	findSessionUser: (id: string) => PublicUser | null,
	request: Request,
	cookieToken: string | undefined,
): Promise<Authenticated | null> {
	const bearer = bearerToken(request)
	const token = bearer ?? cookieToken
	if (!token) return null
	const payload = await verifier.verify(token)
	if (!payload || typeof payload.sid !== 'string') return null
	const user = findSessionUser(payload.sid)
	return user ? { user, sessionId: payload.sid, via: bearer ? 'bearer' : 'cookie' } : null
}

export type AccessLevel = 'user' | 'admin'

/**
 * `{ session: 'user' | 'admin' }` on a route resolves `{ auth }` or ends the request (401, 403);
 * `{ viewer: true }` resolves `{ viewer }`, the signed-in user or null, for pages open to both.
 */
export const sessionPlugin = (deps: AppDeps) => {
	const findSessionUser = createSessionLookup(deps)
	const authenticated = new WeakMap<Request, Authenticated>()
	return new Elysia({ name: 'session' })
		.use(jwt({ name: 'sessionJwt', secret: deps.secrets.jwtSecret, exp: '30d' }))
		.macro({
			viewer: {
				async resolve({ sessionJwt, cookie, request }) {
					const token = cookie[SESSION_COOKIE]?.value as string | undefined
					const auth = await authenticate(sessionJwt, findSessionUser, request, token)
					return { viewer: auth?.user ?? null }
				},
			},
			session: (level: AccessLevel) => ({
				// Authorisation runs in `transform`, before body validation: a stranger gets 401 and a developer
				// 403 on an admin route, never a validation error that describes the route's body.
				async transform({ sessionJwt, cookie, request }) {
					const auth = await authenticate(
						sessionJwt,
						findSessionUser,
						request,
						cookie[SESSION_COOKIE]?.value as string | undefined,
					)
					if (!auth) throw unauthorized()
					// A cookie rides along on cross-site requests; only the dashboard's own pages may change state with it.
					if (auth.via === 'cookie' && !isSafeMethod(request) && requestSite(request) !== 'same-origin') {
						throw forbidden('Cross-site request refused: send it from the dashboard or with a bearer token')
					}
					if (level === 'admin' && auth.user.role !== 'admin') throw forbidden('Only an admin can do this')
					authenticated.set(request, auth)
				},
				resolve({ request }) {
					const auth = authenticated.get(request)
					if (!auth) throw unauthorized()
					return { auth }
				},
			}),
		})
}

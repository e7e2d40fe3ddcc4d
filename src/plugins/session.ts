import { jwt } from '@elysiajs/jwt'
import { Elysia } from 'elysia'
import type { Authenticated, SessionStore } from '../auth/sessions'
import { forbidden, unauthorized } from '../errors'
import type { Secrets } from '../secrets'
import { isSafeMethod, requestSite } from './request-info'

export const SESSION_COOKIE = 'switchyard_session'

export type AccessLevel = 'user' | 'admin'

export interface SessionDeps {
	sessions: SessionStore
	secrets: Pick<Secrets, 'jwtSecret'>
}

/**
 * `{ session: 'user' | 'admin' }` on a route resolves `{ auth }` or ends the request (401, 403);
 * `{ viewer: true }` resolves `{ viewer }`, the signed-in user or null, for pages open to both.
 */
export const sessionPlugin = (deps: SessionDeps) => {
	const { sessions } = deps
	const authenticated = new WeakMap<Request, Authenticated>()
	return new Elysia({ name: 'session' })
		.use(jwt({ name: 'sessionJwt', secret: deps.secrets.jwtSecret, exp: '30d' }))
		.macro({
			viewer: {
				async resolve({ sessionJwt, cookie, request }) {
					const token = cookie[SESSION_COOKIE]?.value as string | undefined
					const auth = await sessions.authenticate(sessionJwt, request, token)
					return { viewer: auth?.user ?? null }
				},
			},
			session: (level: AccessLevel) => ({
				// Authorisation runs in `transform`, before body validation: a stranger gets 401 and a developer
				// 403 on an admin route, never a validation error that describes the route's body.
				async transform({ sessionJwt, cookie, request }) {
					const token = cookie[SESSION_COOKIE]?.value as string | undefined
					const auth = await sessions.authenticate(sessionJwt, request, token)
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

import { count } from 'drizzle-orm'
import { type Cookie, Elysia } from 'elysia'
import { users } from '../../../db/schema'
import { normalizeEmail, type PublicUser, signup, verifyCredentials } from '../../auth/accounts'
import { SESSION_TTL_MS } from '../../auth/sessions'
import type { AppDeps } from '../../deps'
import { forbidden, GatewayError } from '../../errors'
import type { AuthMode } from '../../views/fragments/auth-form'
import { AuthForm } from '../../views/fragments/auth-form'
import { AuthPage } from '../../views/pages/auth'
import { clientAddress } from '../client-address'
import { formValue, isHtmx, redirectAfterForm, requestSite } from '../request-info'
import { SESSION_COOKIE, sessionPlugin } from '../session'
import { AuthModel } from './model'

interface Signer {
	sign(payload: { sid: string }): Promise<string>
}

interface ServerLike {
	requestIP(request: Request): { address: string } | null
}

function refuseWhileThrottled(retryAfterSeconds: number) {
	if (retryAfterSeconds > 0) {
		throw new GatewayError(429, 'rate_limit_error', 'Too many failed logins; try again later', {
			code: 'rate_limit_exceeded',
			headers: { 'retry-after': String(retryAfterSeconds) },
		})
	}
}

/** Login forgery: a cross-site page must not be able to sign a victim into an attacker's account. */
function refuseCrossSite(request: Request) {
	if (requestSite(request) === 'cross-site') throw forbidden('Cross-site request refused')
}

export const authPlugin = (deps: AppDeps) => {
	const { db, passwords, loginThrottle, config } = deps
	const adminConfigured = Boolean(config.admin)
	const isFirstAccount = () => !adminConfigured && (db.select({ n: count() }).from(users).get()?.n ?? 0) === 0

	async function startSession(user: PublicUser, signer: Signer, cookie: Record<string, Cookie<unknown>>) {
		deps.sessions.pruneExpired()
		const session = deps.sessions.create(user.id)
		const token = await signer.sign({ sid: session.id })
		cookie[SESSION_COOKIE]?.set({
			value: token,
			httpOnly: true,
			sameSite: 'lax',
			secure: config.production,
			path: '/',
			maxAge: SESSION_TTL_MS / 1000,
		})
		return token
	}

	async function login(email: string, password: string, request: Request, server: ServerLike | null) {
		refuseCrossSite(request)
		const account = normalizeEmail(email)
		const address =
			clientAddress(request, server?.requestIP(request)?.address, config.trustProxy) ?? 'unknown'
		// Refused before the password check: a locked account gives no answer about its password.
		refuseWhileThrottled(loginThrottle.accountRetryAfter(account))
		const user = await verifyCredentials(db, passwords, { email, password })
		if (!user) {
			refuseWhileThrottled(loginThrottle.recordFailure(account, address))
			throw new GatewayError(401, 'authentication_error', 'Invalid email or password', {
				code: 'invalid_credentials',
			})
		}
		// Again after it: guesses sent together all pass the first check, and the ones answered after the
		// account's tenth failure must not tell which password was right.
		refuseWhileThrottled(loginThrottle.accountRetryAfter(account))
		loginThrottle.recordSuccess(account)
		return user
	}

	async function register(email: string, password: string, request: Request) {
		refuseCrossSite(request)
		return signup(db, passwords, { email, password }, { adminConfigured })
	}

	/** A dashboard form: on success go home, on a known failure show the form again with the message. */
	async function submitForm(
		mode: AuthMode,
		body: unknown,
		context: {
			request: Request
			set: { status?: number | string; headers: Record<string, string | number> }
		},
		act: (email: string, password: string) => Promise<PublicUser>,
		begin: (user: PublicUser) => Promise<unknown>,
	) {
		const { request, set } = context
		const email = formValue(body, 'email')
		try {
			await begin(await act(email, formValue(body, 'password')))
		} catch (error) {
			if (!(error instanceof GatewayError) || error.status === 403) throw error
			set.status = error.status === 401 || error.status === 409 || error.status === 400 ? 422 : error.status
			Object.assign(set.headers, error.headers)
			const props = { mode, email, error: error.message, firstAccount: mode === 'signup' && isFirstAccount() }
			return isHtmx(request) ? <AuthForm {...props} /> : <AuthPage {...props} />
		}
		return redirectAfterForm(request, set, '/')
	}

	return new Elysia({ name: 'auth' })
		.use(sessionPlugin(deps))
		.post(
			'/api/auth/signup',
			async function apiSignup({ body, request, sessionJwt, cookie, set }) {
				const user = await register(body.email, body.password, request)
				const token = await startSession(user, sessionJwt, cookie)
				set.status = 201
				return { user, token }
			},
			{ body: AuthModel.credentials },
		)
		.post(
			'/api/auth/login',
			async function apiLogin({ body, request, server, sessionJwt, cookie }) {
				const user = await login(body.email, body.password, request, server)
				return { user, token: await startSession(user, sessionJwt, cookie) }
			},
			{ body: AuthModel.credentials },
		)
		.post(
			'/api/auth/logout',
			function apiLogout({ auth, cookie, set }) {
				deps.sessions.delete(auth.sessionId)
				cookie[SESSION_COOKIE]?.remove()
				set.status = 204
			},
			{ session: 'user' },
		)
		.get('/api/me', ({ auth }) => ({ user: auth.user }), { session: 'user' })
		.get('/login', ({ viewer, redirect }) => (viewer ? redirect('/', 303) : <AuthPage mode="login" />), {
			viewer: true,
		})
		.get(
			'/signup',
			({ viewer, redirect }) =>
				viewer ? redirect('/', 303) : <AuthPage mode="signup" firstAccount={isFirstAccount()} />,
			{ viewer: true },
		)
		.post('/login', ({ body, request, server, set, sessionJwt, cookie }) =>
			submitForm(
				'login',
				body,
				{ request, set },
				(email, password) => login(email, password, request, server),
				(user) => startSession(user, sessionJwt, cookie),
			),
		)
		.post('/signup', ({ body, request, set, sessionJwt, cookie }) =>
			submitForm(
				'signup',
				body,
				{ request, set },
				(email, password) => register(email, password, request),
				(user) => startSession(user, sessionJwt, cookie),
			),
		)
		.post(
			'/logout',
			function logoutForm({ auth, cookie, request, set }) {
				deps.sessions.delete(auth.sessionId)
				cookie[SESSION_COOKIE]?.remove()
				return redirectAfterForm(request, set, '/login')
			},
			{ session: 'user' },
		)
}

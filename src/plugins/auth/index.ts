import { type Cookie, Elysia } from 'elysia'
import type { Accounts, PublicUser } from '../../auth/accounts'
import { SESSION_TTL_MS } from '../../auth/sessions'
import type { Config, SignupPolicy } from '../../config'
import { forbidden } from '../../errors'
import { AuthForm, type AuthMode } from '../../views/fragments/auth-form'
import { AuthPage } from '../../views/pages/auth'
import { clientAddress } from '../client-address'
import {
	fragmentOrPage,
	type ResponseSet,
	readForm,
	redirectAfterForm,
	submitForm,
	submittedText,
} from '../forms'
import { arrivedOverHttps, requestSite } from '../request-info'
import { SESSION_COOKIE, type SessionDeps, sessionPlugin } from '../session'
import { AuthModel, type Credentials, inviteToken, type SignupInput } from './model'

export interface AuthDeps extends SessionDeps {
	accounts: Accounts
	config: Pick<Config, 'trustProxy'>
}

interface Signer {
	sign(payload: { sid: string }): Promise<string>
}

interface ServerLike {
	requestIP(request: Request): { address: string } | null
}

/** Said on the sign-up form when the form alone cannot create an account. */
const SIGNUP_NOTICES: Record<SignupPolicy, string | undefined> = {
	open: undefined,
	invite: 'Sign-up is by invitation: open the link an admin sent you.',
	closed: 'Sign-up is closed: ask an admin for an account.',
}

/** Login forgery: a cross-site page must not be able to sign a victim into an attacker's account. */
function refuseCrossSite(request: Request) {
	if (requestSite(request) === 'cross-site') throw forbidden('Cross-site request refused')
}

/** Sign-up, log-in and log-out: the JSON API and the dashboard's forms, which start a cookie session. */
export const authPlugin = (deps: AuthDeps) => {
	const { accounts, sessions, config } = deps

	async function startSession(
		user: PublicUser,
		request: Request,
		signer: Signer,
		cookie: Record<string, Cookie<unknown>>,
	) {
		await sessions.pruneExpired()
		const session = await sessions.create(user.id)
		const token = await signer.sign({ sid: session.id })
		cookie[SESSION_COOKIE]?.set({
			value: token,
			httpOnly: true,
			sameSite: 'lax',
			secure: arrivedOverHttps(request, config.trustProxy),
			path: '/',
			maxAge: SESSION_TTL_MS / 1000,
		})
		return token
	}

	function logIn(credentials: Credentials, request: Request, server: ServerLike | null) {
		refuseCrossSite(request)
		const address = clientAddress(request, server?.requestIP(request)?.address, config.trustProxy)
		return accounts.logIn(credentials, address ?? 'unknown')
	}

	function signup(input: SignupInput, request: Request) {
		refuseCrossSite(request)
		return accounts.signup(input)
	}

	/** What the login or sign-up form shows: the first-account hint, or why sign-up needs more than a form. */
	async function formProps(mode: AuthMode, shown: { email?: string; invite?: string; error?: string } = {}) {
		const firstAccount = mode === 'signup' && (await accounts.isFirstAccount())
		const policy = mode === 'signup' && !firstAccount && !shown.invite ? accounts.signupPolicy : 'open'
		return { mode, ...shown, firstAccount, notice: SIGNUP_NOTICES[policy] }
	}

	/** A dashboard form: on success go home, on a caller's mistake show the form again with the message. */
	function authForm(
		mode: AuthMode,
		body: unknown,
		request: Request,
		set: ResponseSet,
		act: (input: SignupInput) => Promise<PublicUser>,
		begin: (user: PublicUser) => Promise<unknown>,
	) {
		return submitForm(
			set,
			async () => {
				await begin(await act(readForm(mode === 'signup' ? AuthModel.signup : AuthModel.credentials, body)))
				return redirectAfterForm(request, set, '/')
			},
			async (error) => {
				const props = await formProps(mode, {
					email: submittedText(body, 'email'),
					invite: submittedText(body, 'invite'),
					error: error.message,
				})
				return fragmentOrPage(
					request,
					() => AuthForm(props),
					() => AuthPage(props),
				)
			},
		)
	}

	return new Elysia({ name: 'auth' })
		.use(sessionPlugin(deps))
		.post(
			'/api/auth/signup',
			async function apiSignup({ body, request, sessionJwt, cookie, set }) {
				const user = await signup(body, request)
				const token = await startSession(user, request, sessionJwt, cookie)
				set.status = 201
				return { user, token }
			},
			{ body: AuthModel.signup },
		)
		.post(
			'/api/auth/login',
			async function apiLogin({ body, request, server, sessionJwt, cookie }) {
				const user = await logIn(body, request, server)
				return { user, token: await startSession(user, request, sessionJwt, cookie) }
			},
			{ body: AuthModel.credentials },
		)
		.post(
			'/api/auth/logout',
			async function apiLogout({ auth, cookie, set }) {
				await sessions.delete(auth.sessionId)
				cookie[SESSION_COOKIE]?.remove()
				set.status = 204
			},
			{ session: 'user' },
		)
		.get('/api/me', ({ auth }) => ({ user: auth.user }), { session: 'user' })
		.get(
			'/login',
			async ({ viewer, redirect }) => (viewer ? redirect('/', 303) : AuthPage(await formProps('login'))),
			{ viewer: true },
		)
		.get(
			'/signup',
			async ({ viewer, redirect, query }) =>
				viewer
					? redirect('/', 303)
					: AuthPage(await formProps('signup', { invite: inviteToken(query.invite) })),
			{ viewer: true },
		)
		.post('/login', ({ body, request, server, set, sessionJwt, cookie }) =>
			authForm(
				'login',
				body,
				request,
				set,
				(credentials) => logIn(credentials, request, server),
				(user) => startSession(user, request, sessionJwt, cookie),
			),
		)
		.post('/signup', ({ body, request, set, sessionJwt, cookie }) =>
			authForm(
				'signup',
				body,
				request,
				set,
				(credentials) => signup(credentials, request),
				(user) => startSession(user, request, sessionJwt, cookie),
			),
		)
		.post(
			'/logout',
			async function logoutForm({ auth, cookie, request, set }) {
				await sessions.delete(auth.sessionId)
				cookie[SESSION_COOKIE]?.remove()
				return redirectAfterForm(request, set, '/login')
			},
			{ session: 'user' },
		)
}

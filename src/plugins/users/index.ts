import { Elysia } from 'elysia'
import type { Invites } from '../../auth/invites'
import type { Config } from '../../config'
import { arrivedOverHttps } from '../request-info'
import { type SessionDeps, sessionPlugin } from '../session'
import { UsersModel } from './model'

export interface UsersDeps extends SessionDeps {
	invites: Invites
	config: Pick<Config, 'trustProxy'>
}

/** The address people reach this dashboard by, as this request did: for links sent to them. */
function publicOrigin(request: Request, trustProxy: boolean): string {
	const scheme = arrivedOverHttps(request, trustProxy) ? 'https' : 'http'
	return `${scheme}://${new URL(request.url).host}`
}

/** The admin's people management: invite links for sign-up. */
export const usersPlugin = (deps: UsersDeps) =>
	new Elysia({ name: 'users' }).use(sessionPlugin(deps)).post(
		'/api/invites',
		({ auth, body, request, set }) => {
			const { token, expiresAt } = deps.invites.create(auth.user.id, body)
			set.status = 201
			const url = `${publicOrigin(request, deps.config.trustProxy)}/signup?invite=${token}`
			return { url, expiresAt, email: body.email ?? null, role: body.role ?? 'developer' }
		},
		{ session: 'admin', body: UsersModel.invite },
	)

import { Elysia } from 'elysia'
import type { AppDeps } from '../deps'
import { HomePage } from '../views/pages/home'
import { sessionPlugin } from './auth/session'

export const homePlugin = (deps: AppDeps) =>
	new Elysia({ name: 'home' })
		.use(sessionPlugin(deps))
		.get(
			'/',
			({ auth, request }) => (
				<HomePage
					user={auth.user}
					baseUrl={`${new URL(request.url).origin}/v1`}
					hasKeys={deps.gatewayKeys.list(auth.user.id).some((key) => !key.revokedAt)}
				/>
			),
			{ session: 'user' },
		)

import { Elysia } from 'elysia'
import type { KeyScope } from '../../../db/schema'
import type { PublicUser } from '../../auth/accounts'
import type { AppDeps } from '../../deps'
import { GatewayError } from '../../errors'
import { GatewayKeysSection, KeyRow } from '../../views/fragments/gateway-keys'
import { ProviderKeysSection } from '../../views/fragments/provider-keys'
import { KeysPage } from '../../views/pages/keys'
import { formSuccess, formValue, isHtmx, type ResponseSet } from '../request-info'
import { sessionPlugin } from '../session'
import { KeysModel } from './model'

const scopeOf = (body: unknown): KeyScope => (formValue(body, 'scope') === 'org' ? 'org' : 'user')

/** Caller mistakes are shown next to the form (422, swapped by htmx); anything else is the error page. */
function formError(error: unknown, set: { status?: number | string }): string {
	if (!(error instanceof GatewayError) || error.status >= 500) throw error
	set.status = 422
	return error.message
}

export const keysPlugin = (deps: AppDeps) => {
	const { gatewayKeys, providerKeys, catalog } = deps
	const keyedProviders = catalog.providers.filter((provider) => provider.keyEnv)

	function renderPage(user: PublicUser, extra: Partial<Parameters<typeof KeysPage>[0]> = {}) {
		return (
			<KeysPage
				user={user}
				gatewayKeys={gatewayKeys.list(user.id)}
				providers={keyedProviders}
				providerKeys={providerKeys.list(user)}
				{...extra}
			/>
		)
	}

	const providerSection = (user: PublicUser, error?: string) => (
		<ProviderKeysSection
			providers={keyedProviders}
			keys={providerKeys.list(user)}
			isAdmin={user.role === 'admin'}
			error={error}
		/>
	)

	/** A provider-key form (save or remove): its section again, with the caller's mistake shown inline. */
	async function providerForm(
		user: PublicUser,
		request: Request,
		set: ResponseSet,
		change: () => unknown | Promise<unknown>,
	) {
		try {
			await change()
		} catch (error) {
			const message = formError(error, set)
			return isHtmx(request) ? providerSection(user, message) : renderPage(user, { providerError: message })
		}
		return formSuccess(request, set, () => providerSection(user), '/keys')
	}

	return (
		new Elysia({ name: 'keys' })
			.use(sessionPlugin(deps))
			// JSON API
			.get('/api/keys', ({ auth }) => gatewayKeys.list(auth.user.id), { session: 'user' })
			.post(
				'/api/keys',
				({ auth, body, set }) => {
					set.status = 201
					return gatewayKeys.create(auth.user.id, body.name, body.rateLimitPerMinute)
				},
				{ session: 'user', body: KeysModel.create },
			)
			.delete(
				'/api/keys/:id',
				({ auth, params, set }) => {
					gatewayKeys.revoke(auth.user.id, params.id)
					set.status = 204
				},
				{ session: 'user', params: KeysModel.idParam },
			)
			.get(
				'/api/provider-keys',
				({ auth }) =>
					providerKeys.list(auth.user).map(({ provider, scope, last4, createdAt, source }) => ({
						provider,
						scope,
						last4,
						createdAt,
						source,
					})),
				{ session: 'user' },
			)
			.put(
				'/api/provider-keys/:provider',
				async ({ auth, params, body }) => {
					const scope = body.scope ?? 'user'
					await providerKeys.save(auth.user, params.provider, body.apiKey, scope)
					return { provider: params.provider, scope, last4: body.apiKey.trim().slice(-4) }
				},
				{ session: 'user', params: KeysModel.providerParam, body: KeysModel.saveProviderKey },
			)
			.delete(
				'/api/provider-keys/:provider',
				({ auth, params, query, set }) => {
					providerKeys.remove(auth.user, params.provider, query.scope ?? 'user')
					set.status = 204
				},
				{ session: 'user', params: KeysModel.providerParam, query: KeysModel.scopeQuery },
			)
			// Dashboard pages and the fragments their forms swap
			.get('/keys', ({ auth }) => renderPage(auth.user), { session: 'user' })
			.post(
				'/keys',
				({ auth, body, request, set }) => {
					try {
						const limit = formValue(body, 'rateLimitPerMinute').trim()
						const created = gatewayKeys.create(
							auth.user.id,
							formValue(body, 'name'),
							limit ? Number(limit) : null,
						)
						const keys = gatewayKeys.list(auth.user.id)
						return isHtmx(request) ? (
							<GatewayKeysSection keys={keys} created={created} />
						) : (
							renderPage(auth.user, { created })
						)
					} catch (error) {
						const message = formError(error, set)
						return isHtmx(request) ? (
							<GatewayKeysSection keys={gatewayKeys.list(auth.user.id)} error={message} />
						) : (
							renderPage(auth.user, { gatewayError: message })
						)
					}
				},
				{ session: 'user' },
			)
			.post(
				'/keys/:id/revoke',
				({ auth, params, request, set }) => {
					const revoked = gatewayKeys.revoke(auth.user.id, params.id)
					return formSuccess(request, set, () => <KeyRow gatewayKey={revoked} />, '/keys')
				},
				{ session: 'user', params: KeysModel.idParam },
			)
			.post(
				'/provider-keys/:provider',
				({ auth, params, body, request, set }) =>
					providerForm(auth.user, request, set, () =>
						providerKeys.save(auth.user, params.provider, formValue(body, 'apiKey'), scopeOf(body)),
					),
				{ session: 'user', params: KeysModel.providerParam },
			)
			.post(
				'/provider-keys/:provider/delete',
				({ auth, params, body, request, set }) =>
					providerForm(auth.user, request, set, () =>
						providerKeys.remove(auth.user, params.provider, scopeOf(body)),
					),
				{ session: 'user', params: KeysModel.providerParam },
			)
	)
}

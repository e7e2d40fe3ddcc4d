import { Elysia } from 'elysia'
import type { AppDeps } from '../deps'
import { unauthorized } from '../errors'
import { runChat } from '../gateway/pipeline'
import type { Principal } from '../keys/gateway-keys'

/** Unix seconds of the catalog's price reading: the `created` of every listed model. */
function catalogCreated(pricesReadAt: string | undefined): number {
	const parsed = pricesReadAt ? Date.parse(pricesReadAt) : Number.NaN
	return Number.isNaN(parsed) ? 0 : Math.floor(parsed / 1000)
}

/** The OpenAI-compatible API, authenticated by gateway key. */
export const gatewayPlugin = (deps: AppDeps) => {
	const created = catalogCreated(deps.catalog.pricesReadAt)

	function authorizeKey(request: Request): Principal {
		const header = request.headers.get('authorization') ?? ''
		const key = header.toLowerCase().startsWith('bearer ') ? header.slice(7).trim() : ''
		const principal = key ? deps.gatewayKeys.authenticate(key) : null
		if (!principal) {
			throw unauthorized(
				key
					? 'Incorrect API key provided: use a Switchyard gateway key (sy_…)'
					: 'Missing API key: send Authorization: Bearer sy_…',
				'invalid_api_key',
			)
		}
		return principal
	}

	return new Elysia({ name: 'gateway', prefix: '/v1' })
		.post(
			'/chat/completions',
			function chatCompletions({ request }) {
				return runChat(deps, authorizeKey(request), request)
			},
			{ parse: 'none' },
		)
		.get('/models', async function listModels({ request }) {
			const principal = authorizeKey(request)
			const usable = await Promise.all(
				deps.catalog.providers.map(async (provider) => [
					provider.id,
					(await deps.providerKeys.resolve(principal.userId, provider.id)) !== null,
				]),
			)
			const reachable = new Set(usable.filter(([, ok]) => ok).map(([id]) => id))
			const data = [
				{ id: 'auto', object: 'model', created, owned_by: 'switchyard' },
				...deps.catalog.models
					.filter((model) => reachable.has(model.provider) && !deps.catalog.retiredOn(model))
					.map((model) => ({ id: model.qualifiedId, object: 'model', created, owned_by: model.provider })),
			]
			return { object: 'list', data }
		})
}

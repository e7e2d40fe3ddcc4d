import { Elysia } from 'elysia'
import { authorizeKey } from '../gateway/authorize'
import { listModels, type ModelListDeps } from '../gateway/models'
import { type GatewayDeps, runChat } from '../gateway/pipeline'
import type { GatewayKeyStore } from '../keys/gateway-keys'

export type GatewayPluginDeps = GatewayDeps &
	ModelListDeps & { gatewayKeys: Pick<GatewayKeyStore, 'authenticate'> }

/** The OpenAI-compatible API, authenticated by gateway key; the gateway reads its own bodies. */
export const gatewayPlugin = (deps: GatewayPluginDeps) =>
	new Elysia({ name: 'gateway', prefix: '/v1' })
		.post(
			'/chat/completions',
			async function chatCompletions({ request }) {
				return runChat(deps, await authorizeKey(deps.gatewayKeys, request), request)
			},
			{ parse: 'none' },
		)
		.get('/models', async function models({ request }) {
			return listModels(deps, await authorizeKey(deps.gatewayKeys, request))
		})

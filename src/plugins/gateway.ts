import { Elysia } from 'elysia'
import { GatewayError } from '../errors'
import { authorizeKey } from '../gateway/authorize'
import { listModels, type ModelListDeps } from '../gateway/models'
import { type GatewayDeps, runChat } from '../gateway/pipeline'
import type { GatewayKeyStore, Principal } from '../keys/gateway-keys'
import type { GatewayMetrics } from '../observability/gateway-metrics'

export type GatewayPluginDeps = GatewayDeps &
	ModelListDeps & {
		gatewayKeys: Pick<GatewayKeyStore, 'authenticate'>
		metrics: Pick<GatewayMetrics, 'requestRefused'>
	}

/** The key check of a chat request; a refusal is counted, since the request never reaches the pipeline. */
async function authorizeChat(deps: GatewayPluginDeps, request: Request): Promise<Principal> {
	try {
		return await authorizeKey(deps.gatewayKeys, request)
	} catch (error) {
		if (error instanceof GatewayError) deps.metrics.requestRefused('chat', error.status)
		throw error
	}
}

/** The OpenAI-compatible API, authenticated by gateway key; the gateway reads its own bodies. */
export const gatewayPlugin = (deps: GatewayPluginDeps) =>
	new Elysia({ name: 'gateway', prefix: '/v1' })
		.post(
			'/chat/completions',
			async function chatCompletions({ request }) {
				return runChat(deps, await authorizeChat(deps, request), request)
			},
			{ parse: 'none' },
		)
		.get('/models', async function models({ request }) {
			return listModels(deps, await authorizeKey(deps.gatewayKeys, request))
		})

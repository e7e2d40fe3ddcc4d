import { Elysia } from 'elysia'
import { GatewayError } from '../errors'
import { authorizeKey } from '../gateway/authorize'
import { type CountTokensDeps, countTokens } from '../gateway/count-tokens'
import { chatDoor } from '../gateway/doors/chat'
import type { FrontDoor } from '../gateway/doors/door'
import { createEmbeddingsDoor } from '../gateway/doors/embeddings-door'
import { createMessagesDoor } from '../gateway/doors/messages-door'
import { createResponsesDoor } from '../gateway/doors/responses-door'
import { listModels, type ModelListDeps } from '../gateway/models'
import { type GatewayDeps, runDoor } from '../gateway/pipeline'
import type { StoredResponses } from '../gateway/stored-responses'
import type { GatewayKeyStore } from '../keys/gateway-keys'
import type { GatewayMetrics } from '../observability/gateway-metrics'
import type { NativeApis } from '../providers/index'

export type GatewayPluginDeps = GatewayDeps &
	ModelListDeps &
	CountTokensDeps & {
		gatewayKeys: Pick<GatewayKeyStore, 'authenticate'>
		metrics: Pick<GatewayMetrics, 'requestRefused'>
		natives: NativeApis
		storedResponses: Pick<StoredResponses, 'find' | 'save'>
	}

/** The error in the door's own shape (Anthropic's for `/v1/messages`), its status and headers kept. */
function inDoorShape(door: FrontDoor, error: unknown): unknown {
	if (!(error instanceof GatewayError)) return error
	const body = door.errorBody(error)
	if (body === undefined) return error
	const { status, type, message, param, code, headers } = error
	return new GatewayError(status, type, message, { param, code, headers, body })
}

/**
 * The door's request: the key check (a refusal is counted, since the request never reaches the pipeline),
 * then the pipeline; any error leaves in the door's shape.
 */
async function serveDoor(
	deps: GatewayPluginDeps,
	door: FrontDoor,
	request: Request,
	serve: (principal: Awaited<ReturnType<typeof authorizeKey>>) => Promise<Response>,
): Promise<Response> {
	let principal: Awaited<ReturnType<typeof authorizeKey>>
	try {
		principal = await authorizeKey(deps.gatewayKeys, request)
	} catch (error) {
		if (error instanceof GatewayError) deps.metrics.requestRefused(door.name, error.status)
		throw inDoorShape(door, error)
	}
	try {
		return await serve(principal)
	} catch (error) {
		throw inDoorShape(door, error)
	}
}

/**
 * Codex CLI first asks for a WebSocket on `GET /v1/responses`. A 426 makes it use HTTP and server-sent
 * events at once; any other refusal (405, 404) makes it retry five times first, a 5–10 s stall
 * (openai/codex#43353, read 2026-12-03).
 */
const NO_WEBSOCKET = () =>
	new GatewayError(426, 'invalid_request_error', 'WebSocket transport is not served: use HTTP streaming', {
		code: 'websocket_not_supported',
		headers: { upgrade: 'websocket' },
	})

/** The gateway's API, authenticated by gateway key; the gateway reads its own bodies. */
export const gatewayPlugin = (deps: GatewayPluginDeps) => {
	const messages = createMessagesDoor(deps.natives.anthropic)
	const responses = createResponsesDoor(deps.natives.openai, deps.storedResponses)
	const embeddings = createEmbeddingsDoor(deps.natives.embeddings)
	const route = (door: FrontDoor) =>
		async function frontDoor({ request }: { request: Request }) {
			return serveDoor(deps, door, request, (principal) => runDoor(deps, door, principal, request))
		}
	return new Elysia({ name: 'gateway', prefix: '/v1' })
		.post('/chat/completions', route(chatDoor), { parse: 'none' })
		.post('/messages', route(messages), { parse: 'none' })
		.post(
			'/messages/count_tokens',
			async function messagesCountTokens({ request }) {
				return serveDoor(deps, messages, request, (principal) => countTokens(deps, principal, request))
			},
			{ parse: 'none' },
		)
		.post('/responses', route(responses), { parse: 'none' })
		.get('/responses', function responsesWebSocket() {
			throw NO_WEBSOCKET()
		})
		.post('/embeddings', route(embeddings), { parse: 'none' })
		.get('/models', async function models({ request }) {
			return listModels(deps, await authorizeKey(deps.gatewayKeys, request), request.headers)
		})
}

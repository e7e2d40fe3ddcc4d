// `POST /v1/responses`: the OpenAI Responses API, for Codex CLI and the OpenAI Agents SDK. Untouched to
// OpenAI, translated for the others. Switchyard keeps the turns a caller asks to store (`store: true`) and
// resolves `previous_response_id` itself, so a conversation can move between providers.
import { badRequest, GatewayError } from '../../errors'
import type { NativeApi } from '../../providers/types'
import type { StoredResponses } from '../stored-responses'
import type { DoorRequest, FrontDoor } from './door'
import {
	chatToResponse,
	createResponsesEncoder,
	responseOutputItems,
	responsesForRules,
	responsesToChat,
} from './responses'

/** The code `responsesToChat` gives what only OpenAI runs (its built-in tools). */
const OPENAI_ONLY = 'openai_only'

/** `input` as items: a string is one user message. */
function inputItems(input: unknown): unknown[] {
	if (typeof input === 'string') return [{ type: 'message', role: 'user', content: input }]
	return Array.isArray(input) ? input : []
}

/** The response id a translated answer gets: its request's, so the log row and the response match. */
const responseId = (requestId: string) => `resp_${requestId.replace(/[^A-Za-z0-9]/g, '')}`

/** What a translated answer echoes: the caller's request, with `store` as Switchyard did it. */
const echoed = (request: DoorRequest) => ({ ...request.sent, store: request.sent.store === true })

/** Every input item of this turn, earlier turns' included: what a stored response keeps. */
const turnInput = (request: DoorRequest) => inputItems(request.native.input)

export function createResponsesDoor(
	responsesApi: NativeApi,
	storedResponses: Pick<StoredResponses, 'find' | 'save'>,
): FrontDoor {
	return {
		name: 'responses',
		nativeApi: (kind) => (kind === 'openai' ? responsesApi : undefined),
		async parse(raw, principal) {
			let history: unknown[] = []
			const native: Record<string, unknown> = { ...raw }
			const previous = raw.previous_response_id
			if (previous !== undefined && previous !== null) {
				if (typeof previous !== 'string')
					throw badRequest('previous_response_id must be a string', 'previous_response_id')
				const earlier = await storedResponses.find(previous, principal.userId)
				if (!earlier) {
					throw badRequest(
						`Previous response with id '${previous}' not found.`,
						'previous_response_id',
						'previous_response_not_found',
					)
				}
				history = [...earlier.input, ...earlier.output]
				// The upstream never stored it: it gets the whole conversation instead of the id.
				native.input = [...history, ...inputItems(raw.input)]
				delete native.previous_response_id
			}
			const current = { ...raw }
			delete current.previous_response_id
			try {
				return {
					chat: responsesToChat(current, history),
					untranslatable: null,
					native,
					nativeHeaders: {},
					sent: raw,
				}
			} catch (error) {
				if (!(error instanceof GatewayError) || error.code !== OPENAI_ONLY) throw error
				const chat = responsesForRules(current, history)
				return { chat, untranslatable: error, native, nativeHeaders: {}, sent: raw }
			}
		},
		render: (response, _raw, { requestId, request }) =>
			JSON.stringify(chatToResponse(response, echoed(request), responseId(requestId))),
		encoder: ({ requestId, request }) => createResponsesEncoder(echoed(request), responseId(requestId)),
		errorBody: () => undefined,
		async completed(answer, { principal, request, model }) {
			if (request.native.store !== true || typeof answer.id !== 'string') return
			await storedResponses.save({
				id: answer.id,
				userId: principal.userId,
				keyId: principal.keyId,
				model,
				input: turnInput(request),
				output: responseOutputItems(answer),
				createdAt: new Date(),
			})
		},
	}
}

// OpenAI's own APIs spoken natively by the front doors: the Responses API for `/v1/responses`
// (https://developers.openai.com/api/reference/resources/responses), where the caller's body goes through
// untouched but for the model, and Embeddings for `/v1/embeddings`, for OpenAI and OpenAI-compatible
// providers alike (https://developers.openai.com/api/reference/resources/embeddings).
import type { Response as OpenAIResponse, ResponseStreamEvent } from 'openai/resources/responses/responses'
import { createResponsesStreamTranslator, fromResponse } from './openai-responses'
import type {
	CallOptions,
	NativeApi,
	NativeRequest,
	NativeResult,
	StreamPiece,
	UpstreamTarget,
} from './types'
import { UpstreamError } from './upstream-error'
import { type AnswerLimits, parseJson, postJson, postJsonForText, readEvents } from './upstream-http'

/** The prefix of the `encrypted_content` the Responses door gives Claude's thinking (doors/responses/output.ts). */
const SWITCHYARD_SEALED = 'switchyard.'

const authorization = (target: UpstreamTarget) => ({ authorization: `Bearer ${target.apiKey}` })
const nowSeconds = () => Math.floor(Date.now() / 1000)
const meta = () => ({ id: `chatcmpl-${crypto.randomUUID()}`, created: nowSeconds() })

/**
 * Switchyard keeps the conversation itself (`store: true` stores it here, for `previous_response_id`), so
 * the upstream never stores it: a turn may go to another provider, and an organisation key's stored
 * responses would be readable by every user of that key.
 */
const bodyFor = (request: NativeRequest, target: UpstreamTarget, stream: boolean) => ({
	...request.body,
	...(Array.isArray(request.body.input) && { input: request.body.input.filter(readableUnstored) }),
	model: target.model.id,
	store: false,
	stream,
})

/**
 * Whether OpenAI can read an input item with `store: false`. A reasoning item without OpenAI's own
 * `encrypted_content` is looked up by id among stored items, which the upstream never kept (404 "Items are
 * not persisted when `store` is set to false"); one Switchyard sealed holds Claude's thinking, which OpenAI
 * cannot decrypt. Such items are left out: the turn goes on without that reasoning, as it would elsewhere.
 */
function readableUnstored(item: unknown): boolean {
	if (!item || typeof item !== 'object' || (item as { type?: unknown }).type !== 'reasoning') return true
	const sealed = (item as { encrypted_content?: unknown }).encrypted_content
	return typeof sealed === 'string' && sealed !== '' && !sealed.startsWith(SWITCHYARD_SEALED)
}

const responsesUrl = (target: UpstreamTarget) => `${target.provider.baseUrl}/responses`

function asResponse(raw: string): OpenAIResponse {
	const response = parseJson<OpenAIResponse>(raw)
	if (!response || typeof response !== 'object' || !Array.isArray(response.output)) {
		throw new UpstreamError('protocol', 0, 'the upstream answer is not a response')
	}
	return response
}

export function createResponsesApi(limits: AnswerLimits): NativeApi {
	return {
		async call(request, target, options) {
			const raw = await postJsonForText(
				responsesUrl(target),
				authorization(target),
				bodyFor(request, target, false),
				options,
				limits,
			)
			const response = asResponse(raw)
			const { usage } = fromResponse(response, meta())
			return { raw, answer: response as unknown as Record<string, unknown>, usage, model: response.model }
		},

		async stream(request, target, options) {
			const response = await postJson(
				responsesUrl(target),
				authorization(target),
				bodyFor(request, target, true),
				options,
				limits,
			)
			if (!response.body) throw new UpstreamError('protocol', 0, 'the upstream sent no stream')
			const body = response.body
			const translator = createResponsesStreamTranslator(meta())
			let final: Record<string, unknown> | null = null
			async function* pieces(): AsyncGenerator<StreamPiece> {
				for await (const sse of readEvents(body, limits)) {
					const event = parseJson<ResponseStreamEvent>(sse.data)
					const chunks = translator.push(event)
					if (event.type === 'response.completed' || event.type === 'response.incomplete')
						final = event.response as unknown as Record<string, unknown>
					const name = sse.event ? `event: ${sse.event}\n` : ''
					yield { chunks, native: `${name}data: ${sse.data}\n\n` }
				}
			}
			return Object.assign(pieces(), { usageSoFar: translator.usage, final: () => final })
		},
	}
}

interface EmbeddingsAnswer {
	model?: unknown
	data?: unknown
	usage?: { prompt_tokens?: number; total_tokens?: number } | null
}

/** `POST /embeddings` with the caller's body but for the model; the answer is relayed as it came. */
export function createEmbeddingsApi(limits: AnswerLimits): NativeApi {
	return {
		call: (request, target, options) => embed(request.body, target, options, limits),
		stream() {
			throw new UpstreamError('protocol', 0, 'embeddings are not streamed')
		},
	}
}

async function embed(
	body: Record<string, unknown>,
	target: UpstreamTarget,
	options: CallOptions,
	limits: AnswerLimits,
): Promise<NativeResult> {
	const raw = await postJsonForText(
		`${target.provider.baseUrl}/embeddings`,
		authorization(target),
		{ ...body, model: target.model.id },
		options,
		limits,
	)
	const answer = parseJson<EmbeddingsAnswer>(raw)
	if (!answer || typeof answer !== 'object' || !Array.isArray(answer.data)) {
		throw new UpstreamError('protocol', 0, 'the upstream answer is not a list of embeddings')
	}
	const promptTokens = answer.usage?.prompt_tokens ?? answer.usage?.total_tokens
	const usage =
		typeof promptTokens === 'number'
			? {
					promptTokens,
					completionTokens: 0,
					cachedTokens: 0,
					cacheWriteTokens: 0,
					cacheWrite1hTokens: 0,
					reasoningTokens: 0,
				}
			: null
	const model = typeof answer.model === 'string' ? answer.model : target.model.id
	return { raw, answer: answer as Record<string, unknown>, usage, model }
}

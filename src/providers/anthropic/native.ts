// The Anthropic Messages API spoken natively, for the `/v1/messages` door: the caller's body and its
// `anthropic-version` / `anthropic-beta` headers go through untouched (thinking, cache control, server
// tools, betas), as Anthropic's LLM gateway contract asks (https://code.claude.com/docs/en/llm-gateway).
import type Anthropic from '@anthropic-ai/sdk'
import type { CallOptions, ChatChunk, NativeApi, NativeRequest, StreamPiece, UpstreamTarget } from '../types'
import { UpstreamError } from '../upstream-error'
import { type AnswerLimits, parseJson, postJson, postJsonForText, readEvents } from '../upstream-http'
import { ANTHROPIC_VERSION, unpaidAsPaymentRequired } from './index'
import { fromAnthropicResponse } from './response'
import { type AnthropicStreamEvent, createStreamTranslator } from './stream'

/** The caller's own version and betas when it sent them; ours otherwise. */
function headers(request: NativeRequest, target: UpstreamTarget): Record<string, string> {
	const forwarded: Record<string, string> = {
		authorization: `Bearer ${target.apiKey}`,
		'anthropic-version': request.headers['anthropic-version'] ?? ANTHROPIC_VERSION,
	}
	const beta = request.headers['anthropic-beta']
	if (beta) forwarded['anthropic-beta'] = beta
	return forwarded
}

const url = (target: UpstreamTarget) => `${target.provider.baseUrl}/v1/messages`
const bodyFor = (request: NativeRequest, target: UpstreamTarget, stream: boolean) => ({
	...request.body,
	model: target.model.id,
	stream,
})
const nowSeconds = () => Math.floor(Date.now() / 1000)

export function createMessagesApi(limits: AnswerLimits): NativeApi {
	return {
		async call(request, target, options) {
			const raw = await postJsonForText(
				url(target),
				headers(request, target),
				bodyFor(request, target, false),
				options,
				limits,
			).catch(unpaidAsPaymentRequired)
			const message = parseJson<Anthropic.Message>(raw)
			if (!message || typeof message !== 'object' || !Array.isArray(message.content)) {
				throw new UpstreamError('protocol', 0, 'the upstream answer is not a message')
			}
			const meta = { id: message.id, created: nowSeconds(), modelId: target.model.qualifiedId }
			const { usage } = fromAnthropicResponse(message, meta)
			return { raw, answer: message as unknown as Record<string, unknown>, usage, model: message.model }
		},

		async stream(request, target, options) {
			const response = await postJson(
				url(target),
				headers(request, target),
				bodyFor(request, target, true),
				options,
				limits,
			).catch(unpaidAsPaymentRequired)
			if (!response.body) throw new UpstreamError('protocol', 0, 'the upstream sent no stream')
			const body = response.body
			const translator = createStreamTranslator({
				id: `chatcmpl-${crypto.randomUUID()}`,
				created: nowSeconds(),
				modelId: target.model.qualifiedId,
			})
			async function* pieces(): AsyncGenerator<StreamPiece> {
				for await (const sse of readEvents(body, limits)) {
					const chunks: ChatChunk[] = translator.push(parseJson<AnthropicStreamEvent>(sse.data))
					const name = sse.event ? `event: ${sse.event}\n` : ''
					yield { chunks, native: `${name}data: ${sse.data}\n\n` }
				}
			}
			return Object.assign(pieces(), { usageSoFar: () => translator.usage() ?? null, final: () => null })
		},
	}
}

/** `POST /v1/messages/count_tokens` (free at Anthropic): the caller's body but for the model; the answer as it came. */
export function createTokenCounter(limits: AnswerLimits) {
	return (request: NativeRequest, target: UpstreamTarget, options: CallOptions): Promise<string> =>
		postJsonForText(
			`${url(target)}/count_tokens`,
			headers(request, target),
			{ ...request.body, model: target.model.id },
			options,
			limits,
		)
}

// Anthropic Messages API (https://platform.claude.com/docs/en/api/messages), version 2026-10-21 — the one
// @anthropic-ai/sdk 1.x sends and transform.ts targets — reached through the translation in transform.ts
// and stream.ts.
import type Anthropic from '@anthropic-ai/sdk'
import { ShapeLog } from '../shape'
import type { ChatChunk, ChatStream, ProviderAdapter, UpstreamTarget } from '../types'
import { UpstreamError } from '../upstream-error'
import { type AnswerLimits, parseJson, postJson, postJsonForText, readEvents } from '../upstream-http'
import { fromAnthropicResponse } from './response'
import { type AnthropicStreamEvent, createStreamTranslator } from './stream'
import { toAnthropicRequest } from './transform'

export const ANTHROPIC_VERSION = '2026-10-21'

const completionId = (messageId: string) => `chatcmpl-${messageId.replace(/^msg_/, '')}`
const nowSeconds = () => Math.floor(Date.now() / 1000)

// The SDK authenticates API keys with a bearer token; so do we.
const headers = (target: UpstreamTarget) => ({
	authorization: `Bearer ${target.apiKey}`,
	'anthropic-version': ANTHROPIC_VERSION,
})

const messagesUrl = (target: UpstreamTarget) => `${target.provider.baseUrl}/v1/messages`

const UNPAID = /credit balance is too low/i

/**
 * Anthropic reports an exhausted credit balance as a 400, not its documented 402: the account's problem,
 * which another provider's key does not share, never the caller's; so it falls back like a 402.
 */
export function unpaidAsPaymentRequired(error: unknown): never {
	if (error instanceof UpstreamError && error.upstreamStatus === 400 && UNPAID.test(error.message)) {
		throw new UpstreamError('http', 402, error.message)
	}
	throw error
}

export function createAnthropicAdapter(limits: AnswerLimits): ProviderAdapter {
	return {
		prepare(request, model) {
			const log = new ShapeLog()
			const params = toAnthropicRequest(request, model, log)
			return { upstream: params, dropped: log.dropped, adjusted: log.adjusted }
		},

		async chat(prepared, target, call) {
			const body = { ...(prepared.upstream as Anthropic.MessageCreateParams), stream: false }
			const raw = await postJsonForText(messagesUrl(target), headers(target), body, call, limits).catch(
				unpaidAsPaymentRequired,
			)
			const message = parseJson<Anthropic.Message>(raw)
			if (!message || typeof message !== 'object' || !Array.isArray(message.content)) {
				throw new UpstreamError('protocol', 0, 'the upstream answer is not a message')
			}
			const { completion, usage } = fromAnthropicResponse(message, {
				id: completionId(message.id),
				created: nowSeconds(),
				modelId: target.model.qualifiedId,
			})
			return { response: completion, usage }
		},

		async stream(prepared, target, call) {
			const body = { ...(prepared.upstream as Anthropic.MessageCreateParams), stream: true }
			const response = await postJson(messagesUrl(target), headers(target), body, call, limits).catch(
				unpaidAsPaymentRequired,
			)
			if (!response.body) throw new UpstreamError('protocol', 0, 'the upstream sent no stream')
			return translate(response.body, target.model.qualifiedId, limits)
		},
	}
}

function translate(body: ReadableStream<Uint8Array>, modelId: string, limits: AnswerLimits): ChatStream {
	let translator: ReturnType<typeof createStreamTranslator> | undefined
	async function* chunks(): AsyncGenerator<ChatChunk> {
		for await (const sse of readEvents(body, limits)) {
			const event = parseJson<AnthropicStreamEvent>(sse.data)
			if (!translator) {
				const id =
					event.type === 'message_start' ? completionId(event.message.id) : `chatcmpl-${crypto.randomUUID()}`
				translator = createStreamTranslator({ id, created: nowSeconds(), modelId })
			}
			yield* translator.push(event)
		}
	}
	return Object.assign(chunks(), { usageSoFar: () => translator?.usage() ?? null })
}

// Anthropic Messages API (version 2026-10-21, as @anthropic-ai/sdk 1.x sends it), reached through the
// translation in transform.ts and stream.ts.
import Anthropic from '@anthropic-ai/sdk'
import { ClientCache } from '../client-cache'
import { toUpstreamError } from '../errors'
import type { ChatChunk, ProviderAdapter } from '../types'
import { type AnthropicStreamEvent, createStreamTranslator } from './stream'
import { fromAnthropicResponse, toAnthropicRequest } from './transform'

// Setting a time-out also stops the SDK from refusing long non-streaming calls; the gateway enforces
// UPSTREAM_TIMEOUT_MS to the first byte itself.
const SDK_TIMEOUT_MS = 10 * 60_000

const completionId = (messageId: string) => `chatcmpl-${messageId.replace(/^msg_/, '')}`
const nowSeconds = () => Math.floor(Date.now() / 1000)

export function createAnthropicAdapter(): ProviderAdapter {
	const clients = new ClientCache(
		(baseURL, apiKey) => new Anthropic({ apiKey, baseURL, maxRetries: 0, timeout: SDK_TIMEOUT_MS }),
	)

	return {
		async chat(request, target, call) {
			const client = clients.get(target.provider.baseUrl, target.apiKey)
			const params = toAnthropicRequest(request, target.model)
			try {
				const message = await client.messages.create({ ...params, stream: false }, { signal: call.signal })
				const { completion, usage } = fromAnthropicResponse(message, {
					id: completionId(message.id),
					created: nowSeconds(),
				})
				return { response: completion, usage }
			} catch (error) {
				throw toUpstreamError(error)
			}
		},

		async stream(request, target, call) {
			const client = clients.get(target.provider.baseUrl, target.apiKey)
			const params = toAnthropicRequest(request, target.model)
			try {
				const events = await client.messages.create({ ...params, stream: true }, { signal: call.signal })
				return translate(events)
			} catch (error) {
				throw toUpstreamError(error)
			}
		},
	}
}

async function* translate(events: AsyncIterable<AnthropicStreamEvent>): AsyncIterable<ChatChunk> {
	let translator: ReturnType<typeof createStreamTranslator> | undefined
	try {
		for await (const event of events) {
			if (!translator) {
				const id =
					event.type === 'message_start' ? completionId(event.message.id) : `chatcmpl-${crypto.randomUUID()}`
				translator = createStreamTranslator({ id, created: nowSeconds() })
			}
			yield* translator.push(event)
		}
	} catch (error) {
		throw toUpstreamError(error)
	}
}

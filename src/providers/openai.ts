// OpenAI Chat Completions (https://platform.openai.com/docs/api-reference/chat) through the official SDK.
// Our canonical format is this one, so the adapter is close to identity: the body is passed on with
// its unknown fields, only the model id and, for streams, the usage request are set.
import OpenAI from 'openai'
import type { ChatCompletionChunk } from 'openai/resources/chat/completions'
import type { CompletionUsage } from 'openai/resources/completions'
import { ClientCache } from './client-cache'
import { toUpstreamError } from './errors'
import type { ChatChunk, ChatRequest, ProviderAdapter, TokenUsage, UpstreamTarget } from './types'

/** The SDK's own time-out is a backstop; the gateway enforces UPSTREAM_TIMEOUT_MS to the first byte itself. */
const SDK_TIMEOUT_MS = 10 * 60_000

export interface OpenAIAdapterOptions {
	/**
	 * OpenAI's own API takes `max_completion_tokens` for every model and refuses `max_tokens` on
	 * reasoning models; OpenAI-compatible servers mostly know only `max_tokens`.
	 */
	renameMaxTokens: boolean
}

export function toTokenUsage(usage: CompletionUsage | null | undefined): TokenUsage | null {
	if (!usage) return null
	const details = usage.prompt_tokens_details as
		| { cached_tokens?: number; cache_write_tokens?: number }
		| undefined
	return {
		promptTokens: usage.prompt_tokens ?? 0,
		completionTokens: usage.completion_tokens ?? 0,
		cachedTokens: details?.cached_tokens ?? 0,
		cacheWriteTokens: details?.cache_write_tokens ?? 0,
	}
}

function upstreamBody(request: ChatRequest, target: UpstreamTarget, options: OpenAIAdapterOptions) {
	const body: Record<string, unknown> = { ...request, model: target.model.id }
	if (options.renameMaxTokens && body.max_tokens !== undefined) {
		body.max_completion_tokens ??= body.max_tokens
		delete body.max_tokens
	}
	for (const param of target.model.unsupportedParams ?? []) delete body[param]
	return body
}

export function createOpenAIAdapter(options: OpenAIAdapterOptions): ProviderAdapter {
	const clients = new ClientCache(
		(baseURL, apiKey) => new OpenAI({ apiKey, baseURL, maxRetries: 0, timeout: SDK_TIMEOUT_MS }),
	)

	return {
		async chat(request, target, call) {
			const client = clients.get(target.provider.baseUrl, target.apiKey)
			const body = { ...upstreamBody(request, target, options), stream: false }
			try {
				const response = await client.chat.completions.create(
					body as OpenAI.ChatCompletionCreateParamsNonStreaming,
					{
						signal: call.signal,
					},
				)
				return { response, usage: toTokenUsage(response.usage) }
			} catch (error) {
				throw toUpstreamError(error)
			}
		},

		async stream(request, target, call) {
			const client = clients.get(target.provider.baseUrl, target.apiKey)
			const body = {
				...upstreamBody(request, target, options),
				stream: true,
				// Always ask for usage, so a stream is never priced at $0; the pipeline drops that chunk for a
				// client that did not ask.
				stream_options: { ...(request.stream_options ?? {}), include_usage: true },
			}
			try {
				const stream = await client.chat.completions.create(
					body as OpenAI.ChatCompletionCreateParamsStreaming,
					{
						signal: call.signal,
					},
				)
				return mapErrors(stream)
			} catch (error) {
				throw toUpstreamError(error)
			}
		},
	}
}

async function* mapErrors(stream: AsyncIterable<ChatCompletionChunk>): AsyncIterable<ChatChunk> {
	try {
		yield* stream
	} catch (error) {
		throw toUpstreamError(error)
	}
}

// OpenAI Chat Completions (https://platform.openai.com/docs/api-reference/chat), and every server that
// speaks it. Our canonical format is this one, so the adapter is close to identity: the body is passed on
// with its unknown fields, only the model id and, for streams, the usage request are set; answers are
// relayed as the upstream wrote them.
import type { CompletionUsage } from 'openai/resources/completions'
import type { CatalogModel } from './catalog'
import { UpstreamError } from './errors'
import { parseJson, postJson, postJsonForText, readEvents, upstreamMessage } from './http'
import type {
	ChatChunk,
	ChatRequest,
	ChatResponse,
	ProviderAdapter,
	TokenUsage,
	UpstreamTarget,
} from './types'

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

/** A copy of the request for the upstream: its model id and its own limits; `stream` is set per call. */
function upstreamBody(request: ChatRequest, model: CatalogModel, options: OpenAIAdapterOptions) {
	const body: Record<string, unknown> = { ...request, model: model.id }
	if (options.renameMaxTokens && body.max_tokens !== undefined) {
		body.max_completion_tokens ??= body.max_tokens
		delete body.max_tokens
	}
	for (const param of model.unsupportedParams ?? []) delete body[param]
	return body
}

const authorization = (target: UpstreamTarget) => ({ authorization: `Bearer ${target.apiKey}` })

const chatUrl = (target: UpstreamTarget) => `${target.provider.baseUrl}/chat/completions`

export function createOpenAIAdapter(options: OpenAIAdapterOptions): ProviderAdapter {
	return {
		prepare(request, model) {
			return { upstream: upstreamBody(request, model, options), dropped: [] }
		},

		async chat(prepared, target, call) {
			const body = { ...(prepared.upstream as Record<string, unknown>), stream: false }
			const raw = await postJsonForText(chatUrl(target), authorization(target), body, call)
			const completion = parseJson<ChatResponse>(raw)
			if (!completion || typeof completion !== 'object' || !Array.isArray(completion.choices)) {
				throw new UpstreamError('protocol', 0, 'the upstream answer is not a chat completion')
			}
			return { response: completion, usage: toTokenUsage(completion.usage), raw }
		},

		async stream(prepared, target, call) {
			const upstream = prepared.upstream as Record<string, unknown>
			const streamOptions = (upstream.stream_options ?? {}) as Record<string, unknown>
			// Always ask for usage, so a stream is never priced at $0; the pipeline drops that chunk for a
			// client that did not ask.
			const body = { ...upstream, stream: true, stream_options: { ...streamOptions, include_usage: true } }
			const response = await postJson(chatUrl(target), authorization(target), body, call)
			if (!response.body) throw new UpstreamError('protocol', 0, 'the upstream sent no stream')
			return Object.assign(chunksOf(response.body), { usageSoFar: () => null })
		},
	}
}

async function* chunksOf(body: ReadableStream<Uint8Array>): AsyncGenerator<ChatChunk> {
	for await (const event of readEvents(body)) {
		if (event.data === '[DONE]') return
		const chunk = parseJson<ChatChunk & { error?: unknown }>(event.data)
		// OpenAI reports a failure after the stream started as an event with an `error` field.
		if (chunk.error)
			throw new UpstreamError('http', 500, upstreamMessage(chunk) ?? 'the upstream failed mid-stream')
		yield chunk
	}
}

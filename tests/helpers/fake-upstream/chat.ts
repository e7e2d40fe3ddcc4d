/**
 * Chat Completions answers, JSON and SSE, as OpenAI sends them and as each OpenAI-compatible provider
 * varies them (reasoning text field, usage fields, when usage is streamed, tool call ids).
 */
import type { AutoCacheRule } from './cache'
import { countCompletionTokens, promptTexts, tokensOf } from './tokens'
import type { Context, Rendered, ReplyBehaviour, StreamErrorBehaviour } from './types'
import { type Body, dataLine, nowSeconds, openaiErrorFields, randomId, split, words } from './wire'

export interface Counts {
	prompt: number
	completion: number
	cached: number
	/** Tokens written to the cache; reported only where `reportsCacheWrites` or scripted. */
	written: number | undefined
	reasoning: number
}

export interface ChatFlavour {
	/** Cache namespace: the provider. */
	provider: string
	/** Automatic prompt caching; null: none. */
	cache: AutoCacheRule | null
	reportsCacheWrites: boolean
	/** The message field that carries reasoning text (DeepSeek `reasoning_content`, Groq `reasoning`). */
	reasoningField?: 'reasoning' | 'reasoning_content'
	/** OpenAI's `refusal: null` on every message and first delta. */
	refusalField: boolean
	/** `stream_options`: usage only when asked; `always`: on the last chunk, unasked (Mistral). */
	streamUsage: 'stream_options' | 'always'
	callId: () => string
	usage: (counts: Counts) => Record<string, unknown>
}

export interface ChatRequest {
	body: Body
	model: string
	reasoningTokens: number
	ctx: Context
}

const REASONING_TEXT = 'Thinking about the request before answering.'

/** OpenAI's usage; `cache_write_tokens` only where the model reports writes (or a script gives them). */
export function openaiUsage(counts: Counts): Record<string, unknown> {
	return {
		prompt_tokens: counts.prompt,
		completion_tokens: counts.completion,
		total_tokens: counts.prompt + counts.completion,
		prompt_tokens_details: {
			cached_tokens: counts.cached,
			audio_tokens: 0,
			...(counts.written !== undefined && { cache_write_tokens: counts.written }),
		},
		completion_tokens_details: {
			reasoning_tokens: counts.reasoning,
			audio_tokens: 0,
			accepted_prediction_tokens: 0,
			rejected_prediction_tokens: 0,
		},
	}
}

/** Prompt, cache and completion counts for an answer; runs the prompt cache once. */
export function countsFor(
	request: ChatRequest,
	flavour: Pick<ChatFlavour, 'provider' | 'cache' | 'reportsCacheWrites'>,
	reply: ReplyBehaviour,
	visible: { text: string | null; toolCalls: ReplyBehaviour['toolCalls'] },
): Counts {
	const texts = promptTexts(request.body)
	const total = tokensOf(texts)
	// The namespace (tools included) is only worth building for a prompt long enough to cache.
	const use =
		flavour.cache && total >= flavour.cache.min
			? request.ctx.cache.automaticUse(
					`${flavour.provider}\0${request.model}\0${JSON.stringify(request.body.tools ?? null)}`,
					texts,
					total,
					flavour.cache,
				)
			: { cached: 0, written: 0 }
	const scripted = reply.usage ?? {}
	const reasoning = scripted.reasoning ?? request.reasoningTokens
	return {
		prompt: scripted.prompt ?? total,
		completion:
			scripted.completion ?? countCompletionTokens(visible.text, visible.toolCalls ?? []) + reasoning,
		cached: scripted.cached ?? use.cached,
		written: scripted.cacheWrite ?? (flavour.reportsCacheWrites ? use.written : undefined),
		reasoning,
	}
}

export function renderChat(request: ChatRequest, flavour: ChatFlavour, reply: ReplyBehaviour): Rendered {
	const toolCalls = reply.toolCalls ?? []
	const reported = reply.model ?? request.model
	const text = reply.text ?? (toolCalls.length > 0 ? null : `Hello from ${reported}`)
	const counts = countsFor(request, flavour, reply, { text, toolCalls })
	const usage = reply.omitUsage ? undefined : flavour.usage(counts)
	const reasoning =
		flavour.reasoningField && request.reasoningTokens > 0 ? (reply.thinking ?? REASONING_TEXT) : undefined
	const finish = toolCalls.length > 0 ? 'tool_calls' : reply.stopReason === 'max_tokens' ? 'length' : 'stop'
	const ids = toolCalls.map(() => flavour.callId())
	const base = { id: randomId('chatcmpl-'), created: nowSeconds(), model: reported }
	return {
		body: () => ({
			...base,
			object: 'chat.completion',
			choices: [
				{
					index: 0,
					message: {
						role: 'assistant',
						content: text,
						...(reasoning !== undefined && { [flavour.reasoningField as string]: reasoning }),
						...(flavour.refusalField && { refusal: null }),
						...(toolCalls.length > 0 && {
							tool_calls: toolCalls.map((call, index) => ({
								id: ids[index],
								type: 'function',
								function: { name: call.name, arguments: call.arguments },
							})),
						}),
					},
					logprobs: null,
					finish_reason: finish,
				},
			],
			...(usage && { usage }),
		}),
		parts: () => {
			const asked =
				typeof request.body.stream_options === 'object' &&
				(request.body.stream_options as Record<string, unknown> | null)?.include_usage === true
			const usageChunk = flavour.streamUsage === 'stream_options' && asked && usage !== undefined
			const chunk = (delta: unknown, finishReason: string | null = null, last?: unknown) =>
				dataLine({
					...base,
					object: 'chat.completion.chunk',
					choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
					...(usageChunk && { usage: null }),
					...(last !== undefined && { usage: last }),
				})
			const first = { role: 'assistant', content: text === null ? null : '' }
			const parts = [chunk(flavour.refusalField ? { ...first, refusal: null } : first)]
			if (reasoning !== undefined) {
				for (const piece of words(reasoning)) parts.push(chunk({ [flavour.reasoningField as string]: piece }))
			}
			for (const piece of words(text ?? '')) parts.push(chunk({ content: piece }))
			for (const [index, call] of toolCalls.entries()) {
				const head = { index, id: ids[index], type: 'function', function: { name: call.name, arguments: '' } }
				parts.push(chunk({ tool_calls: [head] }))
				for (const piece of split(call.arguments)) {
					parts.push(chunk({ tool_calls: [{ index, function: { arguments: piece } }] }))
				}
			}
			const always = flavour.streamUsage === 'always' && usage !== undefined
			parts.push(chunk({}, finish, always ? usage : undefined))
			if (usageChunk) parts.push(dataLine({ ...base, object: 'chat.completion.chunk', choices: [], usage }))
			parts.push('data: [DONE]\n\n')
			return parts
		},
		streamError: (behaviour) => [chatStreamError(behaviour)],
	}
}

/** OpenAI's mid-stream failure: a `data:` line holding an error body, and no `[DONE]` after it. */
export function chatStreamError(behaviour: StreamErrorBehaviour): string {
	const status = behaviour.status ?? 500
	const message =
		behaviour.message ??
		(status >= 500
			? `The server had an error processing your request. Sorry about that! You can retry your request, or contact us through our help center at help.openai.com if you keep seeing this error. (Please include the request ID ${randomId('', 32)} in your email.)`
			: openaiErrorFields(status).message)
	const type = behaviour.errorType ?? openaiErrorFields(status).type
	return dataLine({ error: { message, type, param: null, code: null } })
}

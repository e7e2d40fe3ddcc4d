// OpenAI's Responses API (https://developers.openai.com/api/reference/resources/responses), reached for
// GPT-6 requests that Chat Completions refuses: function tools with reasoning on, and effort `max`
// (docs/providers.md). Stateless (`store: false`): the caller keeps speaking Chat Completions, and these
// pure functions translate each way, streams included. No client, no network.
import type {
	ChatCompletion,
	ChatCompletionChunk,
	ChatCompletionContentPart,
	ChatCompletionMessageFunctionToolCall,
	ChatCompletionMessageParam,
} from 'openai/resources/chat/completions'
import type {
	Response as OpenAIResponse,
	ResponseStreamEvent,
	ResponseUsage,
} from 'openai/resources/responses/responses'
import { badRequest } from '../errors'
import type { ShapeLog } from './shape'
import type { TokenUsage } from './types'
import { UpstreamError } from './upstream-error'
import { toOpenAIUsage } from './usage'

type Body = Record<string, unknown>
type Json = Record<string, unknown>
type FinishReason = ChatCompletion.Choice['finish_reason']

/** Chat Completions fields the Responses API takes as they are. */
const SAME_FIELDS = [
	'parallel_tool_calls',
	'temperature',
	'top_p',
	'top_logprobs',
	'user',
	'metadata',
	'service_tier',
	'prompt_cache_key',
	'prompt_cache_options',
	'prompt_cache_retention',
	'safety_identifier',
]

/** Chat Completions fields the Responses API takes, under another name or shape or as they are. */
const CARRIED = new Set([
	'model',
	'messages',
	'stream',
	'stream_options',
	'tools',
	'tool_choice',
	'max_completion_tokens',
	'max_tokens',
	'reasoning_effort',
	'response_format',
	'n',
	'verbosity',
	...SAME_FIELDS,
])

/** The Responses request for an already shaped Chat Completions body; fields without an equivalent are dropped. */
export function toResponsesRequest(body: Body, log: ShapeLog): Json {
	if (typeof body.n === 'number' && body.n > 1)
		throw badRequest('n above 1 has no equivalent in the Responses API', 'n')
	for (const field of Object.keys(body)) if (!CARRIED.has(field)) log.remove(body, field)
	const request: Json = {
		model: body.model,
		input: toInput(body.messages as ChatCompletionMessageParam[]),
		store: false,
	}
	const maxTokens = body.max_completion_tokens ?? body.max_tokens
	if (maxTokens !== undefined) request.max_output_tokens = maxTokens
	if (body.reasoning_effort !== undefined) request.reasoning = { effort: body.reasoning_effort }
	if (Array.isArray(body.tools)) request.tools = body.tools.map(toTool)
	if (body.tool_choice !== undefined) request.tool_choice = toToolChoice(body.tool_choice)
	const format = toTextFormat(body.response_format)
	if (format || body.verbosity !== undefined) {
		request.text = {
			...(format && { format }),
			...(body.verbosity !== undefined && { verbosity: body.verbosity }),
		}
	}
	for (const field of SAME_FIELDS) if (body[field] !== undefined) request[field] = body[field]
	return request
}

function toInput(messages: ChatCompletionMessageParam[]): Json[] {
	const input: Json[] = []
	for (const message of messages) {
		switch (message.role) {
			case 'system':
			case 'developer':
			case 'user':
				input.push({ type: 'message', role: message.role, content: toInputContent(message.content) })
				break
			case 'assistant': {
				const text = textOf(message.content)
				if (text) input.push({ type: 'message', role: 'assistant', content: text })
				for (const call of message.tool_calls ?? []) {
					if (call.type !== 'function') continue
					input.push({
						type: 'function_call',
						call_id: call.id,
						name: call.function.name,
						arguments: call.function.arguments,
					})
				}
				break
			}
			case 'tool':
				input.push({
					type: 'function_call_output',
					call_id: message.tool_call_id,
					output: textOf(message.content),
				})
				break
			default:
				throw badRequest(`Messages with role ${message.role} are not supported`, 'messages')
		}
	}
	return input
}

function toInputContent(content: string | ChatCompletionContentPart[] | null | undefined): string | Json[] {
	if (typeof content === 'string' || !content) return content ?? ''
	return content.map((part) => {
		if (part.type === 'text') return { type: 'input_text', text: part.text }
		if (part.type === 'image_url') {
			return { type: 'input_image', image_url: part.image_url.url, detail: part.image_url.detail ?? 'auto' }
		}
		throw badRequest(`Content parts of type ${part.type} are not supported on this route`, 'messages')
	})
}

function textOf(content: unknown): string {
	if (typeof content === 'string') return content
	if (!Array.isArray(content)) return ''
	return content
		.map((part: { text?: unknown; refusal?: unknown }) => String(part.text ?? part.refusal ?? ''))
		.join('')
}

function toTool(tool: Json): Json {
	const fn = (tool.function ?? {}) as Json
	return {
		type: 'function',
		name: fn.name,
		...(fn.description !== undefined && { description: fn.description }),
		parameters: fn.parameters ?? { type: 'object', properties: {} },
		strict: fn.strict ?? false,
	}
}

function toToolChoice(choice: unknown): unknown {
	if (typeof choice === 'string') return choice
	const named = choice as { function?: { name?: string } }
	return { type: 'function', name: named.function?.name }
}

function toTextFormat(format: unknown): Json | undefined {
	const spec = format as { type?: string; json_schema?: Json } | undefined
	if (spec?.type === 'json_object') return { type: 'json_object' }
	if (spec?.type !== 'json_schema' || !spec.json_schema) return undefined
	const { name, schema, strict, description } = spec.json_schema
	return {
		type: 'json_schema',
		name: name ?? 'response',
		schema: schema ?? {},
		...(strict !== undefined && { strict }),
		...(description !== undefined && { description }),
	}
}

function fromResponsesUsage(usage: ResponseUsage | null | undefined): TokenUsage | null {
	if (!usage) return null
	return {
		promptTokens: usage.input_tokens ?? 0,
		completionTokens: usage.output_tokens ?? 0,
		cachedTokens: usage.input_tokens_details?.cached_tokens ?? 0,
		cacheWriteTokens: usage.input_tokens_details?.cache_write_tokens ?? 0,
		cacheWrite1hTokens: 0,
		reasoningTokens: usage.output_tokens_details?.reasoning_tokens ?? 0,
	}
}

function finishReason(
	response: Pick<OpenAIResponse, 'status' | 'incomplete_details'>,
	calls: number,
): FinishReason {
	if (response.status === 'incomplete') {
		return response.incomplete_details?.reason === 'content_filter' ? 'content_filter' : 'length'
	}
	return calls > 0 ? 'tool_calls' : 'stop'
}

/** A completed Response as a chat.completion: text joined, function calls as `tool_calls`. */
export function fromResponse(
	response: OpenAIResponse,
	meta: { id: string; created: number },
): { completion: ChatCompletion; usage: TokenUsage | null } {
	let text = ''
	let refusal: string | null = null
	const toolCalls: ChatCompletionMessageFunctionToolCall[] = []
	for (const item of response.output ?? []) {
		if (item.type === 'message') {
			for (const part of item.content) {
				if (part.type === 'output_text') text += part.text
				else if (part.type === 'refusal') refusal = (refusal ?? '') + part.refusal
			}
		} else if (item.type === 'function_call') {
			toolCalls.push({
				id: item.call_id,
				type: 'function',
				function: { name: item.name, arguments: item.arguments },
			})
		}
	}
	const usage = fromResponsesUsage(response.usage)
	const completion: ChatCompletion = {
		id: meta.id,
		object: 'chat.completion',
		created: meta.created,
		model: response.model,
		choices: [
			{
				index: 0,
				message: {
					role: 'assistant',
					content: text === '' && (toolCalls.length > 0 || refusal) ? null : text,
					refusal,
					...(toolCalls.length > 0 && { tool_calls: toolCalls }),
				},
				logprobs: null,
				finish_reason: finishReason(response, toolCalls.length),
			},
		],
		...(usage && { usage: toOpenAIUsage(usage) }),
	}
	return { completion, usage }
}

/** Translates Responses stream events into chat.completion.chunk objects, one event at a time. */
export function createResponsesStreamTranslator(meta: { id: string; created: number }) {
	let model = ''
	let usage: TokenUsage | null = null
	// Chat Completions numbers tool calls 0, 1, …; the Responses API numbers every output item.
	const toolCalls = new Map<number, number>()

	const chunk = (
		delta: ChatCompletionChunk.Choice.Delta,
		finish: FinishReason | null = null,
	): ChatCompletionChunk => ({
		id: meta.id,
		object: 'chat.completion.chunk',
		created: meta.created,
		model,
		choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
	})

	function end(response: OpenAIResponse): ChatCompletionChunk[] {
		usage = fromResponsesUsage(response.usage)
		const last = chunk({}, finishReason(response, toolCalls.size))
		if (!usage) return [last]
		return [last, { ...chunk({}), choices: [], usage: toOpenAIUsage(usage) }]
	}

	function push(event: ResponseStreamEvent): ChatCompletionChunk[] {
		switch (event.type) {
			case 'response.created':
				model = event.response.model
				return [chunk({ role: 'assistant', content: '' })]
			case 'response.output_text.delta':
				return event.delta ? [chunk({ content: event.delta })] : []
			case 'response.refusal.delta':
				return event.delta ? [chunk({ refusal: event.delta })] : []
			case 'response.output_item.added': {
				if (event.item.type !== 'function_call') return []
				const index = toolCalls.size
				toolCalls.set(event.output_index, index)
				const call = {
					index,
					id: event.item.call_id,
					type: 'function' as const,
					function: { name: event.item.name, arguments: '' },
				}
				return [chunk({ tool_calls: [call] })]
			}
			case 'response.function_call_arguments.delta': {
				const index = toolCalls.get(event.output_index)
				if (index === undefined || !event.delta) return []
				return [chunk({ tool_calls: [{ index, function: { arguments: event.delta } }] })]
			}
			case 'response.completed':
			case 'response.incomplete':
				return end(event.response)
			case 'response.failed':
				throw new UpstreamError('http', 500, event.response.error?.message ?? 'the response failed')
			case 'error':
				throw new UpstreamError('http', event.code === 'rate_limit_exceeded' ? 429 : 500, event.message)
			default:
				// Reasoning summaries, content part bookkeeping and newer event types carry nothing for the client.
				return []
		}
	}

	return { push, usage: () => usage }
}

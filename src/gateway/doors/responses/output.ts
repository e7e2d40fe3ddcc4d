// The Responses `response` object and its output items, built from Chat Completions answers. Shared by the
// non-streaming answer (chatToResponse) and the stream encoder, so both end in the same object.
import type { ChatChunk, ChatResponse } from '../../../providers/types'

type Json = Record<string, unknown>
type FinishReason = ChatResponse['choices'][number]['finish_reason'] | null

/** The finish reasons that leave a response `incomplete`, with the reason the Responses API gives. */
const INCOMPLETE_REASONS: Partial<Record<NonNullable<FinishReason>, string>> = {
	length: 'max_output_tokens',
	content_filter: 'content_filter',
}

/**
 * Signed thinking blocks (Anthropic's, as `thinking_blocks` carries them) travel in a reasoning item's
 * `encrypted_content` behind this prefix, so that the next turn can hand them back to the model that wrote
 * them. Anything else in `encrypted_content` is OpenAI's own and means nothing to another provider.
 */
const THINKING_PREFIX = 'switchyard.thinking.v1:'

export const isObject = (value: unknown): value is Json =>
	typeof value === 'object' && value !== null && !Array.isArray(value)

/** Output item ids derive from the response id, so that one response's ids are unique and stable. */
export function itemId(prefix: 'msg' | 'rs' | 'fc', responseId: string, outputIndex: number): string {
	return `${prefix}_${responseId.replace(/^resp_/, '')}_${outputIndex}`
}

export function encodeThinking(blocks: unknown[]): string {
	const bytes = new TextEncoder().encode(JSON.stringify(blocks))
	let binary = ''
	for (const byte of bytes) binary += String.fromCharCode(byte)
	return THINKING_PREFIX + btoa(binary)
}

/** The thinking blocks in an `encrypted_content` this gateway wrote, or [] for any other value. */
export function decodeThinking(value: unknown): unknown[] {
	if (typeof value !== 'string' || !value.startsWith(THINKING_PREFIX)) return []
	try {
		const binary = atob(value.slice(THINKING_PREFIX.length))
		const blocks: unknown = JSON.parse(
			new TextDecoder().decode(Uint8Array.from(binary, (char) => char.charCodeAt(0))),
		)
		return Array.isArray(blocks) ? blocks.filter(isObject) : []
	} catch {
		return []
	}
}

export function reasoningItem(id: string, text: string, blocks: unknown[], status: string): Json {
	return {
		id,
		type: 'reasoning',
		status,
		summary: text ? [{ type: 'summary_text', text }] : [],
		...(blocks.length > 0 && { encrypted_content: encodeThinking(blocks) }),
	}
}

export const outputText = (text: string): Json => ({
	type: 'output_text',
	annotations: [],
	logprobs: [],
	text,
})

export function messageItem(id: string, content: Json[], status: string): Json {
	return { id, type: 'message', status, content, role: 'assistant' }
}

export function functionCallItem(
	id: string,
	callId: string,
	name: string,
	args: string,
	status: string,
): Json {
	return { id, type: 'function_call', status, arguments: args, call_id: callId, name }
}

/** `status` and `incomplete_details` of a response that ended with this finish reason. */
export function endState(finish: FinishReason): { status: string; incomplete_details: Json | null } {
	const reason = finish ? INCOMPLETE_REASONS[finish] : undefined
	return reason
		? { status: 'incomplete', incomplete_details: { reason } }
		: { status: 'completed', incomplete_details: null }
}

/** Chat Completions usage as the Responses API reports it; null when the upstream reported none. */
export function toResponsesUsage(usage: ChatResponse['usage'] | ChatChunk['usage']): Json | null {
	if (!usage) return null
	const cacheWrite = (usage.prompt_tokens_details as { cache_write_tokens?: number } | undefined)
		?.cache_write_tokens
	return {
		input_tokens: usage.prompt_tokens ?? 0,
		input_tokens_details: {
			cached_tokens: usage.prompt_tokens_details?.cached_tokens ?? 0,
			...(cacheWrite !== undefined && { cache_write_tokens: cacheWrite }),
		},
		output_tokens: usage.completion_tokens ?? 0,
		output_tokens_details: { reasoning_tokens: usage.completion_tokens_details?.reasoning_tokens ?? 0 },
		total_tokens: usage.total_tokens ?? (usage.prompt_tokens ?? 0) + (usage.completion_tokens ?? 0),
	}
}

/** Function tools as the API echoes them: every field present, `null` where the request left it out. */
function echoTools(tools: unknown): unknown[] {
	if (!Array.isArray(tools)) return []
	return tools.map((tool) =>
		isObject(tool) && tool.type === 'function'
			? {
					type: 'function',
					name: tool.name,
					description: tool.description ?? null,
					parameters: tool.parameters ?? null,
					strict: tool.strict ?? null,
				}
			: tool,
	)
}

const field = (value: unknown, fallback: unknown) =>
	value === undefined || value === null ? fallback : value

/**
 * Everything of a response object but its outcome: the request parameters the API echoes, with the API's
 * defaults where the request left them out (as a real `response` object shows them).
 */
export function responseEnvelope(
	request: Json,
	id: string,
	meta: { createdAt: number; model: string },
): Json {
	const text = isObject(request.text) ? request.text : {}
	const reasoning = isObject(request.reasoning) ? request.reasoning : {}
	return {
		id,
		object: 'response',
		created_at: meta.createdAt,
		status: 'in_progress',
		background: false,
		completed_at: null,
		error: null,
		incomplete_details: null,
		instructions: field(request.instructions, null),
		max_output_tokens: field(request.max_output_tokens, null),
		max_tool_calls: field(request.max_tool_calls, null),
		model: meta.model,
		output: [],
		parallel_tool_calls: field(request.parallel_tool_calls, true),
		previous_response_id: field(request.previous_response_id, null),
		prompt_cache_key: field(request.prompt_cache_key, null),
		reasoning: { effort: field(reasoning.effort, null), summary: field(reasoning.summary, null) },
		safety_identifier: field(request.safety_identifier, null),
		service_tier: field(request.service_tier, 'default'),
		store: field(request.store, true),
		temperature: field(request.temperature, 1),
		text: { format: field(text.format, { type: 'text' }), verbosity: field(text.verbosity, 'medium') },
		tool_choice: field(request.tool_choice, 'auto'),
		tools: echoTools(request.tools),
		top_logprobs: field(request.top_logprobs, 0),
		top_p: field(request.top_p, 1),
		presence_penalty: 0,
		frequency_penalty: 0,
		truncation: field(request.truncation, 'disabled'),
		usage: null,
		user: field(request.user, null),
		metadata: field(request.metadata, {}),
	}
}

/** The gateway's own fields an assistant message may carry next to OpenAI's. */
interface AssistantExtras {
	reasoning_content?: string | null
	thinking_blocks?: unknown[]
}

/**
 * A `chat.completion` as a Responses `response` object: reasoning, then the message, then the function calls.
 * `output_text` is left to the SDKs, which derive it, as the API itself does not send it.
 */
export function chatToResponse(response: ChatResponse, request: Json, id: string): Json {
	const choice = response.choices?.[0]
	const message = (choice?.message ?? {}) as NonNullable<typeof choice>['message'] & AssistantExtras
	const { status, incomplete_details } = endState(choice?.finish_reason ?? null)
	const output: Json[] = []
	const reasoning = typeof message.reasoning_content === 'string' ? message.reasoning_content : ''
	const blocks = Array.isArray(message.thinking_blocks) ? message.thinking_blocks : []
	if (reasoning || blocks.length > 0) {
		output.push(reasoningItem(itemId('rs', id, output.length), reasoning, blocks, 'completed'))
	}
	const text = typeof message.content === 'string' ? message.content : ''
	const calls = (message.tool_calls ?? []).filter((call) => call.type === 'function')
	const content: Json[] = []
	if (text || (!message.refusal && calls.length === 0)) content.push(outputText(text))
	if (message.refusal) content.push({ type: 'refusal', refusal: message.refusal })
	if (content.length > 0) output.push(messageItem(itemId('msg', id, output.length), content, 'completed'))
	for (const call of calls) {
		const fcId = itemId('fc', id, output.length)
		output.push(functionCallItem(fcId, call.id, call.function.name, call.function.arguments, 'completed'))
	}
	// The item the model was writing when it stopped is the incomplete one, as the API marks it.
	const last = output.at(-1)
	if (status === 'incomplete' && last) last.status = 'incomplete'
	return {
		...responseEnvelope(request, id, { createdAt: response.created, model: response.model }),
		status,
		completed_at: Math.floor(Date.now() / 1000),
		incomplete_details,
		output,
		usage: toResponsesUsage(response.usage),
	}
}

/** The output items of a response object: what a later `previous_response_id` turn continues from. */
export function responseOutputItems(response: Json): unknown[] {
	return Array.isArray(response.output) ? [...response.output] : []
}

// A Chat Completions answer as an Anthropic Message: the inverse of src/providers/anthropic/response.ts.
// Also the pieces the stream encoder shares: ids, stop reasons and usage. Sources in ./index.ts.
import type Anthropic from '@anthropic-ai/sdk'
import type { ChatCompletion } from 'openai/resources/chat/completions'
import type { ChatResponse } from '../../../providers/types'
import { isRecord, type Json } from './read'

type FinishReason = ChatCompletion.Choice['finish_reason']

const STOP_REASONS = {
	stop: 'end_turn',
	length: 'max_tokens',
	tool_calls: 'tool_use',
	function_call: 'tool_use',
	content_filter: 'refusal',
} as const satisfies Record<FinishReason, Anthropic.StopReason>

/** The usage fields of a Message and of the stream's message_start and message_delta. */
export interface MessagesUsage {
	input_tokens: number
	cache_creation_input_tokens: number
	cache_read_input_tokens: number
	output_tokens: number
}

const randomId = () => crypto.randomUUID().replaceAll('-', '')

/** `msg_…` from the completion id: the inverse of the Anthropic adapter's `chatcmpl-…` from `msg_…`. */
export function messageIdOf(completionId: unknown): string {
	const id = typeof completionId === 'string' ? completionId.replace(/^chatcmpl-/, '') : ''
	return `msg_${id || randomId()}`
}

export const toolUseId = (id: unknown) => (typeof id === 'string' && id !== '' ? id : `toolu_${randomId()}`)

/**
 * The stop reason of a finish reason. `stop` is `stop_sequence` when the upstream says which stop sequence
 * matched (vLLM's `stop_reason` string on the choice), and `tool_use` when the answer calls tools (some
 * OpenAI-compatible servers finish tool calls with `stop`). An unknown finish reason ends the turn.
 */
export function toStopReason(
	finish: unknown,
	matched: unknown,
	callsTools: boolean,
): { stop_reason: Anthropic.StopReason; stop_sequence: string | null } {
	const mapped: Anthropic.StopReason =
		typeof finish === 'string' && Object.hasOwn(STOP_REASONS, finish)
			? STOP_REASONS[finish as FinishReason]
			: 'end_turn'
	if (mapped !== 'end_turn') return { stop_reason: mapped, stop_sequence: null }
	if (callsTools) return { stop_reason: 'tool_use', stop_sequence: null }
	if (typeof matched === 'string') return { stop_reason: 'stop_sequence', stop_sequence: matched }
	return { stop_reason: 'end_turn', stop_sequence: null }
}

const count = (value: unknown) =>
	typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : 0

/**
 * Chat usage as Anthropic's: `prompt_tokens` counts cache reads and writes, Anthropic's `input_tokens` does
 * not (src/providers/usage.ts builds the one from the other). DeepSeek's cache hits count as reads.
 */
export function toMessagesUsage(usage: unknown): MessagesUsage {
	const u = isRecord(usage) ? usage : {}
	const details = isRecord(u.prompt_tokens_details) ? u.prompt_tokens_details : {}
	const cacheRead = count(details.cached_tokens) || count(u.prompt_cache_hit_tokens)
	const cacheWrite = count(details.cache_write_tokens)
	return {
		input_tokens: Math.max(0, count(u.prompt_tokens) - cacheRead - cacheWrite),
		cache_creation_input_tokens: cacheWrite,
		cache_read_input_tokens: cacheRead,
		output_tokens: count(u.completion_tokens),
	}
}

/** The answer's reasoning, where OpenAI-compatible servers put it (`reasoning` is vLLM's and OpenRouter's). */
export function reasoningOf(from: Json): string {
	const reasoning = from.reasoning_content ?? from.reasoning
	return typeof reasoning === 'string' ? reasoning : ''
}

/**
 * Thinking blocks from a message's signed `thinking_blocks`; without them, reasoning text from another
 * provider becomes one thinking block with an empty signature (shown to the user, never valid to replay).
 */
function thinkingBlocks(message: Json): Json[] {
	const signed = Array.isArray(message.thinking_blocks) ? message.thinking_blocks : []
	const blocks = signed.flatMap((block): Json[] => {
		if (!isRecord(block)) return []
		if (block.type === 'thinking' && typeof block.signature === 'string') {
			const thinking = typeof block.thinking === 'string' ? block.thinking : ''
			return [{ type: 'thinking', thinking, signature: block.signature }]
		}
		if (block.type === 'redacted_thinking' && typeof block.data === 'string') {
			return [{ type: 'redacted_thinking', data: block.data }]
		}
		return []
	})
	if (blocks.length > 0) return blocks
	const reasoning = reasoningOf(message)
	return reasoning === '' ? [] : [{ type: 'thinking', thinking: reasoning, signature: '' }]
}

function textOf(content: unknown): string {
	if (typeof content === 'string') return content
	if (!Array.isArray(content)) return ''
	return content.map((part) => (isRecord(part) && typeof part.text === 'string' ? part.text : '')).join('')
}

/**
 * Tool arguments as a tool_use `input`, which must be an object. Arguments that are not a JSON object
 * (a model's broken JSON) become `{}`: the client's schema check then reports the missing fields to the
 * model, which is how Claude Code recovers from a bad call.
 */
export function toolInput(args: unknown): Json {
	if (typeof args !== 'string' || args.trim() === '') return {}
	try {
		const input: unknown = JSON.parse(args)
		return isRecord(input) ? input : {}
	} catch {
		return {}
	}
}

function toolUses(message: Json): Json[] {
	const calls = Array.isArray(message.tool_calls) ? message.tool_calls : []
	return calls.flatMap((call): Json[] => {
		if (!isRecord(call) || !isRecord(call.function) || typeof call.function.name !== 'string') return []
		const { name, arguments: args } = call.function
		return [{ type: 'tool_use', id: toolUseId(call.id), name, input: toolInput(args) }]
	})
}

/**
 * An Anthropic `Message` for a `chat.completion`: thinking, then text, then tool_use blocks, as Claude
 * answers. A refusal is the text of the answer with stop reason `refusal`.
 */
export function chatToMessage(response: ChatResponse, model: string): Record<string, unknown> {
	const answer: Json = isRecord(response) ? response : {}
	const choices = Array.isArray(answer.choices) ? answer.choices : []
	const candidates = choices.filter(isRecord)
	const choice = candidates.find((c) => c.index === 0) ?? candidates[0] ?? {}
	const message = isRecord(choice.message) ? choice.message : {}
	const refusal = typeof message.refusal === 'string' ? message.refusal : ''
	const words = textOf(message.content) || refusal
	const calls = toolUses(message)
	const content = [...thinkingBlocks(message), ...(words ? [{ type: 'text', text: words }] : []), ...calls]
	const stop = refusal
		? { stop_reason: 'refusal', stop_sequence: null }
		: toStopReason(choice.finish_reason, choice.stop_reason, calls.length > 0)
	return {
		id: messageIdOf(answer.id),
		type: 'message',
		role: 'assistant',
		model,
		content,
		...stop,
		usage: toMessagesUsage(answer.usage),
	}
}

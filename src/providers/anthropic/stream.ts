// Translates Anthropic Messages streaming events (API version 2026-10-21) into OpenAI
// `chat.completion.chunk` objects, one event at a time, so chunks go out as soon as the upstream sends them.
// https://platform.claude.com/docs/en/build-with-claude/streaming
import type Anthropic from '@anthropic-ai/sdk'
import type { ChatCompletionChunk } from 'openai/resources/chat/completions'
import type { TokenUsage } from '../types'
import { UpstreamError } from '../upstream-error'
import { toOpenAIUsage } from '../usage'
import {
	type AnthropicUsage,
	type FinishReason,
	type ThinkingBlock,
	toFinishReason,
	toThinkingBlock,
	toTokenUsage,
} from './response'

/**
 * The `error` event Anthropic may send after the stream started (e.g. `overloaded_error`). The SDK turns it
 * into a thrown `APIError` and leaves it out of its event union; a raw SSE reader sees it as an event.
 */
export interface AnthropicStreamErrorEvent {
	type: 'error'
	error: { type: string; message?: string }
}

export type AnthropicStreamEvent = Anthropic.RawMessageStreamEvent | AnthropicStreamErrorEvent

type Delta = ChatCompletionChunk.Choice.Delta & {
	reasoning_content?: string
	thinking_blocks?: ThinkingBlock[]
}

const MAX_UPSTREAM_MESSAGE = 200

/** The HTTP status each Anthropic error type stands for, so a stream error falls back like an answer would. */
const ERROR_STATUSES: Record<string, number> = {
	overloaded_error: 529,
	api_error: 500,
	rate_limit_error: 429,
	timeout_error: 504,
	billing_error: 402,
}

export function createStreamTranslator(meta: { id: string; created: number; modelId: string }): {
	/** Feed one Anthropic SSE event; returns the OpenAI chunks it produces (possibly none). */
	push(event: AnthropicStreamEvent): ChatCompletionChunk[]
	/** Usage known so far (undefined until message_start); final after message_delta. */
	usage(): TokenUsage | undefined
} {
	let model = ''
	let usage: AnthropicUsage | undefined
	let finished = false
	// OpenAI numbers tool calls 0, 1, … while Anthropic numbers every content block, text and thinking included.
	const toolCalls = new Map<number, { index: number; hasArguments: boolean }>()
	// Thinking blocks being streamed, by content block index: sent whole, signed, when they end.
	const thinking = new Map<number, Anthropic.ThinkingBlock | Anthropic.RedactedThinkingBlock>()

	const chunk = (delta: Delta, finishReason: FinishReason | null = null): ChatCompletionChunk => ({
		id: meta.id,
		object: 'chat.completion.chunk',
		created: meta.created,
		model,
		choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
	})
	const argumentsChunk = (index: number, args: string) =>
		chunk({ tool_calls: [{ index, function: { arguments: args } }] })

	function push(event: AnthropicStreamEvent): ChatCompletionChunk[] {
		switch (event.type) {
			case 'message_start':
				model = event.message.model
				usage = mergeUsage(undefined, event.message.usage)
				return [chunk({ role: 'assistant', content: '' })]
			case 'content_block_start': {
				const block = event.content_block
				if (block.type === 'text') return block.text ? [chunk({ content: block.text })] : []
				if (block.type === 'thinking' || block.type === 'redacted_thinking') {
					thinking.set(event.index, { ...block })
					return block.type === 'thinking' && block.thinking
						? [chunk({ reasoning_content: block.thinking })]
						: []
				}
				if (block.type !== 'tool_use') return []
				const index = toolCalls.size
				toolCalls.set(event.index, { index, hasArguments: false })
				const start = {
					index,
					id: block.id,
					type: 'function' as const,
					function: { name: block.name, arguments: '' },
				}
				return [chunk({ tool_calls: [start] })]
			}
			case 'content_block_delta': {
				const { delta } = event
				if (delta.type === 'text_delta') return delta.text ? [chunk({ content: delta.text })] : []
				const block = thinking.get(event.index)
				if (block?.type === 'thinking') {
					if (delta.type === 'signature_delta') block.signature += delta.signature
					if (delta.type !== 'thinking_delta' || !delta.thinking) return []
					block.thinking += delta.thinking
					return [chunk({ reasoning_content: delta.thinking })]
				}
				const toolCall = toolCalls.get(event.index)
				if (delta.type !== 'input_json_delta' || !toolCall || delta.partial_json === '') return []
				toolCall.hasArguments = true
				return [argumentsChunk(toolCall.index, delta.partial_json)]
			}
			case 'content_block_stop': {
				const block = thinking.get(event.index)
				const signed = block && toThinkingBlock(block, meta.modelId)
				if (signed) return [chunk({ thinking_blocks: [signed] })]
				const toolCall = toolCalls.get(event.index)
				if (!toolCall || toolCall.hasArguments) return []
				// A tool without parameters may stream no input at all; `{}` keeps the accumulated arguments valid JSON.
				toolCall.hasArguments = true
				return [argumentsChunk(toolCall.index, '{}')]
			}
			case 'message_delta':
				usage = mergeUsage(usage, event.usage)
				return [chunk({}, toFinishReason(event.delta.stop_reason))]
			case 'message_stop': {
				if (finished) return []
				finished = true
				const final = toTokenUsage(usage ?? { input_tokens: 0, output_tokens: 0 })
				return [{ ...chunk({}), choices: [], usage: toOpenAIUsage(final) }]
			}
			case 'error': {
				const detail = event.error.message ? `: ${event.error.message.slice(0, MAX_UPSTREAM_MESSAGE)}` : ''
				throw new UpstreamError(
					'http',
					ERROR_STATUSES[event.error.type] ?? 500,
					`Anthropic stream failed (${event.error.type})${detail}`,
				)
			}
			default:
				// `ping` and event types newer than this translator carry nothing for the client.
				return []
		}
	}

	return { push, usage: () => usage && toTokenUsage(usage) }
}

// message_delta usage is cumulative; its input and cache counts are null when the upstream did not repeat them.
function mergeUsage(previous: AnthropicUsage | undefined, next: AnthropicUsage): AnthropicUsage {
	return {
		input_tokens: next.input_tokens ?? previous?.input_tokens ?? null,
		output_tokens: next.output_tokens,
		cache_read_input_tokens: next.cache_read_input_tokens ?? previous?.cache_read_input_tokens ?? null,
		cache_creation_input_tokens:
			next.cache_creation_input_tokens ?? previous?.cache_creation_input_tokens ?? null,
		cache_creation: next.cache_creation ?? previous?.cache_creation ?? null,
		output_tokens_details: next.output_tokens_details ?? previous?.output_tokens_details ?? null,
	}
}

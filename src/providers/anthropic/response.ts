// The answer side of the Anthropic translation: a Messages response (or a streamed block) as the OpenAI
// Chat Completions shapes the caller reads, and Anthropic's usage as our token counts.
// https://platform.claude.com/docs/en/api/messages
import type Anthropic from '@anthropic-ai/sdk'
import type { ChatCompletion, ChatCompletionMessageFunctionToolCall } from 'openai/resources/chat/completions'
import type { TokenUsage } from '../types'
import { toOpenAIUsage } from '../usage'

/** The usage fields of `Message.usage` and of a streamed `message_delta` (where they are cumulative). */
export interface AnthropicUsage {
	input_tokens: number | null
	output_tokens: number
	cache_read_input_tokens?: number | null
	cache_creation_input_tokens?: number | null
	cache_creation?: { ephemeral_5m_input_tokens?: number; ephemeral_1h_input_tokens?: number } | null
	output_tokens_details?: { thinking_tokens?: number } | null
}

export type FinishReason = ChatCompletion.Choice['finish_reason']

/**
 * A signed thinking block as it travels through OpenAI-shaped clients (LiteLLM's `thinking_blocks`),
 * tagged with the catalog id of the model that wrote it: only that model is sent it again.
 */
export type ThinkingBlock =
	| { type: 'thinking'; thinking: string; signature: string; model: string }
	| { type: 'redacted_thinking'; data: string; model: string }

const FINISH_REASONS = {
	end_turn: 'stop',
	max_tokens: 'length',
	tool_use: 'tool_calls',
	stop_sequence: 'stop',
	pause_turn: 'stop',
	refusal: 'content_filter',
	model_context_window_exceeded: 'length',
} as const satisfies Record<Anthropic.StopReason, FinishReason>

export function toFinishReason(reason: Anthropic.StopReason | null): FinishReason {
	// A stop reason newer than this table still ends the choice.
	return (reason && FINISH_REASONS[reason]) ?? 'stop'
}

export function toTokenUsage(usage: AnthropicUsage): TokenUsage {
	const cachedTokens = usage.cache_read_input_tokens ?? 0
	const cacheWriteTokens = usage.cache_creation_input_tokens ?? 0
	return {
		promptTokens: (usage.input_tokens ?? 0) + cachedTokens + cacheWriteTokens,
		completionTokens: usage.output_tokens,
		cachedTokens,
		cacheWriteTokens,
		cacheWrite1hTokens: usage.cache_creation?.ephemeral_1h_input_tokens ?? 0,
		reasoningTokens: usage.output_tokens_details?.thinking_tokens ?? 0,
	}
}

/** A thinking block of an answer, as `thinking_blocks` carries it back to the client. */
export function toThinkingBlock(block: Anthropic.ContentBlock, modelId: string): ThinkingBlock | undefined {
	if (block.type === 'thinking') {
		return { type: 'thinking', thinking: block.thinking, signature: block.signature, model: modelId }
	}
	if (block.type === 'redacted_thinking')
		return { type: 'redacted_thinking', data: block.data, model: modelId }
	return undefined
}

/**
 * Text blocks are joined, `tool_use` blocks become `tool_calls`, and thinking becomes `reasoning_content`
 * (its text) and `thinking_blocks` (the signed blocks, to be sent back on the next turn).
 */
export function fromAnthropicResponse(
	msg: Anthropic.Message,
	meta: { id: string; created: number; modelId: string },
): { completion: ChatCompletion; usage: TokenUsage } {
	let text = ''
	let reasoning = ''
	const thinkingBlocks: ThinkingBlock[] = []
	const toolCalls: ChatCompletionMessageFunctionToolCall[] = []
	for (const block of msg.content) {
		if (block.type === 'text') text += block.text
		if (block.type === 'tool_use') {
			const args = JSON.stringify(block.input ?? {})
			toolCalls.push({ id: block.id, type: 'function', function: { name: block.name, arguments: args } })
		}
		if (block.type === 'thinking') reasoning += block.thinking
		const thinking = toThinkingBlock(block, meta.modelId)
		if (thinking) thinkingBlocks.push(thinking)
	}
	const usage = toTokenUsage(msg.usage)
	const message: ChatCompletion.Choice['message'] & Record<string, unknown> = {
		role: 'assistant',
		content: text === '' && toolCalls.length > 0 ? null : text,
		refusal: null,
		...(toolCalls.length > 0 && { tool_calls: toolCalls }),
	}
	if (thinkingBlocks.length > 0) {
		message.reasoning_content = reasoning
		message.thinking_blocks = thinkingBlocks
	}
	const completion: ChatCompletion = {
		id: meta.id,
		object: 'chat.completion',
		created: meta.created,
		model: msg.model,
		choices: [{ index: 0, message, logprobs: null, finish_reason: toFinishReason(msg.stop_reason) }],
		usage: toOpenAIUsage(usage),
	}
	return { completion, usage }
}

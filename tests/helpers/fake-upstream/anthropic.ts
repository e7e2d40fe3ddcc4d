/**
 * Anthropic Messages API, `anthropic-version: 2026-10-21` (`POST /v1/messages` and
 * `POST /v1/messages/count_tokens`): rules AN-1..AN-20 of docs/providers.md, then messages with thinking
 * blocks, prompt-cache usage and the SSE event sequence, or the count of a prompt's input tokens.
 */

import { blocksOf } from './cache'
import { type AnthropicModel, anthropicModel, EFFORTS, type Effort, isPast } from './models'
import { conversationHashes, isThinking, type Signed, sign, textHash, verify } from './signatures'
import { countCompletionTokens, countPromptTokens, reasoningTokens } from './tokens'
import type { Context, Plan, ReplyBehaviour, StreamErrorBehaviour } from './types'
import {
	anthropicError,
	anthropicErrorType,
	anthropicRefusal,
	type Body,
	event,
	isRecord,
	parseArguments,
	randomId,
	split,
	words,
} from './wire'

/** The version from which `temperature`, `top_p` and `top_k` are refused [A1]. */
const SAMPLING_REMOVED_IN = '2026-10-21'
const BINDING_BETA = 'thinking-binding-controls-2026-08-01'
const FULL_THINKING = 'The user asked for a short reply, so I will answer in one sentence.'
const SUMMARY = 'Planned a one-sentence reply.'
/** Thinking tokens of budgeted (legacy) thinking. */
const BUDGET_THINKING_TOKENS = 48
const AN_11_TAIL =
	'When `thinking` is enabled, a final `assistant` message must start with a thinking block (preceeding the lastmost set of `tool_use` and `tool_result` blocks). We recommend you include thinking blocks from previous turns. To avoid this requirement, disable `thinking`. Please consult our documentation at https://docs.claude.com/en/docs/build-with-claude/extended-thinking'

const NO_CACHE = { read: 0, created: 0, created5m: 0, created1h: 0 }

/** AN-19: body fields the API takes only with their beta in `anthropic-beta` [A11, A12]. */
const BETA_FIELDS: Record<string, string> = { context_management: 'context-management-2025-06-27' }

/** AN-20: the body of a token count [A10]; anything else is an extra input. */
const COUNT_TOKENS_FIELDS = new Set([
	'model',
	'messages',
	'system',
	'tools',
	'tool_choice',
	'thinking',
	'output_config',
	'context_management',
	'mcp_servers',
])

interface ThinkingState {
	/** The model thinks on this request. */
	on: boolean
	/** The answer starts with a thinking block (Haiku 5.5 skips it under a forced tool_choice). */
	shown: boolean
	display: 'omitted' | 'summarized' | 'full'
	tokens: number
}

export function checkMessages(body: Body, ctx: Context): Response | Plan {
	const id = body.model as string
	const model = anthropicModel(id)
	// AN-17, and what Anthropic answers for a model it never had.
	if (!model || isPast(model.retired, ctx.now)) return anthropicError(404, `model: ${id}`)
	const beta = betaRefusal(body, ctx.headers)
	if (beta) return beta
	const version = ctx.headers.get('anthropic-version') ?? ''
	if (version >= SAMPLING_REMOVED_IN) {
		for (const field of ['temperature', 'top_p', 'top_k']) {
			if (field in body) return anthropicRefusal(`${field}: Extra inputs are not permitted`)
		}
	}
	if (typeof body.max_tokens === 'number' && body.max_tokens > model.maxOutput) {
		return anthropicRefusal(
			`max_tokens: ${body.max_tokens} > ${model.maxOutput}, which is the maximum allowed number of output tokens for ${id}`,
		)
	}
	const thinking = thinkingOf(body, model)
	if (thinking instanceof Response) return thinking
	const forced =
		isRecord(body.tool_choice) && (body.tool_choice.type === 'any' || body.tool_choice.type === 'tool')
	if (forced && model.forcedToolChoice === 'refused') {
		return anthropicRefusal('tool_choice: type "tool" and "any" are not supported for this model.')
	}
	if (forced && model.forcedToolChoice === 'thinking-off' && thinking.on) {
		return anthropicRefusal('Thinking may not be enabled when tool_choice forces tool use.')
	}
	if (forced && model.forcedToolChoice === 'no-thinking') thinking.on = thinking.shown = false
	const breakpoints = checkCacheControl(body)
	if (breakpoints instanceof Response) return breakpoints
	const messages = Array.isArray(body.messages) ? body.messages : []
	const last = messages.at(-1)
	if (isRecord(last) && last.role === 'assistant' && (model.prefill === 'refused' || thinking.on)) {
		return anthropicRefusal(
			'This model does not support assistant message prefill. The conversation must end with a user message.',
		)
	}
	const replay = checkReplay(body, model, ctx, messages)
	if (replay instanceof Response) return replay
	const missing = thinking.on ? checkToolLoop(messages, replay) : undefined
	if (missing) return missing
	return {
		model: id,
		stream: body.stream === true,
		answer: (reply) => render(reply, body, model, thinking, ctx, breakpoints > 0),
		error: (status, message, type) => anthropicError(status, message, type),
	}
}

/**
 * `POST /v1/messages/count_tokens` [A10]: the Messages rules that concern the prompt (model, betas,
 * thinking, cache breakpoints), no `max_tokens`, and `{input_tokens}` as `countPromptTokens` counts it,
 * the count a Messages request without cache hits reports. Unbilled: the prompt cache is left alone.
 */
export function checkCountTokens(body: Body, ctx: Context): Response | Plan {
	for (const field of Object.keys(body)) {
		if (!COUNT_TOKENS_FIELDS.has(field)) return anthropicRefusal(`${field}: Extra inputs are not permitted`)
	}
	const id = body.model as string
	const model = anthropicModel(id)
	if (!model || isPast(model.retired, ctx.now)) return anthropicError(404, `model: ${id}`)
	const beta = betaRefusal(body, ctx.headers)
	if (beta) return beta
	const thinking = thinkingOf(body, model)
	if (thinking instanceof Response) return thinking
	const breakpoints = checkCacheControl(body)
	if (breakpoints instanceof Response) return breakpoints
	return {
		model: id,
		scriptKey: `count_tokens:${id}`,
		stream: false,
		answer: (reply) => {
			const count = { input_tokens: reply.usage?.prompt ?? countPromptTokens(body) }
			return { body: () => count, parts: () => [], streamError: () => [] }
		},
		error: (status, message, type) => anthropicError(status, message, type),
	}
}

/** The values of `anthropic-beta`, however many times the header was sent. */
export function anthropicBetas(headers: Headers): string[] {
	return (headers.get('anthropic-beta') ?? '')
		.split(',')
		.map((value) => value.trim())
		.filter(Boolean)
}

/** AN-19: a beta body field without its beta is an extra input, as if the field did not exist. */
function betaRefusal(body: Body, headers: Headers): Response | undefined {
	const betas = anthropicBetas(headers)
	for (const [field, beta] of Object.entries(BETA_FIELDS)) {
		if (field in body && !betas.includes(beta)) {
			return anthropicRefusal(`${field}: Extra inputs are not permitted`)
		}
	}
	return undefined
}

/** AN-2..AN-7: the thinking configuration, or the refusal of it. */
function thinkingOf(body: Body, model: AnthropicModel): ThinkingState | Response {
	const config = isRecord(body.thinking) ? body.thinking : {}
	const type = config.type ?? (model.thinking === 'adaptive' ? 'adaptive' : 'disabled')
	const given = isRecord(body.output_config) ? body.output_config.effort : undefined
	const notForModel = (name: unknown) =>
		anthropicRefusal(
			model.thinking === 'adaptive'
				? `"thinking.type.${name}" is not supported for this model. Use "thinking.type.adaptive" and "output_config.effort" to control thinking behavior.`
				: `"thinking.type.${name}" is not supported for this model.`,
		)
	if (!['adaptive', 'enabled', 'disabled', 'between_tools'].includes(type as string)) {
		return anthropicRefusal(
			`thinking.type: Input tag '${type}' found using 'type' does not match any of the expected tags: 'adaptive', 'between_tools', 'disabled', 'enabled'`,
		)
	}
	if (model.thinking === 'budget') {
		if (type === 'adaptive') return anthropicRefusal('adaptive thinking is not supported on this model')
		if (type === 'between_tools') return notForModel(type)
		if (given !== undefined) {
			return anthropicRefusal(`output_config.effort: this model does not support effort '${given}'`)
		}
		if (type === 'disabled') return { on: false, shown: false, display: 'full', tokens: 0 }
		const budget = config.budget_tokens
		if (typeof budget !== 'number') return anthropicRefusal('thinking.enabled.budget_tokens: Field required')
		if (budget < 1024) {
			return anthropicRefusal('thinking.enabled.budget_tokens: Input should be greater than or equal to 1024')
		}
		if (typeof body.max_tokens === 'number' && body.max_tokens <= budget) {
			return anthropicRefusal('`max_tokens` must be greater than `thinking.budget_tokens`')
		}
		return { on: true, shown: true, display: 'full', tokens: Math.min(budget, BUDGET_THINKING_TOKENS) }
	}
	if (type === 'enabled') return notForModel(type)
	if (type === 'disabled' || type === 'between_tools') {
		if (model.thinkingOff?.type !== type) {
			if (type === 'disabled' && model.thinkingOff?.type === 'between_tools') {
				return anthropicRefusal(
					'"thinking.type.disabled" is not supported for this model. Use "thinking.type.between_tools" to turn off up-front thinking.',
				)
			}
			return notForModel(type)
		}
		const extra = Object.keys(config).find((key) => key !== 'type')
		if (type === 'between_tools' && extra) {
			return anthropicRefusal('thinking.between_tools: Extra inputs are not permitted')
		}
	}
	if (given !== undefined && !model.efforts?.includes(given as Effort)) {
		return anthropicRefusal(`output_config.effort: this model does not support effort '${given}'`)
	}
	const effort = (given as Effort | undefined) ?? model.defaultEffort ?? 'high'
	const off = model.thinkingOff
	if ((type === 'disabled' || type === 'between_tools') && off) {
		if (EFFORTS.indexOf(effort) > EFFORTS.indexOf(off.maxEffort)) {
			return anthropicRefusal(
				`output_config.effort '${effort}' is not supported when thinking is disabled on this model. Use effort '${off.maxEffort}' or below, or enable thinking.`,
			)
		}
		return { on: false, shown: false, display: 'omitted', tokens: 0 }
	}
	const display = config.display === 'summarized' ? 'summarized' : 'omitted'
	return { on: true, shown: true, display, tokens: reasoningTokens(effort) }
}

/** AN-15: at most 4 breakpoints, known ttls, none on thinking blocks. Returns how many there are. */
function checkCacheControl(body: Body): Response | number {
	let count = 0
	let badTtl = false
	let onThinking: string | undefined
	const visit = (block: unknown, where: string) => {
		if (!isRecord(block) || block.cache_control === undefined) return
		count++
		const ttl = isRecord(block.cache_control) ? block.cache_control.ttl : undefined
		if (ttl !== undefined && ttl !== '5m' && ttl !== '1h') badTtl = true
		if (isThinking(block)) onThinking ??= `${where}.${block.type}.cache_control`
	}
	if (Array.isArray(body.tools)) for (const [i, tool] of body.tools.entries()) visit(tool, `tools.${i}`)
	if (Array.isArray(body.system)) for (const [i, block] of body.system.entries()) visit(block, `system.${i}`)
	if (Array.isArray(body.messages)) {
		for (const [i, message] of body.messages.entries()) {
			if (!isRecord(message) || !Array.isArray(message.content)) continue
			for (const [j, block] of message.content.entries()) visit(block, `messages.${i}.content.${j}`)
		}
	}
	if (count > 4) {
		return anthropicRefusal(`A maximum of 4 blocks with cache_control may be provided. Found ${count}.`)
	}
	if (badTtl) return anthropicRefusal("cache_control.ttl: Input should be '5m' or '1h'")
	if (onThinking) return anthropicRefusal(`${onThinking}: Extra inputs are not permitted`)
	return count
}

/**
 * AN-12..AN-14 on every replayed thinking block. Returns, per message index, the content left once
 * unreadable blocks are dropped (only for messages that had thinking blocks).
 */
function checkReplay(body: Body, model: AnthropicModel, ctx: Context, messages: unknown[]) {
	const kept = new Map<number, unknown[]>()
	let hashes: string[] | undefined
	const binding = isRecord(body.thinking) ? body.thinking.block_binding : undefined
	const enforced =
		model.prefixBinding === 'always' || (model.prefixBinding === 'opt-in' && binding !== undefined)
	const beta = anthropicBetas(ctx.headers)
	const dropOnMismatch =
		isRecord(binding) && binding.prefix_mismatch_behavior === 'drop_block' && beta.includes(BINDING_BETA)
	for (const [i, message] of messages.entries()) {
		if (!isRecord(message) || message.role !== 'assistant' || !Array.isArray(message.content)) continue
		if (!message.content.some(isThinking)) continue
		hashes ??= conversationHashes(body)
		const content: unknown[] = []
		for (const [j, block] of message.content.entries()) {
			if (!isThinking(block)) {
				content.push(block)
				continue
			}
			const redacted = block.type === 'redacted_thinking'
			const signed = verify(redacted ? block.data : block.signature, redacted ? 'redacted' : 'thinking')
			if (!signed || (!redacted && signed.text !== textHash(String(block.thinking)))) {
				return anthropicRefusal(
					`messages.${i}.content.${j}: \`thinking\` or \`redacted_thinking\` blocks in the latest assistant message cannot be modified. These blocks must remain as they were in the original response.`,
				)
			}
			if (signed.writer !== model.id && !model.reads.includes(signed.writer)) continue
			if (enforced && signed.prefix !== hashes[i]) {
				if (dropOnMismatch) continue
				const tail = beta.includes(BINDING_BETA)
					? ''
					: ` That setting requires the \`${BINDING_BETA}\` value in the \`anthropic-beta\` header.`
				return anthropicRefusal(
					`messages.${i}.content.${j}: Invalid \`signature\` in \`${block.type}\` block. The block is bound to a different conversation. Remove the block, or set \`thinking.block_binding.prefix_mismatch_behavior\` to "drop_block".${tail}`,
				)
			}
			content.push(block)
		}
		kept.set(i, content)
	}
	return kept
}

/** AN-11: in a tool loop, the assistant turn the last tool results answer must open with its thinking. */
function checkToolLoop(messages: unknown[], kept: Map<number, unknown[]>): Response | undefined {
	const last = messages.at(-1)
	const index = messages.length - 2
	const previous = messages[index]
	if (!isRecord(last) || last.role !== 'user' || !isRecord(previous) || previous.role !== 'assistant') return
	if (!blocksOf(last.content).some((block) => isRecord(block) && block.type === 'tool_result')) return
	const content = kept.get(index) ?? blocksOf(previous.content)
	if (!content.some((block) => isRecord(block) && block.type === 'tool_use')) return
	const first = content[0]
	if (isThinking(first)) return
	const found = isRecord(first) ? first.type : 'tool_use'
	return anthropicRefusal(
		`messages.${index}.content.0.type: Expected \`thinking\` or \`redacted_thinking\`, but found \`${found}\`. ${AN_11_TAIL}`,
	)
}

function render(
	reply: ReplyBehaviour,
	body: Body,
	model: AnthropicModel,
	thinking: ThinkingState,
	ctx: Context,
	cached: boolean,
) {
	const toolCalls = reply.toolCalls ?? []
	const reported = reply.model ?? model.id
	const text = reply.text ?? (toolCalls.length > 0 ? null : `Hello from ${reported}`)
	const total = countPromptTokens(body)
	const cache = cached ? ctx.cache.anthropicUse(model.id, body, total, ctx.now.getTime()) : NO_CACHE
	const scripted = reply.usage ?? {}
	const usage = {
		input_tokens: scripted.prompt ?? Math.max(0, total - cache.read - cache.created),
		cache_read_input_tokens: scripted.cached ?? cache.read,
		cache_creation_input_tokens: scripted.cacheWrite ?? cache.created,
		cache_creation:
			scripted.cacheWrite === undefined
				? { ephemeral_5m_input_tokens: cache.created5m, ephemeral_1h_input_tokens: cache.created1h }
				: { ephemeral_5m_input_tokens: scripted.cacheWrite, ephemeral_1h_input_tokens: 0 },
		output_tokens: scripted.completion ?? countCompletionTokens(text, toolCalls) + thinking.tokens,
		// The SDK's `Usage`: thinking tokens, a part of output_tokens (@anthropic-ai/sdk 1.x).
		output_tokens_details: { thinking_tokens: scripted.reasoning ?? thinking.tokens },
		service_tier: 'standard',
	}
	const blocks: Record<string, unknown>[] = []
	if (thinking.shown) blocks.push(thinkingBlock(reply, body, model.id, thinking))
	if (text !== null) blocks.push({ type: 'text', text })
	// Streams carry the arguments as scripted, even when they are not JSON.
	const rawArguments = new WeakMap<object, string>()
	for (const call of toolCalls) {
		const block = {
			type: 'tool_use',
			id: randomId('toolu_'),
			name: call.name,
			input: parseArguments(call.arguments),
		}
		rawArguments.set(block, call.arguments)
		blocks.push(block)
	}
	const stop_reason = reply.stopReason ?? (toolCalls.length > 0 ? 'tool_use' : 'end_turn')
	const stop_details =
		stop_reason === 'refusal' ? { type: 'refusal', category: 'cyber', explanation: null } : null
	const message = { id: randomId('msg_'), type: 'message', role: 'assistant', model: reported }
	return {
		body: () => ({ ...message, content: blocks, stop_reason, stop_sequence: null, stop_details, usage }),
		parts: () => {
			const start = { ...message, content: [], stop_reason: null, stop_sequence: null, stop_details: null }
			const parts = [
				event('message_start', {
					type: 'message_start',
					message: { ...start, usage: { ...usage, output_tokens: 1 } },
				}),
			]
			parts.push(...blockEvents(blocks, rawArguments))
			const { cache_creation: _, service_tier: __, ...cumulative } = usage
			const delta = { stop_reason, stop_sequence: null, stop_details }
			parts.push(event('message_delta', { type: 'message_delta', delta, usage: cumulative }))
			parts.push(event('message_stop', { type: 'message_stop' }))
			return parts
		},
		streamError: (behaviour: StreamErrorBehaviour) => [streamErrorEvent(behaviour)],
	}
}

function thinkingBlock(reply: ReplyBehaviour, body: Body, writer: string, thinking: ThinkingState) {
	const hashes = conversationHashes(body)
	const signed = (kind: Signed['kind'], shown: string) =>
		sign({ kind, writer, prefix: hashes.at(-1) as string, text: textHash(shown) })
	const full = reply.thinking ?? FULL_THINKING
	if (reply.redactedThinking) return { type: 'redacted_thinking', data: signed('redacted', full) }
	const shown =
		thinking.display === 'full' ? full : thinking.display === 'summarized' ? (reply.thinking ?? SUMMARY) : ''
	return { type: 'thinking', thinking: shown, signature: signed('thinking', shown) }
}

/** Each block as start, deltas and stop; a ping after the first block starts. */
function blockEvents(blocks: Record<string, unknown>[], rawArguments: WeakMap<object, string>): string[] {
	const parts: string[] = []
	const ping = event('ping', { type: 'ping' })
	if (blocks.length === 0) parts.push(ping)
	const delta = (index: number, payload: unknown) =>
		event('content_block_delta', { type: 'content_block_delta', index, delta: payload })
	for (const [index, block] of blocks.entries()) {
		const start = (content_block: unknown) =>
			event('content_block_start', { type: 'content_block_start', index, content_block })
		if (block.type === 'thinking') {
			parts.push(start({ type: 'thinking', thinking: '', signature: '' }))
		} else if (block.type === 'text') {
			parts.push(start({ type: 'text', text: '' }))
		} else if (block.type === 'tool_use') {
			parts.push(start({ ...block, input: {} }))
		} else {
			parts.push(start(block))
		}
		if (index === 0) parts.push(ping)
		if (block.type === 'thinking') {
			for (const thinking of words(block.thinking as string))
				parts.push(delta(index, { type: 'thinking_delta', thinking }))
			parts.push(delta(index, { type: 'signature_delta', signature: block.signature }))
		} else if (block.type === 'text') {
			for (const text of words(block.text as string)) parts.push(delta(index, { type: 'text_delta', text }))
		} else if (block.type === 'tool_use') {
			for (const partial_json of split(rawArguments.get(block) ?? '')) {
				parts.push(delta(index, { type: 'input_json_delta', partial_json }))
			}
		}
		parts.push(event('content_block_stop', { type: 'content_block_stop', index }))
	}
	return parts
}

function streamErrorEvent(behaviour: StreamErrorBehaviour): string {
	const type = behaviour.errorType ?? anthropicErrorType(behaviour.status ?? 529)
	const message =
		behaviour.message ?? (type === 'overloaded_error' ? 'Overloaded' : type.replaceAll('_', ' '))
	return event('error', { type: 'error', error: { type, message } })
}

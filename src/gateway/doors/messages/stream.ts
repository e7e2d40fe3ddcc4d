// The canonical chunk stream as Anthropic's Messages stream: message_start, content blocks one after the
// other (start, deltas, stop, with the index the block has in the final content), one message_delta with the
// stop reason and cumulative usage, message_stop. The inverse of src/providers/anthropic/stream.ts.
// Sources in ./index.ts.
import type { GatewayError } from '../../../errors'
import type { ChatChunk } from '../../../providers/types'
import { type StreamEncoder, sseEvent } from '../encoder'
import {
	type MessagesUsage,
	messageIdOf,
	reasoningOf,
	toMessagesUsage,
	toolUseId,
	toStopReason,
} from './answer'
import { anthropicError } from './errors'
import { isRecord, type Json } from './read'

type BlockKind = 'text' | 'thinking' | 'redacted_thinking' | 'tool_use'

interface OpenBlock {
	kind: BlockKind
	index: number
	/** A thinking block's text so far, so a signed block repeating it is not shown twice. */
	streamed: string
}

/** A chat tool call (by its `index` in `delta.tool_calls`) and the content block it became. */
interface ToolCall {
	id: string | undefined
	name: string
	/** Arguments received before the name: the block can start only once the name is known. */
	pending: string
	block: number | undefined
}

/**
 * An encoder for one `/v1/messages` stream answered by a non-Anthropic model. `model` is the name the
 * Message reports; the message id is `messageId`, else derived from the first chunk's id.
 */
export function createMessagesEncoder(model: string, messageId?: string): StreamEncoder {
	let started = false
	let done = false
	let nextIndex = 0
	let open: OpenBlock | undefined
	const tools = new Map<number, ToolCall>()
	let finish: unknown = null
	let matched: unknown = null
	let usage: MessagesUsage | undefined

	function messageStart(first: Json): string {
		started = true
		const message = {
			id: messageId ?? messageIdOf(first.id),
			type: 'message',
			role: 'assistant',
			model,
			content: [],
			stop_reason: null,
			stop_sequence: null,
			usage: { ...(usage ?? toMessagesUsage(undefined)), output_tokens: 0 },
		}
		return sseEvent('message_start', { type: 'message_start', message })
	}

	function close(): string {
		if (!open) return ''
		const { index } = open
		open = undefined
		return sseEvent('content_block_stop', { type: 'content_block_stop', index })
	}

	function start(kind: BlockKind, block: Json): string {
		const closing = close()
		open = { kind, index: nextIndex++, streamed: '' }
		return `${closing}${sseEvent('content_block_start', { type: 'content_block_start', index: open.index, content_block: block })}`
	}

	const delta = (index: number, change: Json) =>
		sseEvent('content_block_delta', { type: 'content_block_delta', index, delta: change })

	function thinkingText(words: string): string {
		const opening =
			open?.kind === 'thinking' ? '' : start('thinking', { type: 'thinking', thinking: '', signature: '' })
		const block = open as OpenBlock
		block.streamed += words
		return `${opening}${delta(block.index, { type: 'thinking_delta', thinking: words })}`
	}

	/** Signed blocks arrive whole when Claude's block ended: its signature closes the block being streamed. */
	function signedBlock(value: unknown): string {
		if (!isRecord(value)) return ''
		if (value.type === 'redacted_thinking' && typeof value.data === 'string') {
			return `${start('redacted_thinking', { type: 'redacted_thinking', data: value.data })}${close()}`
		}
		if (value.type !== 'thinking' || typeof value.signature !== 'string') return ''
		const words = typeof value.thinking === 'string' ? value.thinking : ''
		let out =
			open?.kind === 'thinking' ? '' : start('thinking', { type: 'thinking', thinking: '', signature: '' })
		const block = open as OpenBlock
		// The block's text normally streamed already; what did not is sent before the signature.
		const rest = words.startsWith(block.streamed) ? words.slice(block.streamed.length) : ''
		if (rest !== '') out += delta(block.index, { type: 'thinking_delta', thinking: rest })
		out += delta(block.index, { type: 'signature_delta', signature: value.signature })
		return `${out}${close()}`
	}

	function textDelta(words: string): string {
		const opening = open?.kind === 'text' ? '' : start('text', { type: 'text', text: '' })
		return `${opening}${delta((open as OpenBlock).index, { type: 'text_delta', text: words })}`
	}

	function startTool(tool: ToolCall): string {
		const out = start('tool_use', { type: 'tool_use', id: toolUseId(tool.id), name: tool.name, input: {} })
		tool.block = (open as OpenBlock).index
		const pending = tool.pending
		tool.pending = ''
		return pending === ''
			? out
			: `${out}${delta(tool.block, { type: 'input_json_delta', partial_json: pending })}`
	}

	function toolCallDelta(value: unknown, position: number): string {
		if (!isRecord(value)) return ''
		const index = typeof value.index === 'number' ? value.index : position
		const fn = isRecord(value.function) ? value.function : {}
		let tool = tools.get(index)
		if (!tool) {
			tool = { id: undefined, name: '', pending: '', block: undefined }
			tools.set(index, tool)
		}
		if (tool.id === undefined && typeof value.id === 'string' && value.id !== '') tool.id = value.id
		if (tool.block === undefined && tool.name === '' && typeof fn.name === 'string') tool.name = fn.name
		const args = typeof fn.arguments === 'string' ? fn.arguments : ''
		if (tool.block === undefined) {
			tool.pending += args
			return tool.name === '' ? '' : startTool(tool)
		}
		// Upstreams send one call's arguments after another; a piece for a call whose block already closed
		// (interleaved calls) has no place left in Anthropic's sequence of blocks.
		if (args === '' || open?.index !== tool.block) return ''
		return delta(tool.block, { type: 'input_json_delta', partial_json: args })
	}

	/** Calls whose name never came still become blocks, so that their arguments are not lost. */
	function flushTools(): string {
		let out = ''
		for (const tool of tools.values()) if (tool.block === undefined) out += startTool(tool)
		return out
	}

	function chunk(input: ChatChunk): string {
		const value: unknown = input
		if (done || !isRecord(value)) return ''
		if (isRecord(value.usage)) usage = toMessagesUsage(value.usage)
		let out = started ? '' : messageStart(value)
		const choices: Json[] = Array.isArray(value.choices) ? value.choices.filter(isRecord) : []
		// One choice: a Message has no `n`.
		const choice = choices.find((c) => c.index === 0) ?? choices[0]
		if (!choice) return out
		const change = isRecord(choice.delta) ? choice.delta : {}
		const reasoning = reasoningOf(change)
		if (reasoning !== '') out += thinkingText(reasoning)
		if (Array.isArray(change.thinking_blocks))
			for (const block of change.thinking_blocks) out += signedBlock(block)
		const words = typeof change.content === 'string' ? change.content : ''
		if (words !== '') out += textDelta(words)
		if (typeof change.refusal === 'string' && change.refusal !== '') {
			out += textDelta(change.refusal)
			finish = 'content_filter'
		}
		if (Array.isArray(change.tool_calls)) {
			for (const [k, call] of change.tool_calls.entries()) out += toolCallDelta(call, k)
		}
		if (choice.finish_reason !== null && choice.finish_reason !== undefined) {
			if (finish !== 'content_filter') finish = choice.finish_reason
			matched = choice.stop_reason
			out += flushTools() + close()
		}
		return out
	}

	function end(): string {
		if (done) return ''
		let out = started ? '' : messageStart({})
		done = true
		out += flushTools() + close()
		const final = usage ?? toMessagesUsage(undefined)
		const stop = toStopReason(finish, matched, tools.size > 0)
		out += sseEvent('message_delta', { type: 'message_delta', delta: stop, usage: final })
		return out + sseEvent('message_stop', { type: 'message_stop' })
	}

	function fail(error: GatewayError): string {
		if (done) return ''
		done = true
		return sseEvent('error', anthropicError(error))
	}

	return { chunk, end, fail }
}

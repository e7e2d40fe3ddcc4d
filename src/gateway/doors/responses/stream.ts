// Chat Completions chunks as the Responses API's semantic events. Each output item opens with
// `response.output_item.added` and closes with `response.output_item.done` before the next one opens, as
// OpenAI streams them; every event carries `type` and a `sequence_number` that grows by one.
import type { ChatCompletionChunk } from 'openai/resources/chat/completions'
import type { GatewayError } from '../../../errors'
import type { ChatChunk } from '../../../providers/types'
import type { StreamEncoder } from '../encoder'
import { sseEvent } from '../encoder'
import {
	endState,
	functionCallItem,
	itemId,
	messageItem,
	outputText,
	reasoningItem,
	responseEnvelope,
	toResponsesUsage,
} from './output'

type Json = Record<string, unknown>
type FinishReason = ChatChunk['choices'][number]['finish_reason']

/** The gateway's own fields a chunk's delta may carry next to OpenAI's. */
interface DeltaExtras {
	reasoning_content?: string | null
	thinking_blocks?: unknown[]
}

type Open =
	| { kind: 'reasoning'; index: number; id: string; text: string | null; blocks: unknown[] }
	| {
			kind: 'message'
			index: number
			id: string
			content: Json[]
			part: { kind: 'text' | 'refusal'; text: string } | null
	  }
	| { kind: 'call'; index: number; id: string; callId: string; name: string; args: string }

/** `error` codes a failed response's `error` object may carry (the API's closed list): the nearest one. */
const failureCode = (error: GatewayError) => (error.status === 429 ? 'rate_limit_exceeded' : 'server_error')

/**
 * Encodes one response's canonical chunk stream as Responses events. A mid-stream failure ends with an
 * `error` event followed by `response.failed`, as the Open Responses specification prescribes ("Any error
 * incurred while streaming will be followed by a `response.failed` event") and OpenAI's own streams do.
 * No `[DONE]` line: OpenAI ends its Responses streams with the terminal event, and the SDKs expect no more.
 */
export function createResponsesEncoder(request: Record<string, unknown>, id: string): StreamEncoder {
	let sequence = 0
	let envelope: Json | null = null
	let open: Open | null = null
	let finish: FinishReason | null = null
	let usage: ChatChunk['usage'] = null
	let ended = false
	let completed: Json | null = null
	const output: Json[] = []
	// Chat tool-call index → the call's output item, so that its later argument pieces find it.
	const calls = new Map<number, Open & { kind: 'call' }>()

	const event = (type: string, fields: Json) =>
		sseEvent(type, { type, sequence_number: sequence++, ...fields })

	function start(chunk?: ChatChunk): string {
		if (envelope) return ''
		const createdAt = chunk?.created ?? Math.floor(Date.now() / 1000)
		const model = chunk?.model || (typeof request.model === 'string' ? request.model : '')
		envelope = responseEnvelope(request, id, { createdAt, model })
		return (
			event('response.created', { response: envelope }) +
			event('response.in_progress', { response: envelope })
		)
	}

	function itemOf(item: Open, status: string): Json {
		switch (item.kind) {
			case 'reasoning':
				return reasoningItem(item.id, item.text ?? '', item.blocks, status)
			case 'message': {
				// A part still being written is shown as far as it got (a failed response keeps it).
				const writing = item.part ? [partOf(item.part.kind, item.part.text)] : []
				return messageItem(item.id, [...item.content, ...writing], status)
			}
			case 'call':
				return functionCallItem(item.id, item.callId, item.name, item.args, status)
		}
	}

	function add(item: Open): string {
		open = item
		output[item.index] = itemOf(item, 'in_progress')
		return event('response.output_item.added', {
			output_index: item.index,
			item: itemOf(item, 'in_progress'),
		})
	}

	const partOf = (kind: 'text' | 'refusal', text: string): Json =>
		kind === 'text' ? outputText(text) : { type: 'refusal', refusal: text }

	const at = (item: Open) => ({ item_id: item.id, output_index: item.index })

	function closePart(message: Open & { kind: 'message' }): string {
		const part = message.part
		if (!part) return ''
		message.part = null
		const content_index = message.content.length
		const done = part.kind === 'text' ? outputText(part.text) : { type: 'refusal', refusal: part.text }
		message.content.push(done)
		const ending =
			part.kind === 'text'
				? event('response.output_text.done', { ...at(message), content_index, text: part.text, logprobs: [] })
				: event('response.refusal.done', { ...at(message), content_index, refusal: part.text })
		return ending + event('response.content_part.done', { ...at(message), content_index, part: done })
	}

	/** Closes the open item, `incomplete` when the model stopped inside it. */
	function close(status = 'completed'): string {
		const item = open
		if (!item) return ''
		open = null
		let out = ''
		if (item.kind === 'reasoning' && item.text !== null) {
			const part = { type: 'summary_text', text: item.text }
			out += event('response.reasoning_summary_text.done', { ...at(item), summary_index: 0, text: item.text })
			out += event('response.reasoning_summary_part.done', { ...at(item), summary_index: 0, part })
		} else if (item.kind === 'message') {
			out += closePart(item)
		} else if (item.kind === 'call') {
			out += event('response.function_call_arguments.done', { ...at(item), arguments: item.args })
		}
		const done = itemOf(item, status)
		output[item.index] = done
		return out + event('response.output_item.done', { output_index: item.index, item: done })
	}

	function reasoning(text: string, blocks: unknown[]): string {
		let out = ''
		if (open?.kind !== 'reasoning') {
			out += close()
			out += add({
				kind: 'reasoning',
				index: output.length,
				id: itemId('rs', id, output.length),
				text: null,
				blocks: [],
			})
		}
		const item = open as Open & { kind: 'reasoning' }
		item.blocks.push(...blocks)
		if (!text) return out
		if (item.text === null) {
			item.text = ''
			const part = { type: 'summary_text', text: '' }
			out += event('response.reasoning_summary_part.added', { ...at(item), summary_index: 0, part })
		}
		item.text += text
		return (
			out + event('response.reasoning_summary_text.delta', { ...at(item), summary_index: 0, delta: text })
		)
	}

	function message(kind: 'text' | 'refusal', delta: string): string {
		let out = ''
		if (open?.kind !== 'message') {
			out += close()
			const index = output.length
			out += add({ kind: 'message', index, id: itemId('msg', id, index), content: [], part: null })
		}
		const item = open as Open & { kind: 'message' }
		if (item.part?.kind !== kind) {
			out += closePart(item)
			item.part = { kind, text: '' }
			const content_index = item.content.length
			out += event('response.content_part.added', { ...at(item), content_index, part: partOf(kind, '') })
		}
		const part = item.part as { text: string }
		part.text += delta
		if (!delta) return out
		const content_index = item.content.length
		return kind === 'text'
			? out + event('response.output_text.delta', { ...at(item), content_index, delta, logprobs: [] })
			: out + event('response.refusal.delta', { ...at(item), content_index, delta })
	}

	function toolCall(piece: NonNullable<ChatCompletionChunk.Choice.Delta['tool_calls']>[number]): string {
		let out = ''
		let call = calls.get(piece.index)
		if (!call) {
			out += close()
			const index = output.length
			call = {
				kind: 'call',
				index,
				id: itemId('fc', id, index),
				callId: piece.id || `call_${id.replace(/^resp_/, '')}_${index}`,
				name: piece.function?.name ?? '',
				args: '',
			}
			calls.set(piece.index, call)
			out += add(call)
		}
		const delta = piece.function?.arguments
		// Upstreams send each call's pieces before the next call's; a late piece has no open item left to join.
		if (!delta || open !== call) return out
		call.args += delta
		return out + event('response.function_call_arguments.delta', { ...at(call), delta })
	}

	/** Closes what is open; a response that produced nothing still answers with an (empty) message. */
	function finishOutput(): string {
		const { status } = endState(finish)
		let out = ''
		if (output.length === 0) out += message('text', '')
		return out + close(status === 'incomplete' ? 'incomplete' : 'completed')
	}

	function final(status: string, fields: Json = {}): Json {
		if (open) output[open.index] = itemOf(open, 'in_progress')
		return {
			...envelope,
			status,
			output: [...output],
			usage: toResponsesUsage(usage),
			...fields,
		}
	}

	return {
		chunk(chunk) {
			if (ended) return ''
			let out = start(chunk)
			if (chunk.usage) usage = chunk.usage
			const choice = chunk.choices?.[0]
			if (!choice) return out
			const delta = (choice.delta ?? {}) as ChatCompletionChunk.Choice.Delta & DeltaExtras
			const blocks = Array.isArray(delta.thinking_blocks) ? delta.thinking_blocks : []
			if (delta.reasoning_content || blocks.length > 0)
				out += reasoning(delta.reasoning_content ?? '', blocks)
			if (delta.content) out += message('text', delta.content)
			if (delta.refusal) out += message('refusal', delta.refusal)
			for (const piece of delta.tool_calls ?? []) out += toolCall(piece)
			if (choice.finish_reason) {
				finish = choice.finish_reason
				out += finishOutput()
			}
			return out
		},

		end() {
			if (ended) return ''
			ended = true
			let out = start()
			out += finishOutput()
			const { status, incomplete_details } = endState(finish)
			const response = final(status, { completed_at: Math.floor(Date.now() / 1000), incomplete_details })
			completed = response
			const type = status === 'incomplete' ? 'response.incomplete' : 'response.completed'
			return out + event(type, { response })
		},

		fail(error: GatewayError) {
			if (ended) return ''
			ended = true
			const flat = { code: error.code ?? failureCode(error), message: error.message, param: error.param }
			// Open Responses nests the error (with its type); openai-node's ResponseErrorEvent reads it flat. Both are sent.
			const out = start() + event('error', { ...flat, error: { type: error.type, ...flat } })
			const failed = final('failed', { error: { code: failureCode(error), message: error.message } })
			return out + event('response.failed', { response: failed })
		},

		final: () => completed,
	}
}

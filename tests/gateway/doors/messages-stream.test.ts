import { describe, expect, it } from 'bun:test'
import type Anthropic from '@anthropic-ai/sdk'
import { APIError } from '@anthropic-ai/sdk'
import { MessageStream } from '@anthropic-ai/sdk/lib/MessageStream'
import { Stream } from '@anthropic-ai/sdk/streaming'
import { GatewayError } from '../../../src/errors'
import { createMessagesEncoder } from '../../../src/gateway/doors/messages'
import { createStreamTranslator } from '../../../src/providers/anthropic/stream'
import type { ChatChunk } from '../../../src/providers/types'

type Json = Record<string, unknown>
type Delta = ChatChunk['choices'][number]['delta'] & {
	reasoning_content?: string
	thinking_blocks?: unknown[]
}

const MODEL = 'claude-sonnet-5-5'
const USAGE = {
	prompt_tokens: 120,
	completion_tokens: 30,
	total_tokens: 150,
	prompt_tokens_details: { cached_tokens: 80, cache_write_tokens: 10 },
}
const FINAL_USAGE = {
	input_tokens: 30,
	cache_creation_input_tokens: 10,
	cache_read_input_tokens: 80,
	output_tokens: 30,
}

const chunk = (delta: Delta, finish: string | null = null, extra: Json = {}): ChatChunk =>
	({
		id: 'chatcmpl-s1',
		object: 'chat.completion.chunk',
		created: 1767225600,
		model: 'gpt-5-mini',
		choices: [{ index: 0, delta, logprobs: null, finish_reason: finish, ...extra }],
	}) as ChatChunk
const usageChunk = { ...chunk({}), choices: [], usage: USAGE } as ChatChunk

function encode(chunks: ChatChunk[], messageId?: string): string {
	const encoder = createMessagesEncoder(MODEL, messageId)
	return chunks.map((c) => encoder.chunk(c)).join('') + encoder.end()
}

/** The SSE text as event names and data, checking that each `event:` line names its data's type. */
function events(sse: string): Json[] {
	return sse
		.split('\n\n')
		.filter((block) => block !== '')
		.map((block) => {
			const [eventLine, dataLine, ...rest] = block.split('\n')
			expect(rest).toEqual([])
			const data = JSON.parse(dataLine?.replace(/^data: /, '') ?? '') as Json
			expect(eventLine).toBe(`event: ${data.type}`)
			return data
		})
}

/** Anthropic's invariants: one message, blocks one at a time, numbered from 0 in order, deltas inside them. */
function checkSequence(list: Json[]) {
	expect(list[0]?.type).toBe('message_start')
	expect(list.at(-2)?.type).toBe('message_delta')
	expect(list.at(-1)?.type).toBe('message_stop')
	let open: number | undefined
	let next = 0
	for (const event of list.slice(1, -2)) {
		if (event.type === 'content_block_start') {
			expect(open).toBeUndefined()
			expect(event.index).toBe(next)
			open = next++
		} else if (event.type === 'content_block_delta') {
			expect(event.index).toBe(open as number)
		} else if (event.type === 'content_block_stop') {
			expect(event.index).toBe(open as number)
			open = undefined
		} else {
			throw new Error(`unexpected ${String(event.type)} inside the message`)
		}
	}
	expect(open).toBeUndefined()
}

/** The SSE text read by the official SDK's own SSE parser, then accumulated by its MessageStream. */
async function sdkMessage(sse: string): Promise<Anthropic.Message> {
	const response = new Response(sse, { headers: { 'content-type': 'text/event-stream' } })
	const stream = Stream.fromSSEResponse<Anthropic.RawMessageStreamEvent>(response, new AbortController())
	const message = await MessageStream.fromReadableStream(stream.toReadableStream()).finalMessage()
	// As a client sees it on the wire again: without the helper's own bookkeeping (`parsed_output`, `__json_buf`).
	return JSON.parse(
		JSON.stringify(message, (key, value) =>
			key === 'parsed_output' || key === '__json_buf' ? undefined : value,
		),
	)
}

const SIGNED = { type: 'thinking', thinking: 'Plan: list files.', signature: 'sig-1', model: 'anthropic/x' }
const TOOL_STREAM = [
	chunk({ role: 'assistant', content: '' }),
	chunk({ reasoning_content: 'Plan: ' }),
	chunk({ reasoning_content: 'list files.' }),
	chunk({ thinking_blocks: [SIGNED] }),
	chunk({ content: 'Listing ' }),
	chunk({ content: 'now.' }),
	chunk({
		tool_calls: [{ index: 0, id: 'call_1', type: 'function', function: { name: 'Bash', arguments: '' } }],
	}),
	chunk({ tool_calls: [{ index: 0, function: { arguments: '{"command":' } }] }),
	chunk({ tool_calls: [{ index: 0, function: { arguments: '"ls"}' } }] }),
	chunk({
		tool_calls: [{ index: 1, id: 'call_2', type: 'function', function: { name: 'Read', arguments: '{}' } }],
	}),
	chunk({}, 'tool_calls'),
	usageChunk,
]

describe('createMessagesEncoder', () => {
	it('streams a text answer as Anthropic does, event for event', () => {
		const sse = encode([
			chunk({ role: 'assistant', content: '' }),
			chunk({ content: 'Hi' }),
			chunk({}, 'stop'),
			usageChunk,
		])
		expect(events(sse)).toEqual([
			{
				type: 'message_start',
				message: {
					id: 'msg_s1',
					type: 'message',
					role: 'assistant',
					model: MODEL,
					content: [],
					stop_reason: null,
					stop_sequence: null,
					usage: {
						input_tokens: 0,
						cache_creation_input_tokens: 0,
						cache_read_input_tokens: 0,
						output_tokens: 0,
					},
				},
			},
			{ type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
			{ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Hi' } },
			{ type: 'content_block_stop', index: 0 },
			{ type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: FINAL_USAGE },
			{ type: 'message_stop' },
		])
	})

	it('streams thinking, its signature, text and tool calls as blocks in order', () => {
		const list = events(encode(TOOL_STREAM))
		checkSequence(list)
		expect(list.slice(1)).toEqual([
			{
				type: 'content_block_start',
				index: 0,
				content_block: { type: 'thinking', thinking: '', signature: '' },
			},
			{ type: 'content_block_delta', index: 0, delta: { type: 'thinking_delta', thinking: 'Plan: ' } },
			{ type: 'content_block_delta', index: 0, delta: { type: 'thinking_delta', thinking: 'list files.' } },
			{ type: 'content_block_delta', index: 0, delta: { type: 'signature_delta', signature: 'sig-1' } },
			{ type: 'content_block_stop', index: 0 },
			{ type: 'content_block_start', index: 1, content_block: { type: 'text', text: '' } },
			{ type: 'content_block_delta', index: 1, delta: { type: 'text_delta', text: 'Listing ' } },
			{ type: 'content_block_delta', index: 1, delta: { type: 'text_delta', text: 'now.' } },
			{ type: 'content_block_stop', index: 1 },
			{
				type: 'content_block_start',
				index: 2,
				content_block: { type: 'tool_use', id: 'call_1', name: 'Bash', input: {} },
			},
			{
				type: 'content_block_delta',
				index: 2,
				delta: { type: 'input_json_delta', partial_json: '{"command":' },
			},
			{ type: 'content_block_delta', index: 2, delta: { type: 'input_json_delta', partial_json: '"ls"}' } },
			{ type: 'content_block_stop', index: 2 },
			{
				type: 'content_block_start',
				index: 3,
				content_block: { type: 'tool_use', id: 'call_2', name: 'Read', input: {} },
			},
			{ type: 'content_block_delta', index: 3, delta: { type: 'input_json_delta', partial_json: '{}' } },
			{ type: 'content_block_stop', index: 3 },
			{ type: 'message_delta', delta: { stop_reason: 'tool_use', stop_sequence: null }, usage: FINAL_USAGE },
			{ type: 'message_stop' },
		])
	})

	it("parses with the Anthropic SDK's own stream reader into the Message Claude would send", async () => {
		expect(await sdkMessage(encode(TOOL_STREAM))).toEqual({
			id: 'msg_s1',
			type: 'message',
			role: 'assistant',
			model: MODEL,
			content: [
				{ type: 'thinking', thinking: 'Plan: list files.', signature: 'sig-1' },
				{ type: 'text', text: 'Listing now.' },
				{ type: 'tool_use', id: 'call_1', name: 'Bash', input: { command: 'ls' } },
				{ type: 'tool_use', id: 'call_2', name: 'Read', input: {} },
			],
			stop_reason: 'tool_use',
			stop_sequence: null,
			usage: FINAL_USAGE,
		} as unknown as Anthropic.Message)
	})

	it('sends a signed block whose text did not stream as one whole thinking block', () => {
		const list = events(
			encode([chunk({ thinking_blocks: [SIGNED] }), chunk({ content: 'x' }), chunk({}, 'stop')]),
		)
		checkSequence(list)
		expect(list.slice(1, 5)).toEqual([
			{
				type: 'content_block_start',
				index: 0,
				content_block: { type: 'thinking', thinking: '', signature: '' },
			},
			{
				type: 'content_block_delta',
				index: 0,
				delta: { type: 'thinking_delta', thinking: 'Plan: list files.' },
			},
			{ type: 'content_block_delta', index: 0, delta: { type: 'signature_delta', signature: 'sig-1' } },
			{ type: 'content_block_stop', index: 0 },
		])
	})

	it('sends redacted thinking as a block that starts with its data', () => {
		const redacted = { type: 'redacted_thinking', data: 'opaque', model: 'anthropic/x' }
		const list = events(
			encode([chunk({ thinking_blocks: [redacted] }), chunk({ content: 'x' }), chunk({}, 'stop')]),
		)
		checkSequence(list)
		expect(list.slice(1, 3)).toEqual([
			{ type: 'content_block_start', index: 0, content_block: { type: 'redacted_thinking', data: 'opaque' } },
			{ type: 'content_block_stop', index: 0 },
		])
	})

	it('leaves unsigned reasoning of another provider without a signature_delta', async () => {
		const sse = encode([chunk({ reasoning_content: 'Hmm.' }), chunk({ content: '4' }), chunk({}, 'stop')])
		const list = events(sse)
		checkSequence(list)
		expect(list.some((e) => (e.delta as Json | undefined)?.type === 'signature_delta')).toBe(false)
		expect((await sdkMessage(sse)).content).toEqual([
			{ type: 'thinking', thinking: 'Hmm.', signature: '' },
			{ type: 'text', text: '4' },
		] as Anthropic.ContentBlock[])
	})

	it('starts a tool call once its name is known, with the arguments that came before', async () => {
		const sse = encode([
			chunk({ tool_calls: [{ index: 0, function: { arguments: '{"a"' } }] }),
			chunk({ tool_calls: [{ index: 0, id: 'call_9', function: { name: 'f', arguments: ':1}' } }] }),
			chunk({}, 'tool_calls'),
		])
		checkSequence(events(sse))
		expect((await sdkMessage(sse)).content).toEqual([
			{ type: 'tool_use', id: 'call_9', name: 'f', input: { a: 1 } },
		] as Anthropic.ContentBlock[])
	})

	it('makes a toolu_ id for a tool call that has none', () => {
		const list = events(
			encode([chunk({ tool_calls: [{ index: 0, function: { name: 'f', arguments: '{}' } }] })]),
		)
		const block = list[1]?.content_block as Json
		expect(block.id).toMatch(/^toolu_[0-9a-f]{32}$/)
	})

	it('reports the stop sequence vLLM says matched', () => {
		const list = events(encode([chunk({ content: 'x' }), chunk({}, 'stop', { stop_reason: 'END' })]))
		expect(list.at(-2)?.delta).toEqual({ stop_reason: 'stop_sequence', stop_sequence: 'END' })
	})

	it('reports max_tokens for a cut answer and refusal for a filtered one', () => {
		expect(events(encode([chunk({ content: 'x' }), chunk({}, 'length')])).at(-2)?.delta).toEqual({
			stop_reason: 'max_tokens',
			stop_sequence: null,
		})
		expect(events(encode([chunk({ content: 'x' }), chunk({}, 'content_filter')])).at(-2)?.delta).toEqual({
			stop_reason: 'refusal',
			stop_sequence: null,
		})
	})

	it('takes usage reported on the finishing chunk', () => {
		const finish = { ...chunk({}, 'stop'), usage: USAGE } as ChatChunk
		expect(events(encode([chunk({ content: 'x' }), finish])).at(-2)?.usage).toEqual(FINAL_USAGE)
	})

	it('uses the message id it is given', () => {
		expect((events(encode([chunk({ content: 'x' })], 'msg_given'))[0]?.message as Json | undefined)?.id).toBe(
			'msg_given',
		)
	})

	it('still makes a whole message of a stream that had no chunk', async () => {
		const sse = encode([])
		checkSequence(events(sse))
		expect((await sdkMessage(sse)).content).toEqual([])
	})

	it('ignores chunks after the end', () => {
		const encoder = createMessagesEncoder(MODEL)
		encoder.chunk(chunk({ content: 'x' }))
		encoder.end()
		expect(encoder.chunk(chunk({ content: 'late' })) + encoder.end()).toBe('')
	})

	it("ends a failed stream with Anthropic's error event, which the SDK raises as an APIError", async () => {
		const encoder = createMessagesEncoder(MODEL)
		const error = new GatewayError(529, 'upstream_error', 'Overloaded')
		const sse = encoder.chunk(chunk({ content: 'par' })) + encoder.fail(error)
		expect(events(sse).at(-1)).toEqual({
			type: 'error',
			error: { type: 'overloaded_error', message: 'Overloaded' },
		})
		expect(encoder.end() + encoder.fail(error)).toBe('')
		const failure = await sdkMessage(sse).catch((e: unknown) => e)
		expect(failure).toBeInstanceOf(APIError)
		expect((failure as APIError).message).toContain('Overloaded')
	})

	it('inverts the Anthropic adapter: Claude events through both come back as Claude sent them', () => {
		const original: Anthropic.RawMessageStreamEvent[] = [
			{
				type: 'message_start',
				message: {
					id: 'msg_rt',
					type: 'message',
					role: 'assistant',
					model: 'claude-sonnet-4-5',
					content: [],
					stop_reason: null,
					stop_sequence: null,
					usage: { input_tokens: 25, output_tokens: 1 },
				} as unknown as Anthropic.Message,
			},
			{
				type: 'content_block_start',
				index: 0,
				content_block: { type: 'thinking', thinking: '', signature: '' },
			},
			{ type: 'content_block_delta', index: 0, delta: { type: 'thinking_delta', thinking: 'Think.' } },
			{ type: 'content_block_delta', index: 0, delta: { type: 'signature_delta', signature: 'sig' } },
			{ type: 'content_block_stop', index: 0 },
			{
				type: 'content_block_start',
				index: 1,
				content_block: { type: 'text', text: '' } as Anthropic.TextBlock,
			},
			{ type: 'content_block_delta', index: 1, delta: { type: 'text_delta', text: 'Sure.' } },
			{ type: 'content_block_stop', index: 1 },
			{
				type: 'content_block_start',
				index: 2,
				content_block: { type: 'tool_use', id: 'toolu_1', name: 'Bash', input: {} } as Anthropic.ToolUseBlock,
			},
			{
				type: 'content_block_delta',
				index: 2,
				delta: { type: 'input_json_delta', partial_json: '{"command":"ls"}' },
			},
			{ type: 'content_block_stop', index: 2 },
			{
				type: 'message_delta',
				delta: { stop_reason: 'tool_use', stop_sequence: null } as Anthropic.RawMessageDeltaEvent.Delta,
				usage: { output_tokens: 40 } as Anthropic.MessageDeltaUsage,
			},
			{ type: 'message_stop' },
		]
		const translator = createStreamTranslator({
			id: 'chatcmpl-rt',
			created: 1,
			modelId: 'anthropic/claude-sonnet-4-5',
		})
		const encoder = createMessagesEncoder('claude-sonnet-4-5')
		const sse =
			original.flatMap((event) => translator.push(event).map((c) => encoder.chunk(c))).join('') +
			encoder.end()
		const list = events(sse)
		checkSequence(list)
		expect(list.slice(1, -2)).toEqual(original.slice(1, -2) as unknown as Json[])
		expect(list.at(-2)).toEqual({
			type: 'message_delta',
			delta: { stop_reason: 'tool_use', stop_sequence: null },
			usage: {
				input_tokens: 25,
				cache_creation_input_tokens: 0,
				cache_read_input_tokens: 0,
				output_tokens: 40,
			},
		})
		expect((list[0]?.message as Json | undefined)?.id).toBe('msg_rt')
	})
})

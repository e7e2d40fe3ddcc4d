import { describe, expect, it } from 'bun:test'
import { Stream } from 'openai/core/streaming'
import { ResponseStream } from 'openai/lib/responses/ResponseStream'
import type { ResponseStreamEvent } from 'openai/resources/responses/responses'
import { GatewayError } from '../../../src/errors'
import { createResponsesEncoder } from '../../../src/gateway/doors/responses'
import type { ChatChunk } from '../../../src/providers/types'

const ID = 'resp_s1'
const REQUEST = { model: 'auto', input: 'Hi', stream: true }
const USAGE = {
	prompt_tokens: 30,
	completion_tokens: 12,
	total_tokens: 42,
	prompt_tokens_details: { cached_tokens: 8 },
	completion_tokens_details: { reasoning_tokens: 5 },
}

type Delta = ChatChunk['choices'][number]['delta'] & {
	reasoning_content?: string
	thinking_blocks?: unknown[]
}

const chunk = (delta: Delta, finish: string | null = null): ChatChunk =>
	({
		id: 'chatcmpl-1',
		object: 'chat.completion.chunk',
		created: 1767225600,
		model: 'claude-sonnet-4-5',
		choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
	}) as ChatChunk

const usageChunk = { ...chunk({}), choices: [], usage: USAGE } as ChatChunk

function encode(chunks: ChatChunk[], request: Record<string, unknown> = REQUEST): string {
	const encoder = createResponsesEncoder(request, ID)
	return chunks.map((c) => encoder.chunk(c)).join('') + encoder.end()
}

/** The SSE text as the official SDK parses it, then accumulated by its ResponseStream helper. */
async function throughSdk(sse: string) {
	const events: ResponseStreamEvent[] = []
	for await (const event of Stream.fromSSEResponse<ResponseStreamEvent>(
		new Response(sse),
		new AbortController(),
	)) {
		events.push(event)
	}
	const ndjson = `${events.map((event) => JSON.stringify(event)).join('\n')}\n`
	const final = await ResponseStream.fromReadableStream(
		new Response(ndjson).body as ReadableStream,
	).finalResponse()
	return { events, final }
}

/** The SSE `event:` line of every event matches its `type`, as the spec requires. */
function eventNames(sse: string) {
	return sse
		.trim()
		.split('\n\n')
		.map((block) => {
			const [name, data] = block.split('\n')
			return {
				name: name?.replace('event: ', ''),
				type: JSON.parse(data?.replace('data: ', '') ?? '{}').type,
			}
		})
}

/** The response object of the terminal event, as sent (the SDK's final response adds parsed fields). */
function terminal(events: ResponseStreamEvent[]) {
	const last = events.at(-1) as Extract<ResponseStreamEvent, { type: 'response.completed' }>
	return last.response
}

function assertWellFormed(events: ResponseStreamEvent[]) {
	expect(events.map((event) => event.sequence_number)).toEqual(events.map((_, i) => i))
	const added = events.filter((e) => e.type === 'response.output_item.added').map((e) => e.output_index)
	const done = events.filter((e) => e.type === 'response.output_item.done').map((e) => e.output_index)
	expect(done).toEqual(added)
}

const TEXT_STREAM = [
	chunk({ role: 'assistant', content: '' }),
	chunk({ content: 'Hel' }),
	chunk({ content: 'lo' }),
	chunk({}, 'stop'),
	usageChunk,
]

describe('createResponsesEncoder', () => {
	it('streams text as OpenAI does, event for event', async () => {
		const { events } = await throughSdk(encode(TEXT_STREAM))
		expect(events.map((event) => event.type)).toEqual([
			'response.created',
			'response.in_progress',
			'response.output_item.added',
			'response.content_part.added',
			'response.output_text.delta',
			'response.output_text.delta',
			'response.output_text.done',
			'response.content_part.done',
			'response.output_item.done',
			'response.completed',
		])
		assertWellFormed(events)
		expect(events[4]).toEqual({
			type: 'response.output_text.delta',
			sequence_number: 4,
			item_id: 'msg_s1_0',
			output_index: 0,
			content_index: 0,
			delta: 'Hel',
			logprobs: [],
		})
		expect(events[6]).toEqual({
			type: 'response.output_text.done',
			sequence_number: 6,
			item_id: 'msg_s1_0',
			output_index: 0,
			content_index: 0,
			text: 'Hello',
			logprobs: [],
		})
	})

	it('names every SSE event after its type', () => {
		for (const { name, type } of eventNames(encode(TEXT_STREAM))) expect(name).toBe(type)
	})

	it('opens with an in-progress response that echoes the request', async () => {
		const { events } = await throughSdk(encode(TEXT_STREAM))
		const created = events[0] as Extract<ResponseStreamEvent, { type: 'response.created' }>
		expect(created.response).toMatchObject({
			id: ID,
			object: 'response',
			created_at: 1767225600,
			status: 'in_progress',
			model: 'claude-sonnet-4-5',
			output: [],
			usage: null,
			tool_choice: 'auto',
			store: true,
		})
	})

	it('ends with the whole response and its usage, which the SDK accepts', async () => {
		const { events, final } = await throughSdk(encode(TEXT_STREAM))
		const completed = events.at(-1) as Extract<ResponseStreamEvent, { type: 'response.completed' }>
		expect(completed.response.status).toBe('completed')
		expect(completed.response.usage as unknown).toEqual({
			input_tokens: 30,
			input_tokens_details: { cached_tokens: 8 },
			output_tokens: 12,
			output_tokens_details: { reasoning_tokens: 5 },
			total_tokens: 42,
		})
		expect(completed.response.output).toEqual([
			{
				id: 'msg_s1_0',
				type: 'message',
				status: 'completed',
				role: 'assistant',
				content: [{ type: 'output_text', annotations: [], logprobs: [], text: 'Hello' }],
			},
		])
		expect(final.output_text).toBe('Hello')
	})

	it('streams reasoning as a summary before the message', async () => {
		const sse = encode([
			chunk({ role: 'assistant', reasoning_content: 'Think' }),
			chunk({ reasoning_content: 'ing' }),
			chunk({ content: 'Answer' }),
			chunk({}, 'stop'),
			usageChunk,
		])
		const { events, final } = await throughSdk(sse)
		expect(events.map((event) => event.type)).toEqual([
			'response.created',
			'response.in_progress',
			'response.output_item.added',
			'response.reasoning_summary_part.added',
			'response.reasoning_summary_text.delta',
			'response.reasoning_summary_text.delta',
			'response.reasoning_summary_text.done',
			'response.reasoning_summary_part.done',
			'response.output_item.done',
			'response.output_item.added',
			'response.content_part.added',
			'response.output_text.delta',
			'response.output_text.done',
			'response.content_part.done',
			'response.output_item.done',
			'response.completed',
		])
		assertWellFormed(events)
		expect(events[7]).toEqual({
			type: 'response.reasoning_summary_part.done',
			sequence_number: 7,
			item_id: 'rs_s1_0',
			output_index: 0,
			summary_index: 0,
			part: { type: 'summary_text', text: 'Thinking' },
		})
		expect(terminal(events).output[0]).toEqual({
			id: 'rs_s1_0',
			type: 'reasoning',
			status: 'completed',
			summary: [{ type: 'summary_text', text: 'Thinking' }],
		})
		expect(final.output_text).toBe('Answer')
	})

	it('carries signed thinking blocks in the reasoning item', async () => {
		const block = { type: 'thinking', thinking: 'Think', signature: 'sig', model: 'claude-sonnet-4-5' }
		const sse = encode([
			chunk({ reasoning_content: 'Think' }),
			chunk({ thinking_blocks: [block] }),
			chunk({ content: 'A' }),
			chunk({}, 'stop'),
		])
		const { final } = await throughSdk(sse)
		expect(final.output[0]).toMatchObject({ type: 'reasoning', encrypted_content: expect.any(String) })
		expect(final.output).toHaveLength(2)
	})

	it('streams function calls, one item each, with their arguments', async () => {
		const sse = encode([
			chunk({ role: 'assistant', content: 'Checking.' }),
			chunk({
				tool_calls: [
					{ index: 0, id: 'call_a', type: 'function', function: { name: 'weather', arguments: '' } },
				],
			}),
			chunk({ tool_calls: [{ index: 0, function: { arguments: '{"city":' } }] }),
			chunk({ tool_calls: [{ index: 0, function: { arguments: '"Oslo"}' } }] }),
			chunk({
				tool_calls: [
					{ index: 1, id: 'call_b', type: 'function', function: { name: 'time', arguments: '{}' } },
				],
			}),
			chunk({}, 'tool_calls'),
			usageChunk,
		])
		const { events, final } = await throughSdk(sse)
		assertWellFormed(events)
		expect(events.filter((e) => e.type === 'response.function_call_arguments.done')).toEqual([
			{
				type: 'response.function_call_arguments.done',
				sequence_number: expect.any(Number),
				item_id: 'fc_s1_1',
				output_index: 1,
				arguments: '{"city":"Oslo"}',
			},
			{
				type: 'response.function_call_arguments.done',
				sequence_number: expect.any(Number),
				item_id: 'fc_s1_2',
				output_index: 2,
				arguments: '{}',
			},
		])
		expect(terminal(events).output.slice(1)).toEqual([
			{
				id: 'fc_s1_1',
				type: 'function_call',
				status: 'completed',
				arguments: '{"city":"Oslo"}',
				call_id: 'call_a',
				name: 'weather',
			},
			{
				id: 'fc_s1_2',
				type: 'function_call',
				status: 'completed',
				arguments: '{}',
				call_id: 'call_b',
				name: 'time',
			},
		])
		expect(final.status).toBe('completed')
	})

	it('ends with response.incomplete when the answer ran out of tokens', async () => {
		const { events, final } = await throughSdk(
			encode([chunk({ content: 'Half' }), chunk({}, 'length'), usageChunk]),
		)
		expect(events.at(-1)?.type).toBe('response.incomplete')
		expect(final.status).toBe('incomplete')
		expect(final.incomplete_details).toEqual({ reason: 'max_output_tokens' })
		expect(final.output[0]).toMatchObject({ type: 'message', status: 'incomplete' })
	})

	it('streams a refusal as a refusal part', async () => {
		const { events, final } = await throughSdk(encode([chunk({ refusal: 'No.' }), chunk({}, 'stop')]))
		expect(events.map((e) => e.type)).toContain('response.refusal.delta')
		expect(final.output[0]).toMatchObject({ content: [{ type: 'refusal', refusal: 'No.' }] })
	})

	it('answers with an empty message when the model said nothing', async () => {
		const { events, final } = await throughSdk(encode([chunk({ role: 'assistant' }), chunk({}, 'stop')]))
		assertWellFormed(events)
		expect(final.output_text).toBe('')
		expect(terminal(events).output).toEqual([
			{
				id: 'msg_s1_0',
				type: 'message',
				status: 'completed',
				role: 'assistant',
				content: [{ type: 'output_text', annotations: [], logprobs: [], text: '' }],
			},
		])
	})

	it('reports no usage when the upstream sent none', async () => {
		const { final } = await throughSdk(encode([chunk({ content: 'x' }), chunk({}, 'stop')]))
		expect(final.usage).toBeNull()
	})

	it('ends a failed stream with an error event and response.failed', () => {
		const encoder = createResponsesEncoder(REQUEST, ID)
		const sse =
			encoder.chunk(chunk({ content: 'Hel' })) + encoder.fail(new GatewayError(502, 'upstream_error', 'boom'))
		const events = sse
			.trim()
			.split('\n\n')
			.map((block) => JSON.parse(block.split('\n')[1]?.slice(6) ?? '{}'))
		expect(events.slice(-2)).toEqual([
			{
				type: 'error',
				sequence_number: 5,
				code: 'server_error',
				message: 'boom',
				param: null,
				error: { type: 'upstream_error', code: 'server_error', message: 'boom', param: null },
			},
			{
				type: 'response.failed',
				sequence_number: 6,
				response: expect.objectContaining({
					status: 'failed',
					error: { code: 'server_error', message: 'boom' },
					output: [
						{
							id: 'msg_s1_0',
							type: 'message',
							status: 'in_progress',
							role: 'assistant',
							content: [{ type: 'output_text', annotations: [], logprobs: [], text: 'Hel' }],
						},
					],
				}),
			},
		])
	})

	it('fails in a way the SDK surfaces as an APIError', async () => {
		const encoder = createResponsesEncoder(REQUEST, ID)
		const sse =
			encoder.chunk(chunk({ content: 'x' })) +
			encoder.fail(new GatewayError(429, 'rate_limit_error', 'slow down', { code: 'budget_exceeded' }))
		const error = await throughSdk(sse).catch((e: unknown) => e)
		expect(error).toMatchObject({ message: expect.stringContaining('slow down'), code: 'budget_exceeded' })
	})

	it('opens the response before failing when nothing was sent yet', () => {
		const encoder = createResponsesEncoder(REQUEST, ID)
		const types = [
			...encoder.fail(new GatewayError(502, 'upstream_error', 'x')).matchAll(/^event: (.+)$/gm),
		].map((m) => m[1])
		expect(types).toEqual(['response.created', 'response.in_progress', 'error', 'response.failed'])
	})

	it('writes nothing after the stream ended', () => {
		const encoder = createResponsesEncoder(REQUEST, ID)
		encoder.chunk(chunk({ content: 'x' }))
		encoder.end()
		expect(encoder.chunk(chunk({ content: 'y' })) + encoder.end()).toBe('')
	})
})

import { describe, expect, it } from 'bun:test'
import type Anthropic from '@anthropic-ai/sdk'
import { ChatCompletionStream } from 'openai/lib/ChatCompletionStream'
import type {
	ChatCompletionChunk,
	ChatCompletionMessageFunctionToolCall,
	ChatCompletionMessageToolCall,
} from 'openai/resources/chat/completions'
import { fromAnthropicResponse } from '../../src/providers/anthropic/response'
import { type AnthropicStreamEvent, createStreamTranslator } from '../../src/providers/anthropic/stream'
import type { TokenUsage } from '../../src/providers/types'
import { UpstreamError } from '../../src/providers/upstream-error'

interface StreamCase {
	chunks: ChatCompletionChunk[]
	usage: TokenUsage
}

const FIXTURES = new URL('../fixtures/anthropic/', import.meta.url)
const META = { id: 'chatcmpl-sy-test', created: 1767225600, modelId: 'anthropic/claude-sonnet-4-5' }

// Reads an SSE transcript the way the wire carries it: blank-line separated events, JSON in `data:` lines.
async function transcript(name: string): Promise<AnthropicStreamEvent[]> {
	const text = await Bun.file(new URL(`${name}.sse`, FIXTURES)).text()
	return text
		.split(/\n\n+/)
		.map((event) =>
			event
				.split('\n')
				.filter((line) => line.startsWith('data:'))
				.map((line) => line.slice(5).trim())
				.join('\n'),
		)
		.filter((data) => data !== '')
		.map((data) => JSON.parse(data))
}

const textEvents = await transcript('stream-text')
const toolEvents = await transcript('stream-tool-calls')
const errorEvents = await transcript('stream-error')
const textExpected: StreamCase = await Bun.file(new URL('stream-text.json', FIXTURES)).json()
const toolExpected: StreamCase = await Bun.file(new URL('stream-tool-calls.json', FIXTURES)).json()
const toolResponse: { response: Anthropic.Message } = await Bun.file(
	new URL('response-tool-calls.json', FIXTURES),
).json()

function translate(events: AnthropicStreamEvent[]) {
	const translator = createStreamTranslator(META)
	return { chunks: events.flatMap((event) => translator.push(event)), usage: translator.usage() }
}

// The accumulator every OpenAI client writes: concatenate content, and arguments by tool call index.
function accumulate(chunks: ChatCompletionChunk[]) {
	let content = ''
	const toolCalls: ChatCompletionMessageFunctionToolCall[] = []
	for (const delta of chunks.flatMap((chunk) => chunk.choices.map((choice) => choice.delta))) {
		content += delta.content ?? ''
		for (const { index, id, function: fn } of delta.tool_calls ?? []) {
			const call = toolCalls[index] ?? { id: '', type: 'function', function: { name: '', arguments: '' } }
			toolCalls[index] = call
			call.id ||= id ?? ''
			call.function.name ||= fn?.name ?? ''
			call.function.arguments += fn?.arguments ?? ''
		}
	}
	return { content, toolCalls }
}

// Arguments are compared as values: the stream forwards the model's JSON text, the response re-serialises it.
const parsedArguments = (calls: ChatCompletionMessageToolCall[] | undefined) =>
	calls?.map((call) =>
		call.type === 'function'
			? { ...call, function: { ...call.function, arguments: JSON.parse(call.function.arguments) } }
			: call,
	)

const messageStart = textEvents[0] as Anthropic.RawMessageStartEvent

describe('createStreamTranslator', () => {
	it('streams text as content deltas between a role chunk, a finish chunk and a usage chunk', () => {
		expect(translate(textEvents)).toEqual(textExpected)
	})

	it('streams tool calls numbered among tool calls only, with their argument deltas', () => {
		expect(translate(toolEvents)).toEqual(toolExpected)
	})

	it('reports no usage before message_start', () => {
		expect(createStreamTranslator(META).usage()).toBeUndefined()
	})

	it('counts cache reads and writes from message_start and output tokens from message_delta', () => {
		const translator = createStreamTranslator(META)
		translator.push(messageStart)
		expect(translator.usage()).toEqual({
			promptTokens: 4020,
			completionTokens: 1,
			cachedTokens: 3000,
			cacheWriteTokens: 1000,
			cacheWrite1hTokens: 0,
			reasoningTokens: 0,
		})
		for (const event of textEvents.slice(1, -1)) translator.push(event)
		expect(translator.usage()).toEqual(textExpected.usage)
	})

	it('emits the usage chunk only once', () => {
		const translator = createStreamTranslator(META)
		const chunks = [...textEvents, { type: 'message_stop' } as const].flatMap((event) =>
			translator.push(event),
		)
		expect(chunks.filter((chunk) => chunk.usage)).toHaveLength(1)
	})

	it('sends {} as the arguments of a tool call that streams no input', () => {
		const translator = createStreamTranslator(META)
		translator.push(messageStart)
		const block = {
			type: 'tool_use',
			id: 'toolu_1',
			name: 'get_utc_time',
			input: {},
			caller: { type: 'direct' },
		} as const
		const chunks = [
			...translator.push({ type: 'content_block_start', index: 0, content_block: block }),
			...translator.push({ type: 'content_block_stop', index: 0 }),
		]
		expect(accumulate(chunks).toolCalls).toEqual([
			{ id: 'toolu_1', type: 'function', function: { name: 'get_utc_time', arguments: '{}' } },
		])
	})

	it('throws an upstream failure with the status the error type stands for (529 overloaded)', () => {
		const translator = createStreamTranslator(META)
		let thrown: unknown
		try {
			for (const event of errorEvents) translator.push(event)
		} catch (error) {
			thrown = error
		}
		expect(thrown).toBeInstanceOf(UpstreamError)
		const { status, type, message, upstreamStatus, retryable } = thrown as UpstreamError
		expect({ status, type, message, upstreamStatus, retryable }).toEqual({
			status: 502,
			type: 'upstream_error',
			message: 'Anthropic stream failed (overloaded_error): Overloaded',
			upstreamStatus: 529,
			retryable: true,
		})
	})

	describe('gives the tool calls of the non-streaming response', () => {
		const expected = fromAnthropicResponse(toolResponse.response, META).completion.choices[0]?.message

		it('with a plain accumulator', () => {
			const { content, toolCalls } = accumulate(translate(toolEvents).chunks)
			expect(content).toBe(expected?.content ?? '')
			expect(parsedArguments(toolCalls)).toEqual(parsedArguments(expected?.tool_calls))
		})

		it("with the OpenAI SDK's ChatCompletionStream", async () => {
			const lines = translate(toolEvents).chunks.map((chunk) => `${JSON.stringify(chunk)}\n`)
			const body = new Response(lines.join('')).body
			if (!body) throw new Error('no body')
			const completion = await ChatCompletionStream.fromReadableStream(body).finalChatCompletion()
			const message = completion.choices[0]?.message
			expect(completion.choices[0]?.finish_reason).toBe('tool_calls')
			expect(message?.content).toBe(expected?.content ?? null)
			expect(parsedArguments(message?.tool_calls)).toEqual(parsedArguments(expected?.tool_calls))
			expect(completion.usage).toEqual(toolExpected.chunks.at(-1)?.usage ?? undefined)
		})
	})
})

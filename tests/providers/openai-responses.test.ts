import { describe, expect, it } from 'bun:test'
import { ChatCompletionStream } from 'openai/lib/ChatCompletionStream'
import type { Response as OpenAIResponse, ResponseStreamEvent } from 'openai/resources/responses/responses'
import {
	createResponsesStreamTranslator,
	fromResponse,
	toResponsesRequest,
} from '../../src/providers/openai-responses'
import { ShapeLog } from '../../src/providers/shape'
import { UpstreamError } from '../../src/providers/upstream-error'

const META = { id: 'chatcmpl-sy-test', created: 1767225600 }
const USAGE = {
	input_tokens: 1200,
	input_tokens_details: { cached_tokens: 1024, cache_write_tokens: 0 },
	output_tokens: 40,
	output_tokens_details: { reasoning_tokens: 32 },
	total_tokens: 1240,
}

const response = (output: unknown[], fields: Partial<OpenAIResponse> = {}) =>
	({
		id: 'resp_1',
		object: 'response',
		model: 'gpt-6.2-sol',
		status: 'completed',
		output,
		usage: USAGE,
		...fields,
	}) as OpenAIResponse

describe('toResponsesRequest', () => {
	it('turns messages, tool calls and their results into input items, stateless', () => {
		const log = new ShapeLog()
		const body = {
			model: 'gpt-6.2-sol',
			messages: [
				{ role: 'developer', content: 'Be brief' },
				{
					role: 'user',
					content: [
						{ type: 'text', text: 'Weather?' },
						{ type: 'image_url', image_url: { url: 'https://x.test/a.png' } },
					],
				},
				{
					role: 'assistant',
					content: null,
					tool_calls: [
						{ id: 'call_1', type: 'function', function: { name: 'weather', arguments: '{"city":"Oslo"}' } },
					],
				},
				{ role: 'tool', tool_call_id: 'call_1', content: 'rain' },
			],
			tools: [
				{
					type: 'function',
					function: {
						name: 'weather',
						description: 'Forecast',
						parameters: { type: 'object' },
						strict: true,
					},
				},
			],
			tool_choice: { type: 'function', function: { name: 'weather' } },
			max_completion_tokens: 300,
			reasoning_effort: 'high',
			response_format: {
				type: 'json_schema',
				json_schema: { name: 'w', schema: { type: 'object' }, strict: true },
			},
			stop: ['END'],
			seed: 4,
			prompt_cache_key: 'team-a',
		}
		expect(toResponsesRequest(body, log)).toEqual({
			model: 'gpt-6.2-sol',
			store: false,
			input: [
				{ type: 'message', role: 'developer', content: 'Be brief' },
				{
					type: 'message',
					role: 'user',
					content: [
						{ type: 'input_text', text: 'Weather?' },
						{ type: 'input_image', image_url: 'https://x.test/a.png', detail: 'auto' },
					],
				},
				{ type: 'function_call', call_id: 'call_1', name: 'weather', arguments: '{"city":"Oslo"}' },
				{ type: 'function_call_output', call_id: 'call_1', output: 'rain' },
			],
			tools: [
				{
					type: 'function',
					name: 'weather',
					description: 'Forecast',
					parameters: { type: 'object' },
					strict: true,
				},
			],
			tool_choice: { type: 'function', name: 'weather' },
			max_output_tokens: 300,
			reasoning: { effort: 'high' },
			text: { format: { type: 'json_schema', name: 'w', schema: { type: 'object' }, strict: true } },
			prompt_cache_key: 'team-a',
		})
		expect(log.dropped).toEqual(['stop', 'seed'])
	})
})

describe('fromResponse', () => {
	it('answers a chat.completion with text, usage and reasoning tokens', () => {
		const text = {
			type: 'message',
			role: 'assistant',
			content: [{ type: 'output_text', text: 'Rain.', annotations: [] }],
		}
		const reasoning = { type: 'reasoning', id: 'rs_1', summary: [] }
		const { completion, usage } = fromResponse(response([reasoning, text]), META)
		expect(completion).toEqual({
			id: 'chatcmpl-sy-test',
			object: 'chat.completion',
			created: 1767225600,
			model: 'gpt-6.2-sol',
			choices: [
				{
					index: 0,
					message: { role: 'assistant', content: 'Rain.', refusal: null },
					logprobs: null,
					finish_reason: 'stop',
				},
			],
			usage: {
				prompt_tokens: 1200,
				completion_tokens: 40,
				total_tokens: 1240,
				prompt_tokens_details: { cached_tokens: 1024, cache_write_tokens: 0 },
				completion_tokens_details: { reasoning_tokens: 32 },
			},
		})
		expect(usage).toEqual({
			promptTokens: 1200,
			completionTokens: 40,
			cachedTokens: 1024,
			cacheWriteTokens: 0,
			cacheWrite1hTokens: 0,
			reasoningTokens: 32,
		})
	})

	it('turns function_call items into tool_calls, and an incomplete answer into length', () => {
		const call = {
			type: 'function_call',
			id: 'fc_1',
			call_id: 'call_9',
			name: 'weather',
			arguments: '{}',
			status: 'completed',
		}
		expect(fromResponse(response([call]), META).completion.choices[0]).toMatchObject({
			message: {
				content: null,
				tool_calls: [{ id: 'call_9', type: 'function', function: { name: 'weather', arguments: '{}' } }],
			},
			finish_reason: 'tool_calls',
		})
		const cut = response([], { status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' } })
		expect(fromResponse(cut, META).completion.choices[0]?.finish_reason).toBe('length')
	})
})

describe('createResponsesStreamTranslator', () => {
	const events = [
		{ type: 'response.created', response: { model: 'gpt-6.2-sol' } },
		{
			type: 'response.output_item.added',
			output_index: 0,
			item: { type: 'reasoning', id: 'rs_1', summary: [] },
		},
		{
			type: 'response.output_item.added',
			output_index: 1,
			item: { type: 'function_call', call_id: 'call_1', name: 'weather', arguments: '' },
		},
		{ type: 'response.function_call_arguments.delta', output_index: 1, delta: '{"city":' },
		{ type: 'response.function_call_arguments.delta', output_index: 1, delta: '"Oslo"}' },
		{ type: 'response.output_item.added', output_index: 2, item: { type: 'message', content: [] } },
		{ type: 'response.output_text.delta', output_index: 2, delta: 'Checking.' },
		{ type: 'response.completed', response: { status: 'completed', usage: USAGE } },
	] as unknown as ResponseStreamEvent[]

	it('streams chunks that the OpenAI SDK assembles into the same answer', async () => {
		const translator = createResponsesStreamTranslator(META)
		const chunks = events.flatMap((event) => translator.push(event))
		const body = new Response(chunks.map((chunk) => `${JSON.stringify(chunk)}\n`).join('')).body
		if (!body) throw new Error('no body')
		const completion = await ChatCompletionStream.fromReadableStream(body).finalChatCompletion()
		expect(completion.choices[0]).toMatchObject({
			finish_reason: 'tool_calls',
			message: {
				content: 'Checking.',
				tool_calls: [
					{ id: 'call_1', type: 'function', function: { name: 'weather', arguments: '{"city":"Oslo"}' } },
				],
			},
		})
		expect(completion.usage).toMatchObject({
			prompt_tokens: 1200,
			completion_tokens_details: { reasoning_tokens: 32 },
		})
		expect(translator.usage()).toMatchObject({ promptTokens: 1200, reasoningTokens: 32 })
	})

	it('throws an upstream failure on an error event or a failed response', () => {
		const translator = createResponsesStreamTranslator(META)
		const overloaded = { type: 'error', code: 'server_is_overloaded', message: 'Overloaded', param: null }
		expect(() => translator.push(overloaded as ResponseStreamEvent)).toThrow(UpstreamError)
		const failed = { type: 'response.failed', response: { error: { code: 'server_error', message: 'boom' } } }
		expect(() => translator.push(failed as unknown as ResponseStreamEvent)).toThrow('boom')
	})
})

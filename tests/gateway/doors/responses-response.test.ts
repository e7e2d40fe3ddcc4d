import { describe, expect, it } from 'bun:test'
import { chatToResponse, responseOutputItems, responsesToChat } from '../../../src/gateway/doors/responses'
import type { ChatResponse } from '../../../src/providers/types'

const ID = 'resp_r1'
const USAGE = {
	prompt_tokens: 100,
	completion_tokens: 20,
	total_tokens: 120,
	prompt_tokens_details: { cached_tokens: 64 },
	completion_tokens_details: { reasoning_tokens: 7 },
}

type Message = ChatResponse['choices'][number]['message'] & {
	reasoning_content?: string
	thinking_blocks?: unknown[]
}

const completion = (message: Partial<Message>, finish = 'stop', usage: unknown = USAGE): ChatResponse =>
	({
		id: 'chatcmpl-1',
		object: 'chat.completion',
		created: 1767225600,
		model: 'claude-sonnet-4-5',
		choices: [
			{
				index: 0,
				message: { role: 'assistant', content: null, refusal: null, ...message },
				finish_reason: finish,
			},
		],
		...(usage ? { usage } : {}),
	}) as ChatResponse

const text = (value: string) => ({ type: 'output_text', annotations: [], logprobs: [], text: value })

describe('chatToResponse', () => {
	it('answers with the whole response object, defaults echoed', () => {
		expect(chatToResponse(completion({ content: 'Hello' }), { model: 'auto', input: 'Hi' }, ID)).toEqual({
			id: ID,
			object: 'response',
			created_at: 1767225600,
			status: 'completed',
			background: false,
			completed_at: expect.any(Number),
			error: null,
			incomplete_details: null,
			instructions: null,
			max_output_tokens: null,
			max_tool_calls: null,
			model: 'claude-sonnet-4-5',
			output: [
				{ id: 'msg_r1_0', type: 'message', status: 'completed', content: [text('Hello')], role: 'assistant' },
			],
			parallel_tool_calls: true,
			previous_response_id: null,
			prompt_cache_key: null,
			reasoning: { effort: null, summary: null },
			safety_identifier: null,
			service_tier: 'default',
			store: true,
			temperature: 1,
			text: { format: { type: 'text' }, verbosity: 'medium' },
			tool_choice: 'auto',
			tools: [],
			top_logprobs: 0,
			top_p: 1,
			presence_penalty: 0,
			frequency_penalty: 0,
			truncation: 'disabled',
			usage: {
				input_tokens: 100,
				input_tokens_details: { cached_tokens: 64 },
				output_tokens: 20,
				output_tokens_details: { reasoning_tokens: 7 },
				total_tokens: 120,
			},
			user: null,
			metadata: {},
		})
	})

	it('echoes the request parameters the API echoes', () => {
		const request = {
			model: 'auto',
			input: 'Hi',
			instructions: 'Be brief',
			max_output_tokens: 500,
			tools: [{ type: 'function', name: 'weather', parameters: { type: 'object' } }],
			tool_choice: 'required',
			parallel_tool_calls: false,
			temperature: 0.2,
			top_p: 0.9,
			text: { format: { type: 'json_object' }, verbosity: 'low' },
			reasoning: { effort: 'high', summary: 'auto' },
			store: false,
			previous_response_id: 'resp_0',
			metadata: { team: 'a' },
			user: 'u1',
		}
		expect(chatToResponse(completion({ content: 'x' }), request, ID)).toMatchObject({
			instructions: 'Be brief',
			max_output_tokens: 500,
			tools: [
				{
					type: 'function',
					name: 'weather',
					description: null,
					parameters: { type: 'object' },
					strict: null,
				},
			],
			tool_choice: 'required',
			parallel_tool_calls: false,
			temperature: 0.2,
			top_p: 0.9,
			text: { format: { type: 'json_object' }, verbosity: 'low' },
			reasoning: { effort: 'high', summary: 'auto' },
			store: false,
			previous_response_id: 'resp_0',
			metadata: { team: 'a' },
			user: 'u1',
		})
	})

	it('puts reasoning first, then the message, then each function call', () => {
		const response = chatToResponse(
			completion(
				{
					reasoning_content: 'Need weather',
					content: 'Checking.',
					tool_calls: [
						{ id: 'call_a', type: 'function', function: { name: 'weather', arguments: '{"city":"Oslo"}' } },
						{ id: 'call_b', type: 'function', function: { name: 'time', arguments: '{}' } },
					],
				},
				'tool_calls',
			),
			{},
			ID,
		)
		expect(response.output).toEqual([
			{
				id: 'rs_r1_0',
				type: 'reasoning',
				status: 'completed',
				summary: [{ type: 'summary_text', text: 'Need weather' }],
			},
			{
				id: 'msg_r1_1',
				type: 'message',
				status: 'completed',
				content: [text('Checking.')],
				role: 'assistant',
			},
			{
				id: 'fc_r1_2',
				type: 'function_call',
				status: 'completed',
				arguments: '{"city":"Oslo"}',
				call_id: 'call_a',
				name: 'weather',
			},
			{
				id: 'fc_r1_3',
				type: 'function_call',
				status: 'completed',
				arguments: '{}',
				call_id: 'call_b',
				name: 'time',
			},
		])
		expect(response.status).toBe('completed')
	})

	it('leaves out the message when the model only called functions', () => {
		const response = chatToResponse(
			completion({ tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: '{}' } }] }),
			{},
			ID,
		)
		expect((response.output as { type: string }[]).map((item) => item.type)).toEqual(['function_call'])
	})

	it('answers a refusal with a refusal part', () => {
		const response = chatToResponse(completion({ refusal: 'I cannot help with that.' }), {}, ID)
		expect(response.output).toEqual([
			{
				id: 'msg_r1_0',
				type: 'message',
				status: 'completed',
				content: [{ type: 'refusal', refusal: 'I cannot help with that.' }],
				role: 'assistant',
			},
		])
	})

	it.each([
		['length', 'max_output_tokens'],
		['content_filter', 'content_filter'],
	])('is incomplete when the answer finished with %s', (finish, reason) => {
		const response = chatToResponse(completion({ content: 'Half' }, finish), {}, ID)
		expect(response).toMatchObject({
			status: 'incomplete',
			incomplete_details: { reason },
			output: [{ type: 'message', status: 'incomplete' }],
		})
	})

	it('has null usage when the upstream reported none', () => {
		expect(chatToResponse(completion({ content: 'x' }, 'stop', null), {}, ID).usage).toBeNull()
	})

	it('carries signed thinking blocks to the next turn through encrypted_content', () => {
		const block = { type: 'thinking', thinking: 'Hmm… ✓', signature: 'sig', model: 'claude-sonnet-4-5' }
		const response = chatToResponse(
			completion({ reasoning_content: 'Hmm… ✓', thinking_blocks: [block], content: 'Done' }),
			{},
			ID,
		)
		const next = responsesToChat({ model: 'auto', input: 'Again' }, [
			{ role: 'user', content: 'First' },
			...responseOutputItems(response),
		])
		expect(next.messages[1]).toEqual({
			role: 'assistant',
			content: 'Done',
			reasoning_content: 'Hmm… ✓',
			thinking_blocks: [block],
		} as never)
	})
})

describe('responseOutputItems', () => {
	it('returns the output items of a response, for the next turn', () => {
		const response = chatToResponse(completion({ content: 'Hello' }), {}, ID)
		expect(responseOutputItems(response)).toEqual(response.output as unknown[])
	})

	it('returns no items for an object without output', () => {
		expect(responseOutputItems({})).toEqual([])
	})

	it('turns a whole tool round trip back into the same chat conversation', () => {
		const first = chatToResponse(
			completion(
				{ tool_calls: [{ id: 'call_a', type: 'function', function: { name: 'f', arguments: '{}' } }] },
				'tool_calls',
			),
			{},
			ID,
		)
		const chat = responsesToChat(
			{ model: 'auto', input: [{ type: 'function_call_output', call_id: 'call_a', output: '42' }] },
			[{ role: 'user', content: 'Go' }, ...responseOutputItems(first)],
		)
		expect(chat.messages).toEqual([
			{ role: 'user', content: 'Go' },
			{
				role: 'assistant',
				content: null,
				tool_calls: [{ id: 'call_a', type: 'function', function: { name: 'f', arguments: '{}' } }],
			},
			{ role: 'tool', tool_call_id: 'call_a', content: '42' },
		])
	})
})

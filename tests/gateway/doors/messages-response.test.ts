import { describe, expect, it, test } from 'bun:test'
import { GatewayError } from '../../../src/errors'
import { anthropicError, anthropicErrorType, chatToMessage } from '../../../src/gateway/doors/messages'
import { fromAnthropicResponse } from '../../../src/providers/anthropic/response'
import type { ChatResponse } from '../../../src/providers/types'

type Message = Record<string, unknown> & { role: 'assistant'; content: string | null }

const completion = (
	message: Partial<Message> & Record<string, unknown>,
	fields: Record<string, unknown> = {},
) =>
	({
		id: 'chatcmpl-abc123',
		object: 'chat.completion',
		created: 1767225600,
		model: 'gpt-5-mini',
		choices: [
			{
				index: 0,
				message: { role: 'assistant', content: null, refusal: null, ...message },
				finish_reason: 'stop',
			},
		],
		usage: { prompt_tokens: 100, completion_tokens: 20, total_tokens: 120 },
		...fields,
	}) as unknown as ChatResponse

const withChoice = (
	choice: Record<string, unknown>,
	message: Record<string, unknown> = { content: 'ok' },
) => {
	const response = completion(message) as unknown as { choices: Record<string, unknown>[] }
	response.choices[0] = { ...response.choices[0], ...choice }
	return response as unknown as ChatResponse
}

describe('chatToMessage', () => {
	it('answers a text completion as a Message', () => {
		expect(chatToMessage(completion({ content: 'Hello!' }), 'claude-sonnet-5-5')).toEqual({
			id: 'msg_abc123',
			type: 'message',
			role: 'assistant',
			model: 'claude-sonnet-5-5',
			content: [{ type: 'text', text: 'Hello!' }],
			stop_reason: 'end_turn',
			stop_sequence: null,
			usage: {
				input_tokens: 100,
				cache_creation_input_tokens: 0,
				cache_read_input_tokens: 0,
				output_tokens: 20,
			},
		})
	})

	it('puts thinking first, then text, then tool calls with parsed input', () => {
		const message = {
			content: 'Let me look.',
			reasoning_content: 'Need the file.',
			thinking_blocks: [
				{
					type: 'thinking',
					thinking: 'Need the file.',
					signature: 'sig-1',
					model: 'anthropic/claude-sonnet-4-5',
				},
				{ type: 'redacted_thinking', data: 'opaque', model: 'anthropic/claude-sonnet-4-5' },
			],
			tool_calls: [
				{ id: 'call_1', type: 'function', function: { name: 'Read', arguments: '{"file_path":"a.ts"}' } },
				{ id: 'call_2', type: 'function', function: { name: 'Now', arguments: '' } },
			],
		}
		const answer = chatToMessage(withChoice({ finish_reason: 'tool_calls' }, message), 'm')
		expect(answer.content).toEqual([
			{ type: 'thinking', thinking: 'Need the file.', signature: 'sig-1' },
			{ type: 'redacted_thinking', data: 'opaque' },
			{ type: 'text', text: 'Let me look.' },
			{ type: 'tool_use', id: 'call_1', name: 'Read', input: { file_path: 'a.ts' } },
			{ type: 'tool_use', id: 'call_2', name: 'Now', input: {} },
		])
		expect(answer.stop_reason).toBe('tool_use')
	})

	it('shows unsigned reasoning of another provider as a thinking block with an empty signature', () => {
		const answer = chatToMessage(completion({ content: '42', reasoning_content: 'Compute.' }), 'm')
		expect(answer.content).toEqual([
			{ type: 'thinking', thinking: 'Compute.', signature: '' },
			{ type: 'text', text: '42' },
		])
	})

	it('reads reasoning from the `reasoning` field some servers use', () => {
		expect(chatToMessage(completion({ content: 'x', reasoning: 'Hmm.' }), 'm').content).toEqual([
			{ type: 'thinking', thinking: 'Hmm.', signature: '' },
			{ type: 'text', text: 'x' },
		])
	})

	test.each([
		['broken JSON', '{"a":'],
		['a JSON array', '[1,2]'],
		['a JSON string', '"text"'],
		['not a string', 42],
	])('gives tool arguments that are %s the input {}', (_, args) => {
		const message = {
			tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'f', arguments: args } }],
		}
		expect(chatToMessage(withChoice({ finish_reason: 'tool_calls' }, message), 'm').content).toEqual([
			{ type: 'tool_use', id: 'call_1', name: 'f', input: {} },
		])
	})

	it('makes an id for a tool call that has none', () => {
		const message = { tool_calls: [{ type: 'function', function: { name: 'f', arguments: '{}' } }] }
		const [block] = chatToMessage(withChoice({ finish_reason: 'tool_calls' }, message), 'm').content as {
			id: string
		}[]
		expect(block?.id).toMatch(/^toolu_[0-9a-f]{32}$/)
	})

	test.each([
		['stop', 'end_turn'],
		['length', 'max_tokens'],
		['tool_calls', 'tool_use'],
		['function_call', 'tool_use'],
		['content_filter', 'refusal'],
		['something_new', 'end_turn'],
		[null, 'end_turn'],
	])('maps finish_reason %s to stop_reason %s', (finish, stop) => {
		expect(chatToMessage(withChoice({ finish_reason: finish }), 'm').stop_reason).toBe(stop)
	})

	it('calls it tool_use when a server finishes tool calls with stop', () => {
		const message = { tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: '{}' } }] }
		expect(chatToMessage(withChoice({ finish_reason: 'stop' }, message), 'm').stop_reason).toBe('tool_use')
	})

	it('reports the stop sequence vLLM says matched', () => {
		const answer = chatToMessage(withChoice({ finish_reason: 'stop', stop_reason: '</done>' }), 'm')
		expect({ stop_reason: answer.stop_reason, stop_sequence: answer.stop_sequence }).toEqual({
			stop_reason: 'stop_sequence',
			stop_sequence: '</done>',
		})
	})

	it('answers a refusal as its text with stop reason refusal', () => {
		const answer = chatToMessage(completion({ content: null, refusal: 'I cannot help with that.' }), 'm')
		expect(answer.content).toEqual([{ type: 'text', text: 'I cannot help with that.' }])
		expect(answer.stop_reason).toBe('refusal')
	})

	it('splits cached and cache-written tokens out of input_tokens', () => {
		const usage = {
			prompt_tokens: 1000,
			completion_tokens: 50,
			total_tokens: 1050,
			prompt_tokens_details: { cached_tokens: 600, cache_write_tokens: 300 },
		}
		expect(chatToMessage(completion({ content: 'x' }, { usage }), 'm').usage).toEqual({
			input_tokens: 100,
			cache_creation_input_tokens: 300,
			cache_read_input_tokens: 600,
			output_tokens: 50,
		})
	})

	it("counts DeepSeek's cache hits as cache reads", () => {
		const usage = { prompt_tokens: 100, completion_tokens: 5, prompt_cache_hit_tokens: 64 }
		expect(chatToMessage(completion({ content: 'x' }, { usage }), 'm').usage).toMatchObject({
			input_tokens: 36,
			cache_read_input_tokens: 64,
		})
	})

	it('reports zero usage when the upstream reported none', () => {
		expect(chatToMessage(completion({ content: 'x' }, { usage: undefined }), 'm').usage).toEqual({
			input_tokens: 0,
			cache_creation_input_tokens: 0,
			cache_read_input_tokens: 0,
			output_tokens: 0,
		})
	})

	it('inverts the Anthropic adapter: a Message through both comes back the same', () => {
		const original = {
			id: 'msg_01XYZ',
			type: 'message',
			role: 'assistant',
			model: 'claude-sonnet-4-5',
			content: [
				{ type: 'thinking', thinking: 'Plan.', signature: 'sig' },
				{ type: 'text', text: 'Running it.' },
				{ type: 'tool_use', id: 'toolu_1', name: 'Bash', input: { command: 'ls' } },
			],
			stop_reason: 'tool_use',
			stop_sequence: null,
			usage: {
				input_tokens: 12,
				cache_creation_input_tokens: 100,
				cache_read_input_tokens: 2000,
				output_tokens: 40,
			},
		}
		const { completion: chat } = fromAnthropicResponse(original as never, {
			id: 'chatcmpl-01XYZ',
			created: 1767225600,
			modelId: 'anthropic/claude-sonnet-4-5',
		})
		expect(chatToMessage(chat, 'claude-sonnet-4-5')).toEqual(original)
	})

	it('answers an empty Message for a completion without choices', () => {
		const answer = chatToMessage(completion({}, { choices: [] }), 'm')
		expect({ content: answer.content, stop_reason: answer.stop_reason }).toEqual({
			content: [],
			stop_reason: 'end_turn',
		})
	})
})

describe('anthropicErrorType', () => {
	test.each([
		[400, 'invalid_request_error'],
		[401, 'authentication_error'],
		[402, 'billing_error'],
		[403, 'permission_error'],
		[404, 'not_found_error'],
		[408, 'invalid_request_error'],
		[413, 'request_too_large'],
		[422, 'invalid_request_error'],
		[429, 'rate_limit_error'],
		[500, 'api_error'],
		[502, 'api_error'],
		[503, 'overloaded_error'],
		[504, 'timeout_error'],
		[529, 'overloaded_error'],
		[599, 'api_error'],
	])('maps HTTP %i to %s', (status, type) => {
		expect(anthropicErrorType(status)).toBe(type)
	})
})

describe('anthropicError', () => {
	it("builds Anthropic's error body", () => {
		const error = new GatewayError(400, 'invalid_request_error', 'max_tokens: required', {
			param: 'max_tokens',
		})
		expect(anthropicError(error)).toEqual({
			type: 'error',
			error: { type: 'invalid_request_error', message: 'max_tokens: required' },
		})
	})

	it('carries the gateway error code as Anthropic carries its own', () => {
		const error = new GatewayError(429, 'rate_limit_error', 'Budget exceeded', { code: 'budget_exceeded' })
		expect(anthropicError(error)).toEqual({
			type: 'error',
			error: {
				type: 'rate_limit_error',
				message: 'Budget exceeded',
				details: { error_code: 'budget_exceeded' },
			},
		})
	})
})

import { describe, expect, it } from 'bun:test'
import { GatewayError } from '../../../src/errors'
import { OPENAI_ONLY, responsesForRules, responsesToChat } from '../../../src/gateway/doors/responses'

const base = { model: 'auto', input: 'Hi' }

/** The error a body is refused with, as `{ param, code }`. */
function refusal(body: Record<string, unknown>, history?: unknown[]) {
	try {
		responsesToChat(body, history)
	} catch (error) {
		if (!(error instanceof GatewayError)) throw error
		return { status: error.status, param: error.param, code: error.code }
	}
	throw new Error('accepted')
}

describe('responsesToChat', () => {
	it('turns a string input into one user message', () => {
		expect(responsesToChat(base)).toEqual({ model: 'auto', messages: [{ role: 'user', content: 'Hi' }] })
	})

	it('puts instructions first, then earlier turns, then the input', () => {
		const chat = responsesToChat({ ...base, instructions: 'Be brief' }, [
			{ role: 'user', content: 'Earlier' },
			{
				type: 'message',
				role: 'assistant',
				content: [{ type: 'output_text', text: 'Reply', annotations: [] }],
			},
		])
		expect(chat.messages).toEqual([
			{ role: 'system', content: 'Be brief' },
			{ role: 'user', content: 'Earlier' },
			{ role: 'assistant', content: 'Reply' },
			{ role: 'user', content: 'Hi' },
		])
	})

	it.each(['user', 'system', 'developer'])('keeps the %s role of a message item', (role) => {
		const chat = responsesToChat({
			model: 'm',
			input: [
				{ role: 'user', content: 'q' },
				{ role, content: 'x' },
			],
		})
		expect(chat.messages[1]).toEqual({ role, content: 'x' } as never)
	})

	it.each([
		[
			{ type: 'input_text', text: 'a' },
			{ type: 'text', text: 'a' },
		],
		[
			{ type: 'output_text', text: 'a' },
			{ type: 'text', text: 'a' },
		],
		[
			{ type: 'input_image', image_url: 'https://x.test/a.png', detail: 'low' },
			{ type: 'image_url', image_url: { url: 'https://x.test/a.png', detail: 'low' } },
		],
		[
			{ type: 'input_image', image_url: 'data:image/png;base64,AA', detail: 'original' },
			{ type: 'image_url', image_url: { url: 'data:image/png;base64,AA' } },
		],
		[
			{ type: 'input_file', file_data: 'data:application/pdf;base64,JVB', filename: 'a.pdf' },
			{ type: 'file', file: { file_data: 'data:application/pdf;base64,JVB', filename: 'a.pdf' } },
		],
		[
			{ type: 'input_text', text: 'a', prompt_cache_breakpoint: { mode: 'explicit' } },
			{ type: 'text', text: 'a', prompt_cache_breakpoint: { mode: 'explicit' } },
		],
	])('maps the user content part %o', (part, expected) => {
		const chat = responsesToChat({ model: 'm', input: [{ role: 'user', content: [part] }] })
		expect(chat.messages).toEqual([{ role: 'user', content: [expected] }] as never)
	})

	it('joins an assistant message and keeps its refusal', () => {
		const chat = responsesToChat({
			model: 'm',
			input: [
				{ role: 'user', content: 'q' },
				{
					type: 'message',
					role: 'assistant',
					id: 'msg_1',
					status: 'completed',
					content: [
						{ type: 'output_text', text: 'a', annotations: [] },
						{ type: 'output_text', text: 'b', annotations: [] },
						{ type: 'refusal', refusal: 'no' },
					],
				},
			],
		})
		expect(chat.messages[1]).toEqual({ role: 'assistant', content: 'ab', refusal: 'no' } as never)
	})

	it('merges consecutive function calls into one assistant message with their reasoning', () => {
		const chat = responsesToChat({
			model: 'm',
			input: [
				{ role: 'user', content: 'Weather and time?' },
				{
					type: 'reasoning',
					id: 'rs_1',
					summary: [{ type: 'summary_text', text: 'Two tools' }],
					encrypted_content: 'gAAAA',
				},
				{
					type: 'function_call',
					call_id: 'call_a',
					name: 'weather',
					arguments: '{"city":"Oslo"}',
					id: 'fc_1',
				},
				{ type: 'function_call', call_id: 'call_b', name: 'time', arguments: '{}' },
				{ type: 'function_call_output', call_id: 'call_a', output: 'rain' },
				{ type: 'function_call_output', call_id: 'call_b', output: [{ type: 'input_text', text: '12:00' }] },
			],
		})
		expect(chat.messages).toEqual([
			{ role: 'user', content: 'Weather and time?' },
			{
				role: 'assistant',
				content: null,
				tool_calls: [
					{ id: 'call_a', type: 'function', function: { name: 'weather', arguments: '{"city":"Oslo"}' } },
					{ id: 'call_b', type: 'function', function: { name: 'time', arguments: '{}' } },
				],
				reasoning_content: 'Two tools',
			},
			{ role: 'tool', tool_call_id: 'call_a', content: 'rain' },
			{ role: 'tool', tool_call_id: 'call_b', content: [{ type: 'text', text: '12:00' }] },
		] as never)
	})

	it('starts a new assistant message after a tool result', () => {
		const chat = responsesToChat({
			model: 'm',
			input: [
				{ role: 'user', content: 'q' },
				{ type: 'function_call', call_id: 'c1', name: 'f', arguments: '{}' },
				{ type: 'function_call_output', call_id: 'c1', output: '1' },
				{ type: 'function_call', call_id: 'c2', name: 'f', arguments: '{}' },
				{ type: 'function_call_output', call_id: 'c2', output: '2' },
			],
		})
		expect(chat.messages.map((message) => message.role)).toEqual([
			'user',
			'assistant',
			'tool',
			'assistant',
			'tool',
		])
	})

	it('uses raw reasoning text where a reasoning item has no summary', () => {
		const chat = responsesToChat({
			model: 'm',
			input: [
				{ role: 'user', content: 'q' },
				{ type: 'reasoning', summary: [], content: [{ type: 'reasoning_text', text: 'raw' }] },
				{ role: 'assistant', content: 'a' },
			],
		})
		expect(chat.messages[1]).toEqual({ role: 'assistant', content: 'a', reasoning_content: 'raw' } as never)
	})

	it('gives reasoning to the message that follows it', () => {
		const chat = responsesToChat({
			model: 'm',
			input: [
				{ role: 'user', content: 'q' },
				{ role: 'assistant', content: 'first' },
				{ type: 'reasoning', summary: [{ type: 'summary_text', text: 'then' }] },
				{ role: 'assistant', content: 'second' },
			],
		})
		expect(chat.messages.slice(1)).toEqual([
			{ role: 'assistant', content: 'first' },
			{ role: 'assistant', content: 'second', reasoning_content: 'then' },
		] as never)
	})

	it('drops reasoning that has no answer to ride on', () => {
		const chat = responsesToChat({
			model: 'm',
			input: [
				{ role: 'user', content: 'q' },
				{ type: 'reasoning', summary: [{ type: 'summary_text', text: 's' }] },
			],
		})
		expect(chat.messages).toEqual([{ role: 'user', content: 'q' }])
	})

	it('maps function tools, keeping strict only where the request set it', () => {
		const chat = responsesToChat({
			...base,
			tools: [
				{
					type: 'function',
					name: 'weather',
					description: 'Forecast',
					parameters: { type: 'object' },
					strict: true,
				},
				{ type: 'function', name: 'time', parameters: null },
			],
		})
		expect(chat.tools).toEqual([
			{
				type: 'function',
				function: { name: 'weather', description: 'Forecast', parameters: { type: 'object' }, strict: true },
			},
			{ type: 'function', function: { name: 'time' } },
		])
	})

	it.each([
		['auto', 'auto'],
		['none', 'none'],
		['required', 'required'],
		[
			{ type: 'function', name: 'weather' },
			{ type: 'function', function: { name: 'weather' } },
		],
	])('maps tool_choice %o', (choice, expected) => {
		const tools = [{ type: 'function', name: 'weather' }]
		expect(responsesToChat({ ...base, tools, tool_choice: choice }).tool_choice).toEqual(expected as never)
	})

	it('enforces allowed_tools by sending only those tools', () => {
		const chat = responsesToChat({
			...base,
			tools: [
				{ type: 'function', name: 'a' },
				{ type: 'function', name: 'b' },
			],
			tool_choice: { type: 'allowed_tools', mode: 'required', tools: [{ type: 'function', name: 'b' }] },
		})
		expect(chat.tools).toEqual([{ type: 'function', function: { name: 'b' } }])
		expect(chat.tool_choice).toBe('required')
	})

	it('leaves out tool settings when there are no tools, as Chat Completions refuses them', () => {
		expect(responsesToChat({ ...base, tools: [], tool_choice: 'auto', parallel_tool_calls: true })).toEqual({
			model: 'auto',
			messages: [{ role: 'user', content: 'Hi' }],
		})
	})

	it('maps the sampling, limit and identity parameters', () => {
		const chat = responsesToChat({
			...base,
			max_output_tokens: 300,
			temperature: 0.3,
			top_p: 0.8,
			tools: [{ type: 'function', name: 'f' }],
			parallel_tool_calls: false,
			reasoning: { effort: 'high', summary: 'auto' },
			user: 'u',
			safety_identifier: 'sid',
			metadata: { a: '1' },
			prompt_cache_key: 'k',
			store: true,
			truncation: 'auto',
			include: ['reasoning.encrypted_content'],
			background: false,
		})
		expect(chat).toEqual({
			model: 'auto',
			messages: [{ role: 'user', content: 'Hi' }],
			max_completion_tokens: 300,
			temperature: 0.3,
			top_p: 0.8,
			tools: [{ type: 'function', function: { name: 'f' } }],
			parallel_tool_calls: false,
			reasoning_effort: 'high',
			user: 'u',
			safety_identifier: 'sid',
			metadata: { a: '1' },
			prompt_cache_key: 'k',
		} as never)
	})

	it.each([
		[{ format: { type: 'text' } }, { response_format: { type: 'text' } }],
		[{ format: { type: 'json_object' } }, { response_format: { type: 'json_object' } }],
		[
			{
				format: { type: 'json_schema', name: 'out', schema: { type: 'object' }, strict: true },
				verbosity: 'low',
			},
			{
				response_format: {
					type: 'json_schema',
					json_schema: { name: 'out', schema: { type: 'object' }, strict: true },
				},
				verbosity: 'low',
			},
		],
	])('maps text %o', (text, expected) => {
		expect(responsesToChat({ ...base, text })).toMatchObject(expected)
	})

	it('asks a streamed chat answer for its usage', () => {
		expect(responsesToChat({ ...base, stream: true })).toMatchObject({
			stream: true,
			stream_options: { include_usage: true },
		})
	})

	it.each([
		[{ ...base, tools: [{ type: 'function', name: 'f' }, { type: 'web_search' }] }, 'tools[1].type'],
		[{ ...base, tools: [{ type: 'code_interpreter', container: { type: 'auto' } }] }, 'tools[0].type'],
		[{ ...base, tools: [{ type: 'mcp', server_label: 'x' }] }, 'tools[0].type'],
		[{ ...base, tools: [{ type: 'custom', name: 'x' }] }, 'tools[0].type'],
		[{ ...base, tool_choice: { type: 'file_search' } }, 'tool_choice'],
		[{ model: 'm', input: [{ type: 'item_reference', id: 'msg_1' }] }, 'input[0]'],
		[{ model: 'm', input: [{ id: 'msg_1' }] }, 'input[0]'],
		[{ model: 'm', input: [{ type: 'web_search_call', id: 'ws_1' }] }, 'input[0].type'],
		[
			{
				model: 'm',
				input: [{ role: 'user', content: [{ type: 'input_image', file_id: 'file-1', detail: 'auto' }] }],
			},
			'input[0].content[0].file_id',
		],
		[
			{ model: 'm', input: [{ role: 'user', content: [{ type: 'input_file', file_id: 'file-1' }] }] },
			'input[0].content[0].file_id',
		],
		[
			{
				model: 'm',
				input: [{ role: 'user', content: [{ type: 'input_file', file_url: 'https://x.test/a.pdf' }] }],
			},
			'input[0].content[0].file_url',
		],
		[
			{
				model: 'm',
				input: [
					{ type: 'function_call_output', call_id: 'c', output: [{ type: 'input_image', image_url: 'x' }] },
				],
			},
			'input[0].output[0].type',
		],
	])('refuses what only OpenAI runs, as openai_only (%#)', (body, param) => {
		expect(refusal(body)).toEqual({ status: 400, param, code: OPENAI_ONLY })
	})

	it.each([
		[{ input: 'Hi' }, 'model'],
		[{ model: 'm' }, 'input'],
		[{ model: 'm', instructions: 'Only this' }, 'input'],
		[{ model: 'm', input: 42 }, 'input'],
		[{ model: 'm', input: ['x'] }, 'input[0]'],
		[{ model: 'm', input: [{ role: 'tool', content: 'x' }] }, 'input[0].role'],
		[
			{ model: 'm', input: [{ role: 'user', content: [{ type: 'input_audio' }] }] },
			'input[0].content[0].type',
		],
		[
			{ model: 'm', input: [{ role: 'user', content: [{ type: 'input_text', text: 1 }] }] },
			'input[0].content[0].text',
		],
		[
			{ model: 'm', input: [{ role: 'system', content: [{ type: 'input_image', image_url: 'x' }] }] },
			'input[0].content[0].type',
		],
		[{ model: 'm', input: [{ type: 'function_call', name: 'f', arguments: '{}' }] }, 'input[0].call_id'],
		[{ model: 'm', input: [{ type: 'function_call_output', call_id: 'c', output: 5 }] }, 'input[0].output'],
		[{ model: 'm', input: [{ type: 'reasoning', summary: 'x' }] }, 'input[0].summary'],
		[{ ...base, tools: {} }, 'tools'],
		[{ ...base, tools: [{ type: 'function' }] }, 'tools[0].name'],
		[{ ...base, tool_choice: 'sometimes' }, 'tool_choice'],
		[{ ...base, temperature: 'hot' }, 'temperature'],
		[{ ...base, max_output_tokens: '10' }, 'max_output_tokens'],
		[{ ...base, text: { format: { type: 'xml' } } }, 'text.format.type'],
		[{ ...base, text: { format: { type: 'json_schema', name: 'x' } } }, 'text.format.schema'],
		[{ ...base, reasoning: { effort: 3 } }, 'reasoning.effort'],
		[{ ...base, stream: 'yes' }, 'stream'],
	])('refuses a malformed body with the field named (%#)', (body, param) => {
		expect(refusal(body as Record<string, unknown>)).toEqual({ status: 400, param, code: null })
	})

	it('names an item of an earlier turn after previous_response_id', () => {
		expect(refusal(base, [{ type: 'message', role: 'robot', content: 'x' }])).toEqual({
			status: 400,
			param: 'previous_response_id[0].role',
			code: null,
		})
	})
})

describe('responsesForRules', () => {
	it('keeps what the rules weigh of a request only OpenAI can run', () => {
		const chat = responsesForRules({
			model: 'auto',
			input: [
				{
					role: 'user',
					content: [
						{ type: 'input_text', text: 'Look' },
						{ type: 'input_image', file_id: 'file-1' },
					],
				},
				{ type: 'web_search_call', id: 'ws_1', status: 'completed' },
				{ type: 'item_reference', id: 'msg_0' },
			],
			tools: [{ type: 'web_search' }, { type: 'function', name: 'f' }],
			tool_choice: { type: 'web_search' },
		})
		expect(chat).toEqual({
			model: 'auto',
			messages: [
				{
					role: 'user',
					content: [
						{ type: 'text', text: 'Look' },
						{ type: 'image_url', image_url: { url: 'file-1' } },
					],
				},
			],
			tools: [
				{ type: 'function', function: { name: 'web_search' } },
				{ type: 'function', function: { name: 'f' } },
			],
			tool_choice: { type: 'function', function: { name: 'web_search' } },
		} as never)
	})

	it('still refuses a malformed body', () => {
		expect(() => responsesForRules({ model: 'm', input: 5 })).toThrow(GatewayError)
	})
})

import { describe, expect, it, test } from 'bun:test'
import { GatewayError } from '../../../src/errors'
import { estimateMessagesTokens, messagesForRules, messagesToChat } from '../../../src/gateway/doors/messages'
import { toAnthropicRequest } from '../../../src/providers/anthropic/transform'
import { loadCatalog } from '../../../src/providers/catalog'
import { ShapeLog } from '../../../src/providers/shape'
import { extractFeatures } from '../../../src/rules/features'

type Body = Record<string, unknown>

const MODEL = 'anthropic/claude-sonnet-4-5'
const CACHE = { type: 'ephemeral' }
const base = (fields: Body = {}): Body => ({
	model: MODEL,
	max_tokens: 1024,
	messages: [{ role: 'user', content: 'Hi' }],
	...fields,
})
const chat = (fields: Body) => messagesToChat(base(fields)) as unknown as Body
const messagesOf = (fields: Body) => chat(fields).messages as Body[]

function caught(run: () => unknown): GatewayError {
	try {
		run()
	} catch (error) {
		if (error instanceof GatewayError) return error
		throw error
	}
	throw new Error('expected a GatewayError')
}
const errorOf = (run: () => unknown) => {
	const error = caught(run)
	return { status: error.status, type: error.type, param: error.param, code: error.code }
}

describe('messagesToChat', () => {
	it('translates a minimal request', () => {
		expect(chat({})).toEqual({ model: MODEL, messages: [{ role: 'user', content: 'Hi' }], max_tokens: 1024 })
	})

	it('puts a string system prompt first as a system message', () => {
		expect(messagesOf({ system: 'Be brief.' })).toEqual([
			{ role: 'system', content: 'Be brief.' },
			{ role: 'user', content: 'Hi' },
		])
	})

	it('keeps cache_control on system text blocks', () => {
		const system = [
			{ type: 'text', text: 'You are Claude Code.' },
			{ type: 'text', text: 'Project rules', cache_control: CACHE },
		]
		expect(messagesOf({ system })).toEqual([
			{
				role: 'system',
				content: [
					{ type: 'text', text: 'You are Claude Code.' },
					{ type: 'text', text: 'Project rules', cache_control: CACHE },
				],
			},
			{ role: 'user', content: 'Hi' },
		])
	})

	it('keeps system messages inside the conversation where they are', () => {
		const messages = [
			{ role: 'user', content: 'Hi' },
			{ role: 'system', content: [{ type: 'text', text: 'Now in French.' }] },
			{ role: 'user', content: 'Bonjour' },
		]
		expect(messagesOf({ messages })).toEqual([
			{ role: 'user', content: 'Hi' },
			{ role: 'system', content: [{ type: 'text', text: 'Now in French.' }] },
			{ role: 'user', content: 'Bonjour' },
		])
	})

	it('turns text and image blocks into chat parts, cache_control included', () => {
		const content = [
			{ type: 'text', text: 'What is this?', citations: null },
			{ type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0' } },
			{ type: 'image', source: { type: 'url', url: 'https://example.com/a.jpg' }, cache_control: CACHE },
		]
		expect(messagesOf({ messages: [{ role: 'user', content }] })).toEqual([
			{
				role: 'user',
				content: [
					{ type: 'text', text: 'What is this?' },
					{ type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0' } },
					{ type: 'image_url', image_url: { url: 'https://example.com/a.jpg' }, cache_control: CACHE },
				],
			},
		])
	})

	it('sends a base64 PDF as a chat file part', () => {
		const content = [
			{
				type: 'document',
				title: 'report.pdf',
				source: { type: 'base64', media_type: 'application/pdf', data: 'JVBERi0' },
			},
			{ type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: 'JVBERi1' } },
		]
		expect(messagesOf({ messages: [{ role: 'user', content }] })).toEqual([
			{
				role: 'user',
				content: [
					{
						type: 'file',
						file: { file_data: 'data:application/pdf;base64,JVBERi0', filename: 'report.pdf' },
					},
					{
						type: 'file',
						file: { file_data: 'data:application/pdf;base64,JVBERi1', filename: 'document.pdf' },
					},
				],
			},
		])
	})

	it('sends plain-text and content documents as text', () => {
		const content = [
			{
				type: 'document',
				title: 'Notes',
				context: 'From the wiki',
				source: { type: 'text', media_type: 'text/plain', data: 'Line one' },
			},
			{ type: 'document', source: { type: 'content', content: [{ type: 'text', text: 'Inner' }] } },
			{ type: 'document', source: { type: 'content', content: 'Plain inner' } },
		]
		expect(messagesOf({ messages: [{ role: 'user', content }] })).toEqual([
			{
				role: 'user',
				content: [
					{ type: 'text', text: 'Notes\n\nFrom the wiki\n\nLine one' },
					{ type: 'text', text: 'Inner' },
					{ type: 'text', text: 'Plain inner' },
				],
			},
		])
	})

	it('sends a search result as text', () => {
		const content = [
			{
				type: 'search_result',
				title: 'Docs',
				source: 'https://example.com/docs',
				content: [{ type: 'text', text: 'Answer here' }],
			},
		]
		expect(messagesOf({ messages: [{ role: 'user', content }] })).toEqual([
			{ role: 'user', content: [{ type: 'text', text: 'Docs\n\nhttps://example.com/docs\n\nAnswer here' }] },
		])
	})

	it('turns tool_use blocks into tool calls with JSON arguments', () => {
		const messages = [
			{ role: 'user', content: 'Weather?' },
			{
				role: 'assistant',
				content: [
					{ type: 'text', text: 'Checking.' },
					{ type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Paris' } },
					{ type: 'tool_use', id: 'toolu_2', name: 'now', input: {} },
				],
			},
		]
		expect(messagesOf({ messages })[1]).toEqual({
			role: 'assistant',
			content: 'Checking.',
			tool_calls: [
				{ id: 'toolu_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
				{ id: 'toolu_2', type: 'function', function: { name: 'now', arguments: '{}' } },
			],
		})
	})

	it('gives an assistant turn of only tool calls null content', () => {
		const messages = [
			{ role: 'user', content: 'Go' },
			{ role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'run', input: {} }] },
		]
		expect(messagesOf({ messages })[1]).toMatchObject({ role: 'assistant', content: null })
	})

	it('turns tool results into tool messages in order, before the rest of the turn', () => {
		const messages = [
			{ role: 'user', content: 'Go' },
			{
				role: 'assistant',
				content: [
					{ type: 'tool_use', id: 'toolu_1', name: 'a', input: {} },
					{ type: 'tool_use', id: 'toolu_2', name: 'b', input: {} },
				],
			},
			{
				role: 'user',
				content: [
					{ type: 'tool_result', tool_use_id: 'toolu_1', content: 'sunny' },
					{ type: 'tool_result', tool_use_id: 'toolu_2', content: [{ type: 'text', text: '21 C' }] },
					{ type: 'text', text: 'Thanks' },
				],
			},
		]
		expect(messagesOf({ messages }).slice(2)).toEqual([
			{ role: 'tool', tool_call_id: 'toolu_1', content: 'sunny' },
			{ role: 'tool', tool_call_id: 'toolu_2', content: [{ type: 'text', text: '21 C' }] },
			{ role: 'user', content: [{ type: 'text', text: 'Thanks' }] },
		])
	})

	it('moves images of a tool result to a user message after the tool messages', () => {
		const image = { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'AAAA' } }
		const messages = [
			{
				role: 'user',
				content: [
					{ type: 'tool_result', tool_use_id: 't', content: [{ type: 'text', text: 'shot' }, image] },
				],
			},
		]
		expect(messagesOf({ messages })).toEqual([
			{ role: 'tool', tool_call_id: 't', content: [{ type: 'text', text: 'shot' }] },
			{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } }] },
		])
	})

	test.each([
		['a string', 'not found', 'Error: not found'],
		['no content', undefined, 'Error'],
		[
			'blocks',
			[{ type: 'text', text: 'boom' }],
			[
				{ type: 'text', text: 'Error:' },
				{ type: 'text', text: 'boom' },
			],
		],
	])('says so in the text of an error tool result with %s', (_, content, expected) => {
		const messages = [
			{ role: 'user', content: [{ type: 'tool_result', tool_use_id: 't', content, is_error: true }] },
		]
		expect(messagesOf({ messages })).toEqual([{ role: 'tool', tool_call_id: 't', content: expected }])
	})

	it('puts the cache_control of a tool result on its tool message', () => {
		const messages = [
			{
				role: 'user',
				content: [{ type: 'tool_result', tool_use_id: 't', content: 'ok', cache_control: CACHE }],
			},
		]
		expect(messagesOf({ messages })).toEqual([
			{ role: 'tool', tool_call_id: 't', content: 'ok', cache_control: CACHE },
		])
	})

	it('carries signed thinking as reasoning_content and thinking_blocks tagged with the model', () => {
		const messages = [
			{ role: 'user', content: 'Think' },
			{
				role: 'assistant',
				content: [
					{ type: 'thinking', thinking: 'Step 1. ', signature: 'sig-1' },
					{ type: 'redacted_thinking', data: 'opaque' },
					{ type: 'thinking', thinking: 'Step 2.', signature: 'sig-2' },
					{ type: 'text', text: 'Done' },
				],
			},
		]
		expect(messagesOf({ messages })[1]).toEqual({
			role: 'assistant',
			content: 'Done',
			reasoning_content: 'Step 1. Step 2.',
			thinking_blocks: [
				{ type: 'thinking', thinking: 'Step 1. ', signature: 'sig-1', model: MODEL },
				{ type: 'redacted_thinking', data: 'opaque', model: MODEL },
				{ type: 'thinking', thinking: 'Step 2.', signature: 'sig-2', model: MODEL },
			],
		})
	})

	it('keeps only the text of unsigned thinking, which can never be replayed', () => {
		const messages = [
			{ role: 'user', content: 'Think' },
			{ role: 'assistant', content: [{ type: 'thinking', thinking: 'DeepSeek says', signature: '' }] },
		]
		expect(messagesOf({ messages })[1]).toEqual({
			role: 'assistant',
			content: '',
			reasoning_content: 'DeepSeek says',
		})
	})

	it('turns custom tools into functions with input_schema as parameters', () => {
		const tools = [
			{ name: 'get_weather', description: 'Weather now', input_schema: { type: 'object', properties: {} } },
			{ type: 'custom', name: 'ls', input_schema: { type: 'object' }, strict: true, cache_control: CACHE },
		]
		expect(chat({ tools }).tools).toEqual([
			{
				type: 'function',
				function: {
					name: 'get_weather',
					description: 'Weather now',
					parameters: { type: 'object', properties: {} },
				},
			},
			{
				type: 'function',
				function: { name: 'ls', parameters: { type: 'object' }, strict: true },
				cache_control: CACHE,
			},
		])
	})

	test.each([
		'web_search_20250305',
		'bash_20250124',
		'text_editor_20250728',
		'code_execution_20250825',
		'memory_20250818',
	])('refuses the Anthropic-defined tool %s, naming it, as only Anthropic models run it', (type) => {
		const tools = [
			{ name: 'x', input_schema: { type: 'object' } },
			{ type, name: 'tool' },
		]
		const error = caught(() => chat({ tools }))
		expect(errorOf(() => chat({ tools }))).toEqual({
			status: 400,
			type: 'invalid_request_error',
			param: 'tools[1].type',
			code: 'anthropic_only',
		})
		expect(error.message).toContain('tools[1]')
	})

	test.each([
		['auto', { type: 'auto' }, { tool_choice: 'auto' }],
		['any', { type: 'any' }, { tool_choice: 'required' }],
		['none', { type: 'none' }, { tool_choice: 'none' }],
		['tool', { type: 'tool', name: 'get' }, { tool_choice: { type: 'function', function: { name: 'get' } } }],
		[
			'any without parallel calls',
			{ type: 'any', disable_parallel_tool_use: true },
			{ tool_choice: 'required', parallel_tool_calls: false },
		],
		[
			'auto without parallel calls',
			{ type: 'auto', disable_parallel_tool_use: true },
			{ tool_choice: 'auto', parallel_tool_calls: false },
		],
	])('maps tool_choice %s', (_, toolChoice, expected) => {
		const request = chat({
			tools: [{ name: 'get', input_schema: { type: 'object' } }],
			tool_choice: toolChoice,
		})
		expect({ tool_choice: request.tool_choice, parallel_tool_calls: request.parallel_tool_calls }).toEqual({
			parallel_tool_calls: undefined,
			...expected,
		})
	})

	it('leaves tool_choice out when there are no tools, as Chat Completions refuses it then', () => {
		expect(chat({ tool_choice: { type: 'any' } }).tool_choice).toBeUndefined()
	})

	it('maps the sampling, stop and user fields, and leaves top_k out', () => {
		const request = chat({
			temperature: 0.2,
			top_p: 0.9,
			top_k: 40,
			stop_sequences: ['END', '###'],
			metadata: { user_id: 'user-7' },
		})
		expect(request).toEqual({
			model: MODEL,
			messages: [{ role: 'user', content: 'Hi' }],
			max_tokens: 1024,
			temperature: 0.2,
			top_p: 0.9,
			stop: ['END', '###'],
			user: 'user-7',
		})
	})

	it('asks a streamed chat answer for its usage', () => {
		expect(chat({ stream: true })).toMatchObject({ stream: true, stream_options: { include_usage: true } })
		expect(chat({ stream: false }).stream).toBeUndefined()
	})

	test.each([
		['disabled thinking', { thinking: { type: 'disabled' } }, 'none'],
		['thinking between tools only', { thinking: { type: 'between_tools' } }, 'none'],
		[
			'disabled thinking, whatever the effort',
			{ thinking: { type: 'disabled' }, output_config: { effort: 'high' } },
			'none',
		],
		['adaptive thinking', { thinking: { type: 'adaptive' } }, undefined],
		[
			'adaptive thinking with an effort',
			{ thinking: { type: 'adaptive' }, output_config: { effort: 'xhigh' } },
			'xhigh',
		],
		['an effort alone', { output_config: { effort: 'max' } }, 'max'],
		['a budget of 1024', { thinking: { type: 'enabled', budget_tokens: 1024 } }, 'low'],
		['a budget of 2048', { thinking: { type: 'enabled', budget_tokens: 2048 } }, 'low'],
		['a budget of 5000', { thinking: { type: 'enabled', budget_tokens: 5000 } }, 'medium'],
		['a budget of 8192', { thinking: { type: 'enabled', budget_tokens: 8192 } }, 'medium'],
		['a budget of 31999', { thinking: { type: 'enabled', budget_tokens: 31999 } }, 'high'],
		[
			'a budget with an effort',
			{ thinking: { type: 'enabled', budget_tokens: 1024 }, output_config: { effort: 'high' } },
			'high',
		],
		['no thinking', {}, undefined],
	])('maps %s to reasoning_effort', (_, fields, expected) => {
		expect(chat(fields).reasoning_effort).toBe(expected)
	})

	it('maps an output format to a strict json_schema response_format', () => {
		const schema = { type: 'object', properties: { a: { type: 'string' } } }
		expect(chat({ output_config: { format: { type: 'json_schema', schema } } }).response_format).toEqual({
			type: 'json_schema',
			json_schema: { name: 'response', schema, strict: true },
		})
	})

	test.each([
		['no max_tokens', { max_tokens: undefined }, 'max_tokens'],
		['a fractional max_tokens', { max_tokens: 1.5 }, 'max_tokens'],
		['a max_tokens of 0', { max_tokens: 0 }, 'max_tokens'],
		['no model', { model: undefined }, 'model'],
		['an empty model', { model: '' }, 'model'],
		['no messages', { messages: [] }, 'messages'],
		['messages not a list', { messages: 'Hi' }, 'messages'],
		['an unknown role', { messages: [{ role: 'tool', content: 'x' }] }, 'messages[0].role'],
		[
			'a block without type',
			{ messages: [{ role: 'user', content: [{ text: 'x' }] }] },
			'messages[0].content[0].type',
		],
		[
			'a text block without text',
			{ messages: [{ role: 'user', content: [{ type: 'text' }] }] },
			'messages[0].content[0].text',
		],
		['a number as content', { messages: [{ role: 'user', content: 7 }] }, 'messages[0].content'],
		[
			'an image without data',
			{
				messages: [
					{ role: 'user', content: [{ type: 'image', source: { type: 'base64', media_type: 'image/png' } }] },
				],
			},
			'messages[0].content[0].source.data',
		],
		[
			'a tool result without an id',
			{ messages: [{ role: 'user', content: [{ type: 'tool_result', content: 'x' }] }] },
			'messages[0].content[0].tool_use_id',
		],
		[
			'tool input that is not an object',
			{ messages: [{ role: 'assistant', content: [{ type: 'tool_use', id: 't', name: 'n', input: [1] }] }] },
			'messages[0].content[0].input',
		],
		['a temperature above 1', { temperature: 1.5 }, 'temperature'],
		['stop sequences of numbers', { stop_sequences: [1] }, 'stop_sequences[0]'],
		['a tool without a schema', { tools: [{ name: 'a' }] }, 'tools[0].input_schema'],
		['thinking enabled without a budget', { thinking: { type: 'enabled' } }, 'thinking.budget_tokens'],
		['a system prompt of images', { system: [{ type: 'image' }] }, 'system[0].type'],
		['a metadata string', { metadata: 'me' }, 'metadata'],
	])('refuses %s with a 400 naming the field', (_, fields, param) => {
		expect(errorOf(() => chat(fields))).toEqual({
			status: 400,
			type: 'invalid_request_error',
			param,
			code: null,
		})
	})

	test.each([
		[
			'a file image',
			{ type: 'image', source: { type: 'file', file_id: 'file_1' } },
			'messages[0].content[0].source',
		],
		[
			'a document by URL',
			{ type: 'document', source: { type: 'url', url: 'https://x/a.pdf' } },
			'messages[0].content[0].source',
		],
		[
			'a server tool result',
			{ type: 'web_search_tool_result', tool_use_id: 's', content: [] },
			'messages[0].content[0].type',
		],
		[
			'an image source of a new kind',
			{ type: 'image', source: { type: 'vault', ref: 'x' } },
			'messages[0].content[0].source.type',
		],
		['a block of a new kind', { type: 'hologram' }, 'messages[0].content[0].type'],
	])('refuses %s as something only Anthropic models read', (_, block, param) => {
		const fields = { messages: [{ role: 'user', content: [block] }] }
		expect(errorOf(() => chat(fields))).toEqual({
			status: 400,
			type: 'invalid_request_error',
			param,
			code: 'anthropic_only',
		})
	})

	test.each([
		[
			'tool_choice',
			{ tools: [{ name: 'a', input_schema: {} }], tool_choice: { type: 'some' } },
			'tool_choice.type',
		],
		['thinking type', { thinking: { type: 'deep' } }, 'thinking.type'],
		['effort', { output_config: { effort: 'extreme' } }, 'output_config.effort'],
		['output format', { output_config: { format: { type: 'xml' } } }, 'output_config.format.type'],
	])('leaves an unknown %s to Anthropic, which may have added it', (_, fields, param) => {
		expect(errorOf(() => chat(fields))).toEqual({
			status: 400,
			type: 'invalid_request_error',
			param,
			code: 'anthropic_only',
		})
		expect(() => messagesForRules(base(fields))).not.toThrow()
	})

	it('says which value it refuses, in short', () => {
		expect(caught(() => chat({ messages: [{ role: 'robot', content: 'x' }] })).message).toBe(
			"messages[0].role: expected 'user', 'assistant' or 'system', got \"robot\"",
		)
	})

	it('refuses a body that is not an object without naming a field', () => {
		expect(errorOf(() => messagesToChat([] as unknown as Body))).toEqual({
			status: 400,
			type: 'invalid_request_error',
			param: null,
			code: null,
		})
	})

	it('refuses MCP servers as something only Anthropic runs', () => {
		const fields = { mcp_servers: [{ type: 'url', url: 'https://mcp.example.com', name: 'x' }] }
		expect(errorOf(() => chat(fields))).toMatchObject({ param: 'mcp_servers', code: 'anthropic_only' })
	})
})

describe('messagesForRules', () => {
	it('leaves out what only Anthropic runs instead of refusing it', () => {
		const body = base({
			tools: [
				{ type: 'web_search_20250305', name: 'web_search' },
				{ name: 'ls', input_schema: { type: 'object' } },
			],
			messages: [
				{
					role: 'user',
					content: [
						{ type: 'text', text: 'Find' },
						{ type: 'image', source: { type: 'file', file_id: 'f' } },
					],
				},
			],
		})
		const request = messagesForRules(body) as unknown as Body
		expect(request.tools).toEqual([
			{ type: 'function', function: { name: 'ls', parameters: { type: 'object' } } },
		])
		expect(request.messages).toEqual([{ role: 'user', content: [{ type: 'text', text: 'Find' }] }])
	})

	it('still refuses a malformed body', () => {
		expect(errorOf(() => messagesForRules(base({ messages: [{ role: 'user', content: 7 }] })))).toMatchObject(
			{
				param: 'messages[0].content',
				code: null,
			},
		)
	})
})

describe('estimateMessagesTokens', () => {
	it('estimates as the rules estimate the translated request', () => {
		const body = base({ system: 'You are helpful.', messages: [{ role: 'user', content: 'x'.repeat(400) }] })
		const expected = extractFeatures(messagesToChat(body)).features.promptTokens
		expect(estimateMessagesTokens(body)).toBe(expected)
		// (16 + 400) / 4 characters, and 4 per message.
		expect(expected).toBe(104 + 8)
	})

	it('does without max_tokens, which count_tokens does not take', () => {
		const { max_tokens: _, ...body } = base()
		expect(estimateMessagesTokens(body)).toBe(5)
	})

	it('counts images and the tools only Anthropic runs', () => {
		const image = { type: 'image', source: { type: 'url', url: 'https://example.com/a.png' } }
		const tool = { type: 'web_search_20250305', name: 'web_search' }
		const body = base({ messages: [{ role: 'user', content: [image] }], tools: [tool] })
		expect(estimateMessagesTokens(body)).toBe(4 + 765 + Math.ceil(JSON.stringify([tool]).length / 4))
	})
})

interface AgentRequest {
	path: string
	body: Body | null
}
const load = (name: string): Promise<{ requests: AgentRequest[] }> =>
	Bun.file(new URL(`../../fixtures/agents/claude-code/${name}.json`, import.meta.url)).json()
const requests = (await Promise.all([load('startup'), load('tool-conversation')])).flatMap((file) =>
	file.requests.filter((request) => request.path.startsWith('/v1/messages')),
)

describe("Claude Code's requests (tests/fixtures/agents)", () => {
	test.each(
		requests.filter((request) => request.path.startsWith('/v1/messages?')).map((r) => [r.path, r.body]),
	)('translates %s with its tools and its whole history', (_, body) => {
		const request = messagesToChat(body as Body) as unknown as Body
		const tools = (body as Body).tools as unknown[] | undefined
		expect((request.tools as unknown[] | undefined)?.length).toBe(tools?.length)
		expect((request.messages as Body[]).filter((m) => m.role !== 'system').length).toBeGreaterThanOrEqual(
			((body as Body).messages as unknown[]).length,
		)
	})

	it('estimates the count_tokens request', () => {
		const count = requests.find((request) => request.path.startsWith('/v1/messages/count_tokens'))
		expect(estimateMessagesTokens(count?.body as Body)).toBeGreaterThan(50)
	})
})

describe('the round trip through toAnthropicRequest', () => {
	const catalog = loadCatalog({
		catalogPath: undefined,
		openaiBaseUrl: 'http://localhost/v1',
		anthropicBaseUrl: 'http://localhost',
	})
	const claude = (id: string) => {
		const model = catalog.model(id)
		if (!model) throw new Error(`${id} is not in the catalog`)
		return model
	}
	const roundTrip = (body: Body, id = MODEL) =>
		toAnthropicRequest(messagesToChat(body), claude(id), new ShapeLog()) as unknown as Body

	it('gives back a Claude Code tool loop with thinking, tools and cache marks', () => {
		const body: Body = {
			model: MODEL,
			max_tokens: 16000,
			stream: true,
			system: [
				{ type: 'text', text: 'You are Claude Code.' },
				{ type: 'text', text: 'CLAUDE.md contents', cache_control: CACHE },
			],
			thinking: { type: 'enabled', budget_tokens: 8192 },
			tools: [
				{
					name: 'Read',
					description: 'Read a file',
					input_schema: { type: 'object', properties: { path: { type: 'string' } } },
				},
				{ name: 'Bash', input_schema: { type: 'object' }, cache_control: CACHE },
			],
			tool_choice: { type: 'auto', disable_parallel_tool_use: true },
			stop_sequences: ['</done>'],
			metadata: { user_id: 'session-1' },
			messages: [
				{ role: 'user', content: [{ type: 'text', text: 'Fix the bug', cache_control: CACHE }] },
				{
					role: 'assistant',
					content: [
						{ type: 'thinking', thinking: 'Read it first.', signature: 'sig-a' },
						{ type: 'text', text: 'Reading.' },
						{ type: 'tool_use', id: 'toolu_1', name: 'Read', input: { path: 'a.ts' } },
					],
				},
				{
					role: 'user',
					content: [
						{ type: 'tool_result', tool_use_id: 'toolu_1', content: 'const a = 1', cache_control: CACHE },
						{ type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBOR' } },
					],
				},
			],
		}
		expect(roundTrip(body)).toEqual({
			model: 'claude-sonnet-4-5',
			max_tokens: 16000,
			stream: true,
			system: body.system,
			thinking: { type: 'enabled', budget_tokens: 8192 },
			tools: body.tools,
			tool_choice: { type: 'auto', disable_parallel_tool_use: true },
			stop_sequences: ['</done>'],
			metadata: { user_id: 'session-1' },
			messages: body.messages,
		})
	})

	it('gives back adaptive thinking with its effort on Claude 5', () => {
		const body = base({ thinking: { type: 'adaptive' }, output_config: { effort: 'high' } })
		expect(roundTrip(body, 'anthropic/claude-opus-5-5')).toMatchObject({
			thinking: { type: 'adaptive' },
			output_config: { effort: 'high' },
		})
	})

	it('gives back a json_schema output format and a forced tool', () => {
		const schema = { type: 'object', properties: { n: { type: 'number' } } }
		const body = base({
			output_config: { format: { type: 'json_schema', schema } },
			tools: [{ name: 'pick', input_schema: { type: 'object' } }],
			tool_choice: { type: 'tool', name: 'pick' },
		})
		expect(roundTrip(body)).toMatchObject({
			output_config: { format: { type: 'json_schema', schema } },
			tool_choice: { type: 'tool', name: 'pick' },
		})
	})
})

import { describe, expect, it, test } from 'bun:test'
import type Anthropic from '@anthropic-ai/sdk'
import type {
	ChatCompletion,
	ChatCompletionAssistantMessageParam,
	ChatCompletionCreateParams,
	ChatCompletionMessageParam,
	ChatCompletionToolChoiceOption,
} from 'openai/resources/chat/completions'
import { GatewayError } from '../../src/errors'
import { fromAnthropicResponse, toTokenUsage } from '../../src/providers/anthropic/response'
import { toAnthropicRequest as translate } from '../../src/providers/anthropic/transform'
import { type CatalogModel, loadCatalog } from '../../src/providers/catalog'
import { ShapeLog } from '../../src/providers/shape'
import type { TokenUsage } from '../../src/providers/types'

/** The model a fixture names, as the catalog has it, with the fixture's output limit. */
interface AnthropicModelInfo {
	id: string
	maxOutputTokens: number
}

interface RequestCase {
	model: AnthropicModelInfo
	request: ChatCompletionCreateParams
	expected: Anthropic.MessageCreateParams
}
interface ResponseCase {
	response: Anthropic.Message
	expected: { completion: ChatCompletion; usage: TokenUsage }
}

const fixture = <T>(name: string): Promise<T> =>
	Bun.file(new URL(`../fixtures/anthropic/${name}.json`, import.meta.url)).json()

const REQUEST_CASES = ['plain-text', 'system-developer', 'multi-turn', 'images', 'tool-conversation']
const requestCases = await Promise.all(REQUEST_CASES.map((name) => fixture<RequestCase>(name)))
const jsonSchema = await fixture<RequestCase>('response-format-json-schema')
const jsonObject = await fixture<RequestCase>('response-format-json-object')
const dropped = await fixture<RequestCase>('dropped-fields')
const toolConversation = await fixture<RequestCase>('tool-conversation')
const textResponse = await fixture<ResponseCase>('response-text')
const toolResponse = await fixture<ResponseCase>('response-tool-calls')

const catalog = loadCatalog({
	catalogPath: undefined,
	openaiBaseUrl: 'http://localhost/v1',
	anthropicBaseUrl: 'http://localhost',
})

function catalogModel(info: AnthropicModelInfo): CatalogModel {
	const model = catalog.model(`anthropic/${info.id}`)
	if (!model) throw new Error(`${info.id} is not in the catalog`)
	return { ...model, maxOutputTokens: info.maxOutputTokens }
}

const toAnthropicRequest = (request: ChatCompletionCreateParams, info: AnthropicModelInfo) =>
	translate(request, catalogModel(info), new ShapeLog())

const MODEL: AnthropicModelInfo = { id: 'claude-sonnet-4-5', maxOutputTokens: 64000 }
const META = { id: 'chatcmpl-sy-test', created: 1767225600, modelId: 'anthropic/claude-sonnet-4-5' }
const WEATHER_TOOL = {
	type: 'function',
	function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } },
} as const

const request = (fields: Partial<ChatCompletionCreateParams>): ChatCompletionCreateParams => ({
	model: 'auto',
	messages: [{ role: 'user', content: 'Hi' }],
	...fields,
})

function caught(run: () => unknown): GatewayError {
	try {
		run()
	} catch (error) {
		if (error instanceof GatewayError) return error
		throw error
	}
	throw new Error('expected a GatewayError')
}

const errorOf = (error: GatewayError) => ({ status: error.status, type: error.type, param: error.param })

describe('toAnthropicRequest', () => {
	test.each(REQUEST_CASES.map((name, i) => [name, requestCases[i] as RequestCase]))(
		'translates the %s fixture',
		(_name, { request, model, expected }) => {
			expect(toAnthropicRequest(request, model)).toEqual(expected)
		},
	)

	it('sends a json_schema response_format as output_config.format', () => {
		expect(toAnthropicRequest(jsonSchema.request, jsonSchema.model)).toEqual(jsonSchema.expected)
	})

	it('emulates json_object with an instruction appended to the system prompt', () => {
		expect(toAnthropicRequest(jsonObject.request, jsonObject.model)).toEqual(jsonObject.expected)
	})

	it('sends nothing for a text response_format', () => {
		expect(toAnthropicRequest(request({ response_format: { type: 'text' } }), MODEL)).toEqual(
			toAnthropicRequest(request({}), MODEL),
		)
	})

	it('drops every field with no Anthropic equivalent, temperature and top_p included', () => {
		expect(toAnthropicRequest(dropped.request, dropped.model)).toEqual(dropped.expected)
	})

	it('sends neither temperature nor top_p, which API version 2026-10-21 rejects', () => {
		expect(toAnthropicRequest(request({ temperature: 0.2, top_p: 0.5 }), MODEL)).toStrictEqual({
			model: 'claude-sonnet-4-5',
			max_tokens: 64000,
			messages: [{ role: 'user', content: 'Hi' }],
			stream: false,
		})
	})

	test.each([
		['neither is set', {}, 64000],
		['max_tokens is set', { max_tokens: 300 }, 300],
		['max_completion_tokens is set', { max_completion_tokens: 200 }, 200],
		['both are set', { max_tokens: 300, max_completion_tokens: 200 }, 200],
		['the request exceeds the model maximum', { max_tokens: 100000 }, 64000],
	] as const)('sets max_tokens when %s', (_when, fields, maxTokens) => {
		expect(toAnthropicRequest(request(fields), MODEL).max_tokens).toBe(maxTokens)
	})

	test.each<[string, string | string[] | null, string[] | undefined]>([
		['a string', 'END', ['END']],
		['an array', ['END', '\n\nHuman:'], ['END', '\n\nHuman:']],
		['whitespace only', [' ', ''], undefined],
		['null', null, undefined],
	])('maps stop given as %s to stop_sequences', (_as, stop, expected) => {
		expect(toAnthropicRequest(request({ stop }), MODEL).stop_sequences).toEqual(expected)
	})

	test.each<[string, ChatCompletionToolChoiceOption, boolean | undefined, Anthropic.ToolChoice]>([
		['auto', 'auto', undefined, { type: 'auto' }],
		['none', 'none', undefined, { type: 'none' }],
		['required', 'required', undefined, { type: 'any' }],
		[
			'a named function',
			{ type: 'function', function: { name: 'get_weather' } },
			undefined,
			{ type: 'tool', name: 'get_weather' },
		],
		['auto without parallel calls', 'auto', false, { type: 'auto', disable_parallel_tool_use: true }],
		['required without parallel calls', 'required', false, { type: 'any', disable_parallel_tool_use: true }],
		['none without parallel calls', 'none', false, { type: 'none' }],
		['auto with parallel calls', 'auto', true, { type: 'auto' }],
	])('maps tool_choice %s', (_name, toolChoice, parallel, expected) => {
		const fields = { tools: [WEATHER_TOOL], tool_choice: toolChoice, parallel_tool_calls: parallel }
		expect(toAnthropicRequest(request(fields), MODEL).tool_choice).toEqual(expected)
	})

	it('disables parallel tool use with auto as the default choice', () => {
		const sent = toAnthropicRequest(request({ tools: [WEATHER_TOOL], parallel_tool_calls: false }), MODEL)
		expect(sent.tool_choice).toEqual({ type: 'auto', disable_parallel_tool_use: true })
	})

	it('sends no tool_choice when there are no tools', () => {
		expect(toAnthropicRequest(request({ tool_choice: 'required' }), MODEL).tool_choice).toBeUndefined()
	})

	it('turns an assistant message with tool calls and no content into tool_use blocks only', () => {
		const assistant: ChatCompletionAssistantMessageParam = {
			role: 'assistant',
			content: null,
			tool_calls: [{ id: 'toolu_1', type: 'function', function: { name: 'get_utc_time', arguments: '' } }],
		}
		const sent = toAnthropicRequest(
			request({ messages: [{ role: 'user', content: 'Time?' }, assistant] }),
			MODEL,
		)
		expect(sent.messages[1]).toEqual({
			role: 'assistant',
			content: [{ type: 'tool_use', id: 'toolu_1', name: 'get_utc_time', input: {} }],
		})
	})

	it('puts tool results before a user message that preceded them in the same turn', () => {
		const messages: ChatCompletionMessageParam[] = [
			{ role: 'user', content: 'Weather?' },
			toolConversation.request.messages[2] as ChatCompletionMessageParam,
			{ role: 'user', content: 'Take your time.' },
			{ role: 'tool', tool_call_id: 'toolu_01WeatherParis', content: '' },
			{ role: 'tool', tool_call_id: 'toolu_01WeatherTokyo', content: '24°C' },
		]
		expect(toAnthropicRequest(request({ messages }), MODEL).messages[2]).toEqual({
			role: 'user',
			content: [
				{ type: 'tool_result', tool_use_id: 'toolu_01WeatherParis' },
				{ type: 'tool_result', tool_use_id: 'toolu_01WeatherTokyo', content: '24°C' },
				{ type: 'text', text: 'Take your time.' },
			],
		})
	})

	it('copies user to metadata.user_id', () => {
		expect(toAnthropicRequest(request({ user: 'user-42' }), MODEL).metadata).toEqual({ user_id: 'user-42' })
	})

	test.each([
		['an ftp URL', 'ftp://example.com/cat.png'],
		['a relative path', 'cat.png'],
		['a data URL that is not base64', 'data:image/png,rawbytes'],
		['an unsupported image type', 'data:image/bmp;base64,Qk0='],
		['a data URL that is not an image', 'data:text/html;base64,PGgxPg=='],
	])('rejects %s as an image with a 400 naming the part', (_name, url) => {
		const content = [
			{ type: 'text' as const, text: 'Look' },
			{ type: 'image_url' as const, image_url: { url } },
		]
		const messages: ChatCompletionMessageParam[] = [
			{ role: 'system', content: 'Be brief.' },
			{ role: 'user', content },
		]
		expect(errorOf(caught(() => toAnthropicRequest(request({ messages }), MODEL)))).toEqual({
			status: 400,
			type: 'invalid_request_error',
			param: 'messages[1].content[1].image_url.url',
		})
	})

	test.each([
		['invalid JSON', '{"city": "Par'],
		['a JSON array', '["Paris"]'],
	])('rejects tool call arguments that are %s with a 400 naming them', (_name, args) => {
		const messages = structuredClone(toolConversation.request.messages)
		const assistant = messages[2] as ChatCompletionAssistantMessageParam
		const call = assistant.tool_calls?.[1]
		if (call?.type === 'function') call.function.arguments = args
		expect(errorOf(caught(() => toAnthropicRequest(request({ messages }), MODEL)))).toEqual({
			status: 400,
			type: 'invalid_request_error',
			param: 'messages[2].tool_calls[1].function.arguments',
		})
	})

	test.each<[string, Partial<ChatCompletionCreateParams>, string]>([
		[
			'an audio part',
			{
				messages: [
					{ role: 'user', content: [{ type: 'input_audio', input_audio: { data: 'AA==', format: 'wav' } }] },
				],
			},
			'messages[0].content[0].type',
		],
		['a custom tool', { tools: [{ type: 'custom', custom: { name: 'grep' } }] }, 'tools[0].type'],
		[
			'an allowed_tools choice',
			{
				tools: [WEATHER_TOOL],
				tool_choice: { type: 'allowed_tools', allowed_tools: { mode: 'auto', tools: [] } },
			},
			'tool_choice',
		],
		[
			'a function role message',
			{ messages: [{ role: 'function', name: 'f', content: '1' }] },
			'messages[0].role',
		],
	])('rejects %s, which Anthropic cannot take, with a 400', (_name, fields, param) => {
		expect(errorOf(caught(() => toAnthropicRequest(request(fields), MODEL)))).toEqual({
			status: 400,
			type: 'invalid_request_error',
			param,
		})
	})

	it('rejects n above 1 with a 400 naming n', () => {
		expect(errorOf(caught(() => toAnthropicRequest(request({ n: 2 }), MODEL)))).toEqual({
			status: 400,
			type: 'invalid_request_error',
			param: 'n',
		})
	})

	it('accepts n equal to 1', () => {
		expect(toAnthropicRequest(request({ n: 1 }), MODEL).messages).toEqual([{ role: 'user', content: 'Hi' }])
	})
})

describe('fromAnthropicResponse', () => {
	it('joins text blocks, returns thinking as reasoning_content and signed thinking_blocks, and reports cached tokens', () => {
		expect(fromAnthropicResponse(textResponse.response, META)).toEqual(textResponse.expected)
	})

	it('turns tool_use blocks into tool_calls', () => {
		expect(fromAnthropicResponse(toolResponse.response, META)).toEqual(toolResponse.expected)
	})

	it('returns null content when the answer is only tool calls', () => {
		const response = { ...toolResponse.response, content: toolResponse.response.content.slice(2, 3) }
		expect(fromAnthropicResponse(response, META).completion.choices[0]?.message).toEqual({
			role: 'assistant',
			content: null,
			refusal: null,
			tool_calls: toolResponse.expected.completion.choices[0]?.message.tool_calls?.slice(0, 1),
		})
	})

	test.each<[Anthropic.StopReason, ChatCompletion.Choice['finish_reason']]>([
		['end_turn', 'stop'],
		['max_tokens', 'length'],
		['tool_use', 'tool_calls'],
		['stop_sequence', 'stop'],
		['pause_turn', 'stop'],
		['refusal', 'content_filter'],
		['model_context_window_exceeded', 'length'],
	])('maps stop_reason %s to finish_reason %s', (stopReason, finishReason) => {
		const response = { ...textResponse.response, stop_reason: stopReason }
		expect(fromAnthropicResponse(response, META).completion.choices[0]?.finish_reason).toBe(finishReason)
	})

	it('round-trips two parallel tool calls through a conversation and back to the same tool_use blocks', () => {
		const message = fromAnthropicResponse(toolResponse.response, META).completion.choices[0]?.message
		const echoed: ChatCompletionAssistantMessageParam = {
			role: 'assistant',
			content: message?.content,
			tool_calls: message?.tool_calls,
		}
		const messages = toolConversation.request.messages.with(2, echoed)
		expect(messages).toEqual(toolConversation.request.messages)

		const sent = toAnthropicRequest({ ...toolConversation.request, messages }, toolConversation.model)
		expect(sent).toEqual(toolConversation.expected)
		const toolUses = toolResponse.response.content
			.filter((block) => block.type === 'tool_use')
			.map(({ type, id, name, input }) => ({ type, id, name, input }))
		const sentAssistant = sent.messages[1]?.content as Anthropic.ContentBlockParam[]
		expect(sentAssistant.filter((block) => block.type === 'tool_use')).toEqual(toolUses)
	})
})

describe('toTokenUsage', () => {
	it('counts cache reads and writes as prompt tokens', () => {
		const usage = {
			input_tokens: 10,
			output_tokens: 5,
			cache_read_input_tokens: 200,
			cache_creation_input_tokens: 30,
		}
		expect(toTokenUsage(usage)).toEqual({
			promptTokens: 240,
			completionTokens: 5,
			cachedTokens: 200,
			cacheWriteTokens: 30,
			cacheWrite1hTokens: 0,
			reasoningTokens: 0,
		})
	})

	it('treats missing cache counts as zero', () => {
		expect(toTokenUsage({ input_tokens: 10, output_tokens: 5 })).toEqual({
			promptTokens: 10,
			completionTokens: 5,
			cachedTokens: 0,
			cacheWriteTokens: 0,
			cacheWrite1hTokens: 0,
			reasoningTokens: 0,
		})
	})

	it('counts 1-hour cache writes apart, and thinking tokens as reasoning', () => {
		const usage = {
			input_tokens: 10,
			output_tokens: 50,
			cache_creation_input_tokens: 300,
			cache_creation: { ephemeral_5m_input_tokens: 100, ephemeral_1h_input_tokens: 200 },
			output_tokens_details: { thinking_tokens: 40 },
		}
		expect(toTokenUsage(usage)).toEqual({
			promptTokens: 310,
			completionTokens: 50,
			cachedTokens: 0,
			cacheWriteTokens: 300,
			cacheWrite1hTokens: 200,
			reasoningTokens: 40,
		})
	})
})

import { describe, expect, it, test } from 'bun:test'
import type { ChatCompletionCreateParams } from 'openai/resources/chat/completions'
import { GatewayError } from '../../src/errors'
import { toAnthropicRequest } from '../../src/providers/anthropic/transform'
import { type EffortLevel, loadCatalog } from '../../src/providers/catalog'
import { prepareOpenAICall } from '../../src/providers/openai'
import { nearestLevel, ShapeLog } from '../../src/providers/shape'

const catalog = loadCatalog({
	catalogPath: undefined,
	openaiBaseUrl: 'http://localhost/v1',
	anthropicBaseUrl: 'http://localhost',
})

function modelAndProvider(id: string) {
	const model = catalog.model(id)
	const provider = model && catalog.provider(model.provider)
	if (!model || !provider) throw new Error(`${id} is not in the catalog`)
	return { model, provider }
}

const hello = [{ role: 'user' as const, content: 'Hi' }]
const TOOL = { type: 'function' as const, function: { name: 'lookup', parameters: { type: 'object' } } }

const request = (fields: Partial<ChatCompletionCreateParams>): ChatCompletionCreateParams =>
	({ model: 'auto', messages: hello, ...fields }) as ChatCompletionCreateParams

function openai(id: string, fields: Partial<ChatCompletionCreateParams>) {
	const { model, provider } = modelAndProvider(id)
	const { call, log } = prepareOpenAICall(request(fields), model, provider)
	return { api: call.api, body: call.body, dropped: log.dropped, adjusted: log.adjusted }
}

function claude(id: string, fields: Partial<ChatCompletionCreateParams>) {
	const log = new ShapeLog()
	const params = toAnthropicRequest(request(fields), modelAndProvider(id).model, log)
	return { params, dropped: log.dropped, adjusted: log.adjusted }
}

function refusal(run: () => unknown) {
	try {
		run()
	} catch (error) {
		if (error instanceof GatewayError) return { status: error.status, code: error.code, param: error.param }
		throw error
	}
	throw new Error('expected a refusal')
}

describe('nearestLevel', () => {
	test.each<[EffortLevel, EffortLevel[], EffortLevel]>([
		['medium', ['low', 'medium', 'high'], 'medium'],
		['minimal', ['low', 'medium', 'high', 'xhigh', 'max'], 'low'],
		['none', ['low', 'medium', 'high', 'xhigh', 'max'], 'low'],
		['max', ['none', 'low', 'medium', 'high'], 'high'],
		['xhigh', ['minimal', 'low', 'medium', 'high'], 'high'],
		['minimal', ['none', 'low', 'medium'], 'low'],
		['none', ['none', 'low'], 'none'],
	])('asks %s of %p and gets %s', (asked, levels, expected) => {
		expect(nearestLevel(asked, levels)).toBe(expected)
	})
})

describe('shaping for OpenAI models', () => {
	it('sends function tools with reasoning on to the Responses API (GPT-6)', () => {
		const shaped = openai('openai/gpt-6.2-sol', { tools: [TOOL], max_tokens: 100 })
		expect(shaped.api).toBe('responses')
		expect(shaped.body).toMatchObject({
			model: 'gpt-6.2-sol',
			store: false,
			max_output_tokens: 100,
			tools: [{ type: 'function', name: 'lookup', parameters: { type: 'object' }, strict: false }],
			input: [{ type: 'message', role: 'user', content: 'Hi' }],
		})
	})

	it('keeps Luna on Chat Completions when tools come with reasoning off', () => {
		const shaped = openai('openai/gpt-6-luna', { tools: [TOOL], reasoning_effort: 'none', temperature: 0.2 })
		expect(shaped).toMatchObject({ api: 'chat', dropped: [], adjusted: [] })
		expect(shaped.body).toMatchObject({ reasoning_effort: 'none', temperature: 0.2 })
	})

	it('sends Terra tools to the Responses API even with reasoning off, as its page says', () => {
		expect(openai('openai/gpt-6.1-terra', { tools: [TOOL], reasoning_effort: 'none' }).api).toBe('responses')
	})

	it('drops sampling fields while reasoning is on, and says which', () => {
		const shaped = openai('openai/gpt-6-luna', { temperature: 0.2, top_p: 0.9, logprobs: true, stop: ['x'] })
		expect(shaped.api).toBe('chat')
		expect(shaped.dropped).toEqual(['temperature', 'top_p', 'logprobs', 'stop'])
		expect(shaped.body.temperature).toBeUndefined()
	})

	it('moves an effort Chat Completions lacks (max) to the Responses API', () => {
		const shaped = openai('openai/gpt-6.2-astra', { reasoning_effort: 'max' as 'high' })
		expect(shaped.api).toBe('responses')
		expect(shaped.body.reasoning).toEqual({ effort: 'max' })
	})

	it('adjusts an effort the model does not have to its nearest level, and says so', () => {
		expect(openai('openai/gpt-6.2-sol', { reasoning_effort: 'none' })).toMatchObject({
			api: 'chat',
			body: { reasoning_effort: 'low' },
			adjusted: ['reasoning_effort=low (asked none)'],
		})
		expect(openai('openai/gpt-5-mini', { reasoning_effort: 'xhigh' as 'high' }).body.reasoning_effort).toBe(
			'high',
		)
	})

	it('drops what a model never takes (parallel_tool_calls on o3)', () => {
		expect(openai('openai/o3', { tools: [TOOL], parallel_tool_calls: false }).dropped).toEqual([
			'parallel_tool_calls',
		])
	})

	it('drops reasoning_effort for a model without reasoning, and keeps its sampling', () => {
		expect(openai('openai/gpt-4o-mini', { reasoning_effort: 'low', temperature: 0.3 })).toMatchObject({
			body: { temperature: 0.3 },
			dropped: ['reasoning_effort'],
		})
	})

	it('sends OpenAI max_completion_tokens, and OpenAI-compatible servers max_tokens', () => {
		expect(openai('openai/gpt-4o-mini', { max_tokens: 5 }).body).toMatchObject({ max_completion_tokens: 5 })
		expect(openai('groq/openai/gpt-oss-20b', { max_completion_tokens: 5 }).body).toMatchObject({
			max_tokens: 5,
		})
	})

	it('removes Claude thinking fields from messages sent to OpenAI', () => {
		const messages = [
			...hello,
			{ role: 'assistant', content: 'Hello', reasoning_content: '', thinking_blocks: [] },
			{ role: 'user', content: 'Again' },
		] as ChatCompletionCreateParams['messages']
		expect(openai('openai/gpt-4o-mini', { messages }).body.messages).toEqual([
			...hello,
			{ role: 'assistant', content: 'Hello' },
			{ role: 'user', content: 'Again' },
		])
	})

	it('gives Mistral only its own fields', () => {
		const shaped = openai('mistral/mistral-small-2603', {
			max_completion_tokens: 50,
			seed: 7,
			store: true,
			stream_options: { include_usage: true },
		})
		expect(shaped.body).toEqual({
			model: 'mistral-small-2603',
			messages: hello,
			max_tokens: 50,
			random_seed: 7,
		})
		expect(shaped.dropped).toEqual(['store', 'stream_options'])
	})

	it('drops what Groq refuses, message names included', () => {
		const messages = [{ role: 'user', content: 'Hi', name: 'ann' }] as ChatCompletionCreateParams['messages']
		const shaped = openai('groq/openai/gpt-oss-20b', { messages, logprobs: true, top_logprobs: 2 })
		expect(shaped.body.messages).toEqual(hello)
		expect(shaped.dropped).toEqual(['messages[].name', 'logprobs', 'top_logprobs'])
	})

	it("gives DeepSeek's tool-call turns the reasoning_content its thinking mode wants back", () => {
		const messages = [
			...hello,
			{
				role: 'assistant',
				content: null,
				tool_calls: [{ id: 'c1', type: 'function', function: { name: 'lookup', arguments: '{}' } }],
			},
			{ role: 'tool', tool_call_id: 'c1', content: 'ok' },
		] as ChatCompletionCreateParams['messages']
		const sent = openai('deepseek/deepseek-flash', { messages }).body.messages as Record<string, unknown>[]
		expect(sent[1]).toMatchObject({ role: 'assistant', reasoning_content: '' })
	})
})

describe('shaping for Claude models', () => {
	test.each([
		['anthropic/claude-opus-5-5', undefined, { type: 'adaptive', display: 'summarized' }, undefined],
		['anthropic/claude-opus-5-5', 'high', { type: 'adaptive', display: 'summarized' }, { effort: 'high' }],
		['anthropic/claude-opus-5-5', 'none', { type: 'adaptive', display: 'summarized' }, { effort: 'low' }],
		['anthropic/claude-sonnet-5-5', 'none', { type: 'between_tools' }, { effort: 'low' }],
		['anthropic/claude-haiku-5-5', 'none', { type: 'disabled' }, { effort: 'low' }],
		['anthropic/claude-haiku-5-5', 'minimal', { type: 'adaptive', display: 'summarized' }, { effort: 'low' }],
		['anthropic/claude-haiku-4-5', undefined, undefined, undefined],
		['anthropic/claude-haiku-4-5', 'medium', { type: 'enabled', budget_tokens: 8192 }, undefined],
	])(
		'%s with reasoning_effort %s thinks as %p with output_config %p',
		(id, effort, thinking, outputConfig) => {
			const { params } = claude(id, effort ? { reasoning_effort: effort as 'low' } : {})
			expect(params.thinking).toEqual(thinking as never)
			expect(params.output_config).toEqual(outputConfig as never)
		},
	)

	it('keeps a legacy thinking budget below max_tokens, and thinks not at all without room', () => {
		expect(
			claude('anthropic/claude-haiku-4-5', { reasoning_effort: 'high', max_tokens: 4000 }).params.thinking,
		).toEqual({
			type: 'enabled',
			budget_tokens: 3999,
		})
		const tight = claude('anthropic/claude-haiku-4-5', { reasoning_effort: 'high', max_tokens: 500 })
		expect(tight.params.thinking).toBeUndefined()
		expect(tight.adjusted).toEqual(['thinking off (max_tokens 500 leaves no room for a thinking budget)'])
	})

	it('names what has no Anthropic equivalent', () => {
		expect(
			claude('anthropic/claude-sonnet-5-5', { temperature: 0, seed: 3, logprobs: true }).dropped,
		).toEqual(['temperature', 'seed', 'logprobs'])
	})

	const toolCall = { id: 'toolu_1', type: 'function' as const, function: { name: 'lookup', arguments: '{}' } }
	const signed = (model: string) => ({ type: 'thinking', thinking: 'plan', signature: 'sig', model })
	const loop = (thinkingBlocks?: object[]) =>
		[
			...hello,
			{
				role: 'assistant',
				content: null,
				tool_calls: [toolCall],
				...(thinkingBlocks && { thinking_blocks: thinkingBlocks }),
			},
			{ role: 'tool', tool_call_id: 'toolu_1', content: 'found' },
		] as ChatCompletionCreateParams['messages']

	it('replays thinking blocks first, unchanged, to the model that wrote them', () => {
		const { params } = claude('anthropic/claude-opus-5-5', {
			messages: loop([signed('anthropic/claude-opus-5-5')]),
			tools: [TOOL],
		})
		expect(params.messages[1]).toEqual({
			role: 'assistant',
			content: [
				{ type: 'thinking', thinking: 'plan', signature: 'sig' },
				{ type: 'tool_use', id: 'toolu_1', name: 'lookup', input: {} },
			],
		})
		expect(params.thinking).toEqual({ type: 'adaptive', display: 'summarized' })
	})

	it('drops another model’s thinking blocks, and turns thinking off where the model can', () => {
		const { params, adjusted } = claude('anthropic/claude-sonnet-5-5', {
			messages: loop([signed('anthropic/claude-opus-5-5')]),
			tools: [TOOL],
		})
		expect(params.messages[1]?.content).toEqual([
			{ type: 'tool_use', id: 'toolu_1', name: 'lookup', input: {} },
		])
		expect(params.thinking).toEqual({ type: 'between_tools' })
		expect(adjusted).toEqual([
			'thinking off (the tool call being answered has no thinking block from this model)',
		])
	})

	it('clamps the effort of a model that may think off only up to some effort', () => {
		const { params, adjusted } = claude('anthropic/claude-haiku-5-5', {
			messages: loop(),
			tools: [TOOL],
			reasoning_effort: 'max' as 'high',
		})
		expect(params.thinking).toEqual({ type: 'disabled' })
		expect(params.output_config).toEqual({ effort: 'high' })
		expect(adjusted).toContain('effort=high (asked max; the highest this model takes with thinking off)')
	})

	it('finds a model that cannot think off unable to continue a tool loop without its thinking', () => {
		expect(refusal(() => claude('anthropic/claude-fable-5-2', { messages: loop(), tools: [TOOL] }))).toEqual({
			status: 400,
			code: 'model_incapable',
			param: 'messages',
		})
	})

	it.each(['anthropic/claude-opus-5-5', 'anthropic/claude-sonnet-5-5', 'anthropic/claude-fable-5-2'])(
		'finds %s unable to take a forced tool_choice',
		(id) => {
			expect(refusal(() => claude(id, { tools: [TOOL], tool_choice: 'required' }))).toEqual({
				status: 400,
				code: 'model_incapable',
				param: 'tool_choice',
			})
		},
	)

	it('lets Haiku 5.5 take a forced tool_choice, and legacy models only without thinking', () => {
		expect(
			claude('anthropic/claude-haiku-5-5', { tools: [TOOL], tool_choice: 'required' }).params.tool_choice,
		).toEqual({ type: 'any' })
		expect(
			claude('anthropic/claude-haiku-4-5', { tools: [TOOL], tool_choice: 'required' }).params.tool_choice,
		).toEqual({ type: 'any' })
		expect(
			refusal(() =>
				claude('anthropic/claude-haiku-4-5', {
					tools: [TOOL],
					tool_choice: 'required',
					reasoning_effort: 'low',
				}),
			),
		).toMatchObject({ code: 'model_incapable' })
	})

	it('finds Claude 5.x unable to take a prefill, and legacy models able without thinking', () => {
		const prefill = [...hello, { role: 'assistant' as const, content: '{"' }]
		expect(refusal(() => claude('anthropic/claude-haiku-5-5', { messages: prefill }))).toMatchObject({
			code: 'model_incapable',
			param: 'messages',
		})
		expect(claude('anthropic/claude-haiku-4-5', { messages: prefill }).params.messages.at(-1)).toEqual({
			role: 'assistant',
			content: '{"',
		})
	})

	it('carries cache_control on parts, messages, tools and the system prompt', () => {
		const ephemeral = { type: 'ephemeral', ttl: '1h' } as const
		const { params } = claude('anthropic/claude-sonnet-5-5', {
			messages: [
				{ role: 'system', content: 'Long rules', cache_control: ephemeral },
				{
					role: 'user',
					content: [
						{ type: 'text', text: 'Doc', cache_control: { type: 'ephemeral' } },
						{ type: 'text', text: 'Q' },
					],
				},
			] as unknown as ChatCompletionCreateParams['messages'],
			tools: [{ ...TOOL, cache_control: ephemeral } as typeof TOOL],
		})
		expect(params.system).toEqual([{ type: 'text', text: 'Long rules', cache_control: ephemeral }])
		expect(params.messages[0]?.content).toEqual([
			{ type: 'text', text: 'Doc', cache_control: { type: 'ephemeral' } },
			{ type: 'text', text: 'Q' },
		])
		expect(params.tools?.[0]).toMatchObject({ name: 'lookup', cache_control: ephemeral })
	})
})

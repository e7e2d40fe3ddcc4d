// Real provider behaviour, through the running server and the official OpenAI SDK, against the strict fake
// upstream (tests/helpers/fake-upstream): each request that the real APIs would refuse as the gateway used
// to send it now succeeds, or skips the model with a reason, and the fake saw the body it should.
import { describe, expect, it } from 'bun:test'
import { BadRequestError } from 'openai'
import type {
	ChatCompletionChunk,
	ChatCompletionCreateParamsNonStreaming,
	ChatCompletionMessageParam,
	ChatCompletionTool,
} from 'openai/resources/chat/completions'
import { type GatewayHarness, readEvents, startGateway } from '../../helpers/gateway'

const weather: ChatCompletionTool = {
	type: 'function',
	function: {
		name: 'get_weather',
		description: 'Current weather for a city',
		parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
	},
}
const hello = [{ role: 'user' as const, content: 'Hello' }]
const askWeather = [{ role: 'user' as const, content: 'What is the weather in Oslo?' }]
const osloCall = { name: 'get_weather', arguments: '{"city":"Oslo"}' }

type Params = Omit<ChatCompletionCreateParamsNonStreaming, 'messages'> & {
	messages: ChatCompletionMessageParam[]
	[field: string]: unknown
}

const create = (g: GatewayHarness, params: Params) => g.openai.chat.completions.create(params).withResponse()

async function refusalOf(promise: Promise<unknown>) {
	try {
		await promise
	} catch (error) {
		if (error instanceof BadRequestError)
			return { status: error.status, code: error.code, message: error.message }
		throw error
	}
	throw new Error('expected a 400')
}

/** The assistant message of a stream, assembled as an agent does: text, tool calls, thinking blocks. */
async function assemble(stream: AsyncIterable<ChatCompletionChunk>) {
	const message = {
		role: 'assistant' as const,
		content: '',
		reasoning_content: '',
		tool_calls: [] as { id: string; type: 'function'; function: { name: string; arguments: string } }[],
		thinking_blocks: [] as unknown[],
	}
	let finish: string | null = null
	for await (const chunk of stream) {
		const choice = chunk.choices[0]
		if (!choice) continue
		const delta = choice.delta as ChatCompletionChunk.Choice.Delta & {
			reasoning_content?: string
			thinking_blocks?: unknown[]
		}
		message.content += delta.content ?? ''
		message.reasoning_content += delta.reasoning_content ?? ''
		message.thinking_blocks.push(...(delta.thinking_blocks ?? []))
		for (const call of delta.tool_calls ?? []) {
			const slot = message.tool_calls[call.index] ?? {
				id: '',
				type: 'function',
				function: { name: '', arguments: '' },
			}
			message.tool_calls[call.index] = slot
			if (call.id) slot.id = call.id
			slot.function.name += call.function?.name ?? ''
			slot.function.arguments += call.function?.arguments ?? ''
		}
		finish = choice.finish_reason ?? finish
	}
	return { message, finish }
}

describe('GPT-6 through Chat Completions', () => {
	it('sends auto with tools to gpt-6.1-terra through the Responses API and answers tool calls', async () => {
		await using g = await startGateway()
		g.upstream.script('gpt-6.1-terra', { kind: 'reply', toolCalls: [osloCall] })
		const { data, response } = await create(g, { model: 'auto', messages: askWeather, tools: [weather] })
		expect(response.headers.get('x-switchyard-model')).toBe('openai/gpt-6.1-terra')
		expect(data.choices[0]?.finish_reason).toBe('tool_calls')
		expect(data.choices[0]?.message.tool_calls?.[0]).toMatchObject({ type: 'function', function: osloCall })
		const [sent] = g.upstream.requests
		expect(sent?.format).toBe('openai-responses')
		expect(sent?.body).toMatchObject({
			model: 'gpt-6.1-terra',
			store: false,
			input: [{ type: 'message', role: 'user', content: 'What is the weather in Oslo?' }],
			tools: [{ type: 'function', name: 'get_weather', parameters: weather.function.parameters }],
		})
		expect((await g.rows())[0]).toMatchObject({ status: 200, model: 'openai/gpt-6.1-terra', tier: 'medium' })
	})

	it('streams a Responses answer as Chat Completions chunks the SDK assembles', async () => {
		await using g = await startGateway()
		g.upstream.script('gpt-6.2-sol', { kind: 'reply', toolCalls: [osloCall] })
		const stream = await g.openai.chat.completions.create({
			model: 'openai/gpt-6.2-sol',
			messages: askWeather,
			tools: [weather],
			stream: true,
			stream_options: { include_usage: true },
		})
		const { message, finish } = await assemble(stream)
		expect(finish).toBe('tool_calls')
		expect(message.tool_calls[0]?.function).toEqual(osloCall)
		expect(g.upstream.requests[0]?.format).toBe('openai-responses')
		const [row] = await g.rows()
		// The question: 28 characters / 4 = 7 tokens. The answer: the call, (11 + 15 characters) / 4 → 7
		// tokens, and 48 reasoning tokens at the default effort, medium (16 a level above none).
		// gpt-6.2-sol at $2 input, $10 output per million: (7 × 2 + 55 × 10) / 1M = $0.000564.
		expect(row).toMatchObject({
			status: 200,
			stream: true,
			usageReported: true,
			promptTokens: 7,
			completionTokens: 55,
			costUsd: expect.closeTo(0.000564, 12),
		})
	})

	it('keeps gpt-6-luna on Chat Completions for tools with reasoning off, sampling included', async () => {
		await using g = await startGateway()
		g.upstream.script('gpt-6-luna', { kind: 'reply', toolCalls: [osloCall] })
		const { data } = await create(g, {
			model: 'gpt-6-luna',
			messages: askWeather,
			tools: [weather],
			reasoning_effort: 'none',
			temperature: 0.2,
		})
		expect(data.choices[0]?.message.tool_calls?.[0]).toMatchObject({ function: osloCall })
		expect(g.upstream.requests[0]).toMatchObject({
			format: 'openai',
			body: { reasoning_effort: 'none', temperature: 0.2, tools: [weather] },
		})
	})

	it('drops temperature, top_p and logprobs while reasoning is on, and names them', async () => {
		await using g = await startGateway()
		const { data, response } = await create(g, {
			model: 'gpt-6-luna',
			messages: hello,
			temperature: 0.2,
			top_p: 0.5,
			logprobs: true,
			top_logprobs: 2,
		})
		expect(data.choices[0]?.message.content).toBe('Hello from gpt-6-luna')
		expect(response.headers.get('x-switchyard-dropped')).toBe('temperature, top_p, logprobs, top_logprobs')
		const sent = g.upstream.requests[0]?.body
		expect([sent.temperature, sent.top_p, sent.logprobs, sent.top_logprobs]).toEqual([
			undefined,
			undefined,
			undefined,
			undefined,
		])
	})

	it('maps an effort the model lacks to its nearest level, and sends max to the Responses API', async () => {
		await using g = await startGateway()
		const none = await create(g, { model: 'gpt-6.2-sol', messages: hello, reasoning_effort: 'none' })
		expect(none.response.headers.get('x-switchyard-adjusted')).toBe('reasoning_effort=low (asked none)')
		expect(g.upstream.requests[0]?.body.reasoning_effort).toBe('low')
		const max = await create(g, {
			model: 'gpt-6.2-astra',
			messages: hello,
			reasoning_effort: 'max' as 'high',
		})
		expect(max.data.choices[0]?.message.content).toBe('Hello from gpt-6.2-astra')
		expect(g.upstream.requests[1]).toMatchObject({
			format: 'openai-responses',
			body: { reasoning: { effort: 'max' } },
		})
	})

	it('reports reasoning tokens in completion_tokens_details, from both APIs', async () => {
		await using g = await startGateway()
		// The default effort, medium, is three levels above none: 16 reasoning tokens a level.
		const chat = await create(g, { model: 'gpt-6-luna', messages: hello })
		expect(chat.data.usage?.completion_tokens_details?.reasoning_tokens).toBe(48)
		const responses = await create(g, { model: 'gpt-6-luna', messages: askWeather, tools: [weather] })
		expect(g.upstream.requests[1]?.format).toBe('openai-responses')
		expect(responses.data.usage?.completion_tokens_details?.reasoning_tokens).toBe(48)
	})

	it('drops reasoning_effort for gpt-4o-mini, which has no reasoning', async () => {
		await using g = await startGateway()
		const { response } = await create(g, { model: 'gpt-4o-mini', messages: hello, reasoning_effort: 'low' })
		expect(response.headers.get('x-switchyard-dropped')).toBe('reasoning_effort')
		expect(g.upstream.requests[0]?.body.reasoning_effort).toBeUndefined()
	})

	it('prices OpenAI cache writes at the write rate and reads at the cached rate', async () => {
		await using g = await startGateway()
		const long = [{ role: 'system' as const, content: 'Policy. '.repeat(1200) }, ...hello]
		// 9,600 characters of policy and "Hello": 2,400 + 2 = 2,402 prompt tokens, of which the prefix in
		// whole steps of 128 is cached: 18 × 128 = 2,304. The answer: 3 words and 48 reasoning tokens.
		const first = await create(g, { model: 'gpt-6-luna', messages: long })
		expect(first.data.usage?.prompt_tokens_details?.cache_write_tokens).toBe(2304)
		const second = await create(g, { model: 'gpt-6-luna', messages: long })
		expect(second.data.usage?.prompt_tokens_details?.cached_tokens).toBe(2304)
		const [writeRow, readRow] = await g.rows()
		// gpt-6-luna at $0.10 input, $0.125 cache write, $0.01 cached read, $0.50 output per million:
		// written, (98 × 0.10 + 2304 × 0.125 + 51 × 0.50) / 1M = $0.0003233;
		// read, (98 × 0.10 + 2304 × 0.01 + 51 × 0.50) / 1M = $0.00005834.
		expect(writeRow).toMatchObject({
			promptTokens: 2402,
			cacheWriteTokens: 2304,
			cachedTokens: 0,
			completionTokens: 51,
			costUsd: expect.closeTo(0.0003233, 12),
		})
		expect(readRow).toMatchObject({
			promptTokens: 2402,
			cacheWriteTokens: 0,
			cachedTokens: 2304,
			completionTokens: 51,
			costUsd: expect.closeTo(0.00005834, 12),
		})
	})
})

describe('Claude 5.x through Chat Completions', () => {
	it('answers thinking as reasoning_content and signed thinking_blocks', async () => {
		await using g = await startGateway()
		const { data } = await create(g, { model: 'anthropic/claude-sonnet-5-5', messages: hello })
		const message = data.choices[0]?.message as unknown as Record<string, unknown>
		expect(message.reasoning_content).toBe('Planned a one-sentence reply.')
		expect(message.thinking_blocks).toEqual([
			{
				type: 'thinking',
				thinking: 'Planned a one-sentence reply.',
				signature: expect.any(String),
				model: 'anthropic/claude-sonnet-5-5',
			},
		])
		expect(g.upstream.requests[0]?.body.thinking).toEqual({ type: 'adaptive', display: 'summarized' })
	})

	it.each([false, true])('runs an agent tool loop with thinking on (streamed: %p)', async (stream) => {
		await using g = await startGateway()
		g.upstream.script(
			'claude-sonnet-5-5',
			{ kind: 'reply', toolCalls: [osloCall] },
			{ kind: 'reply', text: 'It rains in Oslo.' },
		)
		const messages: ChatCompletionMessageParam[] = [...askWeather]
		const turn = async () => {
			const params = { model: 'anthropic/claude-sonnet-5-5', messages, tools: [weather] }
			if (!stream) return (await g.openai.chat.completions.create(params)).choices[0]?.message
			return (await assemble(await g.openai.chat.completions.create({ ...params, stream: true }))).message
		}
		const first = await turn()
		const call = first?.tool_calls?.[0]
		if (!first || !call) throw new Error('no tool call')
		expect((first as unknown as { thinking_blocks: unknown[] }).thinking_blocks).toHaveLength(1)
		messages.push(first as ChatCompletionMessageParam, {
			role: 'tool',
			tool_call_id: call.id,
			content: 'rain, 4°C',
		})
		const second = await turn()
		expect(second?.content).toBe('It rains in Oslo.')
		const replayed = g.upstream.requests[1]?.body.messages[1].content
		expect(replayed[0]).toMatchObject({ type: 'thinking', signature: expect.any(String) })
		expect(replayed[1]).toMatchObject({ type: 'tool_use', id: call.id, name: 'get_weather' })
		expect((await g.rows()).map((row) => row.status)).toEqual([200, 200])
	})

	it('carries a redacted thinking block back to the model that wrote it', async () => {
		await using g = await startGateway()
		g.upstream.script(
			'claude-opus-5-5',
			{ kind: 'reply', toolCalls: [osloCall], redactedThinking: true },
			{ kind: 'reply', text: 'Rain.' },
		)
		const params = { model: 'anthropic/claude-opus-5-5', tools: [weather] }
		const first = (await g.openai.chat.completions.create({ ...params, messages: askWeather })).choices[0]
			?.message
		const blocks = (first as unknown as { thinking_blocks: unknown[] }).thinking_blocks
		expect(blocks).toEqual([
			{ type: 'redacted_thinking', data: expect.any(String), model: 'anthropic/claude-opus-5-5' },
		])
		const call = first?.tool_calls?.[0]
		if (!first || !call) throw new Error('no tool call')
		const messages = [...askWeather, first, { role: 'tool', tool_call_id: call.id, content: 'rain' }]
		const second = await g.openai.chat.completions.create({
			...params,
			messages: messages as ChatCompletionMessageParam[],
		})
		expect(second.choices[0]?.message.content).toBe('Rain.')
		expect(g.upstream.requests[1]?.body.messages[1].content[0]).toMatchObject({ type: 'redacted_thinking' })
	})

	it('continues another model’s tool call on Haiku 5.5 with thinking off, and says so', async () => {
		await using g = await startGateway()
		const messages = [
			...askWeather,
			{
				role: 'assistant',
				content: null,
				tool_calls: [{ id: 'call_1', type: 'function', function: osloCall }],
				thinking_blocks: [
					{ type: 'thinking', thinking: '', signature: 'c2ln', model: 'anthropic/claude-opus-5-5' },
				],
			},
			{ role: 'tool', tool_call_id: 'call_1', content: 'rain' },
		] as ChatCompletionMessageParam[]
		const { data, response } = await create(g, {
			model: 'anthropic/claude-haiku-5-5',
			messages,
			tools: [weather],
		})
		expect(data.choices[0]?.message.content).toBe('Hello from claude-haiku-5-5')
		expect(response.headers.get('x-switchyard-adjusted')).toContain('thinking off')
		expect(g.upstream.requests[0]?.body.thinking).toEqual({ type: 'disabled' })
	})

	it('maps reasoning_effort to output_config.effort, and none to thinking off where the model can', async () => {
		await using g = await startGateway()
		await create(g, { model: 'anthropic/claude-opus-5-5', messages: hello, reasoning_effort: 'high' })
		await create(g, { model: 'anthropic/claude-sonnet-5-5', messages: hello, reasoning_effort: 'none' })
		expect(g.upstream.requests.map((request) => [request.body.thinking, request.body.output_config])).toEqual(
			[
				[{ type: 'adaptive', display: 'summarized' }, { effort: 'high' }],
				[{ type: 'between_tools' }, { effort: 'low' }],
			],
		)
	})

	it('skips Claude Sonnet 5.5 for a forced tool_choice, which it refuses, and says why', async () => {
		await using g = await startGateway()
		const params = { messages: askWeather, tools: [weather], tool_choice: 'required' as const }
		expect(await refusalOf(create(g, { ...params, model: 'anthropic/claude-sonnet-5-5' }))).toMatchObject({
			status: 400,
			code: 'model_incapable',
			message: expect.stringContaining('forced tool_choice'),
		})
		await g.onlyTier(['anthropic/claude-sonnet-5-5', 'openai/gpt-6.1-terra'])
		g.upstream.script('gpt-6.1-terra', { kind: 'reply', toolCalls: [osloCall] })
		const { response } = await create(g, { ...params, model: 'auto' })
		expect(response.headers.get('x-switchyard-model')).toBe('openai/gpt-6.1-terra')
		expect(g.upstream.requests.map((request) => request.format)).toEqual(['openai-responses'])
		const preview = await g.t.call('POST', '/api/rules/test', {
			token: g.token,
			body: { request: { model: 'auto', ...params } },
		})
		const { candidates } = (await preview.json()) as { candidates: { model: string; skipped?: string }[] }
		expect(candidates[0]).toMatchObject({
			model: 'anthropic/claude-sonnet-5-5',
			skipped: expect.stringContaining('does not accept a forced tool_choice'),
		})
	})

	it('skips Haiku 5.5 for a prefill, and sends it to a model that takes one', async () => {
		await using g = await startGateway()
		const messages = [...hello, { role: 'assistant' as const, content: 'Bonjour' }]
		expect(await refusalOf(create(g, { model: 'anthropic/claude-haiku-5-5', messages }))).toMatchObject({
			code: 'model_incapable',
		})
		await g.onlyTier(['anthropic/claude-haiku-5-5', 'anthropic/claude-haiku-4-5'])
		const { response } = await create(g, { model: 'auto', messages })
		expect(response.headers.get('x-switchyard-model')).toBe('anthropic/claude-haiku-4-5')
		expect(g.upstream.requests[0]?.body.messages.at(-1)).toEqual({ role: 'assistant', content: 'Bonjour' })
	})

	it('sends cache_control to Anthropic and prices 1-hour writes at their own rate', async () => {
		await using g = await startGateway()
		const messages = [
			{
				role: 'system',
				content: 'House rules. '.repeat(1500),
				cache_control: { type: 'ephemeral', ttl: '1h' },
			},
			...hello,
		] as ChatCompletionMessageParam[]
		const first = await create(g, { model: 'anthropic/claude-haiku-5-5', messages })
		const second = await create(g, { model: 'anthropic/claude-haiku-5-5', messages })
		expect(g.upstream.requests[0]?.body.system).toEqual([
			{ type: 'text', text: 'House rules. '.repeat(1500), cache_control: { type: 'ephemeral', ttl: '1h' } },
		])
		// The system text to its breakpoint: 19,500 characters / 4 = 4,875 tokens; "Hello" adds 2.
		expect(first.data.usage?.prompt_tokens_details?.cache_write_tokens).toBe(4875)
		expect(second.data.usage?.prompt_tokens_details?.cached_tokens).toBe(4875)
		const [row] = await g.rows()
		// claude-haiku-5-5 at $0.10 input, $0.20 1-hour cache write, $0.50 output per million, for 3 words
		// and 48 thinking tokens: (2 × 0.10 + 4875 × 0.20 + 51 × 0.50) / 1M = $0.0010007.
		expect(row).toMatchObject({
			promptTokens: 4877,
			cacheWriteTokens: 4875,
			completionTokens: 51,
			costUsd: expect.closeTo(0.0010007, 12),
		})
	})
})

describe('fallback', () => {
	it.each([
		[402, 'billing_error'],
		[529, 'overloaded_error'],
	])('moves on after an Anthropic %d %s', async (status) => {
		await using g = await startGateway()
		await g.onlyTier(['anthropic/claude-haiku-5-5', 'openai/gpt-6-luna'])
		g.upstream.script('claude-haiku-5-5', { kind: 'error', status })
		const { response } = await create(g, { model: 'auto', messages: hello })
		expect(response.headers.get('x-switchyard-model')).toBe('openai/gpt-6-luna')
		expect((await g.rows())[0]?.attempts.map((attempt) => attempt.status)).toEqual([status, 200])
	})

	it('moves on after Anthropic’s 400 for an exhausted credit balance, which is the account’s, not the caller’s', async () => {
		await using g = await startGateway()
		await g.onlyTier(['anthropic/claude-haiku-5-5', 'openai/gpt-6-luna'])
		const message =
			'Your credit balance is too low to access the Anthropic API. Please go to Plans & Billing to upgrade or purchase credits.'
		g.upstream.script('claude-haiku-5-5', { kind: 'error', status: 400, message })
		const { response } = await create(g, { model: 'auto', messages: hello })
		expect(response.headers.get('x-switchyard-model')).toBe('openai/gpt-6-luna')
		expect((await g.rows())[0]?.attempts.map((attempt) => attempt.status)).toEqual([402, 200])
	})

	it('moves on after a 404 from a model its provider retired, when the catalog still lists it', async () => {
		await using g = await startGateway(
			{},
			{ catalog: { models: [{ id: 'claude-sonnet-4-5', provider: 'anthropic', retiresAt: '2099-01-01' }] } },
		)
		await g.onlyTier(['anthropic/claude-sonnet-4-5', 'anthropic/claude-sonnet-5-5'])
		const { response } = await create(g, { model: 'auto', messages: hello })
		expect(response.headers.get('x-switchyard-model')).toBe('anthropic/claude-sonnet-5-5')
		expect((await g.rows())[0]?.attempts).toMatchObject([
			{ model: 'anthropic/claude-sonnet-4-5', status: 404 },
			{ model: 'anthropic/claude-sonnet-5-5', status: 200 },
		])
	})

	it('moves on when a candidate cannot translate the request, first or after a failure', async () => {
		await using g = await startGateway()
		const bmp = [
			{
				role: 'user' as const,
				content: [{ type: 'image_url' as const, image_url: { url: 'data:image/bmp;base64,Qk0=' } }],
			},
		]
		await g.onlyTier(['anthropic/claude-haiku-5-5', 'openai/gpt-6-luna'])
		const first = await create(g, { model: 'auto', messages: bmp })
		expect(first.response.headers.get('x-switchyard-model')).toBe('openai/gpt-6-luna')
		await g.onlyTier(['openai/gpt-6-luna', 'anthropic/claude-haiku-5-5', 'openai/gpt-6.1-terra'])
		g.upstream.script('gpt-6-luna', { kind: 'error', status: 503 })
		const second = await create(g, { model: 'auto', messages: bmp })
		expect(second.response.headers.get('x-switchyard-model')).toBe('openai/gpt-6.1-terra')
		expect(g.upstream.requests.map((request) => request.body.model)).toEqual([
			'gpt-6-luna',
			'gpt-6-luna',
			'gpt-6.1-terra',
		])
	})

	it('lists every attempt when all fail', async () => {
		await using g = await startGateway()
		await g.onlyTier(['anthropic/claude-haiku-5-5', 'openai/gpt-6-luna'])
		g.upstream.script('claude-haiku-5-5', { kind: 'error', status: 529 })
		g.upstream.script('gpt-6-luna', { kind: 'error', status: 503 })
		const res = await g.fetch('/chat/completions', {
			method: 'POST',
			body: JSON.stringify({ model: 'auto', messages: hello }),
		})
		expect(res.status).toBe(502)
		const { error } = (await res.json()) as { error: { message: string } }
		expect(error.message).toContain('anthropic/claude-haiku-5-5: HTTP 529')
		expect(error.message).toContain('openai/gpt-6-luna: HTTP 503')
	})

	it('falls back from a Claude stream that opens and then reports overloaded, pricing its input tokens', async () => {
		await using g = await startGateway()
		await g.onlyTier(['anthropic/claude-haiku-5-5', 'openai/gpt-6-luna'])
		g.upstream.script('claude-haiku-5-5', { kind: 'fail-mid-stream', afterChunks: 1 })
		const { message } = await assemble(
			await g.openai.chat.completions.create({ model: 'auto', messages: hello, stream: true }),
		)
		expect(message.content).toBe('Hello from gpt-6-luna')
		const [row] = await g.rows()
		const [failed, answered] = row?.attempts ?? []
		// The broken stream's message_start billed "Hello" (2 tokens) and 1 output token, at claude-haiku-5-5's
		// $0.10 and $0.50 per million: (2 × 0.10 + 1 × 0.50) / 1M = $0.0000007.
		expect(failed).toMatchObject({
			model: 'anthropic/claude-haiku-5-5',
			status: 529,
			costUsd: expect.closeTo(0.0000007, 12),
		})
		expect(answered).toMatchObject({ model: 'openai/gpt-6-luna', status: 200 })
		// Both attempts: gpt-6-luna answered 2 prompt tokens and 51 output at the same prices, $0.0000257.
		expect(row).toMatchObject({
			promptTokens: 4,
			completionTokens: 52,
			costUsd: expect.closeTo(0.0000264, 12),
		})
	})

	it('logs and prices the input tokens of a Claude stream that breaks after content', async () => {
		await using g = await startGateway()
		g.upstream.script('claude-haiku-5-5', { kind: 'stream-error', afterChunks: 4 })
		const res = await g.fetch('/chat/completions', {
			method: 'POST',
			body: JSON.stringify({ model: 'anthropic/claude-haiku-5-5', messages: hello, stream: true }),
		})
		expect(res.status).toBe(200)
		const last = JSON.parse((await readEvents(res)).at(-1) ?? '{}') as { error?: { type: string } }
		expect(last.error?.type).toBe('upstream_error')
		const [row] = await g.rows()
		// "Hello", 2 tokens, and the 1 output token message_start reported, at claude-haiku-5-5's $0.10 and
		// $0.50 per million: (2 × 0.10 + 1 × 0.50) / 1M = $0.0000007.
		expect(row).toMatchObject({
			status: 502,
			usageReported: true,
			promptTokens: 2,
			completionTokens: 1,
			costUsd: expect.closeTo(0.0000007, 12),
		})
	})

	it('falls back from an OpenAI stream that reports an error before any content', async () => {
		await using g = await startGateway()
		await g.onlyTier(['openai/gpt-6-luna', 'anthropic/claude-haiku-5-5'])
		g.upstream.script('gpt-6-luna', { kind: 'stream-error', afterChunks: 1 })
		const { message } = await assemble(
			await g.openai.chat.completions.create({ model: 'auto', messages: hello, stream: true }),
		)
		expect(message.content).toBe('Hello from claude-haiku-5-5')
	})
})

describe('answers and fields', () => {
	it('passes OpenAI prompt-cache fields through, to both APIs', async () => {
		await using g = await startGateway()
		const cache = { prompt_cache_key: 'team-search', prompt_cache_retention: '24h' as const }
		await create(g, { model: 'gpt-6-luna', messages: hello, ...cache })
		await create(g, { model: 'gpt-6-luna', messages: askWeather, tools: [weather], ...cache })
		expect(g.upstream.requests.map((request) => [request.format, request.body.prompt_cache_key])).toEqual([
			['openai', 'team-search'],
			['openai-responses', 'team-search'],
		])
	})

	it.each([
		['refusal', 'content_filter'],
		['max_tokens', 'length'],
		['model_context_window_exceeded', 'length'],
		['pause_turn', 'stop'],
	] as const)('maps Claude’s %s stop to finish_reason %s', async (stopReason, finishReason) => {
		await using g = await startGateway()
		g.upstream.script('claude-sonnet-5-5', { kind: 'reply', stopReason })
		const { data } = await create(g, { model: 'anthropic/claude-sonnet-5-5', messages: hello })
		expect(data.choices[0]?.finish_reason).toBe(finishReason)
	})
})

describe('retired models', () => {
	it('are never called: not listed, a named one is 404 naming the replacement, auto skips them', async () => {
		await using g = await startGateway()
		const ids = (await g.openai.models.list()).data.map((model) => model.id)
		expect(ids).toContain('anthropic/claude-sonnet-5-5')
		expect(ids).not.toContain('anthropic/claude-sonnet-4-5')
		const res = await g.fetch('/chat/completions', {
			method: 'POST',
			body: JSON.stringify({ model: 'claude-sonnet-4-5', messages: hello }),
		})
		expect(res.status).toBe(404)
		const { error } = (await res.json()) as { error: { code: string; message: string } }
		expect(error).toMatchObject({
			code: 'model_not_found',
			message: expect.stringContaining('anthropic/claude-sonnet-5-5'),
		})
		await g.onlyTier(['anthropic/claude-sonnet-4-5', 'anthropic/claude-sonnet-5-5'])
		await create(g, { model: 'auto', messages: hello })
		expect(g.upstream.requests.map((request) => request.body.model)).toEqual(['claude-sonnet-5-5'])
	})
})

describe('OpenAI-compatible providers', () => {
	it('gives Mistral only its own fields, usage included without stream_options', async () => {
		await using g = await startGateway({}, { compatibleProviders: true })
		const { message } = await assemble(
			await g.openai.chat.completions.create({
				model: 'mistral/mistral-small-2603',
				messages: hello,
				max_completion_tokens: 100,
				seed: 7,
				stream: true,
			}),
		)
		expect(message.content).toBe('Hello from mistral-small-2603')
		expect(g.upstream.requests[0]?.body).toEqual({
			model: 'mistral-small-2603',
			messages: hello,
			max_tokens: 100,
			random_seed: 7,
			stream: true,
		})
		expect((await g.rows())[0]).toMatchObject({ status: 200, usageReported: true })
	})

	it('drops what Groq refuses', async () => {
		await using g = await startGateway({}, { compatibleProviders: true })
		const { response } = await create(g, {
			model: 'groq/openai/gpt-oss-20b',
			messages: hello,
			logprobs: true,
		})
		expect(response.headers.get('x-switchyard-dropped')).toBe('logprobs')
	})

	it('gives DeepSeek the reasoning_content its thinking mode wants back on tool-call turns', async () => {
		await using g = await startGateway({}, { compatibleProviders: true })
		const messages = [
			...askWeather,
			{
				role: 'assistant',
				content: null,
				tool_calls: [{ id: 'call_1', type: 'function', function: osloCall }],
			},
			{ role: 'tool', tool_call_id: 'call_1', content: 'rain' },
		] as ChatCompletionMessageParam[]
		const { data } = await create(g, { model: 'deepseek/deepseek-flash', messages, tools: [weather] })
		expect(data.choices[0]?.message.content).toBe('Hello from deepseek-flash')
		expect(g.upstream.requests[0]?.body.messages[1].reasoning_content).toBe('')
	})
})

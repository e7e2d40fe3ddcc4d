import { describe, expect, it } from 'bun:test'
import Anthropic from '@anthropic-ai/sdk'
import {
	anthropicClient,
	gatewayRoot,
	loggedRequests,
	namedEvents,
	received,
	switchyardHeaders,
} from '../../helpers/doors'
import { startGateway } from '../../helpers/gateway'

// `POST /v1/messages` as a user of @anthropic-ai/sdk sees it: the SDK pointed at the running gateway, the
// strict fake upstream behind it. Anthropic models get the body untouched; the others, a translation.

const tools: Anthropic.Tool[] = [
	{
		name: 'get_weather',
		description: 'Current weather for a city',
		input_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
	},
]

const weatherCall = { name: 'get_weather', arguments: '{"city":"Oslo"}' }
const question: Anthropic.MessageParam = { role: 'user', content: 'Weather in Oslo?' }

/** The conversation after the model called the tool: its own turn, as it came, then the tool's result. */
function withToolResult(answer: Anthropic.Message): Anthropic.MessageParam[] {
	const call = answer.content.find((block) => block.type === 'tool_use')
	if (!call) throw new Error(`no tool_use in ${JSON.stringify(answer.content)}`)
	return [
		question,
		{ role: 'assistant', content: answer.content as Anthropic.ContentBlockParam[] },
		{ role: 'user', content: [{ type: 'tool_result', tool_use_id: call.id, content: '18°C, cloudy' }] },
	]
}

describe('POST /v1/messages to Anthropic models', () => {
	it('sends the body untouched but the model, with the caller’s anthropic-version and anthropic-beta', async () => {
		await using g = await startGateway()
		const client = anthropicClient(g, { headers: { 'anthropic-version': '2023-06-01' } })
		const body = {
			model: 'anthropic/claude-sonnet-5-5',
			max_tokens: 2048,
			system: [{ type: 'text', text: 'You are terse.', cache_control: { type: 'ephemeral' } }],
			messages: [question],
			tools,
			thinking: { type: 'adaptive' },
			context_management: { edits: [{ type: 'clear_thinking_20251015', keep: 'all' }] },
			metadata: { user_id: 'user-1' },
		}
		const { data, response } = await client.beta.messages
			.create({
				...body,
				betas: ['context-management-2025-06-27'],
			} as Anthropic.Beta.MessageCreateParamsNonStreaming)
			.withResponse()
		expect(data.content.map((block) => block.type)).toEqual(['thinking', 'text'])
		expect(data.content[1]).toMatchObject({ type: 'text', text: 'Hello from claude-sonnet-5-5' })
		const [sent] = received(g, 'anthropic')
		expect(sent?.path).toBe('/v1/messages')
		expect(sent?.body).toEqual({ ...body, model: 'claude-sonnet-5-5', stream: false })
		expect(sent?.headers['anthropic-version']).toBe('2023-06-01')
		expect(sent?.headers['anthropic-beta']).toBe('context-management-2025-06-27')
		expect(switchyardHeaders(response.headers)).toEqual({
			'x-switchyard-request-id': expect.stringMatching(/^req_/),
			'x-switchyard-provider': 'anthropic',
			'x-switchyard-model': 'anthropic/claude-sonnet-5-5',
			'x-switchyard-rule': 'explicit',
			'x-switchyard-attempts': '1',
			'x-switchyard-cost-usd': expect.stringMatching(/^0\.\d{8}$/),
		})
		expect(Number(response.headers.get('x-switchyard-cost-usd'))).toBeGreaterThan(0)
	})

	it('streams a tool call with its signed thinking, and takes them back with the tool’s result', async () => {
		await using g = await startGateway()
		g.upstream.script('claude-sonnet-5-5', { kind: 'reply', toolCalls: [weatherCall] })
		const client = anthropicClient(g)
		const request = {
			model: 'claude-sonnet-5-5',
			max_tokens: 2048,
			tools,
			thinking: { type: 'adaptive' as const },
		}
		const first = client.messages.stream({ ...request, messages: [question] })
		const names: string[] = []
		for await (const event of first) names.push(event.type)
		const turn1 = await first.finalMessage()
		expect(names[0]).toBe('message_start')
		expect(names.slice(-2)).toEqual(['message_delta', 'message_stop'])
		expect(turn1.stop_reason).toBe('tool_use')
		expect<unknown>(turn1.content).toEqual([
			{ type: 'thinking', thinking: '', signature: expect.any(String) },
			{
				type: 'tool_use',
				id: expect.stringMatching(/^toolu_/),
				name: 'get_weather',
				input: { city: 'Oslo' },
			},
		])
		// The fake checks the thinking block's signature and that it opens the tool-use turn (AN-11, AN-14).
		const second = client.messages.stream({ ...request, messages: withToolResult(turn1) })
		const turn2 = await second.finalMessage()
		expect(turn2.content.at(-1)).toMatchObject({ type: 'text', text: 'Hello from claude-sonnet-5-5' })
		const sent = received(g, 'anthropic')
		expect(sent.map((request) => request.body.stream)).toEqual([true, true])
		expect(sent[1]?.body.messages).toEqual(JSON.parse(JSON.stringify(withToolResult(turn1))))
		expect(turn2.usage.output_tokens).toBeGreaterThan(0)
	})

	it('relays Anthropic’s own stream events unchanged', async () => {
		await using g = await startGateway()
		const res = await g.fetch('/messages', {
			method: 'POST',
			headers: { 'anthropic-version': '2023-06-01' },
			body: JSON.stringify({
				model: 'claude-haiku-5-5',
				max_tokens: 256,
				stream: true,
				messages: [{ role: 'user', content: 'Hi' }],
			}),
		})
		expect(res.status).toBe(200)
		expect(res.headers.get('content-type')).toStartWith('text/event-stream')
		const events = namedEvents(await res.text())
		expect(events.every(({ event, data }) => event === data.type)).toBe(true)
		expect(events.map(({ event }) => event)).toEqual([
			'message_start',
			'content_block_start',
			'ping',
			'content_block_delta',
			'content_block_stop',
			'content_block_start',
			'content_block_delta',
			'content_block_delta',
			'content_block_delta',
			'content_block_stop',
			'message_delta',
			'message_stop',
		])
		expect(events[0]?.data.message.model).toBe('claude-haiku-5-5')
	})
})

describe('POST /v1/messages to OpenAI models, translated', () => {
	it('answers a tool call the SDK parses, then the tool’s result as a tool message', async () => {
		await using g = await startGateway()
		g.upstream.script('gpt-4.1', { kind: 'reply', toolCalls: [weatherCall] })
		const client = anthropicClient(g)
		const request = { model: 'openai/gpt-4.1', max_tokens: 1024, tools, system: 'You are terse.' }
		const { data: turn1, response } = await client.messages
			.create({ ...request, messages: [question] })
			.withResponse()
		// A copy: Bun 1.4.5's toMatchObject writes its asymmetric matchers into the object it checks.
		expect(structuredClone(turn1)).toMatchObject({
			type: 'message',
			role: 'assistant',
			model: 'gpt-4.1',
			stop_reason: 'tool_use',
			content: [{ type: 'tool_use', id: expect.any(String), name: 'get_weather', input: { city: 'Oslo' } }],
		})
		expect(turn1.usage.input_tokens).toBeGreaterThan(0)
		expect(turn1.usage.output_tokens).toBeGreaterThan(0)
		expect(response.headers.get('x-switchyard-provider')).toBe('openai')
		const turn2 = await client.messages.create({ ...request, messages: withToolResult(turn1) })
		expect<unknown>(turn2.content).toEqual([{ type: 'text', text: 'Hello from gpt-4.1' }])
		expect(turn2.stop_reason).toBe('end_turn')
		const sent = received(g, 'openai')
		const toolUse = turn1.content[0] as Anthropic.ToolUseBlock
		expect(sent[0]?.body.messages).toEqual([
			{ role: 'system', content: 'You are terse.' },
			{ role: 'user', content: 'Weather in Oslo?' },
		])
		expect(sent[1]?.body.messages.slice(2)).toEqual([
			{
				role: 'assistant',
				content: null,
				tool_calls: [
					{
						id: toolUse.id,
						type: 'function',
						function: { name: 'get_weather', arguments: '{"city":"Oslo"}' },
					},
				],
			},
			{ role: 'tool', tool_call_id: toolUse.id, content: '18°C, cloudy' },
		])
	})

	it('streams Anthropic’s event sequence with usage in message_delta, tool calls included', async () => {
		await using g = await startGateway()
		g.upstream.script('gpt-6.1-terra', { kind: 'reply', toolCalls: [weatherCall] })
		const client = anthropicClient(g)
		const request = { model: 'openai/gpt-6.1-terra', max_tokens: 1024, tools }
		const stream = client.messages.stream({ ...request, messages: [question] })
		const events: Anthropic.MessageStreamEvent[] = []
		for await (const event of stream) events.push(event)
		const turn1 = await stream.finalMessage()
		expect(events[0]?.type).toBe('message_start')
		expect(events.at(-1)?.type).toBe('message_stop')
		const delta = events.find((event) => event.type === 'message_delta') as Anthropic.MessageDeltaEvent
		expect(delta.delta.stop_reason).toBe('tool_use')
		expect(delta.usage.output_tokens).toBeGreaterThan(0)
		expect(delta.usage.input_tokens).toBeGreaterThan(0)
		expect<unknown>(turn1.content).toEqual([
			{ type: 'tool_use', id: expect.any(String), name: 'get_weather', input: { city: 'Oslo' } },
		])
		const second = client.messages.stream({ ...request, messages: withToolResult(turn1) })
		let text = ''
		second.on('text', (delta) => {
			text += delta
		})
		const turn2 = await second.finalMessage()
		expect(text).toBe('Hello from gpt-6.1-terra')
		expect(turn2.stop_reason).toBe('end_turn')
		expect(turn2.usage.output_tokens).toBeGreaterThan(0)
	})

	it('reports the model that answered in the stream’s message_start, as the JSON answer does', async () => {
		await using g = await startGateway()
		const client = anthropicClient(g)
		const request = { model: 'openai/gpt-6-luna', max_tokens: 256, messages: [question] }
		const json = await client.messages.create(request)
		const streamed = await client.messages.stream(request).finalMessage()
		expect(json.model).toBe('gpt-6-luna')
		expect(streamed.model).toBe(json.model)
	})

	it('turns thinking into the reasoning effort the OpenAI model takes', async () => {
		await using g = await startGateway()
		const client = anthropicClient(g)
		const answer = await client.messages.create({
			model: 'openai/gpt-6.1-terra',
			max_tokens: 4096,
			thinking: { type: 'adaptive' },
			output_config: { effort: 'low' },
			messages: [question],
		})
		expect<unknown>(answer.content.at(-1)).toEqual({ type: 'text', text: 'Hello from gpt-6.1-terra' })
		const [sent] = received(g, 'openai')
		expect(sent?.body.reasoning_effort).toBe('low')
		expect(sent?.body.thinking).toBeUndefined()
	})
})

describe('POST /v1/messages routing', () => {
	it('routes model auto by the rules and says so in the headers', async () => {
		await using g = await startGateway()
		const { data, response } = await anthropicClient(g)
			.messages.create({ model: 'auto', max_tokens: 256, messages: [{ role: 'user', content: 'Hi' }] })
			.withResponse()
		expect<unknown>(data.content).toEqual([{ type: 'text', text: 'Hello from gpt-6-luna' }])
		expect(switchyardHeaders(response.headers)).toMatchObject({
			'x-switchyard-tier': 'simple',
			'x-switchyard-rule': 'short-chat',
			'x-switchyard-model': 'openai/gpt-6-luna',
		})
	})

	it('sends an auto request routed to Anthropic untouched but the model', async () => {
		await using g = await startGateway()
		await g.onlyTier(['anthropic/claude-haiku-5-5'])
		const body = { model: 'auto', max_tokens: 256, messages: [question], tools }
		await anthropicClient(g).messages.create(body)
		expect(received(g, 'anthropic')[0]?.body).toEqual({ ...body, model: 'claude-haiku-5-5', stream: false })
	})

	it('falls back from a failing Anthropic model to the next candidate', async () => {
		await using g = await startGateway()
		await g.onlyTier(['anthropic/claude-haiku-5-5', 'openai/gpt-6-luna'])
		g.upstream.script('claude-haiku-5-5', { kind: 'error', status: 529 })
		const { data, response } = await anthropicClient(g)
			.messages.create({ model: 'auto', max_tokens: 256, messages: [question] })
			.withResponse()
		expect<unknown>(data.content).toEqual([{ type: 'text', text: 'Hello from gpt-6-luna' }])
		expect(response.headers.get('x-switchyard-attempts')).toBe('2')
		expect(response.headers.get('x-switchyard-model')).toBe('openai/gpt-6-luna')
	})

	it('falls back when Anthropic’s stream fails before any content, and the client sees one clean stream', async () => {
		await using g = await startGateway()
		await g.onlyTier(['anthropic/claude-haiku-5-5', 'openai/gpt-6-luna'])
		// message_start, then overloaded_error: nothing of it has reached the client yet.
		g.upstream.script('claude-haiku-5-5', { kind: 'stream-error', afterChunks: 1 })
		const stream = anthropicClient(g).messages.stream({
			model: 'auto',
			max_tokens: 256,
			messages: [question],
		})
		const names: string[] = []
		for await (const event of stream) names.push(event.type)
		const answer = await stream.finalMessage()
		expect<unknown>(answer.content).toEqual([{ type: 'text', text: 'Hello from gpt-6-luna' }])
		expect(names.filter((name) => name === 'message_start')).toHaveLength(1)
		const [row] = await loggedRequests(g)
		expect(row).toMatchObject({ door: 'messages', status: 200, model: 'openai/gpt-6-luna' })
	})
})

describe('POST /v1/messages failures', () => {
	it('ends a stream that fails midway with an Anthropic error event, from Anthropic and from OpenAI', async () => {
		await using g = await startGateway()
		g.upstream.script('claude-haiku-5-5', { kind: 'stream-error', afterChunks: 5 })
		g.upstream.script('gpt-6-luna', { kind: 'fail-mid-stream', afterChunks: 3 })
		// Anthropic's own error type passes through (its overloaded_error); a broken OpenAI stream is api_error.
		const expected = { 'anthropic/claude-haiku-5-5': 'overloaded_error', 'openai/gpt-6-luna': 'api_error' }
		for (const [model, type] of Object.entries(expected)) {
			const res = await g.fetch('/messages', {
				method: 'POST',
				body: JSON.stringify({ model, max_tokens: 256, stream: true, messages: [question] }),
			})
			expect(res.status).toBe(200)
			const events = namedEvents(await res.text())
			expect(events.filter(({ event }) => event === 'error')).toHaveLength(1)
			expect(events.at(-1)).toEqual({
				event: 'error',
				data: {
					type: 'error',
					error: {
						type,
						message: expect.stringContaining('failed mid-stream'),
						details: { error_code: 'upstream_error' },
					},
				},
			})
			expect(events.some(({ event }) => event === 'message_stop')).toBe(false)
		}
		g.upstream.script('claude-haiku-5-5', { kind: 'stream-error', afterChunks: 5 })
		const stream = anthropicClient(g).messages.stream({
			model: 'anthropic/claude-haiku-5-5',
			max_tokens: 256,
			messages: [question],
		})
		const failed = await stream.finalMessage().catch((error) => error)
		expect(failed).toBeInstanceOf(Anthropic.APIError)
		expect(failed.error).toMatchObject({ type: 'error', error: { type: 'overloaded_error' } })
		const rows = await loggedRequests(g)
		expect(rows.map(({ door, status }) => ({ door, status }))).toEqual([
			{ door: 'messages', status: 502 },
			{ door: 'messages', status: 502 },
			{ door: 'messages', status: 502 },
		])
	})

	it('refuses a request without a key with 401 in Anthropic’s shape', async () => {
		await using g = await startGateway()
		const res = await fetch(`${gatewayRoot(g)}/v1/messages`, {
			method: 'POST',
			headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
			body: JSON.stringify({ model: 'auto', max_tokens: 10, messages: [question] }),
		})
		expect(res.status).toBe(401)
		expect(await res.json()).toEqual({
			type: 'error',
			error: {
				type: 'authentication_error',
				message: expect.any(String),
				details: { error_code: 'invalid_api_key' },
			},
		})
		const wrongKey = anthropicClient(g, { apiKey: 'sy_nope.wrong' })
		const refused = await wrongKey.messages
			.create({ model: 'auto', max_tokens: 10, messages: [question] })
			.catch((error) => error)
		expect(refused).toBeInstanceOf(Anthropic.AuthenticationError)
		expect(refused.error).toMatchObject({ type: 'error', error: { type: 'authentication_error' } })
	})

	it('refuses an invalid body with 400 and an unknown model with 404, as the SDK’s own error classes', async () => {
		await using g = await startGateway()
		const client = anthropicClient(g)
		const invalid = await client.messages
			.create({ model: 'anthropic/claude-haiku-5-5', max_tokens: 10, messages: 'Hi' } as never)
			.catch((error) => error)
		expect(invalid).toBeInstanceOf(Anthropic.BadRequestError)
		expect(invalid.error).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } })
		expect(invalid.headers.get('x-switchyard-request-id')).toMatch(/^req_/)
		const unknown = await client.messages
			.create({ model: 'anthropic/claude-nonexistent-9', max_tokens: 10, messages: [question] })
			.catch((error) => error)
		expect(unknown).toBeInstanceOf(Anthropic.NotFoundError)
		expect(unknown.error).toEqual({
			type: 'error',
			error: {
				type: 'not_found_error',
				message: expect.stringContaining('claude-nonexistent-9'),
				details: { error_code: 'model_not_found' },
			},
		})
		const malformed = await g.fetch('/messages', { method: 'POST', body: '{"model":' })
		expect(malformed.status).toBe(400)
		expect((await malformed.json()).error.type).toBe('invalid_request_error')
		expect(g.upstream.requests).toHaveLength(0)
		const rows = await loggedRequests(g)
		expect(rows.map(({ door, status }) => ({ door, status }))).toEqual([
			{ door: 'messages', status: 400 },
			{ door: 'messages', status: 404 },
			{ door: 'messages', status: 400 },
		])
	})
})

describe('POST /v1/messages/count_tokens', () => {
	it('asks Anthropic for a request going to an Anthropic model, with the caller’s version and betas', async () => {
		await using g = await startGateway()
		g.upstream.script('count_tokens:claude-sonnet-5-5', { kind: 'reply', usage: { prompt: 1234 } })
		const client = anthropicClient(g, { headers: { 'anthropic-beta': 'interleaved-thinking-2025-05-14' } })
		const body = {
			model: 'anthropic/claude-sonnet-5-5',
			system: 'You are terse.',
			messages: [question],
			tools,
		}
		const { data, response } = await client.messages.countTokens(body).withResponse()
		expect(data).toEqual({ input_tokens: 1234 })
		expect(response.headers.get('x-switchyard-estimated')).toBe('false')
		const [sent] = received(g, 'anthropic-count-tokens')
		expect(sent?.body).toEqual({ ...body, model: 'claude-sonnet-5-5' })
		expect(sent?.headers['anthropic-beta']).toBe('interleaved-thinking-2025-05-14')
		expect(sent?.headers['anthropic-version']).toBe('2026-10-21')
	})

	it('estimates for a request going to an OpenAI model, and calls no upstream', async () => {
		await using g = await startGateway()
		const { data, response } = await anthropicClient(g)
			.messages.countTokens({ model: 'openai/gpt-6-luna', messages: [question] })
			.withResponse()
		expect(data.input_tokens).toBeGreaterThan(0)
		expect(response.headers.get('x-switchyard-estimated')).toBe('true')
		expect(g.upstream.requests).toHaveLength(0)
	})

	it('refuses a request without a key in Anthropic’s shape', async () => {
		await using g = await startGateway()
		const refused = await anthropicClient(g, { apiKey: 'sy_nope.wrong' })
			.messages.countTokens({ model: 'auto', messages: [question] })
			.catch((error) => error)
		expect(refused).toBeInstanceOf(Anthropic.AuthenticationError)
	})
})

describe('POST /v1/messages in the request log', () => {
	it('logs every request once, door messages, with its cost', async () => {
		await using g = await startGateway()
		const client = anthropicClient(g)
		for (const model of ['anthropic/claude-haiku-5-5', 'openai/gpt-6-luna']) {
			await client.messages.create({ model, max_tokens: 256, messages: [question] })
			await client.messages.stream({ model, max_tokens: 256, messages: [question] }).finalMessage()
		}
		const rows = await loggedRequests(g)
		expect(rows.map(({ door, model, status }) => ({ door, model, status }))).toEqual([
			{ door: 'messages', model: 'anthropic/claude-haiku-5-5', status: 200 },
			{ door: 'messages', model: 'anthropic/claude-haiku-5-5', status: 200 },
			{ door: 'messages', model: 'openai/gpt-6-luna', status: 200 },
			{ door: 'messages', model: 'openai/gpt-6-luna', status: 200 },
		])
		for (const row of rows) {
			expect(row.costUsd).toBeGreaterThan(0)
			expect(row.promptTokens).toBeGreaterThan(0)
			expect(row.completionTokens).toBeGreaterThan(0)
		}
	})
})

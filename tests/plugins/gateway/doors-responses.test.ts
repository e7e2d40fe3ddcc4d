import { describe, expect, it } from 'bun:test'
import OpenAI from 'openai'
import type {
	FunctionTool,
	Response,
	ResponseInputItem,
	ResponseStreamEvent,
} from 'openai/resources/responses/responses'
import { gatewayRoot, loggedRequests, otherUser, received, switchyardHeaders } from '../../helpers/doors'
import { startGateway } from '../../helpers/gateway'

// `POST /v1/responses` as a user of the `openai` SDK sees it: the SDK pointed at the running gateway, the
// strict fake upstream behind it. OpenAI gets the body untouched (but `store: false`); Claude, a translation.

const tools: FunctionTool[] = [
	{
		type: 'function',
		name: 'get_weather',
		description: 'Current weather for a city',
		parameters: {
			type: 'object',
			properties: { city: { type: 'string' } },
			required: ['city'],
			additionalProperties: false,
		},
		strict: true,
	},
]
const weatherCall = { name: 'get_weather', arguments: '{"city":"Oslo"}' }
const question: ResponseInputItem = { role: 'user', content: 'Weather in Oslo?' }

const answerFormat = {
	format: {
		type: 'json_schema' as const,
		name: 'answer',
		schema: {
			type: 'object',
			properties: { answer: { type: 'number' } },
			required: ['answer'],
			additionalProperties: false,
		},
		strict: true,
	},
}

/** The turn after a function call, as OpenAI's guide writes it: the earlier output, then each call's result. */
function withCallOutput(previous: Response): ResponseInputItem[] {
	const call = previous.output.find((item) => item.type === 'function_call')
	if (call?.type !== 'function_call')
		throw new Error(`no function_call in ${JSON.stringify(previous.output)}`)
	return [
		question,
		...(previous.output as ResponseInputItem[]),
		{ type: 'function_call_output', call_id: call.call_id, output: '18°C, cloudy' },
	]
}

describe('POST /v1/responses to OpenAI, untouched', () => {
	it('sends the body but the model as it came, with store false, and answers what the SDK parses', async () => {
		await using g = await startGateway()
		g.upstream.script('gpt-6.1-terra', { kind: 'reply', text: '{"answer":42}' })
		const body = {
			model: 'openai/gpt-6.1-terra',
			instructions: 'Answer in JSON.',
			input: [question],
			tools,
			reasoning: { effort: 'low' as const, summary: 'auto' as const },
			text: answerFormat,
			include: ['reasoning.encrypted_content' as const],
			metadata: { app: 'tests' },
		}
		const { data, response } = await g.openai.responses.create(body).withResponse()
		expect(JSON.parse(data.output_text)).toEqual({ answer: 42 })
		expect(data.output.map((item) => item.type)).toEqual(['reasoning', 'message'])
		expect(data.usage?.output_tokens).toBeGreaterThan(0)
		const [sent] = received(g, 'openai-responses')
		expect(sent?.body).toEqual({ ...body, model: 'gpt-6.1-terra', store: false, stream: false })
		expect(switchyardHeaders(response.headers)).toEqual({
			'x-switchyard-request-id': expect.stringMatching(/^req_/),
			'x-switchyard-provider': 'openai',
			'x-switchyard-model': 'openai/gpt-6.1-terra',
			'x-switchyard-rule': 'explicit',
			'x-switchyard-attempts': '1',
			'x-switchyard-cost-usd': expect.stringMatching(/^0\.\d{8}$/),
		})
		expect(Number(response.headers.get('x-switchyard-cost-usd'))).toBeGreaterThan(0)
	})

	it('streams OpenAI’s own events, in order, to a response the SDK assembles', async () => {
		await using g = await startGateway()
		const stream = g.openai.responses.stream({
			model: 'gpt-6.1-terra',
			input: 'Hi',
			reasoning: { effort: 'low', summary: 'auto' },
		})
		const events: ResponseStreamEvent[] = []
		for await (const event of stream) events.push(event)
		const final = await stream.finalResponse()
		expect(final.output_text).toBe('Hello from gpt-6.1-terra')
		expect(events[0]?.type).toBe('response.created')
		expect(events.at(-1)?.type).toBe('response.completed')
		// Every event relayed once (the fake numbers a reasoning item's `output_item.added` after its parts).
		const numbers = events.map((event) => event.sequence_number).sort((a, b) => a - b)
		expect(numbers).toEqual(events.map((_, index) => index))
		expect(events.some((event) => event.type === 'response.reasoning_summary_text.delta')).toBe(true)
		expect(received(g, 'openai-responses')[0]?.body).toMatchObject({ stream: true, store: false })
	})

	it('answers a function call, then takes its output with the earlier output given back', async () => {
		await using g = await startGateway()
		g.upstream.script('gpt-6.1-terra', { kind: 'reply', toolCalls: [weatherCall] })
		const turn1 = await g.openai.responses.create({ model: 'gpt-6.1-terra', input: [question], tools })
		const call = turn1.output.find((item) => item.type === 'function_call')
		expect(call).toMatchObject({ type: 'function_call', name: 'get_weather', arguments: '{"city":"Oslo"}' })
		const stream = g.openai.responses.stream({ model: 'gpt-6.1-terra', input: withCallOutput(turn1), tools })
		const turn2 = await stream.finalResponse()
		expect(turn2.output_text).toBe('Hello from gpt-6.1-terra')
		expect(received(g, 'openai-responses')[1]?.body.input.at(-1)).toEqual({
			type: 'function_call_output',
			call_id: (call as { call_id: string }).call_id,
			output: '18°C, cloudy',
		})
	})
})

describe('POST /v1/responses to Anthropic, translated', () => {
	it('answers text and a JSON schema format as a Response, and sends Claude the schema', async () => {
		await using g = await startGateway()
		g.upstream.script('claude-haiku-5-5', { kind: 'reply', text: '{"answer":42}' })
		const { data, response } = await g.openai.responses
			.create({
				model: 'anthropic/claude-haiku-5-5',
				instructions: 'Answer in JSON.',
				input: 'Hi',
				text: answerFormat,
			})
			.withResponse()
		expect(JSON.parse(data.output_text)).toEqual({ answer: 42 })
		// Nothing was stored (the request did not say store: true), and the answer says so.
		expect(data).toMatchObject({
			object: 'response',
			status: 'completed',
			model: 'claude-haiku-5-5',
			store: false,
		})
		expect(data.usage?.input_tokens).toBeGreaterThan(0)
		expect(response.headers.get('x-switchyard-provider')).toBe('anthropic')
		const [sent] = received(g, 'anthropic')
		expect(sent?.body.system).toBe('Answer in JSON.')
		expect(sent?.body.output_config?.format).toEqual({
			type: 'json_schema',
			schema: answerFormat.format.schema,
		})
	})

	it('streams the Responses event sequence with usage at the end', async () => {
		await using g = await startGateway()
		const stream = g.openai.responses.stream({ model: 'anthropic/claude-haiku-5-5', input: 'Hi' })
		const names: string[] = []
		let text = ''
		for await (const event of stream) {
			names.push(event.type)
			if (event.type === 'response.output_text.delta') text += event.delta
		}
		const final = await stream.finalResponse()
		expect(text).toBe('Hello from claude-haiku-5-5')
		expect(final.output_text).toBe(text)
		expect(names[0]).toBe('response.created')
		expect(names.at(-1)).toBe('response.completed')
		expect(final.usage?.output_tokens).toBeGreaterThan(0)
	})

	it('carries Claude’s signed thinking through a function call and its output, streamed', async () => {
		await using g = await startGateway()
		g.upstream.script('claude-haiku-5-5', { kind: 'reply', toolCalls: [weatherCall] })
		const request = {
			model: 'anthropic/claude-haiku-5-5',
			tools,
			reasoning: { effort: 'low' as const, summary: 'auto' as const },
		}
		const turn1 = await g.openai.responses.stream({ ...request, input: [question] }).finalResponse()
		expect(turn1.output.map((item) => item.type)).toEqual(['reasoning', 'function_call'])
		expect(turn1.output[1]).toMatchObject({ name: 'get_weather', arguments: '{"city":"Oslo"}' })
		// The fake refuses a tool result whose assistant turn lost its signed thinking block (AN-11).
		const turn2 = await g.openai.responses.create({ ...request, input: withCallOutput(turn1) })
		expect(turn2.output_text).toBe('Hello from claude-haiku-5-5')
		const sent = received(g, 'anthropic')[1]?.body
		expect(sent?.messages.map((message: { role: string }) => message.role)).toEqual([
			'user',
			'assistant',
			'user',
		])
		expect(sent?.messages[1].content.map((block: { type: string }) => block.type)).toEqual([
			'thinking',
			'tool_use',
		])
		expect(sent?.messages[2].content).toEqual([
			{ type: 'tool_result', tool_use_id: sent?.messages[1].content[1].id, content: '18°C, cloudy' },
		])
	})
})

describe('POST /v1/responses: stored turns and previous_response_id', () => {
	it('chains three stored turns on OpenAI, sending the upstream the whole conversation', async () => {
		await using g = await startGateway()
		const model = 'openai/gpt-6.1-terra'
		const turn1 = await g.openai.responses.create({ model, input: 'My name is Ada.', store: true })
		const turn2 = await g.openai.responses.create({
			model,
			input: 'What is my name?',
			store: true,
			previous_response_id: turn1.id,
		})
		const turn3 = await g.openai.responses.stream({
			model,
			input: 'Spell it.',
			store: true,
			previous_response_id: turn2.id,
		})
		expect((await turn3.finalResponse()).output_text).toBe('Hello from gpt-6.1-terra')
		const sent = received(g, 'openai-responses').map((request) => request.body)
		expect(sent.map((body) => [body.store, body.previous_response_id])).toEqual([
			[false, undefined],
			[false, undefined],
			[false, undefined],
		])
		const texts = (input: unknown) =>
			(input as { role?: string; content: unknown }[])
				.filter((item) => item.role)
				.map((item) =>
					typeof item.content === 'string' ? item.content : (item.content as { text: string }[])[0]?.text,
				)
		expect(texts(sent[2]?.input)).toEqual([
			'My name is Ada.',
			'Hello from gpt-6.1-terra',
			'What is my name?',
			'Hello from gpt-6.1-terra',
			'Spell it.',
		])
	})

	it('continues on Claude a conversation OpenAI began, and back', async () => {
		await using g = await startGateway()
		const turn1 = await g.openai.responses.create({
			model: 'openai/gpt-6.1-terra',
			input: 'My name is Ada.',
			store: true,
		})
		const turn2 = await g.openai.responses.create({
			model: 'anthropic/claude-haiku-5-5',
			input: 'What is my name?',
			store: true,
			previous_response_id: turn1.id,
		})
		expect(turn2.output_text).toBe('Hello from claude-haiku-5-5')
		expect(received(g, 'anthropic')[0]?.body.messages).toEqual([
			{ role: 'user', content: 'My name is Ada.' },
			{ role: 'assistant', content: 'Hello from gpt-6.1-terra' },
			{ role: 'user', content: 'What is my name?' },
		])
		const turn3 = await g.openai.responses.create({
			model: 'openai/gpt-6.1-terra',
			input: 'Spell it.',
			store: true,
			previous_response_id: turn2.id,
		})
		expect(turn3.output_text).toBe('Hello from gpt-6.1-terra')
	})

	it('refuses another user’s response id, and one that was not stored, with 400 previous_response_not_found', async () => {
		await using g = await startGateway()
		const mine = await g.openai.responses.create({ model: 'gpt-6.1-terra', input: 'Hi', store: true })
		const other = await otherUser(g)
		const refused = await other.openai.responses
			.create({ model: 'gpt-6.1-terra', input: 'Hi', previous_response_id: mine.id })
			.catch((error) => error)
		expect(refused).toBeInstanceOf(OpenAI.BadRequestError)
		expect(refused.error).toEqual({
			message: `Previous response with id '${mine.id}' not found.`,
			type: 'invalid_request_error',
			param: 'previous_response_id',
			code: 'previous_response_not_found',
		})
		for (const store of [undefined, false]) {
			const unstored = await g.openai.responses.create({ model: 'claude-haiku-5-5', input: 'Hi', store })
			const missing = await g.openai.responses
				.create({ model: 'claude-haiku-5-5', input: 'Again', previous_response_id: unstored.id })
				.catch((error) => error)
			expect(missing).toBeInstanceOf(OpenAI.BadRequestError)
			expect(missing.code).toBe('previous_response_not_found')
		}
		// Refused before any upstream call: the other user's request never reached OpenAI.
		expect(received(g, 'openai-responses')).toHaveLength(1)
	})
})

describe('GET /v1/responses', () => {
	it('answers the WebSocket upgrade with 426, so Codex falls back to HTTP streaming at once', async () => {
		await using g = await startGateway()
		const res = await fetch(`${gatewayRoot(g)}/v1/responses`, {
			headers: {
				authorization: `Bearer ${g.key}`,
				connection: 'Upgrade',
				upgrade: 'websocket',
				'sec-websocket-version': '13',
				'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
			},
		})
		expect(res.status).toBe(426)
		expect(res.headers.get('upgrade')).toBe('websocket')
		expect((await res.json()).error).toMatchObject({
			type: 'invalid_request_error',
			code: 'websocket_not_supported',
		})
	})
})

describe('POST /v1/responses in the request log', () => {
	it('logs every request once, door responses, with its cost', async () => {
		await using g = await startGateway()
		for (const model of ['openai/gpt-6.1-terra', 'anthropic/claude-haiku-5-5']) {
			await g.openai.responses.create({ model, input: 'Hi' })
			await g.openai.responses.stream({ model, input: 'Hi' }).finalResponse()
		}
		await g.openai.responses.create({ model: 'nope/nothing', input: 'Hi' }).catch(() => undefined)
		const rows = await loggedRequests(g)
		expect(rows.map(({ door, model, status }) => ({ door, model, status }))).toEqual([
			{ door: 'responses', model: 'openai/gpt-6.1-terra', status: 200 },
			{ door: 'responses', model: 'openai/gpt-6.1-terra', status: 200 },
			{ door: 'responses', model: 'anthropic/claude-haiku-5-5', status: 200 },
			{ door: 'responses', model: 'anthropic/claude-haiku-5-5', status: 200 },
			{ door: 'responses', model: null, status: 404 },
		])
		for (const row of rows.slice(0, 4)) expect(row.costUsd).toBeGreaterThan(0)
	})
})

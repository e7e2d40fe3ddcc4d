import { describe, expect, it } from 'bun:test'
import Anthropic from '@anthropic-ai/sdk'
import OpenAI from 'openai'
import claudeCodeStartup from '../fixtures/agents/claude-code/startup.json'
import claudeCodeConversation from '../fixtures/agents/claude-code/tool-conversation.json'
import codexConversation from '../fixtures/agents/codex/tool-conversation.json'
import { TEST_TODAY } from './clock'
import {
	base64Of,
	embed,
	FAKE_MODELS,
	type FakeUpstream,
	type FakeUpstreamOptions,
	startFakeUpstream,
} from './fake-upstream'

const OPENAI_KEY = 'sk-openai-test'
const ANTHROPIC_KEY = 'sk-ant-test'
const WEATHER = { name: 'get_weather', arguments: '{"city":"Paris","unit":"celsius"}' }
const USER = [{ role: 'user' as const, content: 'Say hello to the fake upstream' }]
/** USER's prompt tokens as the fake counts them: 30 characters / 4, rounded up. */
const USER_TOKENS = 8
/** A fixed day, so that retirements (gpt-4o on 2027-01-14) never turn these tests red. */

function start(options: FakeUpstreamOptions = {}) {
	return startFakeUpstream({ now: () => TEST_TODAY, ...options })
}

/** OpenAI's usage details, all zero but the given counts. */
function openaiUsage(prompt: number, completion: number, more: { cached?: number; reasoning?: number } = {}) {
	return {
		prompt_tokens: prompt,
		completion_tokens: completion,
		total_tokens: prompt + completion,
		prompt_tokens_details: { cached_tokens: more.cached ?? 0, audio_tokens: 0 },
		completion_tokens_details: {
			reasoning_tokens: more.reasoning ?? 0,
			audio_tokens: 0,
			accepted_prediction_tokens: 0,
			rejected_prediction_tokens: 0,
		},
	}
}

function openai(fake: FakeUpstream, apiKey = OPENAI_KEY) {
	return new OpenAI({ apiKey, baseURL: fake.openaiBaseUrl, maxRetries: 0 })
}

function anthropic(fake: FakeUpstream, apiKey = ANTHROPIC_KEY) {
	return new Anthropic({ apiKey, baseURL: fake.anthropicBaseUrl, maxRetries: 0 })
}

/** Anthropic's usage with every cache field zero but those given. */
function anthropicUsage(usage: Record<string, unknown>): Anthropic.Usage {
	return {
		input_tokens: 0,
		cache_read_input_tokens: 0,
		cache_creation_input_tokens: 0,
		cache_creation: { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: 0 },
		output_tokens_details: { thinking_tokens: 0 },
		output_tokens: 0,
		service_tier: 'standard',
		...usage,
	} as Anthropic.Usage
}

function anthropicRequest(model = 'claude-haiku-4-5') {
	return { model, max_tokens: 64, messages: USER }
}

/** The raw SSE `data:` payloads of a streamed response, in order. */
async function sseData(response: Response): Promise<string[]> {
	const text = await response.text()
	return text
		.split('\n')
		.filter((line) => line.startsWith('data: '))
		.map((line) => line.slice('data: '.length))
}

type Api =
	| 'chat'
	| 'responses'
	| 'embeddings'
	| 'messages'
	| 'count_tokens'
	| 'groq'
	| 'mistral'
	| 'deepseek'
	| 'together'
// biome-ignore lint/suspicious/noExplicitAny: the tests read arbitrary fields of the fake's answers
type Json = any

const ROUTES: Record<Api, { path: string; headers: Record<string, string> }> = {
	chat: { path: '/v1/chat/completions', headers: { authorization: `Bearer ${OPENAI_KEY}` } },
	responses: { path: '/v1/responses', headers: { authorization: `Bearer ${OPENAI_KEY}` } },
	embeddings: { path: '/v1/embeddings', headers: { authorization: `Bearer ${OPENAI_KEY}` } },
	messages: {
		path: '/v1/messages',
		headers: { 'x-api-key': ANTHROPIC_KEY, 'anthropic-version': '2026-10-21' },
	},
	count_tokens: {
		path: '/v1/messages/count_tokens',
		headers: { 'x-api-key': ANTHROPIC_KEY, 'anthropic-version': '2026-10-21' },
	},
	groq: { path: '/groq/openai/v1/chat/completions', headers: { authorization: 'Bearer sk-groq-test' } },
	mistral: { path: '/mistral/v1/chat/completions', headers: { authorization: 'Bearer sk-mistral-test' } },
	deepseek: { path: '/deepseek/chat/completions', headers: { authorization: 'Bearer sk-deepseek-test' } },
	together: { path: '/together/v1/chat/completions', headers: { authorization: 'Bearer sk-together-test' } },
}

/** POSTs a JSON body to an API of the fake; the answer's status, parsed body (or text) and raw text. */
async function send(
	fake: FakeUpstream,
	api: Api,
	body: unknown,
	headers: Record<string, string> = {},
): Promise<{ status: number; body: Json; text: string }> {
	const route = ROUTES[api]
	const response = await fetch(`${fake.url}${route.path}`, {
		method: 'POST',
		headers: { 'content-type': 'application/json', ...route.headers, ...headers },
		body: JSON.stringify(body),
	})
	const text = await response.text()
	try {
		return { status: response.status, body: JSON.parse(text), text }
	} catch {
		return { status: response.status, body: text, text }
	}
}

/** The `event:` names of an SSE transcript, in order. */
function eventNames(text: string): string[] {
	return [...text.matchAll(/^event: (.+)$/gm)].map((match) => match[1] as string)
}

/** The parsed `data:` payloads of an SSE transcript, `[DONE]` left as is. */
function payloads(text: string): Json[] {
	return text
		.split('\n')
		.filter((line) => line.startsWith('data: '))
		.map((line) => line.slice('data: '.length))
		.map((data) => (data === '[DONE]' ? data : JSON.parse(data)))
}

function oaError(message: string, param: string | null = null, code: string | null = null) {
	return { error: { message, type: 'invalid_request_error', param, code } }
}

function anError(message: string, type = 'invalid_request_error') {
	return { type: 'error', error: { type, message }, request_id: expect.stringMatching(/^req_/) }
}

interface RuleRow {
	id: string
	title: string
	api: Api
	refused: Record<string, unknown>
	accepted: Record<string, unknown>
	error: unknown
	/** @default 400 */
	status?: number
	/** The day of the refused request, and of the accepted one when `acceptedNow` is not given. */
	now?: string
	acceptedNow?: string
	headers?: Record<string, string>
	/** The accepted request's headers, when they differ from the refused one's. */
	acceptedHeaders?: Record<string, string>
}

/** The refused request gets the rule's exact error; the accepted variant a 200. */
async function expectRule(row: RuleRow) {
	let clock = row.now ? new Date(row.now) : TEST_TODAY
	await using fake = await start({ now: () => clock })
	const refused = await send(fake, row.api, row.refused, row.headers)
	if (row.acceptedNow) clock = new Date(row.acceptedNow)
	const accepted = await send(fake, row.api, row.accepted, row.acceptedHeaders ?? row.headers)
	expect({ refused: { status: refused.status, body: refused.body }, accepted: accepted.status }).toEqual({
		refused: { status: row.status ?? 400, body: row.error },
		accepted: 200,
	})
}

describe('fakeUpstream (OpenAI wire format)', () => {
	it('answers a chat completion with the default text and usage', async () => {
		await using fake = await start()
		const completion = await openai(fake).chat.completions.create({ model: 'gpt-4o-mini', messages: USER })
		expect(completion).toEqual({
			id: expect.stringMatching(/^chatcmpl-/),
			object: 'chat.completion',
			created: expect.any(Number),
			model: 'gpt-4o-mini',
			choices: [
				{
					index: 0,
					message: { role: 'assistant', content: 'Hello from gpt-4o-mini', refusal: null },
					logprobs: null,
					finish_reason: 'stop',
				},
			],
			usage: openaiUsage(USER_TOKENS, 3),
		})
	})

	it('reports scripted text, model and usage', async () => {
		await using fake = await start()
		fake.script('gpt-4o', {
			kind: 'reply',
			text: 'Scripted answer',
			model: 'gpt-4o-2024-08-06',
			usage: { prompt: 100, completion: 7, cached: 40 },
		})
		const completion = await openai(fake).chat.completions.create({ model: 'gpt-4o', messages: USER })
		expect({
			model: completion.model,
			text: completion.choices[0]?.message.content,
			usage: completion.usage,
		}).toEqual({
			model: 'gpt-4o-2024-08-06',
			text: 'Scripted answer',
			usage: openaiUsage(100, 7, { cached: 40 }),
		})
	})

	it('streams the text in several deltas and ends without usage when not asked', async () => {
		await using fake = await start()
		const stream = await openai(fake).chat.completions.create({
			model: 'gpt-4o-mini',
			messages: USER,
			stream: true,
		})
		const chunks = []
		for await (const chunk of stream) chunks.push(chunk)
		const deltas = chunks.flatMap((chunk) => chunk.choices.map((choice) => choice.delta.content ?? ''))
		expect({
			role: chunks[0]?.choices[0]?.delta.role,
			text: deltas.join(''),
			contentDeltas: deltas.filter(Boolean).length,
			finish: chunks.at(-1)?.choices[0]?.finish_reason,
			usage: chunks.some((chunk) => chunk.usage),
		}).toEqual({
			role: 'assistant',
			text: 'Hello from gpt-4o-mini',
			contentDeltas: 3,
			finish: 'stop',
			usage: false,
		})
	})

	it('sends a usage chunk with empty choices before [DONE] only when include_usage is set', async () => {
		await using fake = await start()
		const response = await fetch(`${fake.openaiBaseUrl}/chat/completions`, {
			method: 'POST',
			headers: { authorization: `Bearer ${OPENAI_KEY}`, 'content-type': 'application/json' },
			body: JSON.stringify({
				model: 'gpt-4o-mini',
				messages: USER,
				stream: true,
				stream_options: { include_usage: true },
			}),
		})
		const lines = await sseData(response)
		expect({
			contentType: response.headers.get('content-type'),
			last: lines.at(-1),
			usageChunk: JSON.parse(lines.at(-2) ?? 'null'),
		}).toEqual({
			contentType: 'text/event-stream; charset=utf-8',
			last: '[DONE]',
			usageChunk: {
				id: expect.stringMatching(/^chatcmpl-/),
				object: 'chat.completion.chunk',
				created: expect.any(Number),
				model: 'gpt-4o-mini',
				choices: [],
				usage: openaiUsage(USER_TOKENS, 3),
			},
		})
	})

	it('leaves usage out when the script says omitUsage, even with include_usage', async () => {
		await using fake = await start()
		fake.script('gpt-4o-mini', { kind: 'reply', omitUsage: true })
		const stream = await openai(fake).chat.completions.create({
			model: 'gpt-4o-mini',
			messages: USER,
			stream: true,
			stream_options: { include_usage: true },
		})
		const chunks = []
		for await (const chunk of stream) chunks.push(chunk)
		expect(chunks.filter((chunk) => chunk.usage || chunk.choices.length === 0)).toEqual([])
	})

	it('streams tool calls in argument fragments that the SDK reassembles', async () => {
		await using fake = await start()
		fake.script('gpt-4o', { kind: 'reply', toolCalls: [WEATHER] })
		const stream = openai(fake).chat.completions.stream({ model: 'gpt-4o', messages: USER })
		let fragments = 0
		stream.on('chunk', (chunk) => {
			if (chunk.choices[0]?.delta.tool_calls?.[0]?.function?.arguments) fragments++
		})
		const completion = await stream.finalChatCompletion()
		// The 33 characters of arguments, in three pieces of 11.
		expect({ fragments, choice: completion.choices[0] }).toEqual({
			fragments: 3,
			choice: expect.objectContaining({
				finish_reason: 'tool_calls',
				message: expect.objectContaining({
					role: 'assistant',
					content: null,
					tool_calls: [
						expect.objectContaining({
							id: expect.stringMatching(/^call_/),
							type: 'function',
							function: expect.objectContaining(WEATHER),
						}),
					],
				}),
			}),
		})
	})

	it('returns tool calls in a non-streamed completion', async () => {
		await using fake = await start()
		fake.script('gpt-4o', { kind: 'reply', toolCalls: [WEATHER] })
		const completion = await openai(fake).chat.completions.create({ model: 'gpt-4o', messages: USER })
		expect(completion.choices[0]).toEqual({
			index: 0,
			message: {
				role: 'assistant',
				content: null,
				refusal: null,
				tool_calls: [{ id: expect.stringMatching(/^call_/), type: 'function', function: WEATHER }],
			},
			logprobs: null,
			finish_reason: 'tool_calls',
		})
	})

	it('rejects a wrong key with OpenAI’s 401 body, which repeats the key masked', async () => {
		await using fake = await start()
		const response = await fetch(`${fake.openaiBaseUrl}/chat/completions`, {
			method: 'POST',
			headers: { authorization: 'Bearer sk-proj-abcdefghijklmnopWXYZ', 'content-type': 'application/json' },
			body: JSON.stringify({ model: 'gpt-4o-mini', messages: USER }),
		})
		expect({ status: response.status, body: await response.json() }).toEqual({
			status: 401,
			body: {
				error: {
					message:
						'Incorrect API key provided: sk-proj-****************WXYZ. You can find your API key at https://platform.openai.com/account/api-keys.',
					type: 'invalid_request_error',
					param: null,
					code: 'invalid_api_key',
				},
			},
		})
		const error = await openai(fake, 'sk-wrong')
			.chat.completions.create({ model: 'gpt-4o-mini', messages: USER })
			.catch((e: unknown) => e)
		expect(error).toBeInstanceOf(OpenAI.AuthenticationError)
	})

	it.each([
		{ status: 429, retryAfter: 7, type: 'requests', code: 'rate_limit_exceeded' },
		{ status: 500, retryAfter: undefined, type: 'server_error', code: null },
		{ status: 503, retryAfter: undefined, type: 'server_error', code: null },
		{ status: 400, retryAfter: undefined, type: 'invalid_request_error', code: null },
	])('answers a scripted $status in OpenAI’s error shape', async ({ status, retryAfter, type, code }) => {
		await using fake = await start()
		fake.script('gpt-4o-mini', { kind: 'error', status, message: 'scripted failure', retryAfter })
		const error = await openai(fake)
			.chat.completions.create({ model: 'gpt-4o-mini', messages: USER })
			.catch((e: unknown) => e)
		if (!(error instanceof OpenAI.APIError)) throw new Error(`expected an APIError, got ${error}`)
		expect({
			status: error.status,
			error: error.error,
			retryAfter: error.headers?.get('retry-after') ?? undefined,
		}).toEqual({
			status,
			error: { message: 'scripted failure', type, param: null, code },
			retryAfter: retryAfter === undefined ? undefined : String(retryAfter),
		})
	})

	it('cuts the connection after the given number of chunks', async () => {
		await using fake = await start()
		fake.script('gpt-4o-mini', { kind: 'fail-mid-stream', afterChunks: 2 })
		const stream = await openai(fake).chat.completions.create({
			model: 'gpt-4o-mini',
			messages: USER,
			stream: true,
		})
		const received: string[] = []
		const error = await (async () => {
			for await (const chunk of stream) received.push(chunk.choices[0]?.delta.content ?? '')
		})().catch((e: unknown) => e)
		expect({ received, failed: error instanceof Error }).toEqual({ received: ['', 'Hello'], failed: true })
		expect(await fake.requests[0]?.aborted).toBe(false)
	})

	it('sends a 200 that is not JSON for bad-json', async () => {
		await using fake = await start()
		fake.script('gpt-4o-mini', { kind: 'bad-json' })
		const error = await openai(fake)
			.chat.completions.create({ model: 'gpt-4o-mini', messages: USER })
			.catch((e: unknown) => e)
		expect(error).toBeInstanceOf(Error)
		expect(fake.requests.length).toBe(1)
	})

	it('lists models', async () => {
		await using fake = await start()
		const models = []
		for await (const model of openai(fake).models.list()) models.push(model.id)
		expect(models).toEqual(FAKE_MODELS.openai)
	})
})

describe('fakeUpstream (Anthropic wire format)', () => {
	it('answers a message with the default text and usage', async () => {
		await using fake = await start()
		const message = await anthropic(fake).messages.create(anthropicRequest())
		expect(message).toEqual({
			id: expect.stringMatching(/^msg_/),
			type: 'message',
			role: 'assistant',
			model: 'claude-haiku-4-5',
			content: [{ type: 'text', text: 'Hello from claude-haiku-4-5' }],
			stop_reason: 'end_turn',
			stop_sequence: null,
			stop_details: null,
			usage: anthropicUsage({ input_tokens: USER_TOKENS, output_tokens: 3 }),
		} as unknown as Anthropic.Message)
	})

	it('accepts the SDK’s bearer auth as well as x-api-key', async () => {
		await using fake = await start()
		await anthropic(fake).messages.create(anthropicRequest())
		const response = await fetch(`${fake.url}/v1/messages`, {
			method: 'POST',
			headers: {
				'x-api-key': ANTHROPIC_KEY,
				'anthropic-version': '2023-06-01',
				'content-type': 'application/json',
			},
			body: JSON.stringify(anthropicRequest()),
		})
		expect({
			sdkAuth: fake.requests[0]?.headers.authorization,
			sdkVersion: typeof fake.requests[0]?.headers['anthropic-version'],
			rawStatus: response.status,
		}).toEqual({ sdkAuth: `Bearer ${ANTHROPIC_KEY}`, sdkVersion: 'string', rawStatus: 200 })
	})

	it('streams text deltas after message_start and a ping that finalMessage() reassembles', async () => {
		await using fake = await start()
		fake.script('claude-haiku-4-5', {
			kind: 'reply',
			text: 'One two three four',
			usage: { cached: 5, cacheWrite: 2 },
		})
		const stream = anthropic(fake).messages.stream(anthropicRequest('claude-haiku-4-5'))
		const texts: string[] = []
		stream.on('text', (text) => texts.push(text))
		const message = await stream.finalMessage()
		expect({
			texts,
			content: message.content as unknown,
			stop: message.stop_reason,
			usage: message.usage,
		}).toEqual({
			texts: ['One', ' two', ' three', ' four'],
			content: [{ type: 'text', text: 'One two three four' }],
			stop: 'end_turn',
			usage: anthropicUsage({
				input_tokens: USER_TOKENS,
				output_tokens: 4,
				cache_read_input_tokens: 5,
				cache_creation_input_tokens: 2,
				cache_creation: { ephemeral_5m_input_tokens: 2, ephemeral_1h_input_tokens: 0 },
			}),
		})
	})

	it('sends the events in Anthropic’s order', async () => {
		await using fake = await start()
		fake.script('claude-haiku-4-5', { kind: 'reply', text: 'Hi there', toolCalls: [WEATHER] })
		const response = await fetch(`${fake.url}/v1/messages`, {
			method: 'POST',
			headers: {
				'x-api-key': ANTHROPIC_KEY,
				'anthropic-version': '2023-06-01',
				'content-type': 'application/json',
			},
			body: JSON.stringify({ ...anthropicRequest(), stream: true }),
		})
		const text = await response.text()
		const events = [...text.matchAll(/^event: (.+)$/gm)].map((match) => match[1])
		expect(events).toEqual([
			'message_start',
			'content_block_start',
			'ping',
			'content_block_delta',
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
	})

	it('streams a tool call as input_json_delta pieces that finalMessage() parses', async () => {
		await using fake = await start()
		fake.script('claude-haiku-4-5', { kind: 'reply', toolCalls: [WEATHER] })
		const stream = anthropic(fake).messages.stream(anthropicRequest())
		const pieces: string[] = []
		stream.on('inputJson', (partial) => pieces.push(partial))
		const message = await stream.finalMessage()
		expect({
			pieces: pieces.length,
			joined: pieces.join(''),
			stop: message.stop_reason,
			content: message.content as unknown,
		}).toEqual({
			// The 33 characters of arguments, in three pieces of 11.
			pieces: 3,
			joined: WEATHER.arguments,
			stop: 'tool_use',
			content: [
				{
					type: 'tool_use',
					id: expect.stringMatching(/^toolu_/),
					name: 'get_weather',
					input: { city: 'Paris', unit: 'celsius' },
				},
			] as unknown as Anthropic.ContentBlock[],
		})
	})

	it('returns a tool_use block with parsed input in a non-streamed message', async () => {
		await using fake = await start()
		fake.script('claude-haiku-4-5', { kind: 'reply', toolCalls: [WEATHER] })
		const message = await anthropic(fake).messages.create(anthropicRequest())
		expect({ stop: message.stop_reason, content: message.content }).toEqual({
			stop: 'tool_use',
			content: [
				{
					type: 'tool_use',
					id: expect.stringMatching(/^toolu_/),
					name: 'get_weather',
					input: { city: 'Paris', unit: 'celsius' },
				},
			] as unknown as Anthropic.ContentBlock[],
		})
	})

	it('rejects a wrong key with Anthropic’s 401 body', async () => {
		await using fake = await start()
		const response = await fetch(`${fake.url}/v1/messages`, {
			method: 'POST',
			headers: {
				'x-api-key': 'sk-wrong',
				'anthropic-version': '2023-06-01',
				'content-type': 'application/json',
			},
			body: JSON.stringify(anthropicRequest()),
		})
		expect({ status: response.status, body: await response.json() }).toEqual({
			status: 401,
			body: {
				type: 'error',
				error: { type: 'authentication_error', message: 'invalid x-api-key' },
				request_id: expect.stringMatching(/^req_/),
			},
		})
		const error = await anthropic(fake, 'sk-wrong')
			.messages.create(anthropicRequest())
			.catch((e: unknown) => e)
		expect(error).toBeInstanceOf(Anthropic.AuthenticationError)
	})

	it('rejects a request without anthropic-version with a 400', async () => {
		await using fake = await start()
		const response = await fetch(`${fake.url}/v1/messages`, {
			method: 'POST',
			headers: { 'x-api-key': ANTHROPIC_KEY, 'content-type': 'application/json' },
			body: JSON.stringify(anthropicRequest()),
		})
		expect({ status: response.status, body: await response.json() }).toEqual({
			status: 400,
			body: {
				type: 'error',
				error: { type: 'invalid_request_error', message: 'anthropic-version: header is required' },
				request_id: expect.stringMatching(/^req_/),
			},
		})
	})

	it('rejects a request without max_tokens like the real API', async () => {
		await using fake = await start()
		const error = await anthropic(fake)
			.messages.create({
				model: 'claude-haiku-4-5',
				messages: USER,
			} as Anthropic.MessageCreateParamsNonStreaming)
			.catch((e: unknown) => e)
		expect(error).toBeInstanceOf(Anthropic.BadRequestError)
	})

	it.each([
		{ status: 429, retryAfter: 3, type: 'rate_limit_error' },
		{ status: 500, retryAfter: undefined, type: 'api_error' },
		{ status: 529, retryAfter: undefined, type: 'overloaded_error' },
		{ status: 400, retryAfter: undefined, type: 'invalid_request_error' },
	])('answers a scripted $status as $type', async ({ status, retryAfter, type }) => {
		await using fake = await start()
		fake.script('*', { kind: 'error', status, message: 'scripted failure', retryAfter })
		const error = await anthropic(fake)
			.messages.create(anthropicRequest())
			.catch((e: unknown) => e)
		if (!(error instanceof Anthropic.APIError)) throw new Error(`expected an APIError, got ${error}`)
		expect({
			status: error.status,
			error: error.error,
			retryAfter: error.headers?.get('retry-after') ?? undefined,
		}).toEqual({
			status,
			error: {
				type: 'error',
				error: { type, message: 'scripted failure' },
				request_id: expect.stringMatching(/^req_/),
			},
			retryAfter: retryAfter === undefined ? undefined : String(retryAfter),
		})
	})

	it('sends an overloaded_error event mid-stream for fail-mid-stream', async () => {
		await using fake = await start()
		fake.script('claude-haiku-4-5', { kind: 'fail-mid-stream', afterChunks: 4 })
		const stream = anthropic(fake).messages.stream(anthropicRequest())
		const texts: string[] = []
		stream.on('text', (text) => texts.push(text))
		const error = await stream.finalMessage().catch((e: unknown) => e)
		if (!(error instanceof Anthropic.APIError)) throw new Error(`expected an APIError, got ${error}`)
		expect({ texts, type: error.error }).toEqual({
			texts: ['Hello'],
			type: { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } },
		})
	})

	it('lists models for Anthropic clients', async () => {
		await using fake = await start()
		const models = []
		for await (const model of anthropic(fake).models.list()) models.push(model.id)
		expect(models).toEqual([
			'claude-fable-5-2',
			'claude-opus-5-5',
			'claude-sonnet-5-5',
			'claude-haiku-5-5',
			'claude-haiku-4-5',
		])
	})
})

describe('fakeUpstream (scripting and recording)', () => {
	it('records every request, rejected ones included, with parsed body and lower-cased headers', async () => {
		await using fake = await start()
		await openai(fake, 'sk-wrong')
			.chat.completions.create({ model: 'gpt-4o-mini', messages: USER })
			.catch(() => undefined)
		await anthropic(fake).messages.create(anthropicRequest())
		expect(
			fake.requests.map(({ format, method, path, headers, body }) => ({
				format,
				method,
				path,
				auth: headers.authorization,
				contentType: headers['content-type'],
				body,
			})),
		).toEqual([
			{
				format: 'openai',
				method: 'POST',
				path: '/v1/chat/completions',
				auth: 'Bearer sk-wrong',
				contentType: 'application/json',
				body: { model: 'gpt-4o-mini', messages: USER },
			},
			{
				format: 'anthropic',
				method: 'POST',
				path: '/v1/messages',
				auth: `Bearer ${ANTHROPIC_KEY}`,
				contentType: 'application/json',
				body: anthropicRequest(),
			},
		])
	})

	it('plays a model’s script in order, then the default reply; `*` matches any model', async () => {
		await using fake = await start()
		fake.script('gpt-4o', { kind: 'error', status: 500 }, { kind: 'reply', text: 'second' })
		fake.script('*', { kind: 'reply', text: 'wildcard' })
		const client = openai(fake)
		const ask = (model: string) =>
			client.chat.completions.create({ model, messages: USER }).then(
				(completion) => completion.choices[0]?.message.content,
				(error: { status: number }) => error.status,
			)
		const answers = [await ask('gpt-4o'), await ask('gpt-4o'), await ask('gpt-4o'), await ask('gpt-4o-mini')]
		expect(answers).toEqual([500, 'second', 'wildcard', 'Hello from gpt-4o-mini'])
	})

	it('forgets requests and scripts on reset', async () => {
		await using fake = await start()
		fake.script('gpt-4o-mini', { kind: 'error', status: 500 })
		await fetch(`${fake.openaiBaseUrl}/models`)
		fake.reset()
		const completion = await openai(fake).chat.completions.create({ model: 'gpt-4o-mini', messages: USER })
		expect({ requests: fake.requests.length, text: completion.choices[0]?.message.content }).toEqual({
			requests: 1,
			text: 'Hello from gpt-4o-mini',
		})
	})

	it('resolves waitForRequests once that many requests arrived', async () => {
		await using fake = await start()
		fake.script('*', { kind: 'hang' }, { kind: 'hang' })
		const controller = new AbortController()
		const client = openai(fake)
		const calls = ['gpt-4o', 'gpt-4o-mini'].map((model) =>
			client.chat.completions
				.create({ model, messages: USER }, { signal: controller.signal })
				.catch(() => undefined),
		)
		await fake.waitForRequests(2)
		expect(fake.requests.map((request) => request.body.model).sort()).toEqual(['gpt-4o', 'gpt-4o-mini'])
		controller.abort()
		await Promise.all(calls)
	})

	it('rejects waitForRequests after its timeout, naming how many requests came', async () => {
		await using fake = await start()
		await openai(fake).chat.completions.create({ model: 'gpt-4o-mini', messages: USER })
		await expect(fake.waitForRequests(2, 50)).rejects.toThrow(
			'the fake upstream received 1 of 2 requests within 50 ms',
		)
	})

	it('settles aborted as false when the response finished', async () => {
		await using fake = await start()
		await openai(fake).chat.completions.create({ model: 'gpt-4o-mini', messages: USER })
		expect(await fake.requests[0]?.aborted).toBe(false)
	})

	it('records the abort when the client gives up on a hanging request', async () => {
		await using fake = await start()
		fake.script('claude-haiku-4-5', { kind: 'hang' })
		const controller = new AbortController()
		const call = anthropic(fake)
			.messages.create(anthropicRequest(), { signal: controller.signal })
			.catch((e: unknown) => e)
		await fake.waitForRequests(1)
		controller.abort()
		expect(await call).toBeInstanceOf(Anthropic.APIUserAbortError)
		expect(await fake.requests[0]?.aborted).toBe(true)
	})

	it('releases a hanging request on stop without calling it an abort', async () => {
		const fake = await start()
		fake.script('gpt-4o', { kind: 'hang' })
		const call = openai(fake)
			.chat.completions.create({ model: 'gpt-4o', messages: USER })
			.catch((e: unknown) => e)
		await fake.waitForRequests(1)
		await fake.stop()
		expect(await call).toBeInstanceOf(OpenAI.APIConnectionError)
		expect(await fake.requests[0]?.aborted).toBe(false)
	})

	it('sends the first chunk of a slow stream no earlier than firstByteMs', async () => {
		await using fake = await start()
		fake.script('gpt-4o-mini', { kind: 'slow', firstByteMs: 60, chunkMs: 5 })
		const startedAt = performance.now()
		const stream = await openai(fake).chat.completions.create({
			model: 'gpt-4o-mini',
			messages: USER,
			stream: true,
		})
		let firstChunkAt = 0
		let text = ''
		for await (const chunk of stream) {
			firstChunkAt ||= performance.now()
			text += chunk.choices[0]?.delta.content ?? ''
		}
		expect(firstChunkAt - startedAt).toBeGreaterThanOrEqual(60)
		expect(text).toBe('Hello from gpt-4o-mini')
		expect(await fake.requests[0]?.aborted).toBe(false)
	})

	it('spaces the chunks of a slow stream by chunkMs', async () => {
		await using fake = await start()
		fake.script('claude-haiku-4-5', { kind: 'slow', firstByteMs: 0, chunkMs: 10 })
		const startedAt = performance.now()
		const message = await anthropic(fake).messages.stream(anthropicRequest()).finalMessage()
		// 9 events (message_start, block start, ping, 3 deltas, block stop, message_delta, message_stop): 8 gaps.
		expect(performance.now() - startedAt).toBeGreaterThanOrEqual(80)
		expect(message.stop_reason).toBe('end_turn')
	})

	it('records the abort when the client cancels a slow stream', async () => {
		await using fake = await start()
		fake.script('gpt-4o-mini', { kind: 'slow', firstByteMs: 0, chunkMs: 10_000 })
		const stream = await openai(fake).chat.completions.create({
			model: 'gpt-4o-mini',
			messages: USER,
			stream: true,
		})
		for await (const chunk of stream) {
			expect(chunk.choices[0]?.delta.role).toBe('assistant')
			break
		}
		expect(await fake.requests[0]?.aborted).toBe(true)
	})

	it('delays a non-streamed slow reply by firstByteMs', async () => {
		await using fake = await start()
		fake.script('claude-haiku-4-5', { kind: 'slow', firstByteMs: 40, chunkMs: 0 })
		const startedAt = performance.now()
		const message = await anthropic(fake).messages.create(anthropicRequest())
		expect(performance.now() - startedAt).toBeGreaterThanOrEqual(40)
		expect(message.content).toEqual([
			{ type: 'text', text: 'Hello from claude-haiku-4-5' } as Anthropic.ContentBlock,
		])
	})
})

const FN_TOOL = {
	type: 'function' as const,
	function: { name: 'get_weather', parameters: { type: 'object', properties: {} } },
}
const FLAT_TOOL = {
	type: 'function',
	name: 'get_weather',
	parameters: { type: 'object', properties: {} },
	strict: false,
}
const CLAUDE_TOOL = { name: 'get_weather', input_schema: { type: 'object', properties: {} } }
/** 5,000 characters: 1,250 prompt tokens, a cacheable prefix of 1,152. */
const LONG = 'word '.repeat(1000)

function chatBody(model: string, extra: Record<string, unknown> = {}) {
	return { model, messages: USER, ...extra }
}

function claudeBody(model: string, extra: Record<string, unknown> = {}) {
	return { model, max_tokens: 4096, messages: USER, ...extra }
}

const OPENAI_RULES: RuleRow[] = [
	{
		id: 'OA-1',
		title: 'refuses a field that Chat Completions does not have',
		api: 'chat',
		refused: chatBody('gpt-4o', { reasoning: { effort: 'low' } }),
		accepted: chatBody('gpt-4o', { seed: 7 }),
		error: oaError('Unrecognized request argument supplied: reasoning'),
	},
	{
		id: 'OA-2',
		title: 'refuses max_tokens on a reasoning model',
		api: 'chat',
		refused: chatBody('gpt-5', { max_tokens: 100 }),
		accepted: chatBody('gpt-5', { max_completion_tokens: 100 }),
		error: oaError(
			"Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.",
			'max_tokens',
			'unsupported_parameter',
		),
	},
	{
		id: 'OA-3',
		title: 'refuses reasoning_effort on a model without reasoning',
		api: 'chat',
		refused: chatBody('gpt-4.1', { reasoning_effort: 'low' }),
		accepted: chatBody('gpt-4.1'),
		error: oaError('Unrecognized request argument supplied: reasoning_effort'),
	},
	{
		id: 'OA-4',
		title: 'refuses effort none on GPT-6.2',
		api: 'chat',
		refused: chatBody('gpt-6.2-astra', { reasoning_effort: 'none' }),
		accepted: chatBody('gpt-6.2-astra', { reasoning_effort: 'low' }),
		error: oaError(
			"Unsupported value: 'none' is not supported with the 'gpt-6.2-astra' model. Supported values are: 'low', 'medium', 'high', and 'xhigh'.",
			'reasoning_effort',
			'unsupported_value',
		),
	},
	{
		id: 'OA-4',
		title: 'refuses effort max on Chat Completions',
		api: 'chat',
		refused: chatBody('gpt-6-luna', { reasoning_effort: 'max' }),
		accepted: chatBody('gpt-6-luna', { reasoning_effort: 'xhigh' }),
		error: oaError(
			"Unsupported value: 'max' is not supported with the 'gpt-6-luna' model. Supported values are: 'none', 'low', 'medium', 'high', and 'xhigh'.",
			'reasoning_effort',
			'unsupported_value',
		),
	},
	{
		id: 'OA-4',
		title: 'refuses effort minimal on GPT-6 and takes it on GPT-5',
		api: 'chat',
		refused: chatBody('gpt-6.1-terra', { reasoning_effort: 'minimal' }),
		accepted: chatBody('gpt-5', { reasoning_effort: 'minimal' }),
		error: oaError(
			"Unsupported value: 'minimal' is not supported with the 'gpt-6.1-terra' model. Supported values are: 'none', 'low', 'medium', 'high', and 'xhigh'.",
			'reasoning_effort',
			'unsupported_value',
		),
	},
	{
		id: 'OA-5',
		title: 'refuses temperature on GPT-6 at the default effort, and takes it with none',
		api: 'chat',
		refused: chatBody('gpt-6-luna', { temperature: 0.2 }),
		accepted: chatBody('gpt-6-luna', { temperature: 0.2, reasoning_effort: 'none' }),
		error: oaError("Unsupported parameter: 'temperature' is not supported with this model.", 'temperature'),
	},
	{
		id: 'OA-5',
		title: 'refuses stop on GPT-6.2, which always reasons',
		api: 'chat',
		refused: chatBody('gpt-6.2-sol', { stop: ['\n'] }),
		accepted: chatBody('gpt-6.2-sol'),
		error: oaError("Unsupported parameter: 'stop' is not supported with this model.", 'stop'),
	},
	{
		id: 'OA-5',
		title: 'refuses top_p on GPT-5 with unsupported_parameter, and takes it on GPT-4.1',
		api: 'chat',
		refused: chatBody('gpt-5-mini', { top_p: 0.9 }),
		accepted: chatBody('gpt-4.1-mini', { top_p: 0.9, logprobs: true, stop: 'x' }),
		error: oaError(
			"Unsupported parameter: 'top_p' is not supported with this model.",
			'top_p',
			'unsupported_parameter',
		),
	},
	{
		id: 'OA-6',
		title: 'refuses a temperature other than 1 on o3',
		api: 'chat',
		refused: chatBody('o3', { temperature: 0.2 }),
		accepted: chatBody('o3', { temperature: 1 }),
		error: oaError(
			"Unsupported value: 'temperature' does not support 0.2 with this model. Only the default (1) value is supported.",
			'temperature',
			'unsupported_value',
		),
	},
	{
		id: 'OA-7',
		title: 'refuses function tools on GPT-6.1 Terra even with effort none',
		api: 'chat',
		refused: chatBody('gpt-6.1-terra', { tools: [FN_TOOL], reasoning_effort: 'none' }),
		accepted: chatBody('gpt-6.1-terra', { reasoning_effort: 'none' }),
		error: oaError(
			"Function tools with reasoning_effort are not supported for gpt-6.1-terra in /v1/chat/completions. To use function tools, use /v1/responses or set reasoning_effort to 'none'.",
			'reasoning_effort',
		),
	},
	{
		id: 'OA-7',
		title: 'refuses function tools on GPT-6 Luna at the default effort, and takes them with none',
		api: 'chat',
		refused: chatBody('gpt-6-luna', { tools: [FN_TOOL] }),
		accepted: chatBody('gpt-6-luna', { tools: [FN_TOOL], reasoning_effort: 'none' }),
		error: oaError(
			"Function tools with reasoning_effort are not supported for gpt-6-luna in /v1/chat/completions. To use function tools, use /v1/responses or set reasoning_effort to 'none'.",
			'reasoning_effort',
		),
	},
	{
		id: 'OA-8',
		title: 'refuses parallel_tool_calls on o3',
		api: 'chat',
		refused: chatBody('o3', { tools: [FN_TOOL], parallel_tool_calls: false }),
		accepted: chatBody('o3', { tools: [FN_TOOL] }),
		error: oaError(
			"Unsupported parameter: 'parallel_tool_calls' is not supported with this model.",
			'parallel_tool_calls',
			'unsupported_parameter',
		),
	},
	{
		id: 'OA-9',
		title: 'answers 404 for a model from its shutdown day, UTC',
		api: 'chat',
		refused: chatBody('gpt-5-nano'),
		accepted: chatBody('gpt-5-nano'),
		now: '2026-12-11T00:00:00Z',
		acceptedNow: '2026-12-10T23:59:59Z',
		status: 404,
		error: oaError(
			'The model `gpt-5-nano` has been deprecated, learn more here: https://platform.openai.com/docs/deprecations',
			null,
			'model_not_found',
		),
	},
	{
		id: 'OA-10',
		title: 'answers 404 for a model the API does not know',
		api: 'chat',
		refused: chatBody('gpt-4o-2024-08-06'),
		accepted: chatBody('gpt-4o'),
		status: 404,
		error: oaError(
			'The model `gpt-4o-2024-08-06` does not exist or you do not have access to it.',
			null,
			'model_not_found',
		),
	},
]

function responsesBody(model: string, extra: Record<string, unknown> = {}) {
	return { model, input: 'Say hello', store: false, ...extra }
}

const RESPONSES_RULES: RuleRow[] = [
	{
		id: 'OR-1',
		title: 'refuses a Chat Completions field',
		api: 'responses',
		refused: responsesBody('gpt-6.2-sol', { max_tokens: 100 }),
		accepted: responsesBody('gpt-6.2-sol', { max_output_tokens: 100 }),
		error: oaError("Unknown parameter: 'max_tokens'.", 'max_tokens', 'unknown_parameter'),
	},
	{
		id: 'OR-2',
		title: 'refuses an effort the model does not have, listing every level',
		api: 'responses',
		refused: responsesBody('gpt-6.2-sol', { reasoning: { effort: 'none' } }),
		accepted: responsesBody('gpt-6.2-sol', { reasoning: { effort: 'max' } }),
		error: oaError(
			"Unsupported value: 'none' is not supported with the 'gpt-6.2-sol' model. Supported values are: 'low', 'medium', 'high', 'xhigh', and 'max'.",
			'reasoning.effort',
			'unsupported_value',
		),
	},
	{
		id: 'OR-3',
		title: 'refuses temperature while reasoning is on, and takes it with effort none',
		api: 'responses',
		refused: responsesBody('gpt-6.1-terra', { temperature: 0.5 }),
		accepted: responsesBody('gpt-6.1-terra', { temperature: 0.5, reasoning: { effort: 'none' } }),
		error: oaError("Unsupported parameter: 'temperature' is not supported with this model.", 'temperature'),
	},
	{
		id: 'OR-4',
		title: 'refuses reasoning on a model without reasoning',
		api: 'responses',
		refused: responsesBody('gpt-4.1', { reasoning: { effort: 'low' } }),
		accepted: responsesBody('gpt-4.1', { temperature: 0.5 }),
		error: oaError(
			"Unsupported parameter: 'reasoning.effort' is not supported with this model.",
			'reasoning.effort',
			'unsupported_parameter',
		),
	},
	{
		id: 'OR-5',
		title: 'refuses a function_call_output that answers no function_call of the input',
		api: 'responses',
		refused: responsesBody('gpt-6.2-astra', {
			tools: [FLAT_TOOL],
			input: [
				{ role: 'user', content: 'Weather in Paris?' },
				{ type: 'function_call_output', call_id: 'call_1', output: '18°C' },
			],
		}),
		accepted: responsesBody('gpt-6.2-astra', {
			tools: [FLAT_TOOL],
			input: [
				{ role: 'user', content: 'Weather in Paris?' },
				{ type: 'function_call', call_id: 'call_1', name: 'get_weather', arguments: '{}' },
				{ type: 'function_call_output', call_id: 'call_1', output: '18°C' },
			],
		}),
		error: oaError('No tool call found for function call output with call_id call_1.', 'input'),
	},
]

describe('fakeUpstream rules (OpenAI Chat Completions)', () => {
	it.each(OPENAI_RULES)('$id $title', expectRule)

	it('checks every rule before the script, which the next accepted request still gets', async () => {
		await using fake = await start()
		fake.script('gpt-6-luna', { kind: 'reply', text: 'scripted' })
		const refused = await send(fake, 'chat', chatBody('gpt-6-luna', { temperature: 0 }))
		const accepted = await send(fake, 'chat', chatBody('gpt-6-luna'))
		expect({ refused: refused.status, text: accepted.body.choices[0].message.content }).toEqual({
			refused: 400,
			text: 'scripted',
		})
	})

	it('knows every catalog model, retired ones included', () => {
		expect(FAKE_MODELS).toEqual({
			openai: [
				'gpt-6.2-astra',
				'gpt-6.2-sol',
				'gpt-6.1-terra',
				'gpt-6-luna',
				'gpt-5',
				'gpt-5-mini',
				'gpt-5-nano',
				'o3',
				'gpt-4.1',
				'gpt-4.1-mini',
				'gpt-4o',
				'gpt-4o-mini',
				'text-embedding-3-small',
				'text-embedding-3-large',
				'text-embedding-ada-002',
			],
			anthropic: [
				'claude-fable-5-2',
				'claude-opus-5-5',
				'claude-sonnet-5-5',
				'claude-haiku-5-5',
				'claude-haiku-4-5',
				'claude-sonnet-4-5',
				'claude-opus-4-1',
			],
			groq: ['openai/gpt-oss-120b', 'openai/gpt-oss-20b', 'qwen/qwen3.8-27b'],
			mistral: ['mistral-large-2512', 'mistral-medium-2604', 'mistral-small-2603'],
			deepseek: ['deepseek-flash', 'deepseek-v4-pro'],
			together: ['openai/gpt-oss-120b', 'meta-llama/Llama-3.3-70B-Instruct-Turbo', 'Qwen/Qwen3.7-Max'],
		})
	})

	it('lists only the models not yet shut down', async () => {
		await using fake = await start({ now: () => new Date('2026-12-11T00:00:00Z') })
		const models = []
		for await (const model of openai(fake).models.list()) models.push(model.id)
		expect(models).toEqual([
			'gpt-6.2-astra',
			'gpt-6.2-sol',
			'gpt-6.1-terra',
			'gpt-6-luna',
			'gpt-4.1',
			'gpt-4.1-mini',
			'gpt-4o',
			'gpt-4o-mini',
			'text-embedding-3-small',
			'text-embedding-3-large',
			'text-embedding-ada-002',
		])
	})
})

describe('fakeUpstream answers (OpenAI Chat Completions)', () => {
	it.each([
		{ model: 'gpt-6-luna', effort: '', reasoning: 48 },
		{ model: 'gpt-6-luna', effort: 'none', reasoning: 0 },
		{ model: 'gpt-6.2-astra', effort: 'xhigh', reasoning: 80 },
		{ model: 'gpt-5', effort: 'minimal', reasoning: 16 },
		{ model: 'o3', effort: 'high', reasoning: 64 },
		{ model: 'gpt-4o', effort: '', reasoning: 0 },
	])(
		'counts $reasoning reasoning tokens for $model at effort "$effort", inside completion_tokens',
		async (row) => {
			await using fake = await start()
			const body = chatBody(row.model, row.effort ? { reasoning_effort: row.effort } : {})
			const { body: completion } = await send(fake, 'chat', body)
			const write = row.model.startsWith('gpt-6') ? { cache_write_tokens: 0 } : {}
			const usage = openaiUsage(USER_TOKENS, 3 + row.reasoning, { reasoning: row.reasoning })
			expect(completion.usage).toEqual({
				...usage,
				prompt_tokens_details: { ...usage.prompt_tokens_details, ...write },
			})
		},
	)

	it('writes a long prompt to the cache on GPT-6, then reads it, in 128-token steps', async () => {
		await using fake = await start()
		const first = [{ role: 'user', content: LONG }]
		const longer = [
			...first,
			{ role: 'assistant', content: 'Hi' },
			{ role: 'user', content: 'more '.repeat(200) },
		]
		const usages = []
		for (const messages of [first, first, longer]) {
			const { body } = await send(fake, 'chat', { model: 'gpt-6-luna', messages, reasoning_effort: 'none' })
			usages.push({ prompt: body.usage.prompt_tokens, ...body.usage.prompt_tokens_details })
		}
		expect(usages).toEqual([
			{ prompt: 1250, cached_tokens: 0, audio_tokens: 0, cache_write_tokens: 1152 },
			{ prompt: 1250, cached_tokens: 1152, audio_tokens: 0, cache_write_tokens: 0 },
			{ prompt: 1501, cached_tokens: 1152, audio_tokens: 0, cache_write_tokens: 256 },
		])
	})

	it('reads cached prompts on older models without reporting writes, and never caches short ones', async () => {
		await using fake = await start()
		const details = []
		for (const content of [LONG, LONG, 'short', 'short']) {
			const { body } = await send(fake, 'chat', { model: 'gpt-4o', messages: [{ role: 'user', content }] })
			details.push(body.usage.prompt_tokens_details)
		}
		expect(details).toEqual([
			{ cached_tokens: 0, audio_tokens: 0 },
			{ cached_tokens: 1152, audio_tokens: 0 },
			{ cached_tokens: 0, audio_tokens: 0 },
			{ cached_tokens: 0, audio_tokens: 0 },
		])
	})

	it('keeps prompt caches apart per model and forgets them on reset', async () => {
		await using fake = await start()
		const cached = async (model: string) => {
			const { body } = await send(fake, 'chat', { model, messages: [{ role: 'user', content: LONG }] })
			return body.usage.prompt_tokens_details.cached_tokens
		}
		const reads = [await cached('gpt-4o'), await cached('gpt-4o-mini'), await cached('gpt-4o')]
		fake.reset()
		reads.push(await cached('gpt-4o'))
		expect(reads).toEqual([0, 0, 1152, 0])
	})

	it('ends a stream-error stream with an OpenAI error line and no [DONE]', async () => {
		await using fake = await start()
		fake.script(
			'gpt-4o-mini',
			{ kind: 'stream-error', afterChunks: 2 },
			{ kind: 'stream-error', afterChunks: 2 },
		)
		const { text } = await send(fake, 'chat', chatBody('gpt-4o-mini', { stream: true }))
		const lines = payloads(text)
		const stream = await openai(fake).chat.completions.create({ ...chatBody('gpt-4o-mini'), stream: true })
		const received: string[] = []
		const error = await (async () => {
			for await (const chunk of stream) received.push(chunk.choices[0]?.delta.content ?? '')
		})().catch((e: unknown) => e)
		expect({
			lines: lines.length,
			last: lines.at(-1),
			received,
			sdk: error instanceof OpenAI.APIError,
		}).toEqual({
			lines: 3,
			last: {
				error: {
					message: expect.stringMatching(
						/^The server had an error processing your request\. Sorry about that!/,
					),
					type: 'server_error',
					param: null,
					code: null,
				},
			},
			received: ['', 'Hello'],
			sdk: true,
		})
	})

	it('answers a non-streamed stream-error with the scripted status', async () => {
		await using fake = await start()
		fake.script('gpt-4o', { kind: 'stream-error', afterChunks: 0, status: 503, message: 'busy' })
		const { status, body } = await send(fake, 'chat', chatBody('gpt-4o'))
		expect({ status, body }).toEqual({
			status: 503,
			body: { error: { message: 'busy', type: 'server_error', param: null, code: null } },
		})
	})

	it('stops for length when the script says max_tokens', async () => {
		await using fake = await start()
		fake.script('gpt-4o', { kind: 'reply', text: 'Cut', stopReason: 'max_tokens' })
		const completion = await openai(fake).chat.completions.create(chatBody('gpt-4o'))
		expect(completion.choices[0]?.finish_reason).toBe('length')
	})
})

describe('fakeUpstream rules (OpenAI Responses API)', () => {
	it.each(RESPONSES_RULES)('$id $title', expectRule)

	it('refuses nested Chat Completions tools and a json_schema format without a name', async () => {
		await using fake = await start()
		const nested = await send(fake, 'responses', responsesBody('gpt-6.2-sol', { tools: [FN_TOOL] }))
		const format = await send(
			fake,
			'responses',
			responsesBody('gpt-6.2-sol', { text: { format: { type: 'json_schema', json_schema: { name: 'x' } } } }),
		)
		const part = await send(
			fake,
			'responses',
			responsesBody('gpt-6.2-sol', {
				input: [
					{ role: 'user', content: 'Hi' },
					{ role: 'assistant', content: [{ type: 'input_text', text: 'Hello' }] },
					{ role: 'user', content: 'Again' },
				],
			}),
		)
		expect([nested.body, format.body, part.body]).toEqual([
			oaError("Missing required parameter: 'tools[0].name'.", 'tools[0].name', 'missing_required_parameter'),
			oaError(
				"Missing required parameter: 'text.format.name'.",
				'text.format.name',
				'missing_required_parameter',
			),
			oaError(
				"Invalid value: 'input_text'. Supported values are: 'output_text' and 'refusal'.",
				'input[1].content[0]',
				'invalid_value',
			),
		])
	})
})

describe('fakeUpstream answers (OpenAI Responses API)', () => {
	it('answers a Response with a reasoning item, the message and usage', async () => {
		await using fake = await start()
		const request = responsesBody('gpt-6.2-sol', {
			include: ['reasoning.encrypted_content'],
			instructions: 'Be brief.',
		})
		const { body } = await send(fake, 'responses', request)
		// "Be brief." and "Say hello": 18 characters / 4, rounded up.
		const prompt = 5
		expect(body).toEqual({
			id: expect.stringMatching(/^resp_/),
			object: 'response',
			created_at: expect.any(Number),
			status: 'completed',
			background: false,
			error: null,
			incomplete_details: null,
			instructions: 'Be brief.',
			max_output_tokens: null,
			max_tool_calls: null,
			model: 'gpt-6.2-sol',
			output: [
				{
					id: expect.stringMatching(/^rs_/),
					type: 'reasoning',
					summary: [],
					encrypted_content: expect.any(String),
				},
				{
					id: expect.stringMatching(/^msg_/),
					type: 'message',
					status: 'completed',
					role: 'assistant',
					content: [{ type: 'output_text', text: 'Hello from gpt-6.2-sol', annotations: [], logprobs: [] }],
				},
			],
			parallel_tool_calls: true,
			previous_response_id: null,
			prompt_cache_key: null,
			reasoning: { effort: 'medium', summary: null },
			safety_identifier: null,
			service_tier: 'default',
			store: false,
			temperature: 1,
			text: { format: { type: 'text' }, verbosity: 'medium' },
			tool_choice: 'auto',
			tools: [],
			top_logprobs: 0,
			top_p: 1,
			truncation: 'disabled',
			usage: {
				input_tokens: prompt,
				input_tokens_details: { cached_tokens: 0, cache_write_tokens: 0 },
				output_tokens: 3 + 48,
				output_tokens_details: { reasoning_tokens: 48 },
				total_tokens: prompt + 51,
			},
			user: null,
			metadata: {},
		})
	})

	it('leaves encrypted_content out unless included, and the reasoning item out on gpt-4.1', async () => {
		await using fake = await start()
		const sol = await send(fake, 'responses', responsesBody('gpt-6.2-sol'))
		const old = await send(fake, 'responses', responsesBody('gpt-4.1'))
		expect({
			sol: sol.body.output.map((item: Json) => Object.keys(item).sort()),
			old: old.body.output.map((item: Json) => item.type),
			reasoning: old.body.usage.output_tokens_details,
		}).toEqual({
			sol: [
				['id', 'summary', 'type'],
				['content', 'id', 'role', 'status', 'type'],
			],
			old: ['message'],
			reasoning: { reasoning_tokens: 0 },
		})
	})

	it('answers scripted tool calls as function_call items when the request has tools', async () => {
		await using fake = await start()
		fake.script('gpt-6.2-astra', { kind: 'reply', toolCalls: [WEATHER] })
		const response = await openai(fake).responses.create({
			model: 'gpt-6.2-astra',
			input: 'Weather in Paris?',
			tools: [FLAT_TOOL as OpenAI.Responses.FunctionTool],
			store: false,
		})
		expect(response.output.slice(1)).toEqual([
			{
				id: expect.stringMatching(/^fc_/),
				type: 'function_call',
				status: 'completed',
				arguments: WEATHER.arguments,
				call_id: expect.stringMatching(/^call_/),
				name: 'get_weather',
			},
		])
	})

	it('answers text instead of scripted tool calls when the request has no tools', async () => {
		await using fake = await start()
		fake.script('gpt-6.2-astra', { kind: 'reply', toolCalls: [WEATHER] })
		const { body } = await send(fake, 'responses', responsesBody('gpt-6.2-astra'))
		expect(body.output.map((item: Json) => item.type)).toEqual(['reasoning', 'message'])
	})

	it('streams the Responses events in order, each with its sequence number', async () => {
		await using fake = await start()
		fake.script('gpt-6.2-sol', { kind: 'reply', text: 'Hi there', toolCalls: [WEATHER] })
		const { text } = await send(
			fake,
			'responses',
			responsesBody('gpt-6.2-sol', { stream: true, tools: [FLAT_TOOL] }),
		)
		const events = payloads(text)
		expect({
			names: eventNames(text),
			types: events.map((each) => each.type),
			sequence: events.map((each) => each.sequence_number),
			deltas: events.filter((each) => each.type === 'response.output_text.delta').map((each) => each.delta),
			final: events.at(-1).response.output.map((item: Json) => item.type),
		}).toEqual({
			names: [
				'response.created',
				'response.in_progress',
				'response.output_item.added',
				'response.output_item.done',
				'response.output_item.added',
				'response.content_part.added',
				'response.output_text.delta',
				'response.output_text.delta',
				'response.output_text.done',
				'response.content_part.done',
				'response.output_item.done',
				'response.output_item.added',
				'response.function_call_arguments.delta',
				'response.function_call_arguments.delta',
				'response.function_call_arguments.delta',
				'response.function_call_arguments.done',
				'response.output_item.done',
				'response.completed',
			],
			types: eventNames(text),
			sequence: [...Array(18).keys()],
			deltas: ['Hi', ' there'],
			final: ['reasoning', 'message', 'function_call'],
		})
	})

	it('streams a Response the SDK reassembles', async () => {
		await using fake = await start()
		const stream = openai(fake).responses.stream({ model: 'gpt-6-luna', input: 'Say hello', store: false })
		const response = await stream.finalResponse()
		expect({ text: response.output_text, status: response.status }).toEqual({
			text: 'Hello from gpt-6-luna',
			status: 'completed',
		})
	})

	it('sends an error event and response.failed for stream-error', async () => {
		await using fake = await start()
		fake.script(
			'gpt-6-luna',
			{ kind: 'stream-error', afterChunks: 3 },
			{ kind: 'stream-error', afterChunks: 3 },
		)
		const { text } = await send(fake, 'responses', responsesBody('gpt-6-luna', { stream: true }))
		const events = payloads(text).slice(-2)
		const error = await openai(fake)
			.responses.stream({ model: 'gpt-6-luna', input: 'Say hello', store: false })
			.finalResponse()
			.catch((e: unknown) => e)
		expect({ names: eventNames(text).slice(-2), events, sdk: error instanceof OpenAI.APIError }).toEqual({
			names: ['error', 'response.failed'],
			events: [
				{
					type: 'error',
					code: 'server_error',
					message: 'The server had an error while processing your request. Sorry about that!',
					param: null,
					sequence_number: 3,
				},
				{
					type: 'response.failed',
					response: expect.objectContaining({
						status: 'failed',
						error: {
							code: 'server_error',
							message: 'The server had an error while processing your request. Sorry about that!',
						},
					}),
					sequence_number: 4,
				},
			],
			sdk: true,
		})
	})

	it('reports an incomplete Response when the script says max_tokens', async () => {
		await using fake = await start()
		fake.script('gpt-6-luna', { kind: 'reply', stopReason: 'max_tokens' })
		const { body } = await send(fake, 'responses', responsesBody('gpt-6-luna'))
		expect({ status: body.status, details: body.incomplete_details }).toEqual({
			status: 'incomplete',
			details: { reason: 'max_output_tokens' },
		})
	})

	it('reports cache writes and reads in input_tokens_details', async () => {
		await using fake = await start()
		const details = []
		for (let i = 0; i < 2; i++) {
			const { body } = await send(fake, 'responses', responsesBody('gpt-6.1-terra', { input: LONG }))
			details.push(body.usage.input_tokens_details)
		}
		expect(details).toEqual([
			{ cached_tokens: 0, cache_write_tokens: 1152 },
			{ cached_tokens: 1152, cache_write_tokens: 0 },
		])
	})
})

const WEATHER_QUESTION = [{ role: 'user', content: 'Weather in Paris?' }]

const ANTHROPIC_RULES: RuleRow[] = [
	{
		id: 'AN-1',
		title: 'refuses temperature at any value, the default included',
		api: 'messages',
		refused: claudeBody('claude-haiku-5-5', { temperature: 1 }),
		accepted: claudeBody('claude-haiku-5-5'),
		error: anError('temperature: Extra inputs are not permitted'),
	},
	{
		id: 'AN-1',
		title: 'refuses top_k on every model, legacy ones included',
		api: 'messages',
		refused: claudeBody('claude-haiku-4-5', { top_k: 5 }),
		accepted: claudeBody('claude-haiku-4-5'),
		error: anError('top_k: Extra inputs are not permitted'),
	},
	{
		id: 'AN-2',
		title: 'refuses thinking disabled on Opus 5.5, which always thinks',
		api: 'messages',
		refused: claudeBody('claude-opus-5-5', { thinking: { type: 'disabled' } }),
		accepted: claudeBody('claude-opus-5-5', { thinking: { type: 'adaptive' } }),
		error: anError(
			'"thinking.type.disabled" is not supported for this model. Use "thinking.type.adaptive" and "output_config.effort" to control thinking behavior.',
		),
	},
	{
		id: 'AN-2',
		title: 'refuses a thinking budget on a 5.x model',
		api: 'messages',
		refused: claudeBody('claude-fable-5-2', { thinking: { type: 'enabled', budget_tokens: 2048 } }),
		accepted: claudeBody('claude-fable-5-2', { output_config: { effort: 'low' } }),
		error: anError(
			'"thinking.type.enabled" is not supported for this model. Use "thinking.type.adaptive" and "output_config.effort" to control thinking behavior.',
		),
	},
	{
		id: 'AN-3',
		title: 'points Sonnet 5.5 from disabled to between_tools',
		api: 'messages',
		refused: claudeBody('claude-sonnet-5-5', { thinking: { type: 'disabled' } }),
		accepted: claudeBody('claude-sonnet-5-5', { thinking: { type: 'between_tools' } }),
		error: anError(
			'"thinking.type.disabled" is not supported for this model. Use "thinking.type.between_tools" to turn off up-front thinking.',
		),
	},
	{
		id: 'AN-4',
		title: 'refuses thinking disabled on Haiku 5.5 above effort high',
		api: 'messages',
		refused: claudeBody('claude-haiku-5-5', {
			thinking: { type: 'disabled' },
			output_config: { effort: 'xhigh' },
		}),
		accepted: claudeBody('claude-haiku-5-5', {
			thinking: { type: 'disabled' },
			output_config: { effort: 'high' },
		}),
		error: anError(
			"output_config.effort 'xhigh' is not supported when thinking is disabled on this model. Use effort 'high' or below, or enable thinking.",
		),
	},
	{
		id: 'AN-4',
		title: 'refuses between_tools on Sonnet 5.5 at effort max',
		api: 'messages',
		refused: claudeBody('claude-sonnet-5-5', {
			thinking: { type: 'between_tools' },
			output_config: { effort: 'max' },
		}),
		accepted: claudeBody('claude-sonnet-5-5', { output_config: { effort: 'max' } }),
		error: anError(
			"output_config.effort 'max' is not supported when thinking is disabled on this model. Use effort 'high' or below, or enable thinking.",
		),
	},
	{
		id: 'AN-5',
		title: 'refuses between_tools with another thinking field',
		api: 'messages',
		refused: claudeBody('claude-sonnet-5-5', { thinking: { type: 'between_tools', display: 'summarized' } }),
		accepted: claudeBody('claude-sonnet-5-5', { thinking: { type: 'adaptive', display: 'summarized' } }),
		error: anError('thinking.between_tools: Extra inputs are not permitted'),
	},
	{
		id: 'AN-6',
		title: 'refuses adaptive thinking on a legacy model',
		api: 'messages',
		refused: claudeBody('claude-haiku-4-5', { thinking: { type: 'adaptive' } }),
		accepted: claudeBody('claude-haiku-4-5', { thinking: { type: 'enabled', budget_tokens: 1024 } }),
		error: anError('adaptive thinking is not supported on this model'),
	},
	{
		id: 'AN-6',
		title: 'refuses a thinking budget under 1,024',
		api: 'messages',
		refused: claudeBody('claude-haiku-4-5', { thinking: { type: 'enabled', budget_tokens: 512 } }),
		accepted: claudeBody('claude-haiku-4-5', { thinking: { type: 'enabled', budget_tokens: 2048 } }),
		error: anError('thinking.enabled.budget_tokens: Input should be greater than or equal to 1024'),
	},
	{
		id: 'AN-6',
		title: 'refuses a thinking budget not below max_tokens',
		api: 'messages',
		refused: claudeBody('claude-haiku-4-5', {
			max_tokens: 2048,
			thinking: { type: 'enabled', budget_tokens: 2048 },
		}),
		accepted: claudeBody('claude-haiku-4-5', {
			max_tokens: 2049,
			thinking: { type: 'enabled', budget_tokens: 2048 },
		}),
		error: anError('`max_tokens` must be greater than `thinking.budget_tokens`'),
	},
	{
		id: 'AN-7',
		title: 'refuses output_config.effort on a legacy model',
		api: 'messages',
		refused: claudeBody('claude-haiku-4-5', { output_config: { effort: 'low' } }),
		accepted: claudeBody('claude-haiku-4-5'),
		error: anError("output_config.effort: this model does not support effort 'low'"),
	},
	{
		id: 'AN-7',
		title: 'refuses an effort level the model lacks',
		api: 'messages',
		refused: claudeBody('claude-opus-5-5', { output_config: { effort: 'none' } }),
		accepted: claudeBody('claude-opus-5-5', { output_config: { effort: 'max' } }),
		error: anError("output_config.effort: this model does not support effort 'none'"),
	},
	{
		id: 'AN-8',
		title: 'refuses a forced tool_choice on Opus 5.5',
		api: 'messages',
		refused: claudeBody('claude-opus-5-5', { tools: [CLAUDE_TOOL], tool_choice: { type: 'any' } }),
		accepted: claudeBody('claude-opus-5-5', { tools: [CLAUDE_TOOL], tool_choice: { type: 'auto' } }),
		error: anError('tool_choice: type "tool" and "any" are not supported for this model.'),
	},
	{
		id: 'AN-8',
		title: 'refuses a named tool_choice on Fable 5.2',
		api: 'messages',
		refused: claudeBody('claude-fable-5-2', {
			tools: [CLAUDE_TOOL],
			tool_choice: { type: 'tool', name: 'get_weather' },
		}),
		accepted: claudeBody('claude-fable-5-2', { tools: [CLAUDE_TOOL], tool_choice: { type: 'none' } }),
		error: anError('tool_choice: type "tool" and "any" are not supported for this model.'),
	},
	{
		id: 'AN-9',
		title: 'refuses a forced tool_choice with thinking on a legacy model, and takes it without',
		api: 'messages',
		refused: claudeBody('claude-haiku-4-5', {
			tools: [CLAUDE_TOOL],
			tool_choice: { type: 'tool', name: 'get_weather' },
			thinking: { type: 'enabled', budget_tokens: 1024 },
		}),
		accepted: claudeBody('claude-haiku-4-5', {
			tools: [CLAUDE_TOOL],
			tool_choice: { type: 'tool', name: 'get_weather' },
		}),
		error: anError('Thinking may not be enabled when tool_choice forces tool use.'),
	},
	{
		id: 'AN-10',
		title: 'refuses prefill on every 5.x model',
		api: 'messages',
		refused: claudeBody('claude-haiku-5-5', {
			thinking: { type: 'disabled' },
			messages: [...USER, { role: 'assistant', content: 'Sure,' }],
		}),
		accepted: claudeBody('claude-haiku-5-5', { thinking: { type: 'disabled' } }),
		error: anError(
			'This model does not support assistant message prefill. The conversation must end with a user message.',
		),
	},
	{
		id: 'AN-10',
		title: 'refuses prefill on a legacy model with thinking on, and takes it with thinking off',
		api: 'messages',
		refused: claudeBody('claude-haiku-4-5', {
			thinking: { type: 'enabled', budget_tokens: 1024 },
			messages: [...USER, { role: 'assistant', content: 'Sure,' }],
		}),
		accepted: claudeBody('claude-haiku-4-5', {
			messages: [...USER, { role: 'assistant', content: 'Sure,' }],
		}),
		error: anError(
			'This model does not support assistant message prefill. The conversation must end with a user message.',
		),
	},
	{
		id: 'AN-15',
		title: 'refuses a fifth cache_control breakpoint',
		api: 'messages',
		refused: claudeBody('claude-haiku-5-5', {
			system: [1, 2, 3].map((n) => ({
				type: 'text',
				text: `Part ${n}`,
				cache_control: { type: 'ephemeral' },
			})),
			messages: [
				{
					role: 'user',
					content: [1, 2].map((n) => ({ type: 'text', text: `Q${n}`, cache_control: { type: 'ephemeral' } })),
				},
			],
		}),
		accepted: claudeBody('claude-haiku-5-5', {
			system: [1, 2, 3].map((n) => ({
				type: 'text',
				text: `Part ${n}`,
				cache_control: { type: 'ephemeral' },
			})),
			messages: [
				{ role: 'user', content: [{ type: 'text', text: 'Q', cache_control: { type: 'ephemeral' } }] },
			],
		}),
		error: anError('A maximum of 4 blocks with cache_control may be provided. Found 5.'),
	},
	{
		id: 'AN-15',
		title: 'refuses a cache ttl other than 5m and 1h',
		api: 'messages',
		refused: claudeBody('claude-haiku-5-5', {
			system: [{ type: 'text', text: 'Rules', cache_control: { type: 'ephemeral', ttl: '24h' } }],
		}),
		accepted: claudeBody('claude-haiku-5-5', {
			system: [{ type: 'text', text: 'Rules', cache_control: { type: 'ephemeral', ttl: '1h' } }],
		}),
		error: anError("cache_control.ttl: Input should be '5m' or '1h'"),
	},
	{
		id: 'AN-15',
		title: 'refuses cache_control on a thinking block',
		api: 'messages',
		refused: claudeBody('claude-haiku-4-5', {
			messages: [
				...USER,
				{
					role: 'assistant',
					content: [
						{ type: 'thinking', thinking: 'x', signature: 'x', cache_control: { type: 'ephemeral' } },
						{ type: 'text', text: 'Hello' },
					],
				},
				{ role: 'user', content: 'Again' },
			],
		}),
		accepted: claudeBody('claude-haiku-4-5', {
			messages: [
				...USER,
				{
					role: 'assistant',
					content: [{ type: 'text', text: 'Hello', cache_control: { type: 'ephemeral' } }],
				},
				{ role: 'user', content: 'Again' },
			],
		}),
		error: anError('messages.1.content.0.thinking.cache_control: Extra inputs are not permitted'),
	},
	{
		id: 'AN-16',
		title: 'refuses max_tokens above the model maximum',
		api: 'messages',
		refused: claudeBody('claude-haiku-4-5', { max_tokens: 64_001 }),
		accepted: claudeBody('claude-haiku-4-5', { max_tokens: 64_000 }),
		error: anError(
			'max_tokens: 64001 > 64000, which is the maximum allowed number of output tokens for claude-haiku-4-5',
		),
	},
	{
		id: 'AN-17',
		title: 'answers 404 for Sonnet 4.5 from its retirement day',
		api: 'messages',
		refused: claudeBody('claude-sonnet-4-5'),
		accepted: claudeBody('claude-sonnet-4-5'),
		acceptedNow: '2026-11-29T23:59:59Z',
		status: 404,
		error: anError('model: claude-sonnet-4-5', 'not_found_error'),
	},
	{
		id: 'AN-17',
		title: 'answers 404 for Opus 4.1, retired since August',
		api: 'messages',
		refused: claudeBody('claude-opus-4-1', { max_tokens: 32_000 }),
		accepted: claudeBody('claude-opus-4-1', { max_tokens: 32_000 }),
		acceptedNow: '2026-08-04T12:00:00Z',
		status: 404,
		error: anError('model: claude-opus-4-1', 'not_found_error'),
	},
]

/** A first tool-loop turn: the request and the answer's content (thinking first when thinking is on). */
async function toolTurn(fake: FakeUpstream, model: string, extra: Record<string, unknown> = {}) {
	fake.script(model, { kind: 'reply', toolCalls: [WEATHER] })
	const request = claudeBody(model, { tools: [CLAUDE_TOOL], messages: WEATHER_QUESTION, ...extra })
	const { body } = await send(fake, 'messages', request)
	return { request, content: body.content as Json[] }
}

/** The next request of the loop: the assistant turn (as given) and the tool result it asked for. */
function toolResult(turn: { request: Record<string, unknown>; content: Json[] }, content = turn.content) {
	const call = turn.content.find((block) => block.type === 'tool_use')
	return {
		...turn.request,
		messages: [
			...WEATHER_QUESTION,
			{ role: 'assistant', content },
			{ role: 'user', content: [{ type: 'tool_result', tool_use_id: call.id, content: '18°C' }] },
		],
	}
}

/** A finished exchange on `model` and the request that continues it with one more user message. */
async function chatTurn(fake: FakeUpstream, model: string, extra: Record<string, unknown> = {}) {
	const request = claudeBody(model, { system: 'Be brief.', ...extra })
	const { body } = await send(fake, 'messages', request)
	return {
		content: body.content as Json[],
		next: (content: Json[] = body.content, more: Record<string, unknown> = {}) => ({
			...request,
			messages: [...USER, { role: 'assistant', content }, { role: 'user', content: 'And again?' }],
			...more,
		}),
	}
}

const AN_11 = (found: string) =>
	anError(
		`messages.1.content.0.type: Expected \`thinking\` or \`redacted_thinking\`, but found \`${found}\`. When \`thinking\` is enabled, a final \`assistant\` message must start with a thinking block (preceeding the lastmost set of \`tool_use\` and \`tool_result\` blocks). We recommend you include thinking blocks from previous turns. To avoid this requirement, disable \`thinking\`. Please consult our documentation at https://docs.claude.com/en/docs/build-with-claude/extended-thinking`,
	)

const AN_13 = anError(
	'messages.1.content.0: Invalid `signature` in `thinking` block. The block is bound to a different conversation. Remove the block, or set `thinking.block_binding.prefix_mismatch_behavior` to "drop_block". That setting requires the `thinking-binding-controls-2026-08-01` value in the `anthropic-beta` header.',
)

const AN_14 = anError(
	'messages.1.content.0: `thinking` or `redacted_thinking` blocks in the latest assistant message cannot be modified. These blocks must remain as they were in the original response.',
)

describe('fakeUpstream rules (Anthropic Messages)', () => {
	it.each(ANTHROPIC_RULES)('$id $title', expectRule)

	it('AN-11 refuses a tool loop whose assistant turn lost its thinking block, and takes it back unchanged', async () => {
		await using fake = await start()
		const turn = await toolTurn(fake, 'claude-sonnet-5-5')
		const without = await send(fake, 'messages', toolResult(turn, turn.content.slice(1)))
		const withBlock = await send(fake, 'messages', toolResult(turn))
		expect({
			types: turn.content.map((block) => block.type),
			without: without.body,
			with: withBlock.status,
		}).toEqual({
			types: ['thinking', 'tool_use'],
			without: AN_11('tool_use'),
			with: 200,
		})
	})

	it('AN-11 does not apply once thinking is turned off', async () => {
		await using fake = await start()
		const turn = await toolTurn(fake, 'claude-haiku-5-5')
		const off = { ...toolResult(turn, turn.content.slice(1)), thinking: { type: 'disabled' } }
		const between = await toolTurn(fake, 'claude-sonnet-5-5')
		const sonnet = { ...toolResult(between, between.content.slice(1)), thinking: { type: 'between_tools' } }
		expect([
			(await send(fake, 'messages', off)).status,
			(await send(fake, 'messages', sonnet)).status,
		]).toEqual([200, 200])
	})

	it('AN-12 drops a block the model cannot read, so that AN-11 then finds the tool call first', async () => {
		await using fake = await start()
		const turn = await toolTurn(fake, 'claude-fable-5-2')
		const onOpus = await send(fake, 'messages', { ...toolResult(turn), model: 'claude-opus-5-5' })
		expect(onOpus.body).toEqual(AN_11('tool_use'))
	})

	it('AN-12 drops an unreadable block silently, unchecked against the conversation', async () => {
		await using fake = await start()
		const turn = await chatTurn(fake, 'claude-fable-5-2')
		const edited = await send(
			fake,
			'messages',
			turn.next(turn.content, { model: 'claude-opus-5-5', system: 'Edited.' }),
		)
		expect(edited.status).toBe(200)
	})

	it('AN-12 keeps the blocks of the models a model reads', async () => {
		await using fake = await start()
		const sonnet = await toolTurn(fake, 'claude-sonnet-5-5')
		const haiku = await toolTurn(fake, 'claude-haiku-4-5', {
			thinking: { type: 'enabled', budget_tokens: 1024 },
		})
		const statuses = [
			(await send(fake, 'messages', { ...toolResult(sonnet), model: 'claude-opus-5-5' })).status,
			(
				await send(fake, 'messages', {
					...toolResult(haiku),
					model: 'claude-sonnet-5-5',
					thinking: undefined,
				})
			).status,
			(await send(fake, 'messages', { ...toolResult(sonnet), model: 'claude-haiku-5-5' })).body,
		]
		expect(statuses).toEqual([200, 200, AN_11('tool_use')])
	})

	it('AN-13 refuses a block replayed after the conversation before it changed', async () => {
		await using fake = await start()
		const turn = await chatTurn(fake, 'claude-sonnet-5-5')
		const edited = await send(fake, 'messages', turn.next(turn.content, { system: 'Be verbose.' }))
		const beta = await send(fake, 'messages', turn.next(turn.content, { system: 'Be verbose.' }), {
			'anthropic-beta': 'thinking-binding-controls-2026-08-01',
		})
		const same = await send(fake, 'messages', turn.next())
		expect({ edited: edited.body, beta: beta.body.error.message, same: same.status }).toEqual({
			edited: AN_13,
			beta: AN_13.error.message.replace(
				' That setting requires the `thinking-binding-controls-2026-08-01` value in the `anthropic-beta` header.',
				'',
			),
			same: 200,
		})
	})

	it('AN-13 sees a string content as one text block, and ignores cache_control and key order', async () => {
		await using fake = await start()
		const turn = await chatTurn(fake, 'claude-fable-5-2')
		const respelled = turn.next(turn.content, {
			system: [{ text: 'Be brief.', type: 'text', cache_control: { type: 'ephemeral' } }],
		})
		respelled.messages[0] = {
			role: 'user',
			content: [{ type: 'text', text: USER[0]?.content, cache_control: { type: 'ephemeral', ttl: '1h' } }],
		}
		expect((await send(fake, 'messages', respelled)).status).toBe(200)
	})

	it('AN-13 binds Haiku 5.5 blocks only when the request sets block_binding, and drops them on request', async () => {
		await using fake = await start()
		const turn = await chatTurn(fake, 'claude-haiku-5-5')
		const binding = (behavior: string) => ({
			type: 'adaptive',
			block_binding: { prefix_mismatch_behavior: behavior },
		})
		const edit = (thinking?: unknown) => turn.next(turn.content, { system: 'Edited.', thinking })
		const beta = { 'anthropic-beta': 'thinking-binding-controls-2026-08-01' }
		expect([
			(await send(fake, 'messages', edit())).status,
			(await send(fake, 'messages', edit(binding('error')))).body,
			(await send(fake, 'messages', edit(binding('drop_block')), beta)).status,
		]).toEqual([200, AN_13, 200])
	})

	it('AN-14 refuses a thinking block whose text or signature changed', async () => {
		await using fake = await start()
		const turn = await toolTurn(fake, 'claude-haiku-4-5', {
			thinking: { type: 'enabled', budget_tokens: 1024 },
		})
		const [thinking, ...rest] = turn.content
		const edits = [
			{ ...thinking, thinking: `${thinking.thinking} Also.` },
			{ ...thinking, signature: `${thinking.signature.slice(0, -4)}AAAA` },
			{ ...thinking, signature: Buffer.from('thinking|claude-haiku-4-5|0|0|forged').toString('base64') },
		]
		const answers = []
		for (const edit of edits)
			answers.push((await send(fake, 'messages', toolResult(turn, [edit, ...rest]))).body)
		expect(answers).toEqual([AN_14, AN_14, AN_14])
	})

	it('AN-14 refuses an altered redacted_thinking block and takes the original back', async () => {
		await using fake = await start()
		fake.script('claude-opus-5-5', { kind: 'reply', redactedThinking: true, toolCalls: [WEATHER] })
		const request = claudeBody('claude-opus-5-5', { tools: [CLAUDE_TOOL], messages: WEATHER_QUESTION })
		const { body } = await send(fake, 'messages', request)
		const turn = { request, content: body.content as Json[] }
		const [redacted, ...rest] = turn.content
		const altered = await send(
			fake,
			'messages',
			toolResult(turn, [{ ...redacted, data: `x${redacted.data}` }, ...rest]),
		)
		const original = await send(fake, 'messages', toolResult(turn))
		expect({ redacted, altered: altered.body, original: original.status }).toEqual({
			redacted: { type: 'redacted_thinking', data: expect.any(String) },
			altered: AN_14,
			original: 200,
		})
	})
})

describe('fakeUpstream answers (Anthropic Messages)', () => {
	it('opens a Claude 5.x answer with an empty thinking block and counts the thinking as output', async () => {
		await using fake = await start()
		const message = await anthropic(fake).messages.create(claudeBody('claude-haiku-5-5'))
		expect({ content: message.content, output: message.usage.output_tokens }).toEqual({
			content: [
				{ type: 'thinking', thinking: '', signature: expect.any(String) },
				{ type: 'text', text: 'Hello from claude-haiku-5-5' },
			] as Anthropic.ContentBlock[],
			// Three words, and 48 thinking tokens at Haiku 5.5's default effort, medium.
			output: 3 + 48,
		})
	})

	it.each([
		{
			label: 'adaptive, summarized',
			model: 'claude-opus-5-5',
			thinking: { type: 'adaptive', display: 'summarized' },
			text: 'Planned a one-sentence reply.',
		},
		{
			label: 'budgeted',
			model: 'claude-haiku-4-5',
			thinking: { type: 'enabled', budget_tokens: 1024 },
			text: 'The user asked for a short reply, so I will answer in one sentence.',
		},
		{ label: 'left unset', model: 'claude-haiku-4-5', thinking: undefined, text: null },
		{ label: 'between_tools', model: 'claude-sonnet-5-5', thinking: { type: 'between_tools' }, text: null },
	])('shows $model thinking $label as $text', async ({ model, thinking, text }) => {
		await using fake = await start()
		const { body } = await send(fake, 'messages', claudeBody(model, { thinking }))
		const first = body.content[0]
		expect(first.type === 'thinking' ? first.thinking : null).toBe(text)
	})

	it('streams thinking as start, thinking deltas, a signature delta and stop, as finalMessage() rebuilds it', async () => {
		await using fake = await start()
		const request = claudeBody('claude-sonnet-5-5', { thinking: { type: 'adaptive', display: 'summarized' } })
		const { body: json } = await send(fake, 'messages', request)
		const { text } = await send(fake, 'messages', { ...request, stream: true })
		const events = payloads(text)
		const message = await anthropic(fake)
			.messages.stream(request as Anthropic.MessageCreateParamsNonStreaming)
			.finalMessage()
		expect({
			names: eventNames(text),
			start: events[1],
			deltas: events.filter((each) => each.index === 0 && each.delta).map((each) => each.delta.type),
			// The SDK's stream helper adds parsed_output to text blocks.
			content: message.content.map((block) => ({ ...block, parsed_output: undefined })),
		}).toEqual({
			names: [
				'message_start',
				'content_block_start',
				'ping',
				'content_block_delta',
				'content_block_delta',
				'content_block_delta',
				'content_block_delta',
				'content_block_delta',
				'content_block_stop',
				'content_block_start',
				'content_block_delta',
				'content_block_delta',
				'content_block_delta',
				'content_block_stop',
				'message_delta',
				'message_stop',
			],
			start: {
				type: 'content_block_start',
				index: 0,
				content_block: { type: 'thinking', thinking: '', signature: '' },
			},
			deltas: ['thinking_delta', 'thinking_delta', 'thinking_delta', 'thinking_delta', 'signature_delta'],
			content: json.content,
		})
	})

	it('streams no thinking delta under the default display, only the signature', async () => {
		await using fake = await start()
		const { text } = await send(fake, 'messages', claudeBody('claude-opus-5-5', { stream: true }))
		const deltas = payloads(text).filter((each) => each.index === 0 && each.delta)
		expect(deltas).toEqual([
			{
				type: 'content_block_delta',
				index: 0,
				delta: { type: 'signature_delta', signature: expect.any(String) },
			},
		])
	})

	it('answers Haiku 5.5 under a forced tool_choice with the tool call and no thinking', async () => {
		await using fake = await start()
		fake.script('claude-haiku-5-5', { kind: 'reply', toolCalls: [WEATHER] })
		const request = { tools: [CLAUDE_TOOL], tool_choice: { type: 'tool', name: 'get_weather' } }
		const { body } = await send(fake, 'messages', claudeBody('claude-haiku-5-5', request))
		expect(body.content.map((block: Json) => block.type)).toEqual(['tool_use'])
	})

	it('writes each cache_control prefix once, by ttl, then reads it until it expires', async () => {
		let clock = TEST_TODAY
		await using fake = await start({ now: () => clock })
		const request = (second: string) =>
			claudeBody('claude-haiku-5-5', {
				system: [
					{ type: 'text', text: 'a'.repeat(2000), cache_control: { type: 'ephemeral', ttl: '1h' } },
					{ type: 'text', text: second, cache_control: { type: 'ephemeral' } },
				],
				messages: [{ role: 'user', content: 'Question?' }],
			})
		const usages: unknown[] = []
		const ask = async (second: string) => {
			const { body } = await send(fake, 'messages', request(second))
			const { output_tokens: _, service_tier: __, output_tokens_details: ___, ...usage } = body.usage
			usages.push(usage)
		}
		await ask('b'.repeat(2000))
		await ask('b'.repeat(2000))
		await ask('c'.repeat(2000))
		clock = new Date(TEST_TODAY.getTime() + 6 * 60_000)
		await ask('b'.repeat(2000))
		const usage = (read: number, m5: number, h1: number) => ({
			input_tokens: 3,
			cache_read_input_tokens: read,
			cache_creation_input_tokens: m5 + h1,
			cache_creation: { ephemeral_5m_input_tokens: m5, ephemeral_1h_input_tokens: h1 },
		})
		expect(usages).toEqual([usage(0, 500, 500), usage(1000, 0, 0), usage(500, 500, 0), usage(500, 500, 0)])
	})

	it('repeats input and cache counts in message_delta, whose usage is cumulative', async () => {
		await using fake = await start()
		const request = claudeBody('claude-haiku-4-5', {
			system: [{ type: 'text', text: 'a'.repeat(400), cache_control: { type: 'ephemeral' } }],
			stream: true,
		})
		const { text } = await send(fake, 'messages', request)
		const events = payloads(text)
		// (400 + 30 characters) / 4 → 108 prompt tokens: the 100 of the system text are written to the cache.
		expect({ start: events[0].message.usage, delta: events.at(-2) }).toEqual({
			start: anthropicUsage({
				input_tokens: 8,
				cache_creation_input_tokens: 100,
				cache_creation: { ephemeral_5m_input_tokens: 100, ephemeral_1h_input_tokens: 0 },
				output_tokens: 1,
			}),
			delta: {
				type: 'message_delta',
				delta: { stop_reason: 'end_turn', stop_sequence: null, stop_details: null },
				usage: {
					input_tokens: 8,
					cache_read_input_tokens: 0,
					cache_creation_input_tokens: 100,
					output_tokens: 3,
					output_tokens_details: { thinking_tokens: 0 },
				},
			},
		})
	})

	it.each([
		{ stopReason: 'refusal' as const, details: { type: 'refusal', category: 'cyber', explanation: null } },
		{ stopReason: 'pause_turn' as const, details: null },
		{ stopReason: 'model_context_window_exceeded' as const, details: null },
		{ stopReason: 'max_tokens' as const, details: null },
	])('stops with a scripted $stopReason, streamed or not', async ({ stopReason, details }) => {
		await using fake = await start()
		fake.script('claude-sonnet-5-5', { kind: 'reply', stopReason }, { kind: 'reply', stopReason })
		const created = await anthropic(fake).messages.create(claudeBody('claude-sonnet-5-5'))
		const streamed = await anthropic(fake).messages.stream(claudeBody('claude-sonnet-5-5')).finalMessage()
		const stops = [created, streamed].map((message) => ({
			stop: message.stop_reason,
			details: message.stop_details,
		}))
		expect(stops).toEqual([
			{ stop: stopReason, details },
			{ stop: stopReason, details },
		])
	})

	it('fails right after message_start, before any content, when afterChunks is 1', async () => {
		await using fake = await start()
		fake.script('claude-haiku-5-5', { kind: 'fail-mid-stream', afterChunks: 1 })
		const { text } = await send(fake, 'messages', claudeBody('claude-haiku-5-5', { stream: true }))
		expect({ names: eventNames(text), error: payloads(text)[1] }).toEqual({
			names: ['message_start', 'error'],
			error: { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } },
		})
	})

	it('sends a scripted error event after some text for stream-error', async () => {
		await using fake = await start()
		fake.script('claude-haiku-4-5', {
			kind: 'stream-error',
			afterChunks: 5,
			errorType: 'api_error',
			message: 'Internal',
		})
		const stream = anthropic(fake).messages.stream(anthropicRequest())
		const texts: string[] = []
		stream.on('text', (text) => texts.push(text))
		const error = await stream.finalMessage().catch((e: unknown) => e)
		if (!(error instanceof Anthropic.APIError)) throw new Error(`expected an APIError, got ${error}`)
		expect({ texts, error: error.error }).toEqual({
			texts: ['Hello', ' from'],
			error: { type: 'error', error: { type: 'api_error', message: 'Internal' } },
		})
	})

	it.each([
		{
			status: 402,
			type: 'billing_error',
			message: "There's an issue with your billing or payment information.",
		},
		{ status: 404, type: 'not_found_error', message: 'The requested resource was not found.' },
		{
			status: 413,
			type: 'request_too_large',
			message: 'Request exceeds the maximum allowed number of bytes.',
		},
		{ status: 529, type: 'overloaded_error', message: 'Overloaded' },
	])('answers a scripted $status with $type and a request_id', async ({ status, type, message }) => {
		await using fake = await start()
		fake.script('claude-haiku-5-5', { kind: 'error', status })
		const answer = await send(fake, 'messages', claudeBody('claude-haiku-5-5'))
		expect({ status: answer.status, body: answer.body }).toEqual({ status, body: anError(message, type) })
	})
})

const TOOL_TURN = [
	{ role: 'user', content: 'Weather in Paris?' },
	{
		role: 'assistant',
		content: null,
		tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{}' } }],
	},
	{ role: 'tool', tool_call_id: 'call_1', content: '18°C' },
]

const COMPATIBLE_RULES: RuleRow[] = [
	{
		id: 'GQ-1',
		title: 'refuses logprobs on Groq',
		api: 'groq',
		refused: chatBody('openai/gpt-oss-120b', { logprobs: true }),
		accepted: chatBody('openai/gpt-oss-120b', { seed: 1 }),
		error: { error: { message: "property 'logprobs' is unsupported", type: 'invalid_request_error' } },
	},
	{
		id: 'GQ-1',
		title: 'refuses a top-level field Groq does not know',
		api: 'groq',
		refused: chatBody('openai/gpt-oss-20b', { prompt_cache_key: 'k' }),
		accepted: chatBody('openai/gpt-oss-20b', { max_completion_tokens: 100 }),
		error: {
			error: { message: "property 'prompt_cache_key' is unsupported", type: 'invalid_request_error' },
		},
	},
	{
		id: 'GQ-2',
		title: 'refuses reasoning_content in a Groq assistant message',
		api: 'groq',
		refused: chatBody('openai/gpt-oss-120b', {
			messages: [...USER, { role: 'assistant', content: 'Hi', reasoning_content: '' }, ...USER],
		}),
		accepted: chatBody('openai/gpt-oss-120b', {
			messages: [...USER, { role: 'assistant', content: 'Hi' }, ...USER],
		}),
		error: {
			error: {
				message:
					"'messages.1' : for 'role:assistant' the following must be satisfied[('messages.1' : property 'reasoning_content' is unsupported)]",
				type: 'invalid_request_error',
			},
		},
	},
	{
		id: 'GQ-2',
		title: 'refuses a name on a Groq message',
		api: 'groq',
		refused: chatBody('qwen/qwen3.8-27b', { messages: [{ role: 'user', content: 'Hi', name: 'ann' }] }),
		accepted: chatBody('qwen/qwen3.8-27b', { messages: [{ role: 'user', content: 'Hi' }] }),
		error: {
			error: {
				message:
					"'messages.0' : for 'role:user' the following must be satisfied[('messages.0' : property 'name' is unsupported)]",
				type: 'invalid_request_error',
			},
		},
	},
	{
		id: 'GQ-3',
		title: 'refuses n other than 1 on Groq',
		api: 'groq',
		refused: chatBody('openai/gpt-oss-120b', { n: 2 }),
		accepted: chatBody('openai/gpt-oss-120b', { n: 1 }),
		error: { error: { message: "'n' : number must be at most 1", type: 'invalid_request_error' } },
	},
	{
		id: 'GQ-4',
		title: 'takes only none and default as a Qwen effort on Groq',
		api: 'groq',
		refused: chatBody('qwen/qwen3.8-27b', { reasoning_effort: 'low' }),
		accepted: chatBody('qwen/qwen3.8-27b', { reasoning_effort: 'none' }),
		error: {
			error: { message: 'reasoning_effort must be one of none or default', type: 'invalid_request_error' },
		},
	},
	{
		id: 'GQ-4',
		title: 'takes only low, medium and high as a gpt-oss effort on Groq',
		api: 'groq',
		refused: chatBody('openai/gpt-oss-20b', { reasoning_effort: 'none' }),
		accepted: chatBody('openai/gpt-oss-20b', { reasoning_effort: 'low' }),
		error: {
			error: {
				message: 'reasoning_effort must be one of low, medium or high',
				type: 'invalid_request_error',
			},
		},
	},
	{
		id: 'MI-1',
		title: 'refuses every field outside the Mistral schema at once, with a 422',
		api: 'mistral',
		refused: chatBody('mistral-small-2603', {
			max_completion_tokens: 100,
			stream_options: { include_usage: true },
			messages: [...USER, { role: 'assistant', content: 'Hi', reasoning_content: 'hm' }, ...USER],
		}),
		accepted: chatBody('mistral-small-2603', {
			max_tokens: 100,
			random_seed: 1,
			messages: [...USER, { role: 'assistant', content: 'Hi' }, ...USER],
		}),
		status: 422,
		error: {
			object: 'error',
			message: {
				detail: [
					{
						type: 'extra_forbidden',
						loc: ['body', 'max_completion_tokens'],
						msg: 'Extra inputs are not permitted',
						input: 100,
					},
					{
						type: 'extra_forbidden',
						loc: ['body', 'stream_options'],
						msg: 'Extra inputs are not permitted',
						input: { include_usage: true },
					},
					{
						type: 'extra_forbidden',
						loc: ['body', 'messages', 1, 'assistant', 'reasoning_content'],
						msg: 'Extra inputs are not permitted',
						input: 'hm',
					},
				],
			},
			type: 'invalid_request_error',
			param: null,
			code: null,
		},
	},
	{
		id: 'MI-1',
		title: 'refuses seed and a user name on Mistral, and takes a tool name',
		api: 'mistral',
		refused: chatBody('mistral-large-2512', {
			seed: 1,
			messages: [{ role: 'user', content: 'Hi', name: 'ann' }],
		}),
		accepted: chatBody('mistral-large-2512', {
			messages: [...TOOL_TURN.slice(0, 2), { ...TOOL_TURN[2], name: 'get_weather' }],
		}),
		status: 422,
		error: {
			object: 'error',
			message: {
				detail: [
					{ type: 'extra_forbidden', loc: ['body', 'seed'], msg: 'Extra inputs are not permitted', input: 1 },
					{
						type: 'extra_forbidden',
						loc: ['body', 'messages', 0, 'user', 'name'],
						msg: 'Extra inputs are not permitted',
						input: 'ann',
					},
				],
			},
			type: 'invalid_request_error',
			param: null,
			code: null,
		},
	},
	{
		id: 'DS-1',
		title: 'refuses a DeepSeek tool-call turn without reasoning_content in thinking mode',
		api: 'deepseek',
		refused: chatBody('deepseek-flash', { messages: TOOL_TURN }),
		accepted: chatBody('deepseek-flash', {
			messages: [TOOL_TURN[0], { ...TOOL_TURN[1], reasoning_content: '' }, TOOL_TURN[2]],
		}),
		error: {
			error: {
				message: 'The reasoning_content in the thinking mode must be passed back to the API.',
				type: 'invalid_request_error',
				param: null,
				code: 'invalid_request_error',
			},
		},
	},
	{
		id: 'DS-1',
		title: 'takes the turn without reasoning_content once thinking is disabled',
		api: 'deepseek',
		refused: chatBody('deepseek-v4-pro', { messages: TOOL_TURN, thinking: { type: 'enabled' } }),
		accepted: chatBody('deepseek-v4-pro', { messages: TOOL_TURN, thinking: { type: 'disabled' } }),
		error: {
			error: {
				message: 'The reasoning_content in the thinking mode must be passed back to the API.',
				type: 'invalid_request_error',
				param: null,
				code: 'invalid_request_error',
			},
		},
	},
	{
		id: 'TG-1',
		title: 'refuses effort max on gpt-oss-120b at Together',
		api: 'together',
		refused: chatBody('openai/gpt-oss-120b', { reasoning_effort: 'max' }),
		accepted: chatBody('openai/gpt-oss-120b', { reasoning_effort: 'high' }),
		error: {
			error: {
				message: 'reasoning_effort must be one of low, medium, high',
				type: 'invalid_request_error',
				param: null,
				code: null,
			},
		},
	},
]

function compatible(fake: FakeUpstream, provider: keyof FakeUpstream['baseUrls']) {
	return new OpenAI({ apiKey: `sk-${provider}-test`, baseURL: fake.baseUrls[provider], maxRetries: 0 })
}

describe('fakeUpstream rules (OpenAI-compatible providers)', () => {
	it.each(COMPATIBLE_RULES)('$id $title', expectRule)

	it.each([
		{
			provider: 'groq' as const,
			body: { error: { message: 'Invalid API Key', type: 'invalid_request_error', code: 'invalid_api_key' } },
		},
		{ provider: 'mistral' as const, body: { message: 'Unauthorized', request_id: expect.any(String) } },
		{
			provider: 'deepseek' as const,
			body: {
				error: {
					message: 'Authentication Fails, Your api key is invalid',
					type: 'authentication_error',
					param: null,
					code: 'invalid_request_error',
				},
			},
		},
		{
			provider: 'together' as const,
			body: {
				error: {
					message:
						'Invalid API key provided. You can find your API key at https://api.together.xyz/settings/api-keys.',
					type: 'invalid_request_error',
					param: null,
					code: 'invalid_api_key',
				},
			},
		},
	])(
		'answers a wrong $provider key with its 401, and takes the configured one',
		async ({ provider, body }) => {
			await using fake = await start({ keys: { [provider]: ['sk-mine'] } })
			const model = FAKE_MODELS[provider][0] as string
			const wrong = await send(fake, provider, chatBody(model))
			const mine = await send(fake, provider, chatBody(model), { authorization: 'Bearer sk-mine' })
			expect({ wrong: { status: wrong.status, body: wrong.body }, mine: mine.status }).toEqual({
				wrong: { status: 401, body },
				mine: 200,
			})
		},
	)

	it('answers 404 for a model the provider does not serve', async () => {
		await using fake = await start()
		const groq = await send(fake, 'groq', chatBody('llama-3.1-405b-reasoning'))
		const together = await send(fake, 'together', chatBody('gpt-4o'))
		expect([groq.status, groq.body.error.code, together.status, together.body.error.code]).toEqual([
			404,
			'model_not_found',
			404,
			'model_not_found',
		])
	})
})

describe('fakeUpstream answers (OpenAI-compatible providers)', () => {
	it('answers Groq at its base URL with the reasoning and its usage details', async () => {
		await using fake = await start()
		const completion = (await compatible(fake, 'groq').chat.completions.create(
			chatBody('openai/gpt-oss-120b') as OpenAI.ChatCompletionCreateParamsNonStreaming,
		)) as Json
		expect({ message: completion.choices[0].message, usage: completion.usage }).toEqual({
			message: {
				role: 'assistant',
				content: 'Hello from openai/gpt-oss-120b',
				reasoning: 'Thinking about the request before answering.',
			},
			usage: {
				prompt_tokens: USER_TOKENS,
				completion_tokens: 3 + 48,
				total_tokens: USER_TOKENS + 51,
				prompt_tokens_details: { cached_tokens: 0 },
				completion_tokens_details: { reasoning_tokens: 48 },
			},
		})
	})

	it('leaves the reasoning out of a Qwen answer on Groq at effort none', async () => {
		await using fake = await start()
		const { body } = await send(fake, 'groq', chatBody('qwen/qwen3.8-27b', { reasoning_effort: 'none' }))
		expect(body.choices[0].message).toEqual({ role: 'assistant', content: 'Hello from qwen/qwen3.8-27b' })
	})

	it('ends a Mistral stream with usage on the last chunk unasked, and gives nine-character tool call ids', async () => {
		await using fake = await start()
		fake.script('mistral-medium-2604', { kind: 'reply', toolCalls: [WEATHER] })
		const { text } = await send(fake, 'mistral', chatBody('mistral-medium-2604', { stream: true }))
		const chunks = payloads(text)
		const last = chunks.at(-2)
		expect({
			id: chunks[1].choices[0].delta.tool_calls[0].id,
			last: { finish: last.choices[0].finish_reason, usage: last.usage },
			done: chunks.at(-1),
			usageChunks: chunks.filter((chunk) => chunk !== '[DONE]' && 'usage' in chunk).length,
		}).toEqual({
			id: expect.stringMatching(/^[A-Za-z0-9]{9}$/),
			last: {
				finish: 'tool_calls',
				usage: {
					prompt_tokens: USER_TOKENS,
					completion_tokens: 11,
					total_tokens: USER_TOKENS + 11,
					prompt_tokens_details: { cached_tokens: 0 },
				},
			},
			done: '[DONE]',
			usageChunks: 1,
		})
	})

	it('answers DeepSeek with reasoning_content and its cache hit and miss counts, at both base paths', async () => {
		await using fake = await start()
		const request = { model: 'deepseek-flash', messages: [{ role: 'user', content: LONG }] }
		const first = await send(fake, 'deepseek', request)
		const response = await fetch(`${fake.url}/deepseek/v1/chat/completions`, {
			method: 'POST',
			headers: { authorization: 'Bearer sk-deepseek-test', 'content-type': 'application/json' },
			body: JSON.stringify(request),
		})
		const second = (await response.json()) as Json
		expect({
			reasoning: typeof first.body.choices[0].message.reasoning_content,
			usage: second.usage,
		}).toEqual({
			reasoning: 'string',
			usage: {
				prompt_tokens: 1250,
				completion_tokens: 3 + 48,
				total_tokens: 1250 + 51,
				prompt_tokens_details: { cached_tokens: 1216 },
				completion_tokens_details: { reasoning_tokens: 48 },
				prompt_cache_hit_tokens: 1216,
				prompt_cache_miss_tokens: 34,
			},
		})
	})

	it('streams DeepSeek reasoning_content deltas before the content', async () => {
		await using fake = await start()
		const stream = await compatible(fake, 'deepseek').chat.completions.create({
			...chatBody('deepseek-v4-pro'),
			stream: true,
		})
		const kinds: string[] = []
		for await (const chunk of stream) {
			const delta = chunk.choices[0]?.delta as Json
			if (delta?.reasoning_content) kinds.push('reasoning')
			else if (delta?.content) kinds.push('content')
		}
		expect([...new Set(kinds)]).toEqual(['reasoning', 'content'])
	})

	it('answers Together with plain usage, and without reasoning on Llama', async () => {
		await using fake = await start()
		const { body } = await send(fake, 'together', chatBody('meta-llama/Llama-3.3-70B-Instruct-Turbo'))
		expect({ message: body.choices[0].message, usage: Object.keys(body.usage) }).toEqual({
			message: { role: 'assistant', content: 'Hello from meta-llama/Llama-3.3-70B-Instruct-Turbo' },
			usage: ['prompt_tokens', 'completion_tokens', 'total_tokens'],
		})
	})

	it('records each route under its own format', async () => {
		await using fake = await start()
		await send(fake, 'chat', chatBody('gpt-4o'))
		await send(fake, 'responses', responsesBody('gpt-4o'))
		await send(fake, 'messages', claudeBody('claude-haiku-4-5'))
		await send(fake, 'groq', chatBody('openai/gpt-oss-20b'))
		await send(fake, 'mistral', chatBody('mistral-small-2603'))
		await send(fake, 'deepseek', chatBody('deepseek-flash'))
		await send(fake, 'together', chatBody('Qwen/Qwen3.7-Max'))
		expect(fake.requests.map(({ format, path }) => ({ format, path }))).toEqual([
			{ format: 'openai', path: '/v1/chat/completions' },
			{ format: 'openai-responses', path: '/v1/responses' },
			{ format: 'anthropic', path: '/v1/messages' },
			{ format: 'groq', path: '/groq/openai/v1/chat/completions' },
			{ format: 'mistral', path: '/mistral/v1/chat/completions' },
			{ format: 'deepseek', path: '/deepseek/chat/completions' },
			{ format: 'together', path: '/together/v1/chat/completions' },
		])
	})

	it('lists each provider’s models at its base URL', async () => {
		await using fake = await start()
		const lists = []
		for (const provider of ['groq', 'mistral', 'deepseek', 'together'] as const) {
			const ids = []
			for await (const model of compatible(fake, provider).models.list()) ids.push(model.id)
			lists.push(ids)
		}
		expect(lists).toEqual([FAKE_MODELS.groq, FAKE_MODELS.mistral, FAKE_MODELS.deepseek, FAKE_MODELS.together])
	})
})

function embeddingsBody(model: string, extra: Record<string, unknown> = {}) {
	return { model, input: 'The quick brown fox', ...extra }
}

const INVALID_INPUT = oaError(
	"'$.input' is invalid. Please check the API reference: https://platform.openai.com/docs/api-reference.",
)

const EMBEDDING_RULES: RuleRow[] = [
	{
		id: 'EM-1',
		title: 'refuses a field that Embeddings does not have',
		api: 'embeddings',
		refused: embeddingsBody('text-embedding-3-small', { stream: true }),
		accepted: embeddingsBody('text-embedding-3-small', { user: 'user-42' }),
		error: oaError('Unrecognized request argument supplied: stream'),
	},
	{
		id: 'EM-2',
		title: 'answers 404 for a model that is not an embedding model',
		api: 'embeddings',
		refused: embeddingsBody('gpt-4o'),
		accepted: embeddingsBody('text-embedding-3-large'),
		status: 404,
		error: oaError(
			'The model `gpt-4o` does not exist or you do not have access to it.',
			null,
			'model_not_found',
		),
	},
	{
		id: 'EM-3',
		title: 'refuses a request without input',
		api: 'embeddings',
		refused: { model: 'text-embedding-3-small' },
		accepted: embeddingsBody('text-embedding-3-small'),
		error: oaError("Missing required parameter: 'input'.", 'input', 'missing_required_parameter'),
	},
	{
		id: 'EM-3',
		title: 'refuses an empty list of inputs',
		api: 'embeddings',
		refused: embeddingsBody('text-embedding-3-small', { input: [] }),
		accepted: embeddingsBody('text-embedding-3-small', { input: ['a', 'b'] }),
		error: INVALID_INPUT,
	},
	{
		id: 'EM-3',
		title: 'refuses an empty string, alone or in a list',
		api: 'embeddings',
		refused: embeddingsBody('text-embedding-3-small', { input: ['a', ''] }),
		accepted: embeddingsBody('text-embedding-3-small', { input: [[1, 2, 3], [4]] }),
		error: INVALID_INPUT,
	},
	{
		id: 'EM-3',
		title: 'refuses a token array mixed with strings, and takes a single token array',
		api: 'embeddings',
		refused: embeddingsBody('text-embedding-3-small', { input: ['a', [1, 2]] }),
		accepted: embeddingsBody('text-embedding-3-small', { input: [1, 2, 3] }),
		error: INVALID_INPUT,
	},
	{
		id: 'EM-4',
		title: 'refuses more than 2048 inputs',
		api: 'embeddings',
		refused: embeddingsBody('text-embedding-3-small', { input: Array(2049).fill('x') }),
		accepted: embeddingsBody('text-embedding-3-small', { input: Array(2048).fill('x'), dimensions: 4 }),
		error: INVALID_INPUT,
	},
	{
		id: 'EM-5',
		title: 'refuses an encoding_format other than float or base64',
		api: 'embeddings',
		refused: embeddingsBody('text-embedding-3-small', { encoding_format: 'float32' }),
		accepted: embeddingsBody('text-embedding-3-small', { encoding_format: 'base64' }),
		error: oaError("'float32' is not one of ['float', 'base64'] - 'encoding_format'"),
	},
	{
		id: 'EM-6',
		title: 'refuses dimensions on text-embedding-ada-002 and takes them on text-embedding-3',
		api: 'embeddings',
		refused: embeddingsBody('text-embedding-ada-002', { dimensions: 256 }),
		accepted: embeddingsBody('text-embedding-3-large', { dimensions: 256 }),
		error: oaError('This model does not support specifying dimensions.'),
	},
	{
		id: 'EM-6',
		title: 'refuses more dimensions than the model has',
		api: 'embeddings',
		refused: embeddingsBody('text-embedding-3-small', { dimensions: 1537 }),
		accepted: embeddingsBody('text-embedding-3-small', { dimensions: 1536 }),
		error: oaError(
			"Invalid value for 'dimensions': 1537. It must be an integer between 1 and 1536.",
			'dimensions',
			'invalid_value',
		),
	},
]

describe('fakeUpstream rules (OpenAI Embeddings)', () => {
	it.each(EMBEDDING_RULES)('$id $title', expectRule)

	it('checks the key before the body, with OpenAI’s 401', async () => {
		await using fake = await start()
		const wrong = await send(fake, 'embeddings', embeddingsBody('text-embedding-3-small'), {
			authorization: 'Bearer sk-wrong-key-123456',
		})
		expect([wrong.status, wrong.body.error.code]).toEqual([401, 'invalid_api_key'])
	})
})

describe('fakeUpstream answers (OpenAI Embeddings)', () => {
	it('answers one unit vector per input, the same for the same input, with prompt tokens as usage', async () => {
		await using fake = await start()
		const input = ['Say hello to the fake upstream', 'Another text']
		const first = await send(fake, 'embeddings', embeddingsBody('text-embedding-3-small', { input }))
		const again = await send(fake, 'embeddings', embeddingsBody('text-embedding-3-small', { input }))
		const vectors: number[][] = first.body.data.map((item: Json) => item.embedding)
		expect({
			body: { ...first.body, data: first.body.data.map(({ embedding: _, ...item }: Json) => item) },
			lengths: vectors.map((vector) => vector.length),
			norms: vectors.map((vector) => Math.round(Math.hypot(...vector) * 1000) / 1000),
			differ: vectors[0]?.[0] !== vectors[1]?.[0],
			same: again.body.data,
		}).toEqual({
			body: {
				object: 'list',
				data: [
					{ object: 'embedding', index: 0 },
					{ object: 'embedding', index: 1 },
				],
				model: 'text-embedding-3-small',
				usage: { prompt_tokens: USER_TOKENS + 3, total_tokens: USER_TOKENS + 3 },
			},
			lengths: [1536, 1536],
			norms: [1, 1],
			differ: true,
			same: first.body.data,
		})
	})

	it('encodes base64 as little-endian float32, which the SDK decodes to the float answer', async () => {
		await using fake = await start()
		const floats = await send(fake, 'embeddings', embeddingsBody('text-embedding-3-large', { dimensions: 8 }))
		const raw = await send(
			fake,
			'embeddings',
			embeddingsBody('text-embedding-3-large', { dimensions: 8, encoding_format: 'base64' }),
		)
		// The SDK asks for base64 by default and decodes it.
		const sdk = await openai(fake).embeddings.create(
			embeddingsBody('text-embedding-3-large', { dimensions: 8 }),
		)
		const vector = floats.body.data[0].embedding
		expect({
			raw: raw.body.data[0].embedding,
			sdk: sdk.data[0]?.embedding,
			sent: fake.requests[2]?.body,
		}).toEqual({
			raw: base64Of(vector),
			sdk: vector,
			sent: { ...embeddingsBody('text-embedding-3-large', { dimensions: 8 }), encoding_format: 'base64' },
		})
		expect(vector).toEqual(embed(`text-embedding-3-large\0${JSON.stringify('The quick brown fox')}`, 8))
	})

	it('counts a token array by its length', async () => {
		await using fake = await start()
		const answer = await send(
			fake,
			'embeddings',
			embeddingsBody('text-embedding-3-small', { input: [[1, 2, 3], [4]] }),
		)
		expect(answer.body.usage).toEqual({ prompt_tokens: 4, total_tokens: 4 })
	})

	it('records the request as openai-embeddings and plays the model’s script', async () => {
		await using fake = await start()
		fake.script('text-embedding-3-small', { kind: 'error', status: 429 })
		const limited = await send(fake, 'embeddings', embeddingsBody('text-embedding-3-small'))
		expect({
			status: limited.status,
			type: limited.body.error.type,
			recorded: fake.requests.map(({ format, path }) => ({ format, path })),
		}).toEqual({
			status: 429,
			type: 'requests',
			recorded: [{ format: 'openai-embeddings', path: '/v1/embeddings' }],
		})
	})
})

const CONTEXT_MANAGEMENT = { edits: [{ type: 'clear_tool_uses_20250919' }] }
const CONTEXT_BETA = 'context-management-2025-06-27'

function countBody(model: string, extra: Record<string, unknown> = {}) {
	return { model, messages: USER, ...extra }
}

const ANTHROPIC_HEADER_RULES: RuleRow[] = [
	{
		id: 'AN-18',
		title: 'refuses an anthropic-version Anthropic never published',
		api: 'messages',
		refused: claudeBody('claude-haiku-5-5'),
		accepted: claudeBody('claude-haiku-5-5'),
		headers: { 'anthropic-version': '2024-10-22' },
		acceptedHeaders: { 'anthropic-version': '2023-06-01' },
		error: anError('anthropic-version: "2024-10-22" is not a valid version'),
	},
	{
		id: 'AN-19',
		title: 'refuses context_management without its beta, and takes it with the beta among others',
		api: 'messages',
		refused: claudeBody('claude-sonnet-5-5', { context_management: CONTEXT_MANAGEMENT }),
		accepted: claudeBody('claude-sonnet-5-5', { context_management: CONTEXT_MANAGEMENT }),
		headers: { 'anthropic-beta': 'interleaved-thinking-2025-05-14' },
		acceptedHeaders: { 'anthropic-beta': `interleaved-thinking-2025-05-14, ${CONTEXT_BETA}` },
		error: anError('context_management: Extra inputs are not permitted'),
	},
	{
		id: 'AN-19',
		title: 'applies to token counting too',
		api: 'count_tokens',
		refused: countBody('claude-sonnet-5-5', { context_management: CONTEXT_MANAGEMENT }),
		accepted: countBody('claude-sonnet-5-5', { context_management: CONTEXT_MANAGEMENT }),
		acceptedHeaders: { 'anthropic-beta': CONTEXT_BETA },
		error: anError('context_management: Extra inputs are not permitted'),
	},
	{
		id: 'AN-20',
		title: 'refuses max_tokens, stream and sampling fields on token counting',
		api: 'count_tokens',
		refused: countBody('claude-haiku-5-5', { max_tokens: 1024 }),
		accepted: countBody('claude-haiku-5-5', {
			system: 'Be brief.',
			tools: [CLAUDE_TOOL],
			tool_choice: { type: 'auto' },
			thinking: { type: 'adaptive' },
			output_config: { effort: 'low' },
		}),
		error: anError('max_tokens: Extra inputs are not permitted'),
	},
	{
		id: 'AN-20',
		title: 'answers 404 for a retired model when counting',
		api: 'count_tokens',
		refused: countBody('claude-opus-4-1'),
		accepted: countBody('claude-haiku-4-5'),
		status: 404,
		error: anError('model: claude-opus-4-1', 'not_found_error'),
	},
	{
		id: 'AN-20',
		title: 'checks thinking as Messages does when counting (AN-2)',
		api: 'count_tokens',
		refused: countBody('claude-opus-5-5', { thinking: { type: 'disabled' } }),
		accepted: countBody('claude-opus-5-5', { thinking: { type: 'adaptive' } }),
		error: anError(
			'"thinking.type.disabled" is not supported for this model. Use "thinking.type.adaptive" and "output_config.effort" to control thinking behavior.',
		),
	},
]

describe('fakeUpstream rules (Anthropic headers and token counting)', () => {
	it.each(ANTHROPIC_HEADER_RULES)('$id $title', expectRule)

	it('AN-18 checks the version on every route, the model list included', async () => {
		await using fake = await start()
		const headers = { 'x-api-key': ANTHROPIC_KEY, 'anthropic-version': 'latest' }
		const list = await fetch(`${fake.url}/v1/models`, { headers })
		const count = await send(fake, 'count_tokens', countBody('claude-haiku-5-5'), {
			'anthropic-version': 'latest',
		})
		expect([list.status, (await list.json()).error.message, count.status]).toEqual([
			400,
			'anthropic-version: "latest" is not a valid version',
			400,
		])
	})

	it('requires model and messages when counting, but not max_tokens', async () => {
		await using fake = await start()
		const missing = await send(fake, 'count_tokens', { model: 'claude-haiku-5-5' })
		expect({ status: missing.status, body: missing.body }).toEqual({
			status: 400,
			body: anError('messages: Field required'),
		})
	})
})

describe('fakeUpstream answers (Anthropic headers and token counting)', () => {
	it('records anthropic-version and every anthropic-beta value it received', async () => {
		await using fake = await start()
		const headers = new Headers({
			'x-api-key': ANTHROPIC_KEY,
			'anthropic-version': '2023-06-01',
			'content-type': 'application/json',
		})
		headers.append('anthropic-beta', `claude-code-20250219,${CONTEXT_BETA}`)
		headers.append('anthropic-beta', 'interleaved-thinking-2025-05-14')
		const body = claudeBody('claude-sonnet-5-5', { context_management: CONTEXT_MANAGEMENT })
		const response = await fetch(`${fake.url}/v1/messages?beta=true`, {
			method: 'POST',
			headers,
			body: JSON.stringify(body),
		})
		const recorded = fake.requests[0]
		expect({
			status: response.status,
			path: recorded?.path,
			version: recorded?.headers['anthropic-version'],
			betas: recorded?.headers['anthropic-beta']?.split(',').map((value) => value.trim()),
		}).toEqual({
			status: 200,
			path: '/v1/messages',
			version: '2023-06-01',
			betas: ['claude-code-20250219', CONTEXT_BETA, 'interleaved-thinking-2025-05-14'],
		})
	})

	it('counts the input tokens a Messages request without cache hits reports, through the SDK', async () => {
		await using fake = await start()
		const request = { system: 'Be brief.', messages: USER }
		const counted = await anthropic(fake).messages.countTokens({ model: 'claude-haiku-5-5', ...request })
		const message = await anthropic(fake).messages.create({
			model: 'claude-haiku-5-5',
			max_tokens: 64,
			...request,
		})
		expect({ counted, format: fake.requests[0]?.format }).toEqual({
			counted: { input_tokens: message.usage.input_tokens },
			format: 'anthropic-count-tokens',
		})
	})

	it('leaves the prompt cache alone: a count writes nothing the next message could read', async () => {
		await using fake = await start()
		const system = [{ type: 'text', text: LONG, cache_control: { type: 'ephemeral' } }]
		await send(fake, 'count_tokens', countBody('claude-haiku-4-5', { system }))
		const message = await send(fake, 'messages', claudeBody('claude-haiku-4-5', { system }))
		expect(message.body.usage.cache_read_input_tokens).toBe(0)
	})

	it('takes no script of the model or of `*`, only those under count_tokens:', async () => {
		await using fake = await start()
		fake.script('*', { kind: 'error', status: 529 })
		fake.script('count_tokens:claude-haiku-5-5', { kind: 'reply', usage: { prompt: 1234 } })
		fake.script('count_tokens:*', { kind: 'error', status: 500 })
		const scripted = await send(fake, 'count_tokens', countBody('claude-haiku-5-5'))
		const wildcard = await send(fake, 'count_tokens', countBody('claude-haiku-5-5'))
		const plain = await send(fake, 'count_tokens', countBody('claude-haiku-5-5'))
		const message = await send(fake, 'messages', claudeBody('claude-haiku-5-5'))
		expect([scripted.body, wildcard.status, plain.body, message.status]).toEqual([
			{ input_tokens: 1234 },
			500,
			{ input_tokens: USER_TOKENS },
			529,
		])
	})
})

const CALL = { type: 'function_call', call_id: 'call_1', name: 'get_weather', arguments: '{"city":"Paris"}' }
const CALL_OUTPUT = { type: 'function_call_output', call_id: 'call_1', output: '18°C' }

describe('fakeUpstream rules (OpenAI Responses API state)', () => {
	it('OR-6 refuses an unknown previous_response_id, and one created with store false', async () => {
		await using fake = await start()
		const unstored = await send(fake, 'responses', responsesBody('gpt-6.2-sol'))
		const unknown = await send(fake, 'responses', {
			...responsesBody('gpt-6.2-sol'),
			previous_response_id: 'resp_unknown',
		})
		const after = await send(fake, 'responses', {
			...responsesBody('gpt-6.2-sol'),
			previous_response_id: unstored.body.id,
		})
		const notFound = (id: string) =>
			oaError(
				`Previous response with id '${id}' not found.`,
				'previous_response_id',
				'previous_response_not_found',
			)
		expect([unknown.status, unknown.body, after.status, after.body]).toEqual([
			400,
			notFound('resp_unknown'),
			400,
			notFound(unstored.body.id),
		])
	})

	it('OR-6 continues a stored Response, whose function calls the next input may answer (OR-5)', async () => {
		await using fake = await start()
		fake.script('gpt-6.2-sol', { kind: 'reply', toolCalls: [WEATHER] })
		const first = await send(fake, 'responses', {
			model: 'gpt-6.2-sol',
			input: WEATHER_QUESTION,
			tools: [FLAT_TOOL],
		})
		const call = first.body.output.find((item: Json) => item.type === 'function_call')
		const next = await send(fake, 'responses', {
			model: 'gpt-6.2-sol',
			tools: [FLAT_TOOL],
			previous_response_id: first.body.id,
			input: [{ type: 'function_call_output', call_id: call.call_id, output: '18°C' }],
		})
		expect([next.status, next.body.previous_response_id]).toEqual([200, first.body.id])
	})

	it('OR-7 refuses a reasoning item that was not stored and carries no encrypted_content, with a 404', async () => {
		await using fake = await start()
		const reasoning = { type: 'reasoning', id: 'rs_gone', summary: [] }
		const input = [{ role: 'user', content: 'Weather in Paris?' }, reasoning, CALL, CALL_OUTPUT]
		const refused = await send(fake, 'responses', responsesBody('gpt-6.2-sol', { tools: [FLAT_TOOL], input }))
		const encrypted = { ...reasoning, encrypted_content: 'gAAAAAopaque' }
		const accepted = await send(
			fake,
			'responses',
			responsesBody('gpt-6.2-sol', {
				tools: [FLAT_TOOL],
				input: input.map((item) => (item === reasoning ? encrypted : item)),
			}),
		)
		expect({ refused: { status: refused.status, body: refused.body }, accepted: accepted.status }).toEqual({
			refused: {
				status: 404,
				body: {
					error: {
						message:
							"Item with id 'rs_gone' not found. Items are not persisted when `store` is set to false. Try again with `store` set to true, or remove this item from your input.",
						type: 'invalid_request_error',
						param: 'input',
						code: null,
					},
				},
			},
			accepted: 200,
		})
	})

	it('OR-7 takes back a reasoning item by id when its Response was stored', async () => {
		await using fake = await start()
		const first = await send(fake, 'responses', { model: 'gpt-6.2-sol', input: 'Say hello' })
		const item = first.body.output.find((output: Json) => output.type === 'reasoning')
		const next = await send(fake, 'responses', {
			model: 'gpt-6.2-sol',
			input: [{ role: 'user', content: 'Say hello' }, item, { role: 'user', content: 'Again' }],
		})
		expect(next.status).toBe(200)
	})

	it('OR-8 refuses a verbosity other than low, medium or high, and echoes a valid one', async () => {
		await using fake = await start()
		const refused = await send(
			fake,
			'responses',
			responsesBody('gpt-6.2-sol', { text: { verbosity: 'terse' } }),
		)
		const accepted = await send(
			fake,
			'responses',
			responsesBody('gpt-6.2-sol', { text: { verbosity: 'low' } }),
		)
		expect([refused.body, accepted.body.text.verbosity]).toEqual([
			oaError(
				"Invalid value: 'terse'. Supported values are: 'low', 'medium', and 'high'.",
				'text.verbosity',
				'invalid_value',
			),
			'low',
		])
	})
})

describe('fakeUpstream answers (OpenAI Responses API summaries)', () => {
	it('streams a reasoning summary when reasoning.summary asks for one, with encrypted_content when included', async () => {
		await using fake = await start()
		const answer = await send(
			fake,
			'responses',
			responsesBody('gpt-6.2-sol', {
				stream: true,
				reasoning: { effort: 'low', summary: 'auto' },
				include: ['reasoning.encrypted_content'],
			}),
		)
		const events = payloads(answer.text)
		const done = events.find((event) => event.type === 'response.completed')
		expect({
			names: eventNames(answer.text).slice(2, 8),
			reasoning: done.response.output[0],
		}).toEqual({
			names: [
				'response.output_item.added',
				'response.reasoning_summary_part.added',
				'response.reasoning_summary_text.delta',
				'response.reasoning_summary_text.delta',
				'response.reasoning_summary_text.delta',
				'response.reasoning_summary_text.delta',
			],
			reasoning: {
				id: expect.stringMatching(/^rs_/),
				type: 'reasoning',
				summary: [{ type: 'summary_text', text: 'Planned a short answer.' }],
				encrypted_content: expect.stringMatching(/^gAAAAA/),
			},
		})
	})
})

interface AgentRequest {
	method: string
	path: string
	headers: Record<string, string>
	body: unknown
}

/** Sends a recorded agent request to the fake as the agent would, with the fake's key for the placeholder. */
async function replay(fake: FakeUpstream, request: AgentRequest) {
	const headers = { ...request.headers }
	if (headers['x-api-key']) headers['x-api-key'] = ANTHROPIC_KEY
	if (headers.authorization) headers.authorization = `Bearer ${OPENAI_KEY}`
	const response = await fetch(`${fake.url}${request.path}`, {
		method: request.method,
		headers,
		body: request.body === null ? undefined : JSON.stringify(request.body),
	})
	const text = await response.text()
	return { status: response.status, text }
}

describe('fakeUpstream and the recorded agent requests (tests/fixtures/agents)', () => {
	it('takes every Codex CLI turn: store false, encrypted reasoning, function calls and outputs', async () => {
		await using fake = await start()
		const answers = []
		for (const request of codexConversation.requests) answers.push(await replay(fake, request))
		expect(
			answers.map(({ status, text }) => ({ status, done: text.includes('event: response.completed') })),
		).toEqual([
			{ status: 200, done: true },
			{ status: 200, done: true },
			{ status: 200, done: true },
		])
	})

	it('takes Claude Code’s start-up calls; the warming probe is a 404 it ignores', async () => {
		await using fake = await start()
		const answers = []
		for (const request of claudeCodeStartup.requests)
			answers.push(await replay(fake, request as AgentRequest))
		expect(answers.map(({ status }) => status)).toEqual([404, 200, 200, 200])
	})

	it('takes Claude Code’s first turn, and refuses the placeholder thinking signatures of later turns (AN-14)', async () => {
		await using fake = await start()
		const answers = []
		for (const request of claudeCodeConversation.requests) answers.push(await replay(fake, request))
		expect(
			answers.map(({ status, text }) => (status === 200 ? 200 : JSON.parse(text).error.message)),
		).toEqual([
			200,
			'messages.1.content.0: `thinking` or `redacted_thinking` blocks in the latest assistant message cannot be modified. These blocks must remain as they were in the original response.',
			'messages.1.content.0: `thinking` or `redacted_thinking` blocks in the latest assistant message cannot be modified. These blocks must remain as they were in the original response.',
		])
	})
})

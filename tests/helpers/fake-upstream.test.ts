import { describe, expect, it } from 'bun:test'
import Anthropic from '@anthropic-ai/sdk'
import OpenAI from 'openai'
import { countPromptTokens, type FakeUpstream, startFakeUpstream } from './fake-upstream.ts'

const OPENAI_KEY = 'sk-openai-test'
const ANTHROPIC_KEY = 'sk-ant-test'
const WEATHER = { name: 'get_weather', arguments: '{"city":"Paris","unit":"celsius"}' }
const USER = [{ role: 'user' as const, content: 'Say hello to the fake upstream' }]

function openai(fake: FakeUpstream, apiKey = OPENAI_KEY) {
	return new OpenAI({ apiKey, baseURL: fake.openaiBaseUrl, maxRetries: 0 })
}

function anthropic(fake: FakeUpstream, apiKey = ANTHROPIC_KEY) {
	return new Anthropic({ apiKey, baseURL: fake.anthropicBaseUrl, maxRetries: 0 })
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

describe('fakeUpstream (OpenAI wire format)', () => {
	it('answers a chat completion with the default text and usage', async () => {
		await using fake = await startFakeUpstream()
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
			usage: {
				prompt_tokens: countPromptTokens({ messages: USER }),
				completion_tokens: 3,
				total_tokens: countPromptTokens({ messages: USER }) + 3,
				prompt_tokens_details: { cached_tokens: 0 },
			},
		})
	})

	it('reports scripted text, model and usage', async () => {
		await using fake = await startFakeUpstream()
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
			usage: {
				prompt_tokens: 100,
				completion_tokens: 7,
				total_tokens: 107,
				prompt_tokens_details: { cached_tokens: 40 },
			},
		})
	})

	it('streams the text in several deltas and ends without usage when not asked', async () => {
		await using fake = await startFakeUpstream()
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
		await using fake = await startFakeUpstream()
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
		const prompt = countPromptTokens({ messages: USER })
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
				usage: {
					prompt_tokens: prompt,
					completion_tokens: 3,
					total_tokens: prompt + 3,
					prompt_tokens_details: { cached_tokens: 0 },
				},
			},
		})
	})

	it('leaves usage out when the script says omitUsage, even with include_usage', async () => {
		await using fake = await startFakeUpstream()
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
		await using fake = await startFakeUpstream()
		fake.script('gpt-4o', { kind: 'reply', toolCalls: [WEATHER] })
		const stream = openai(fake).chat.completions.stream({ model: 'gpt-4o', messages: USER })
		let fragments = 0
		stream.on('chunk', (chunk) => {
			if (chunk.choices[0]?.delta.tool_calls?.[0]?.function?.arguments) fragments++
		})
		const completion = await stream.finalChatCompletion()
		expect({ fragments: fragments >= 2, choice: completion.choices[0] }).toEqual({
			fragments: true,
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
		await using fake = await startFakeUpstream()
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

	it('rejects a wrong key with OpenAI’s 401 body', async () => {
		await using fake = await startFakeUpstream()
		const response = await fetch(`${fake.openaiBaseUrl}/chat/completions`, {
			method: 'POST',
			headers: { authorization: 'Bearer sk-wrong', 'content-type': 'application/json' },
			body: JSON.stringify({ model: 'gpt-4o-mini', messages: USER }),
		})
		expect({ status: response.status, body: await response.json() }).toEqual({
			status: 401,
			body: {
				error: {
					message: 'Incorrect API key provided',
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
		await using fake = await startFakeUpstream()
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
		await using fake = await startFakeUpstream()
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
		await using fake = await startFakeUpstream()
		fake.script('gpt-4o-mini', { kind: 'bad-json' })
		const error = await openai(fake)
			.chat.completions.create({ model: 'gpt-4o-mini', messages: USER })
			.catch((e: unknown) => e)
		expect(error).toBeInstanceOf(Error)
		expect(fake.requests.length).toBe(1)
	})

	it('lists models', async () => {
		await using fake = await startFakeUpstream()
		const models = []
		for await (const model of openai(fake).models.list()) models.push(model.id)
		expect(models).toEqual(['gpt-4o-mini', 'gpt-4o'])
	})
})

describe('fakeUpstream (Anthropic wire format)', () => {
	it('answers a message with the default text and usage', async () => {
		await using fake = await startFakeUpstream()
		const message = await anthropic(fake).messages.create(anthropicRequest())
		expect(message).toEqual({
			id: expect.stringMatching(/^msg_/),
			type: 'message',
			role: 'assistant',
			model: 'claude-haiku-4-5',
			content: [{ type: 'text', text: 'Hello from claude-haiku-4-5' }],
			stop_reason: 'end_turn',
			stop_sequence: null,
			usage: {
				input_tokens: countPromptTokens({ messages: USER }),
				output_tokens: 3,
				cache_read_input_tokens: 0,
				cache_creation_input_tokens: 0,
			},
		} as unknown as Anthropic.Message)
	})

	it('accepts the SDK’s bearer auth as well as x-api-key', async () => {
		await using fake = await startFakeUpstream()
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
		await using fake = await startFakeUpstream()
		fake.script('claude-opus-4-1', {
			kind: 'reply',
			text: 'One two three four',
			usage: { cached: 5, cacheWrite: 2 },
		})
		const stream = anthropic(fake).messages.stream(anthropicRequest('claude-opus-4-1'))
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
			usage: {
				input_tokens: countPromptTokens({ messages: USER }),
				output_tokens: 4,
				cache_read_input_tokens: 5,
				cache_creation_input_tokens: 2,
			} as Anthropic.Usage,
		})
	})

	it('sends the events in Anthropic’s order', async () => {
		await using fake = await startFakeUpstream()
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
		await using fake = await startFakeUpstream()
		fake.script('claude-haiku-4-5', { kind: 'reply', toolCalls: [WEATHER] })
		const stream = anthropic(fake).messages.stream(anthropicRequest())
		const pieces: string[] = []
		stream.on('inputJson', (partial) => pieces.push(partial))
		const message = await stream.finalMessage()
		expect({
			joined: pieces.join(''),
			several: pieces.length >= 2,
			stop: message.stop_reason,
			content: message.content as unknown,
		}).toEqual({
			joined: WEATHER.arguments,
			several: true,
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
		await using fake = await startFakeUpstream()
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
		await using fake = await startFakeUpstream()
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
			body: { type: 'error', error: { type: 'authentication_error', message: 'invalid x-api-key' } },
		})
		const error = await anthropic(fake, 'sk-wrong')
			.messages.create(anthropicRequest())
			.catch((e: unknown) => e)
		expect(error).toBeInstanceOf(Anthropic.AuthenticationError)
	})

	it('rejects a request without anthropic-version with a 400', async () => {
		await using fake = await startFakeUpstream()
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
			},
		})
	})

	it('rejects a request without max_tokens like the real API', async () => {
		await using fake = await startFakeUpstream()
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
		await using fake = await startFakeUpstream()
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
			error: { type: 'error', error: { type, message: 'scripted failure' } },
			retryAfter: retryAfter === undefined ? undefined : String(retryAfter),
		})
	})

	it('sends an overloaded_error event mid-stream for fail-mid-stream', async () => {
		await using fake = await startFakeUpstream()
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
		await using fake = await startFakeUpstream()
		const models = []
		for await (const model of anthropic(fake).models.list()) models.push(model.id)
		expect(models).toEqual(['claude-haiku-4-5', 'claude-opus-4-1'])
	})
})

describe('fakeUpstream (scripting and recording)', () => {
	it('records every request, rejected ones included, with parsed body and lower-cased headers', async () => {
		await using fake = await startFakeUpstream()
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
		await using fake = await startFakeUpstream()
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
		await using fake = await startFakeUpstream()
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
		await using fake = await startFakeUpstream()
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

	it('settles aborted as false when the response finished', async () => {
		await using fake = await startFakeUpstream()
		await openai(fake).chat.completions.create({ model: 'gpt-4o-mini', messages: USER })
		expect(await fake.requests[0]?.aborted).toBe(false)
	})

	it('records the abort when the client gives up on a hanging request', async () => {
		await using fake = await startFakeUpstream()
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
		const fake = await startFakeUpstream()
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
		await using fake = await startFakeUpstream()
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
		expect({ waited: firstChunkAt - startedAt >= 60, text }).toEqual({
			waited: true,
			text: 'Hello from gpt-4o-mini',
		})
		expect(await fake.requests[0]?.aborted).toBe(false)
	})

	it('spaces the chunks of a slow stream by chunkMs', async () => {
		await using fake = await startFakeUpstream()
		fake.script('claude-haiku-4-5', { kind: 'slow', firstByteMs: 0, chunkMs: 10 })
		const startedAt = performance.now()
		const message = await anthropic(fake).messages.stream(anthropicRequest()).finalMessage()
		// 9 events (message_start, block start, ping, 3 deltas, block stop, message_delta, message_stop): 8 gaps.
		expect({ waited: performance.now() - startedAt >= 80, stop: message.stop_reason }).toEqual({
			waited: true,
			stop: 'end_turn',
		})
	})

	it('records the abort when the client cancels a slow stream', async () => {
		await using fake = await startFakeUpstream()
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
		await using fake = await startFakeUpstream()
		fake.script('claude-haiku-4-5', { kind: 'slow', firstByteMs: 40, chunkMs: 0 })
		const startedAt = performance.now()
		const message = await anthropic(fake).messages.create(anthropicRequest())
		expect({ waited: performance.now() - startedAt >= 40, text: message.content[0] }).toEqual({
			waited: true,
			text: { type: 'text', text: 'Hello from claude-haiku-4-5' } as Anthropic.ContentBlock,
		})
	})
})

import { describe, expect, it } from 'bun:test'
import { readEvents, startGateway } from '../../helpers/gateway'

const hello = [{ role: 'user', content: 'Say hello' }]

interface ErrorShape {
	error: { message: string; type: string; param: string | null; code: string | null }
}

async function post(
	g: Awaited<ReturnType<typeof startGateway>>,
	body: unknown,
	headers: Record<string, string> = {},
) {
	const res = await g.fetch('/chat/completions', {
		method: 'POST',
		body: typeof body === 'string' ? body : JSON.stringify(body),
		headers,
	})
	return { res, body: (await res.json()) as ErrorShape }
}

describe('authentication', () => {
	it.each([
		['no key', {}],
		['an unknown key', { authorization: 'Bearer sy_not-a-real-key' }],
		['a key of another product', { authorization: 'Bearer sk-proj-123' }],
	])('answers 401 invalid_api_key for %s, without logging', async (_, headers) => {
		await using g = await startGateway()
		const res = await fetch(`${g.baseURL}/chat/completions`, {
			method: 'POST',
			headers: { 'content-type': 'application/json', ...headers },
			body: JSON.stringify({ model: 'gpt-4o-mini', messages: hello }),
		})
		expect(res.status).toBe(401)
		const body = (await res.json()) as ErrorShape
		expect(body.error).toMatchObject({ type: 'authentication_error', code: 'invalid_api_key' })
		expect(await g.rows()).toEqual([])
	})

	it('refuses a revoked key at once', async () => {
		await using g = await startGateway()
		const [key] = await g.t.deps.gatewayKeys.list(g.userId)
		if (!key) throw new Error('no key')
		expect((await post(g, { model: 'gpt-4o-mini', messages: hello })).res.status).toBe(200)
		await g.t.deps.gatewayKeys.revoke(g.userId, key.id)
		expect((await post(g, { model: 'gpt-4o-mini', messages: hello })).res.status).toBe(401)
		expect((await g.fetch('/models')).status).toBe(401)
	})
})

describe('invalid requests are 400s naming the field, and are logged', () => {
	it.each([
		['malformed JSON', '{"model": "gpt-4o-mini", ', null],
		['a body that is not an object', '[1, 2]', null],
		['no messages', { model: 'gpt-4o-mini' }, 'messages'],
		['empty messages', { model: 'gpt-4o-mini', messages: [] }, 'messages'],
		[
			'an unknown role',
			{ model: 'gpt-4o-mini', messages: [{ role: 'robot', content: 'x' }] },
			'messages[0].role',
		],
		['a bad temperature', { model: 'gpt-4o-mini', messages: hello, temperature: 3 }, 'temperature'],
		['a bad max_tokens', { model: 'gpt-4o-mini', messages: hello, max_tokens: -1 }, 'max_tokens'],
		['a bad stop', { model: 'gpt-4o-mini', messages: hello, stop: [1] }, 'stop'],
		['no model', { messages: hello }, 'model'],
		[
			'a bad response_format',
			{ model: 'gpt-4o-mini', messages: hello, response_format: { type: 'xml' } },
			'response_format.type',
		],
	])('%s', async (_, body, param) => {
		await using g = await startGateway()
		const { res, body: error } = await post(g, body)
		expect(res.status).toBe(400)
		expect(error.error.type).toBe('invalid_request_error')
		expect(error.error.param).toBe(param)
		expect(res.headers.get('x-switchyard-request-id')).toMatch(/^req_/)
		const rows = await g.rows()
		expect(rows).toHaveLength(1)
		expect(rows[0]).toMatchObject({ status: 400, errorType: 'invalid_request_error', attempts: [] })
		expect(g.upstream.requests).toEqual([])
	})

	it('answers 413 for a body over 4 MiB, before parsing it', async () => {
		await using g = await startGateway()
		const huge = JSON.stringify({
			model: 'gpt-4o-mini',
			messages: [{ role: 'user', content: 'x'.repeat(4 * 1024 * 1024) }],
		})
		const { res, body } = await post(g, huge)
		expect(res.status).toBe(413)
		expect(body.error.code).toBe('request_too_large')
		expect((await g.rows())[0]).toMatchObject({ status: 413 })
	})

	it('answers 413 for a chunked body that grows past 4 MiB without announcing its length', async () => {
		await using g = await startGateway()
		const piece = new TextEncoder().encode('x'.repeat(1024 * 1024))
		let sent = 0
		const body = new ReadableStream<Uint8Array>({
			pull(controller) {
				if (sent++ < 6) controller.enqueue(piece)
				else controller.close()
			},
		})
		const res = await g.fetch('/chat/completions', { method: 'POST', body })
		expect(res.status).toBe(413)
		expect((await g.rows())[0]).toMatchObject({ status: 413 })
	})

	it('reads a chunked body within the limit in full', async () => {
		await using g = await startGateway()
		const json = new TextEncoder().encode(JSON.stringify({ model: 'gpt-4o-mini', messages: hello }))
		const pieces = [json.subarray(0, 10), json.subarray(10)]
		const body = new ReadableStream<Uint8Array>({
			pull(controller) {
				const piece = pieces.shift()
				if (piece) controller.enqueue(piece)
				else controller.close()
			},
		})
		const res = await g.fetch('/chat/completions', { method: 'POST', body })
		expect(res.status).toBe(200)
		expect(g.upstream.requests[0]?.body.messages).toEqual(hello)
	})

	it('answers 404 model_not_found for a model the catalog does not know', async () => {
		await using g = await startGateway()
		const { res, body } = await post(g, { model: 'gpt-99-ultra', messages: hello })
		expect(res.status).toBe(404)
		expect(body.error).toMatchObject({ type: 'not_found_error', code: 'model_not_found', param: 'model' })
		expect((await g.rows())[0]).toMatchObject({ status: 404, requestedModel: 'gpt-99-ultra' })
	})

	it('answers 400 model_incapable for a named model whose context window the prompt exceeds', async () => {
		await using g = await startGateway()
		// 600,000 characters: about 150,000 tokens (characters / 4), past gpt-4o-mini's 128,000.
		const long = [{ role: 'user', content: 'x'.repeat(600_000) }]
		const { res, body } = await post(g, { model: 'gpt-4o-mini', messages: long })
		expect(res.status).toBe(400)
		expect(body.error).toEqual({
			message:
				"The model 'openai/gpt-4o-mini' cannot serve this request: context window 128000 is smaller than the prompt (~150004 tokens)",
			type: 'invalid_request_error',
			param: 'model',
			code: 'model_incapable',
		})
		expect(g.upstream.requests).toEqual([])
		expect((await g.rows())[0]).toMatchObject({
			status: 400,
			requestedModel: 'gpt-4o-mini',
			costUsd: 0,
		})
	})

	it('answers 400 model_incapable for an image sent to a named model without vision', async () => {
		await using g = await startGateway()
		const image = [
			{
				role: 'user',
				content: [
					{ type: 'text', text: 'What is this?' },
					{ type: 'image_url', image_url: { url: 'https://example.com/cat.png' } },
				],
			},
		]
		const { res, body } = await post(g, { model: 'groq/openai/gpt-oss-20b', messages: image })
		expect(res.status).toBe(400)
		expect(body.error.message).toBe(
			"The model 'groq/openai/gpt-oss-20b' cannot serve this request: no vision",
		)
		expect(body.error.code).toBe('model_incapable')
	})

	it('answers 400 provider_key_missing naming what to configure', async () => {
		await using g = await startGateway()
		const { res, body } = await post(g, { model: 'groq/openai/gpt-oss-20b', messages: hello })
		expect(res.status).toBe(400)
		expect(body.error.code).toBe('provider_key_missing')
		expect(body.error.message).toContain('groq')
		expect(body.error.message).toContain('GROQ_API_KEY')
	})

	it('answers 400 param n for n above 1 on an Anthropic model', async () => {
		await using g = await startGateway()
		const { res, body } = await post(g, { model: 'claude-haiku-4-5', messages: hello, n: 2 })
		expect(res.status).toBe(400)
		expect(body.error.param).toBe('n')
	})

	it('never crashes on hostile bodies', async () => {
		await using g = await startGateway()
		const bodies = [
			'null',
			'"string"',
			'{"model": 5, "messages": "x"}',
			'{"model": "gpt-4o-mini", "messages": [null]}',
			'{"model": "gpt-4o-mini", "messages": [{"role": "user", "content": [{"type": 7}]}]}',
			'{"model": "gpt-4o-mini", "messages": [{"role": "user", "content": {"a": 1}}]}',
			'{"model": "auto", "messages": [{"role": "user", "content": [{"type": "image_url"}]}]}',
			'{"__proto__": {"admin": true}, "model": "gpt-4o-mini", "messages": []}',
			'\u0000\u0001',
		]
		for (const body of bodies) {
			const res = await g.fetch('/chat/completions', { method: 'POST', body })
			expect(res.status).toBe(400)
		}
		expect((await g.fetch('/chat/completions', { method: 'POST' })).status).toBe(400)
		expect(await g.rows()).toHaveLength(bodies.length + 1)
	})
})

describe('upstream failures', () => {
	// Each with the message OpenAI sends for it (the fake upstream's defaults).
	it.each([
		[408, 'Request failed with status 408.'],
		[409, 'Request failed with status 409.'],
		[429, 'Rate limit reached for requests.'],
		[500, 'The server had an error while processing your request. Sorry about that!'],
		[503, 'The server had an error while processing your request. Sorry about that!'],
	])('moves on after an upstream %d and reports the attempts', async (status, upstreamMessage) => {
		await using g = await startGateway()
		g.upstream.script('gpt-4o-mini', { kind: 'error', status })
		const { res, body } = await post(g, { model: 'gpt-4o-mini', messages: hello })
		// A named model has one candidate, so the one failure exhausts the list.
		expect(res.status).toBe(502)
		expect(body.error.type).toBe('upstream_error')
		const message = `All 1 upstream attempts failed: openai/gpt-4o-mini: HTTP ${status} ${upstreamMessage}`
		expect(body.error.message).toBe(message)
		expect((await g.rows())[0]).toMatchObject({
			status: 502,
			error: message,
			attempts: [
				{ model: 'openai/gpt-4o-mini', status, latencyMs: expect.any(Number), error: upstreamMessage },
			],
		})
	})

	it('reports a bad provider key (upstream 401) as an upstream failure, never as the caller 401', async () => {
		await using g = await startGateway({ OPENAI_API_KEY: 'sk-wrong' })
		const { res, body } = await post(g, { model: 'gpt-4o-mini', messages: hello })
		expect(res.status).toBe(502)
		expect(body.error.type).toBe('upstream_error')
		expect(body.error.message).toContain('HTTP 401')
	})

	it('returns the caller own upstream 4xx at once, in OpenAI shape', async () => {
		await using g = await startGateway()
		g.upstream.script('gpt-4o-mini', { kind: 'error', status: 400, message: 'Invalid schema for function' })
		const { res, body } = await post(g, { model: 'gpt-4o-mini', messages: hello })
		expect(res.status).toBe(400)
		expect(body.error.message).toBe('Invalid schema for function')
		expect(body.error.type).toBe('invalid_request_error')
		expect(g.upstream.requests).toHaveLength(1)
		expect((await g.rows())[0]).toMatchObject({ status: 400, attempts: [{ status: 400 }] })
	})

	it('counts a hung upstream as failed after UPSTREAM_TIMEOUT_MS', async () => {
		await using g = await startGateway({ UPSTREAM_TIMEOUT_MS: '200' })
		g.upstream.script('gpt-4o-mini', { kind: 'hang' })
		const started = performance.now()
		const { res, body } = await post(g, { model: 'gpt-4o-mini', messages: hello })
		expect(performance.now() - started).toBeLessThan(2000)
		expect(res.status).toBe(502)
		expect(body.error.message).toContain('no response within 200 ms')
		await expect(g.upstream.requests[0]?.aborted).resolves.toBe(true)
	})

	it('counts a stream whose first chunk does not come in time as failed', async () => {
		await using g = await startGateway({ UPSTREAM_TIMEOUT_MS: '200' })
		g.upstream.script('gpt-4o-mini', { kind: 'slow', firstByteMs: 1500, chunkMs: 10 })
		const { res } = await post(g, { model: 'gpt-4o-mini', messages: hello, stream: true })
		expect(res.status).toBe(502)
	})

	it('waits for a slow answer whose headers came within UPSTREAM_TIMEOUT_MS, sending it once', async () => {
		await using g = await startGateway({ UPSTREAM_TIMEOUT_MS: '200' })
		g.upstream.script('gpt-4o-mini', { kind: 'slow', firstByteMs: 0, chunkMs: 600 })
		const { res } = await post(g, { model: 'gpt-4o-mini', messages: hello })
		expect(res.status).toBe(200)
		expect(g.upstream.requests).toHaveLength(1)
	})

	it('ends an answer that outlives UPSTREAM_TOTAL_TIMEOUT_MS, and never sends it to the next model', async () => {
		await using g = await startGateway({ UPSTREAM_TIMEOUT_MS: '200', UPSTREAM_TOTAL_TIMEOUT_MS: '400' })
		g.upstream.script('gpt-6-luna', { kind: 'slow', firstByteMs: 0, chunkMs: 5000 })
		const { res, body } = await post(g, { model: 'auto', messages: hello })
		expect(res.status).toBe(502)
		expect(body.error.message).toContain('openai/gpt-6-luna began answering, then failed')
		expect(body.error.message).toContain('took longer than 400 ms')
		expect(g.upstream.requests.map((request) => request.body.model)).toEqual(['gpt-6-luna'])
		await expect(g.upstream.requests[0]?.aborted).resolves.toBe(true)
		expect((await g.rows())[0]).toMatchObject({ status: 502, attempts: [{ model: 'openai/gpt-6-luna' }] })
	})

	it('ends a stream that stalls past UPSTREAM_TOTAL_TIMEOUT_MS with an error event', async () => {
		await using g = await startGateway({ UPSTREAM_TIMEOUT_MS: '200', UPSTREAM_TOTAL_TIMEOUT_MS: '600' })
		g.upstream.script('gpt-4o-mini', { kind: 'slow', firstByteMs: 0, chunkMs: 350 })
		const res = await g.fetch('/chat/completions', {
			method: 'POST',
			body: JSON.stringify({ model: 'gpt-4o-mini', messages: hello, stream: true }),
		})
		expect(res.status).toBe(200)
		const last = JSON.parse((await readEvents(res)).at(-1) ?? '{}') as ErrorShape
		expect(last.error.message).toContain('took longer than 600 ms')
		expect(g.upstream.requests).toHaveLength(1)
		expect((await g.rows())[0]).toMatchObject({ status: 502, stream: true })
	})

	it('fails an answer larger than UPSTREAM_MAX_ANSWER_BYTES cleanly, and logs it', async () => {
		await using g = await startGateway({ UPSTREAM_MAX_ANSWER_BYTES: '2048' })
		g.upstream.script('gpt-4o-mini', { kind: 'reply', text: 'word '.repeat(1000) })
		const { res, body } = await post(g, { model: 'gpt-4o-mini', messages: hello })
		expect(res.status).toBe(502)
		expect(body.error.message).toContain('the upstream answer is larger than 2048 bytes')
		expect((await g.rows())[0]).toMatchObject({ status: 502, errorType: 'upstream_error' })
	})

	it('counts a refused connection as failed', async () => {
		await using g = await startGateway({ OPENAI_BASE_URL: 'http://127.0.0.1:9/v1' })
		const { res, body } = await post(g, { model: 'gpt-4o-mini', messages: hello })
		expect(res.status).toBe(502)
		expect(body.error.message).toContain('connection failed')
	})

	it('counts a malformed upstream answer as failed', async () => {
		await using g = await startGateway()
		g.upstream.script('gpt-4o-mini', { kind: 'bad-json' })
		expect((await post(g, { model: 'gpt-4o-mini', messages: hello })).res.status).toBe(502)
	})

	it('counts a redirect as a failed attempt that names the fix, instead of following it', async () => {
		await using g = await startGateway()
		g.upstream.script('gpt-4o-mini', { kind: 'error', status: 308 })
		const { res, body } = await post(g, { model: 'gpt-4o-mini', messages: hello })
		expect(res.status).toBe(502)
		expect(body.error.message).toContain("redirected (HTTP 308): set the provider's base URL")
		expect(g.upstream.requests).toHaveLength(1)
	})

	it('ends a stream cut mid-way with an OpenAI error event and logs a failure, not a success', async () => {
		await using g = await startGateway()
		g.upstream.script('gpt-4o-mini', { kind: 'fail-mid-stream', afterChunks: 2 })
		const res = await g.fetch('/chat/completions', {
			method: 'POST',
			body: JSON.stringify({ model: 'gpt-4o-mini', messages: hello, stream: true }),
		})
		expect(res.status).toBe(200)
		const events = await readEvents(res)
		expect(events).not.toContain('[DONE]')
		const last = JSON.parse(events.at(-1) ?? '{}') as ErrorShape
		expect(last.error).toMatchObject({ type: 'upstream_error' })
		expect(g.upstream.requests).toHaveLength(1)
		expect((await g.rows())[0]).toMatchObject({ status: 502, stream: true, errorType: 'upstream_error' })
	})

	it('makes the OpenAI SDK throw on a stream cut mid-way', async () => {
		await using g = await startGateway()
		g.upstream.script('claude-haiku-4-5', { kind: 'fail-mid-stream', afterChunks: 5 })
		const stream = await g.openai.chat.completions.create({
			model: 'claude-haiku-4-5',
			messages: [{ role: 'user', content: 'hi' }],
			stream: true,
		})
		const drain = async () => {
			for await (const _ of stream) {
				// read until the error event
			}
		}
		await expect(drain()).rejects.toThrow(/mid-stream/)
	})
})

describe("a key's own limit", () => {
	it('answers 429 rate_limit_exceeded with Retry-After past the requests per minute, and logs it', async () => {
		await using g = await startGateway()
		const limited = await g.t.deps.gatewayKeys.create(g.userId, 'limited', 2)
		const call = () =>
			post(g, { model: 'gpt-4o-mini', messages: hello }, { authorization: `Bearer ${limited.key}` })
		expect((await call()).res.status).toBe(200)
		expect((await call()).res.status).toBe(200)
		const refused = await call()
		expect(refused.res.status).toBe(429)
		// Two a minute refill one request every 30 s; the three calls take far less than a second.
		expect(Number(refused.res.headers.get('retry-after'))).toBeWithin(29, 31)
		expect(refused.body.error).toMatchObject({
			type: 'rate_limit_error',
			code: 'rate_limit_exceeded',
		})
		expect(g.upstream.requests).toHaveLength(2)
		expect((await g.rows()).map((row) => row.status)).toEqual([200, 200, 429])
		// Another key of the same user is not affected.
		expect((await post(g, { model: 'gpt-4o-mini', messages: hello })).res.status).toBe(200)
	})
})

import { describe, expect, it } from 'bun:test'
import { readEvents, startGateway } from '../../helpers/gateway'
import { until } from '../../helpers/until'

const hello = [{ role: 'user' as const, content: 'Say hello' }]

describe('POST /v1/chat/completions with an OpenAI model', () => {
	it('answers through the official SDK with the upstream model and the x-switchyard headers', async () => {
		await using g = await startGateway()
		const { data, response } = await g.openai.chat.completions
			.create({ model: 'gpt-4o-mini', messages: hello })
			.withResponse()
		expect(data.object).toBe('chat.completion')
		expect(data.model).toBe('gpt-4o-mini')
		expect(data.choices[0]?.message.content).toBe('Hello from gpt-4o-mini')
		expect(response.headers.get('x-switchyard-request-id')).toMatch(/^req_[0-9a-f]{32}$/)
		expect(response.headers.get('x-switchyard-provider')).toBe('openai')
		expect(response.headers.get('x-switchyard-model')).toBe('openai/gpt-4o-mini')
		expect(response.headers.get('x-switchyard-rule')).toBe('explicit')
		expect(response.headers.get('x-switchyard-tier')).toBeNull()
		expect(response.headers.get('x-switchyard-attempts')).toBe('1')
		// The fake counts "Say hello" as 9 characters / 4 → 3 tokens, and its answer's 3 words as 3 tokens.
		expect(data.usage).toMatchObject({ prompt_tokens: 3, completion_tokens: 3, total_tokens: 6 })
		// gpt-4o-mini at $0.15 input, $0.60 output per million: (3 × 0.15 + 3 × 0.60) / 1M = $0.00000225.
		expect(response.headers.get('x-switchyard-cost-usd')).toBe('0.00000225')
	})

	it('gives every answer on the same route its own request id and cost, streamed or not', async () => {
		await using g = await startGateway()
		const call = (stream: boolean, content: string) =>
			g.fetch('/chat/completions', {
				method: 'POST',
				body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content }], stream }),
			})
		const answers = [
			await call(false, 'Hi'),
			await call(false, 'A longer question, so that the answer costs more'),
			await call(true, 'Hi'),
		]
		const ids = answers.map((res) => res.headers.get('x-switchyard-request-id'))
		expect(new Set(ids).size).toBe(3)
		for (const res of answers) {
			expect(res.headers.get('x-switchyard-request-id')?.split(',')).toHaveLength(1)
			expect(res.headers.get('x-switchyard-model')).toBe('openai/gpt-4o-mini')
			expect(res.headers.get('x-switchyard-attempts')).toBe('1')
		}
		const [short, long, streamed] = answers
		expect(short?.headers.get('content-type')).toBe('application/json')
		// gpt-4o-mini at $0.15 input, $0.60 output per million; each answer is 3 words, 3 tokens.
		// "Hi": 1 token, (1 × 0.15 + 3 × 0.60) / 1M = $0.00000195.
		expect(short?.headers.get('x-switchyard-cost-usd')).toBe('0.00000195')
		// 48 characters / 4 = 12 tokens, (12 × 0.15 + 3 × 0.60) / 1M = $0.0000036.
		expect(long?.headers.get('x-switchyard-cost-usd')).toBe('0.00000360')
		expect(streamed?.headers.get('content-type')).toStartWith('text/event-stream')
		expect(streamed?.headers.get('x-switchyard-cost-usd')).toBeNull()
		await Promise.all(answers.map((res) => res.text()))
	})

	it('passes the body through with unknown fields, the upstream key and the catalog model id', async () => {
		await using g = await startGateway()
		await g.openai.chat.completions.create({
			model: 'openai/gpt-4o-mini',
			messages: hello,
			temperature: 0.3,
			seed: 7,
			user: 'u-1',
			// Fields the gateway does not read reach the upstream unchanged.
			prediction: { type: 'content', content: 'Hello' },
			metadata: { team: 'search' },
		})
		const [sent] = g.upstream.requests
		expect(sent?.headers.authorization).toBe('Bearer sk-openai-test')
		expect(sent?.body).toEqual({
			model: 'gpt-4o-mini',
			messages: hello,
			temperature: 0.3,
			seed: 7,
			user: 'u-1',
			prediction: { type: 'content', content: 'Hello' },
			metadata: { team: 'search' },
			stream: false,
		})
	})

	it('returns the upstream refusal of a field it does not know as the caller’s 400, without falling back', async () => {
		await using g = await startGateway()
		const res = await g.fetch('/chat/completions', {
			method: 'POST',
			body: JSON.stringify({ model: 'auto', messages: hello, custom_field: 1 }),
		})
		expect(res.status).toBe(400)
		expect(await res.json()).toEqual({
			error: {
				message: 'Unrecognized request argument supplied: custom_field',
				type: 'invalid_request_error',
				param: null,
				code: null,
			},
		})
		expect(g.upstream.requests).toHaveLength(1)
	})

	it('sends max_tokens as max_completion_tokens to OpenAI itself', async () => {
		await using g = await startGateway()
		await g.openai.chat.completions.create({ model: 'gpt-4o-mini', messages: hello, max_tokens: 50 })
		expect(g.upstream.requests[0]?.body.max_completion_tokens).toBe(50)
		expect(g.upstream.requests[0]?.body.max_tokens).toBeUndefined()
	})

	it('logs a success with tokens, cost, baseline cost and latencies, and no text', async () => {
		await using g = await startGateway()
		g.upstream.script('gpt-4o-mini', { kind: 'reply', usage: { prompt: 1000, completion: 200, cached: 400 } })
		const started = performance.now()
		await g.openai.chat.completions.create({
			model: 'gpt-4o-mini',
			messages: [{ role: 'user', content: 'SECRET PROMPT' }],
		})
		const waited = performance.now() - started
		const [row] = await g.rows()
		expect(row).toMatchObject({
			userId: g.userId,
			requestedModel: 'gpt-4o-mini',
			model: 'openai/gpt-4o-mini',
			upstreamModel: 'gpt-4o-mini',
			provider: 'openai',
			tier: null,
			rule: 'explicit',
			stream: false,
			status: 200,
			error: null,
			promptTokens: 1000,
			completionTokens: 200,
			cachedTokens: 400,
			usageReported: true,
			ttftMs: null,
			promptText: null,
			systemText: null,
		})
		// 600 uncached, 400 cached and 200 output tokens, per million:
		// gpt-4o-mini at $0.15, $0.075, $0.60: (600 × 0.15 + 400 × 0.075 + 200 × 0.60) / 1M = $0.00024;
		// a named model is not routed, so its cost without routing is its own cost: no saving.
		expect(row?.costUsd).toBeCloseTo(0.00024, 12)
		expect(row?.baselineCostUsd).toBeCloseTo(0.00024, 12)
		expect(row?.attempts).toEqual([
			{ model: 'openai/gpt-4o-mini', provider: 'openai', status: 200, latencyMs: expect.any(Number) },
		])
		// Whole milliseconds: the attempt lies within the request, and the request within what the client waited.
		expect(row?.attempts[0]?.latencyMs).toBeLessThanOrEqual(row?.latencyMs ?? Number.NaN)
		expect(row?.latencyMs).toBeLessThanOrEqual(Math.ceil(waited))
		expect(JSON.stringify(row)).not.toContain('SECRET PROMPT')
	})

	it('logs as latency the time from arrival to the answer’s last byte', async () => {
		await using g = await startGateway()
		// Headers and half the body after 100 ms, the rest 50 ms later.
		g.upstream.script('gpt-4o-mini', { kind: 'slow', firstByteMs: 100, chunkMs: 50 })
		const started = performance.now()
		await g.openai.chat.completions.create({ model: 'gpt-4o-mini', messages: hello })
		const waited = performance.now() - started
		const [row] = await g.rows()
		expect(row?.latencyMs).toBeGreaterThanOrEqual(150)
		expect(row?.latencyMs).toBeLessThanOrEqual(Math.ceil(waited))
		expect(row?.attempts[0]?.latencyMs).toBeGreaterThanOrEqual(100)
		expect(row?.attempts[0]?.latencyMs).toBeLessThanOrEqual(row?.latencyMs ?? Number.NaN)
	})
})

describe('streaming', () => {
	it('streams chunks ending with [DONE], with usage only when the client asks', async () => {
		await using g = await startGateway()
		const plain = await g.fetch('/chat/completions', {
			method: 'POST',
			body: JSON.stringify({ model: 'gpt-4o-mini', messages: hello, stream: true }),
		})
		expect(plain.headers.get('content-type')).toStartWith('text/event-stream')
		expect(plain.headers.get('x-switchyard-cost-usd')).toBeNull()
		const events = await readEvents(plain)
		expect(events.at(-1)).toBe('[DONE]')
		const chunks = events.slice(0, -1).map((e) => JSON.parse(e))
		expect(chunks.every((c) => c.object === 'chat.completion.chunk' && c.choices.length === 1)).toBe(true)
		expect(chunks.some((c) => 'usage' in c)).toBe(false)
		expect(chunks.map((c) => c.choices[0].delta.content ?? '').join('')).toBe('Hello from gpt-4o-mini')
		// The gateway always asks the upstream for usage, so the stream is priced.
		expect(g.upstream.requests[0]?.body.stream_options).toEqual({ include_usage: true })
		const [row] = await g.rows()
		// "Say hello": 3 tokens, the answer's 3 words: 3 tokens, at $0.15 and $0.60 per million: $0.00000225.
		expect(row).toMatchObject({
			stream: true,
			status: 200,
			usageReported: true,
			promptTokens: 3,
			completionTokens: 3,
			costUsd: expect.closeTo(0.00000225, 12),
		})
		expect(row?.ttftMs).toBeLessThanOrEqual(row?.latencyMs ?? Number.NaN)

		const withUsage = await g.openai.chat.completions.create({
			model: 'gpt-4o-mini',
			messages: hello,
			stream: true,
			stream_options: { include_usage: true },
		})
		const received = []
		for await (const chunk of withUsage) received.push(chunk)
		expect(received.at(-1)?.choices).toEqual([])
		expect(received.at(-1)?.usage).toMatchObject({ prompt_tokens: 3, completion_tokens: 3, total_tokens: 6 })
	})

	it('logs a stream that ended without usage as such, priced at nothing', async () => {
		await using g = await startGateway()
		g.upstream.script('gpt-4o-mini', { kind: 'reply', omitUsage: true })
		const stream = await g.openai.chat.completions.create({
			model: 'gpt-4o-mini',
			messages: hello,
			stream: true,
		})
		for await (const _ of stream) {
			// drain
		}
		expect((await g.rows())[0]).toMatchObject({
			status: 200,
			usageReported: false,
			costUsd: 0,
			promptTokens: 0,
		})
	})

	it('delivers the first chunk as soon as the upstream sends content, not when the stream ends', async () => {
		await using g = await startGateway()
		g.upstream.script('gpt-4o-mini', { kind: 'slow', firstByteMs: 50, chunkMs: 200 })
		const started = performance.now()
		const stream = await g.openai.chat.completions.create({
			model: 'gpt-4o-mini',
			messages: hello,
			stream: true,
		})
		let upstreamDone = false
		void g.upstream.requests[0]?.aborted.then(() => {
			upstreamDone = true
		})
		const iterator = stream[Symbol.asyncIterator]()
		await iterator.next()
		const firstChunkMs = performance.now() - started
		// The upstream still has four parts to send, 200 ms apart: its exchange has not ended.
		expect(upstreamDone).toBe(false)
		let chunks = 1
		while (!(await iterator.next()).done) chunks++
		// The role, the answer's three words, and the finish reason.
		expect(chunks).toBe(5)
		// The role chunk comes at 50 ms and the first text 200 ms later: the stream is committed to this
		// model (and its headers sent) only with content, so a failure before it can still fall back.
		expect(firstChunkMs).toBeGreaterThanOrEqual(250)
	})

	it('aborts the upstream request when the client disconnects, and logs 499', async () => {
		await using g = await startGateway()
		g.upstream.script('gpt-4o-mini', { kind: 'slow', firstByteMs: 0, chunkMs: 300 })
		const controller = new AbortController()
		const stream = await g.openai.chat.completions.create(
			{ model: 'gpt-4o-mini', messages: hello, stream: true },
			{ signal: controller.signal },
		)
		const iterator = stream[Symbol.asyncIterator]()
		await iterator.next()
		controller.abort()
		await expect(g.upstream.requests[0]?.aborted).resolves.toBe(true)
		await until(async () => (await g.rows()).length === 1, 2000)
		expect((await g.rows())[0]).toMatchObject({ status: 499, stream: true, model: 'openai/gpt-4o-mini' })
	})

	it('aborts a non-streaming upstream call when the client disconnects', async () => {
		await using g = await startGateway()
		g.upstream.script('gpt-4o-mini', { kind: 'hang' })
		const controller = new AbortController()
		const outcome = g.openai.chat.completions
			.create({ model: 'gpt-4o-mini', messages: hello }, { signal: controller.signal })
			.then(
				() => 'answered',
				(error: Error) => error.name,
			)
		await g.upstream.waitForRequests(1)
		controller.abort()
		expect(await outcome).not.toBe('answered')
		await expect(g.upstream.requests[0]?.aborted).resolves.toBe(true)
		await until(async () => (await g.rows()).length === 1, 2000)
		expect((await g.rows())[0]).toMatchObject({ status: 499, stream: false })
	})
})

describe('GET /v1/models', () => {
	it('lists auto and every model whose provider has a key for the caller', async () => {
		await using g = await startGateway()
		const models = await g.openai.models.list()
		const ids = models.data.map((m) => m.id)
		expect(ids[0]).toBe('auto')
		expect(ids).toContain('openai/gpt-4o-mini')
		expect(ids).toContain('anthropic/claude-haiku-4-5')
		expect(ids.some((id) => id.startsWith('groq/'))).toBe(false)
		const mini = models.data.find((m) => m.id === 'openai/gpt-4o-mini')
		expect(mini).toEqual({
			id: 'openai/gpt-4o-mini',
			object: 'model',
			created: expect.any(Number),
			owned_by: 'openai',
		})
	})
})

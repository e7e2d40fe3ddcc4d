import { describe, expect, it } from 'bun:test'
import { loadConfig } from '../../src/config'
import { createOtelTracer } from '../../src/observability/otel'
import type { TracedRequest } from '../../src/observability/tracing'
import { startGateway } from '../helpers/gateway'
import { type ReceivedSpan, startOtlpReceiver } from '../helpers/otlp-receiver'

const PROMPT = 'SECRET PROMPT 5d2a: my password is hunter2'
const SYSTEM = 'SYSTEM TEXT 91be'
const SERVER = 2
const CLIENT = 3
const ERROR = 2

const byStart = (a: ReceivedSpan, b: ReceivedSpan) =>
	Number(BigInt(a.startTimeUnixNano) - BigInt(b.startTimeUnixNano))

describe('OpenTelemetry traces', () => {
	it('sends one server span per request and one client span per upstream attempt, GenAI attributes, no text', async () => {
		await using collector = startOtlpReceiver()
		await using g = await startGateway({
			OTEL_EXPORTER_OTLP_ENDPOINT: collector.url,
			OTEL_SERVICE_NAME: 'switchyard-test',
			OTEL_EXPORTER_OTLP_HEADERS: 'x-collector-token=abc%20def',
		})
		await g.onlyTier(['openai/gpt-6-luna', 'anthropic/claude-haiku-5-5'])
		g.upstream.script('gpt-6-luna', { kind: 'error', status: 500 })
		g.upstream.script('claude-haiku-5-5', { kind: 'reply', usage: { prompt: 40, completion: 7 } })
		const res = await g.openai.chat.completions
			.create({
				model: 'auto',
				messages: [
					{ role: 'system', content: SYSTEM },
					{ role: 'user', content: PROMPT },
				],
				temperature: 0.5,
				max_tokens: 100,
			})
			.withResponse()
		const requestId = res.response.headers.get('x-switchyard-request-id')
		await g.t.deps.tracer?.flush()

		const server = collector.spans.filter((span) => span.kind === SERVER)
		const clients = collector.spans.filter((span) => span.kind === CLIENT).sort(byStart)
		expect(server).toHaveLength(1)
		const [request] = server
		expect(request).toMatchObject({
			name: 'POST /v1/chat/completions',
			status: { code: 0 },
			resource: { 'service.name': 'switchyard-test', 'telemetry.sdk.language': 'nodejs' },
			attributes: {
				'http.request.method': 'POST',
				'http.route': '/v1/chat/completions',
				'http.response.status_code': 200,
				'gen_ai.operation.name': 'chat',
				'gen_ai.request.model': 'auto',
				'gen_ai.provider.name': 'anthropic',
				'gen_ai.response.model': 'claude-haiku-5-5',
				'gen_ai.usage.input_tokens': 40,
				'gen_ai.usage.output_tokens': 7,
				'switchyard.model': 'anthropic/claude-haiku-5-5',
				'switchyard.tier': 'only',
				'switchyard.rule': 'default',
				'switchyard.attempts': 2,
				'switchyard.request_id': requestId,
				'switchyard.stream': false,
			},
		})
		expect(request?.parentSpanId || 'none').toBe('none')
		expect(request?.attributes['switchyard.cost_usd']).toBeGreaterThan(0)
		expect(request?.attributes['switchyard.rules_revision']).toBeNumber()

		expect(clients.map((span) => span.name)).toEqual(['chat gpt-6-luna', 'chat claude-haiku-5-5'])
		const parentage = clients.map((span) => ({ trace: span.traceId, parent: span.parentSpanId }))
		const child = { trace: request?.traceId ?? 'none', parent: request?.spanId ?? 'none' }
		expect(parentage).toEqual([child, child])
		const [failed, answered] = clients
		expect(failed).toMatchObject({
			status: { code: ERROR },
			attributes: {
				'gen_ai.operation.name': 'chat',
				'gen_ai.provider.name': 'openai',
				'gen_ai.system': 'openai',
				'gen_ai.request.model': 'gpt-6-luna',
				'gen_ai.request.temperature': 0.5,
				'gen_ai.request.max_tokens': 100,
				'error.type': '500',
				'http.response.status_code': 500,
				'server.address': '127.0.0.1',
				'switchyard.model': 'openai/gpt-6-luna',
			},
		})
		expect(answered).toMatchObject({
			status: { code: 0 },
			attributes: {
				'gen_ai.provider.name': 'anthropic',
				'gen_ai.request.model': 'claude-haiku-5-5',
				'gen_ai.response.model': 'claude-haiku-5-5',
				'gen_ai.usage.input_tokens': 40,
				'gen_ai.usage.output_tokens': 7,
				'http.response.status_code': 200,
			},
		})
		expect(answered?.attributes['error.type']).toBeUndefined()

		// What the collector received holds no text of the request and no key of any kind.
		const sent = collector.bodies.join('\n')
		for (const secret of [
			PROMPT,
			'hunter2',
			SYSTEM,
			g.key,
			'sk-openai-test',
			'sk-ant-test',
			'dev@example.com',
		]) {
			expect(sent).not.toContain(secret)
		}
		expect(collector.headers[0]?.['x-collector-token']).toBe('abc def')
	})

	it('continues the caller trace from its traceparent header', async () => {
		await using collector = startOtlpReceiver()
		await using g = await startGateway({ OTEL_EXPORTER_OTLP_ENDPOINT: collector.url })
		const traceId = '4bf92f3577b34da6a3ce929d0e0e4736'
		const parentId = '00f067aa0ba902b7'
		const res = await g.fetch('/chat/completions', {
			method: 'POST',
			headers: { traceparent: `00-${traceId}-${parentId}-01` },
			body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hello' }] }),
		})
		expect(res.status).toBe(200)
		await g.t.deps.tracer?.flush()
		const server = collector.spans.find((span) => span.kind === SERVER)
		expect({ trace: server?.traceId, parent: server?.parentSpanId }).toEqual({
			trace: traceId,
			parent: parentId,
		})
		expect(collector.spans.filter((span) => span.traceId === traceId)).toHaveLength(2)
	})

	it('marks a request that no model answered, and a stream, with what happened', async () => {
		await using collector = startOtlpReceiver()
		await using g = await startGateway({ OTEL_EXPORTER_OTLP_ENDPOINT: collector.url })
		g.upstream.script('gpt-4o-mini', { kind: 'error', status: 503 })
		const failed = await g.fetch('/chat/completions', {
			method: 'POST',
			body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hello' }] }),
		})
		expect(failed.status).toBe(502)
		const refused = await g.fetch('/chat/completions', {
			method: 'POST',
			body: JSON.stringify({ model: 'some caller text', messages: [{ role: 'user', content: 'Hello' }] }),
		})
		expect(refused.status).toBe(404)
		const stream = await g.openai.chat.completions.create({
			model: 'gpt-4o-mini',
			messages: [{ role: 'user', content: 'Hello' }],
			stream: true,
		})
		for await (const _ of stream) {
			// read to the end
		}
		await g.t.deps.tracer?.flush()
		const servers = collector.spans.filter((span) => span.kind === SERVER).sort(byStart)
		expect(servers.map((span) => span.attributes['http.response.status_code'])).toEqual([502, 404, 200])
		const [upstreamFailed, notFound, streamed] = servers
		expect(upstreamFailed).toMatchObject({
			status: { code: ERROR },
			attributes: { 'error.type': 'upstream_error', 'gen_ai.request.model': 'openai/gpt-4o-mini' },
		})
		// A 4xx is the caller's: not an error of the server span, but its error.type says what it was.
		expect(notFound).toMatchObject({
			status: { code: 0 },
			attributes: { 'error.type': 'model_not_found', 'gen_ai.request.model': 'unknown' },
		})
		expect(streamed?.attributes).toMatchObject({
			'switchyard.stream': true,
			'gen_ai.usage.output_tokens': expect.any(Number),
		})
		expect(streamed?.attributes['switchyard.ttft_ms']).toBeNumber()
		expect(collector.bodies.join('\n')).not.toContain('some caller text')
		const clients = collector.spans.filter((span) => span.kind === CLIENT).sort(byStart)
		expect(clients.map((span) => span.attributes['error.type'] ?? 'ok')).toEqual(['503', 'ok'])
	})

	it('serves every request and throws nothing when the collector is down', async () => {
		const collector = startOtlpReceiver()
		const url = collector.url
		await collector.stop()
		const warned: string[] = []
		const original = console.warn
		console.warn = (message: string) => warned.push(message)
		try {
			// The SDK retries a refused export with backoff until this time is up (10 s by default).
			await using g = await startGateway({
				OTEL_EXPORTER_OTLP_ENDPOINT: url,
				OTEL_EXPORTER_OTLP_TIMEOUT: '200',
			})
			for (let i = 0; i < 3; i++) {
				const answer = await g.openai.chat.completions.create({
					model: 'gpt-4o-mini',
					messages: [{ role: 'user', content: 'Hello' }],
				})
				expect(answer.choices[0]?.message.role).toBe('assistant')
			}
			await g.t.deps.tracer?.flush()
			expect((await g.rows()).map((row) => row.status)).toEqual([200, 200, 200])
		} finally {
			console.warn = original
		}
		// Said once, naming the collector, not once per export.
		expect(warned.filter((line) => line.startsWith('traces:'))).toEqual([
			expect.stringContaining(`traces: export to ${url}/v1/traces failed`),
		])
	})

	it('never throws into a request: a span that cannot be recorded is lost, and said once', async () => {
		await using collector = startOtlpReceiver()
		const tracing = loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: collector.url }).tracing
		if (!tracing) throw new Error('tracing is configured')
		const tracer = createOtelTracer(tracing, { model: () => undefined })
		const broken = {
			get requestId(): string {
				throw new Error('broken request')
			},
		} as unknown as TracedRequest
		const warned: string[] = []
		const original = console.warn
		console.warn = (message: string) => warned.push(message)
		try {
			for (let i = 0; i < 2; i++) {
				const span = tracer.startRequest('chat', new Request('http://localhost/v1/chat/completions'), 0)
				expect(() => span.end(broken, { status: 200 }, null, 0)).not.toThrow()
			}
		} finally {
			console.warn = original
			await tracer.shutdown()
		}
		expect(warned).toEqual([expect.stringContaining('traces: a span could not be recorded')])
	})

	it('sends only the sampled requests, as OTEL_TRACES_SAMPLER says', async () => {
		await using collector = startOtlpReceiver()
		await using g = await startGateway({
			OTEL_EXPORTER_OTLP_ENDPOINT: collector.url,
			OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
			OTEL_TRACES_SAMPLER_ARG: '0',
		})
		const call = (headers: Record<string, string> = {}) =>
			g.fetch('/chat/completions', {
				method: 'POST',
				headers,
				body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hello' }] }),
			})
		expect((await call()).status).toBe(200)
		// A caller that sampled its own trace is followed: parent-based.
		const traceId = '0af7651916cd43dd8448eb211c80319c'
		expect((await call({ traceparent: `00-${traceId}-b7ad6b7169203331-01` })).status).toBe(200)
		await g.t.deps.tracer?.flush()
		expect(collector.spans.map((span) => span.traceId)).toEqual([traceId, traceId])
	})

	it('loads no tracer without an endpoint', async () => {
		await using g = await startGateway()
		expect(g.t.deps.tracer).toBeNull()
	})
})

describe('the OTEL_* variables', () => {
	it('are read as the OpenTelemetry SDKs read them', () => {
		expect(loadConfig({}).tracing).toBeUndefined()
		expect(
			loadConfig({
				OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/',
				OTEL_EXPORTER_OTLP_HEADERS: 'api-key=a%2Cb, tenant = one',
				OTEL_EXPORTER_OTLP_TRACES_HEADERS: 'tenant=two',
				OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment=prod,service.name=from-attributes',
			}).tracing,
		).toEqual({
			url: 'http://collector:4318/v1/traces',
			headers: { 'api-key': 'a,b', tenant: 'two' },
			serviceName: 'from-attributes',
			resourceAttributes: { 'deployment.environment': 'prod', 'service.name': 'from-attributes' },
			timeoutMs: 10_000,
			sampler: { root: 'always_on', parentBased: true, ratio: 1 },
		})
		expect(
			loadConfig({
				OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318',
				OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://traces.example.com/custom',
				OTEL_SERVICE_NAME: 'gateway-eu',
			}).tracing,
		).toMatchObject({ url: 'https://traces.example.com/custom', serviceName: 'gateway-eu' })
		expect(
			loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_SDK_DISABLED: 'TRUE' }).tracing,
		).toBeUndefined()
		const sampled = (sampler: string, arg?: string) =>
			loadConfig({
				OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318',
				OTEL_TRACES_SAMPLER: sampler,
				...(arg && { OTEL_TRACES_SAMPLER_ARG: arg }),
			}).tracing?.sampler
		expect([
			sampled('traceidratio', '0.25'),
			sampled('parentbased_always_off'),
			sampled('always_on'),
		]).toEqual([
			{ root: 'traceidratio', parentBased: false, ratio: 0.25 },
			{ root: 'always_off', parentBased: true, ratio: 1 },
			{ root: 'always_on', parentBased: false, ratio: 1 },
		])
	})

	it('refuse a malformed header list without repeating it, since it may hold a token', () => {
		let problems: string[] = []
		try {
			loadConfig({
				OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318',
				OTEL_EXPORTER_OTLP_HEADERS: 'Bearer sekret',
			})
		} catch (error) {
			problems = (error as { problems: string[] }).problems
		}
		expect(problems).toEqual([
			'OTEL_EXPORTER_OTLP_HEADERS must be a comma-separated list of key=value pairs, values percent-encoded',
		])
	})
})

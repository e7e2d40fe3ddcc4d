// Metrics and traces from the server as it ships: the bundle, its own `otel.js` loaded only when an OTLP
// endpoint is set, and the last spans sent when it stops.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import OpenAI from 'openai'
import { buildServer } from '../../scripts/build'
import { startFakeUpstream } from '../helpers/fake-upstream'
import { startOtlpReceiver } from '../helpers/otlp-receiver'
import { parseExposition, sampleValue } from '../helpers/prometheus'
import { startServerProcess } from '../helpers/server-process'

const ROOT = join(import.meta.dir, '..', '..')
const TOKEN = 'e2e-metrics-token-0123456789'

// Inside the project folder, as dist/ is: the bundle finds the migrations and assets from there.
let outdir = ''
let entry = ''
beforeAll(async () => {
	outdir = mkdtempSync(join(ROOT, '.bundle-test-'))
	entry = await buildServer(outdir)
})
afterAll(() => rmSync(outdir, { recursive: true, force: true }))

describe('the bundle', () => {
	test('keeps the OpenTelemetry SDK out of the server code, in its own file', () => {
		expect(readFileSync(entry, 'utf8')).not.toContain('@opentelemetry')
		expect(readFileSync(join(outdir, 'otel.js'), 'utf8')).toContain('OTLPTraceExporter')
	})

	test('serves /metrics with its token and sends its last spans when it stops', async () => {
		await using upstream = await startFakeUpstream()
		await using collector = startOtlpReceiver()
		await using server = await startServerProcess(entry, {
			OPENAI_API_KEY: 'sk-openai-test',
			OPENAI_BASE_URL: upstream.openaiBaseUrl,
			METRICS_TOKEN: TOKEN,
			OTEL_EXPORTER_OTLP_ENDPOINT: collector.url,
		})
		const openai = new OpenAI({ apiKey: await server.createKey(), baseURL: `${server.origin}/v1` })
		await openai.chat.completions.create({
			model: 'auto',
			messages: [{ role: 'user', content: 'Hello, how are you?' }],
		})

		expect((await fetch(`${server.origin}/metrics`)).status).toBe(401)
		const scrape = await fetch(`${server.origin}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })
		const metrics = parseExposition(await scrape.text())
		expect(
			sampleValue(metrics, 'switchyard_requests_total', {
				model: 'openai/gpt-6-luna',
				tier: 'simple',
				code: '200',
			}),
		).toBe(1)

		// Spans wait up to 5 s for their batch; a stop sends them at once.
		expect(collector.spans).toEqual([])
		server.child.kill('SIGTERM')
		expect(await server.child.exited).toBe(0)
		expect(collector.spans.map((span) => span.name).sort()).toEqual([
			'POST /v1/chat/completions',
			'chat gpt-6-luna',
		])
	})
})

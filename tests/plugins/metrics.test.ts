import { describe, expect, it } from 'bun:test'
import { ConfigError, loadConfig } from '../../src/config'
import { type GatewayHarness, startGateway } from '../helpers/gateway'
import { type Family, parseExposition, sampleValue, sumOf } from '../helpers/prometheus'

const hello = [{ role: 'user', content: 'Hello' }]
const TOKEN = 'metrics-token-0123456789abcdef'

const originOf = (g: GatewayHarness) => g.baseURL.replace(/\/v1$/, '')

async function scrape(g: GatewayHarness, headers: Record<string, string> = {}) {
	const res = await fetch(`${originOf(g)}/metrics`, { headers })
	expect(res.status).toBe(200)
	expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8')
	return parseExposition(await res.text())
}

function chat(g: GatewayHarness, body: object, key = g.key) {
	return fetch(`${g.baseURL}/chat/completions`, {
		method: 'POST',
		headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
		body: JSON.stringify(body),
	})
}

/** Every histogram series: cumulative buckets never decrease, and +Inf equals the count. */
function histogramProblems(families: Map<string, Family>): string[] {
	const problems: string[] = []
	for (const family of families.values()) {
		if (family.type !== 'histogram') continue
		const series = new Map<string, { le: number; value: number }[]>()
		const counts = new Map<string, number>()
		for (const sample of family.samples) {
			const { le, ...labels } = sample.labels
			const key = JSON.stringify(labels)
			if (sample.name.endsWith('_bucket')) {
				const bound = le === '+Inf' ? Number.POSITIVE_INFINITY : Number(le)
				series.set(key, [...(series.get(key) ?? []), { le: bound, value: sample.value }])
			} else if (sample.name.endsWith('_count')) counts.set(key, sample.value)
		}
		for (const [key, buckets] of series) {
			for (let i = 1; i < buckets.length; i++) {
				const [before, after] = [buckets[i - 1], buckets[i]]
				if (!before || !after || after.le <= before.le || after.value < before.value) {
					problems.push(`${family.name} ${key}: bucket ${i} breaks monotonicity`)
				}
			}
			const last = buckets.at(-1)
			if (last?.le !== Number.POSITIVE_INFINITY || last.value !== counts.get(key)) {
				problems.push(`${family.name} ${key}: +Inf is not the count`)
			}
		}
	}
	return problems
}

describe('GET /metrics', () => {
	it('counts requests, a fallback, upstream errors, tokens, cost and latency after real requests', async () => {
		await using g = await startGateway()
		// The fallback: the tier's first model fails with a 500, the second answers.
		await g.onlyTier(['openai/gpt-6-luna', 'anthropic/claude-haiku-5-5'])
		g.upstream.script('gpt-6-luna', { kind: 'error', status: 500 })
		expect((await chat(g, { model: 'auto', messages: hello })).status).toBe(200)
		// An upstream error with no candidate left: a named model whose only call fails.
		g.upstream.script('gpt-4o-mini', { kind: 'error', status: 503 })
		expect((await chat(g, { model: 'gpt-4o-mini', messages: hello })).status).toBe(502)
		// An answer with usage, and a stream.
		g.upstream.script('gpt-4o-mini', { kind: 'reply', usage: { prompt: 1000, completion: 200, cached: 400 } })
		expect((await chat(g, { model: 'gpt-4o-mini', messages: hello })).status).toBe(200)
		const stream = await chat(g, { model: 'openai/gpt-4o-mini', messages: hello, stream: true })
		await stream.text()
		// Refused before any model: an unknown model, a body that is not JSON, a bad key.
		expect((await chat(g, { model: 'not-a-model-xyz', messages: hello })).status).toBe(404)
		expect((await chat(g, { model: 'auto', messages: 'nope' })).status).toBe(400)
		expect((await chat(g, { model: 'auto', messages: hello }, 'sy_wrong.key')).status).toBe(401)

		const m = await scrape(g)
		const requests = (labels: Record<string, string>) => sampleValue(m, 'switchyard_requests_total', labels)
		expect({
			fallback: requests({
				model: 'anthropic/claude-haiku-5-5',
				provider: 'anthropic',
				tier: 'only',
				code: '200',
			}),
			failed: requests({ model: 'openai/gpt-4o-mini', tier: 'none', code: '502' }),
			answered: requests({ model: 'openai/gpt-4o-mini', tier: 'none', code: '200' }),
			unknown: requests({ model: 'unknown', provider: 'none', code: '404' }),
			invalid: requests({ model: 'auto', provider: 'none', code: '400' }),
			refused: requests({ model: 'none', code: '401' }),
			doors: [...new Set(m.get('switchyard_requests_total')?.samples.map((s) => s.labels.door))],
			total: sumOf(m, 'switchyard_requests_total'),
		}).toEqual({
			fallback: 1,
			failed: 1,
			answered: 2,
			unknown: 1,
			invalid: 1,
			refused: 1,
			doors: ['chat'],
			total: 7,
		})
		expect({
			errors500: sampleValue(m, 'switchyard_upstream_errors_total', {
				model: 'openai/gpt-6-luna',
				provider: 'openai',
				type: 'http',
				code: '500',
			}),
			errors503: sampleValue(m, 'switchyard_upstream_errors_total', {
				model: 'openai/gpt-4o-mini',
				code: '503',
			}),
			fallbacks: sampleValue(m, 'switchyard_fallbacks_total', {
				door: 'chat',
				tier: 'only',
				model: 'anthropic/claude-haiku-5-5',
				provider: 'anthropic',
			}),
			allFallbacks: sumOf(m, 'switchyard_fallbacks_total'),
			attempts: sumOf(m, 'switchyard_upstream_attempts_total'),
			inFlight: sampleValue(m, 'switchyard_requests_in_flight', { door: 'chat' }),
		}).toEqual({ errors500: 1, errors503: 1, fallbacks: 1, allFallbacks: 1, attempts: 5, inFlight: 0 })

		const tokens = (type: string) =>
			sampleValue(m, 'switchyard_tokens_total', { model: 'openai/gpt-4o-mini', provider: 'openai', type })
		expect(tokens('prompt')).toBeGreaterThanOrEqual(1000)
		expect(tokens('cached')).toBe(400)
		expect(tokens('completion')).toBeGreaterThanOrEqual(200)
		// The answer with usage alone is $0.00024 (tests/plugins/gateway/chat.test.ts); the stream adds its own.
		const cost = sampleValue(m, 'switchyard_cost_usd_total', { model: 'openai/gpt-4o-mini' }) ?? 0
		expect(cost).toBeGreaterThan(0.00024)
		expect(cost).toBeLessThan(0.001)

		// Every request that reached the pipeline has a latency; only the stream has a time to first token.
		expect(sumOf(m, 'switchyard_request_duration_seconds_count')).toBe(6)
		expect(
			sampleValue(m, 'switchyard_request_duration_seconds_count', {
				model: 'openai/gpt-4o-mini',
				stream: 'true',
			}),
		).toBe(1)
		expect(sumOf(m, 'switchyard_time_to_first_token_seconds_count')).toBe(1)
		expect(histogramProblems(m)).toEqual([])

		await g.rows()
		expect({
			pending: sampleValue(m, 'switchyard_request_log_pending_rows') !== undefined,
			failures: sampleValue(m, 'switchyard_request_log_write_failures_total'),
			dropped: sampleValue(m, 'switchyard_request_log_dropped_rows_total'),
			revision: (sampleValue(m, 'switchyard_rules_revision') ?? 0) > 0,
			uptime: (sampleValue(m, 'switchyard_uptime_seconds') ?? -1) >= 0,
			started: (sampleValue(m, 'process_start_time_seconds') ?? 0) > 1.7e9,
		}).toEqual({ pending: true, failures: 0, dropped: 0, revision: true, uptime: true, started: true })
	})

	it('keeps to bounded labels: never a key, a user, a request id or text from a request', async () => {
		await using g = await startGateway()
		const prompt = 'SECRET PROMPT 8c1f'
		const res = await chat(g, {
			model: 'auto',
			messages: [{ role: 'user', content: prompt }],
			user: 'alice@example.com',
		})
		const requestId = res.headers.get('x-switchyard-request-id') ?? 'missing'
		await chat(g, { model: 'gpt-4o-mini\n"}evil', messages: hello })
		await chat(g, { model: `sk-proj-${'a'.repeat(40)}`, messages: hello })
		const text = await (await fetch(`${originOf(g)}/metrics`)).text()
		for (const secret of [
			g.key,
			g.key.split('.')[0] ?? g.key,
			prompt,
			'alice',
			requestId,
			'evil',
			'sk-proj',
			'dev@example.com',
		]) {
			expect(text).not.toContain(secret)
		}
		const m = parseExposition(text)
		const labelNames = new Set<string>()
		const models = new Set<string>()
		for (const family of m.values()) {
			for (const sample of family.samples) {
				for (const name of Object.keys(sample.labels)) labelNames.add(name)
				if (sample.labels.model) models.add(sample.labels.model)
			}
		}
		expect([...labelNames].sort()).toEqual([
			'code',
			'door',
			'le',
			'model',
			'provider',
			'stream',
			'tier',
			'type',
		])
		const catalog = new Set(g.t.deps.catalog.models.map((model) => model.qualifiedId))
		expect(
			[...models].filter((model) => !catalog.has(model) && !['auto', 'unknown', 'none'].includes(model)),
		).toEqual([])
		expect(sampleValue(m, 'switchyard_requests_total', { model: 'unknown', code: '404' })).toBe(2)
	})

	it('shows each budget’s limit and what is left of it, and drops a deleted budget', async () => {
		await using g = await startGateway()
		const [key] = await g.t.deps.gatewayKeys.list(g.userId)
		if (!key) throw new Error('no key')
		const budget = await g.t.deps.budgets.create({
			scope: 'key',
			scopeId: key.id,
			window: 'day',
			limitMicros: 2_000_000,
			createdBy: g.userId,
		})
		await g.t.deps.budgets.create({
			scope: 'org',
			window: 'month',
			limitMicros: 50_000_000,
			createdBy: g.userId,
		})
		const res = await chat(g, { model: 'gpt-4o-mini', messages: hello, max_tokens: 10 })
		const cost = Number(res.headers.get('x-switchyard-cost-usd'))
		await res.text()
		const labels = { scope: 'key', scope_id: String(key.id), window: 'day' }
		let families = await scrape(g)
		const until = Date.now() + 3000
		// The reservation settles just after the answer.
		while (
			sampleValue(families, 'switchyard_budget_remaining_usd', labels) !==
			2 - Math.ceil(cost * 1e6) / 1e6
		) {
			if (Date.now() > until) break
			await Bun.sleep(20)
			families = await scrape(g)
		}
		expect(sampleValue(families, 'switchyard_budget_limit_usd', labels)).toBe(2)
		expect(sampleValue(families, 'switchyard_budget_remaining_usd', labels)).toBe(
			2 - Math.ceil(cost * 1e6) / 1e6,
		)
		expect(
			sampleValue(families, 'switchyard_budget_limit_usd', { scope: 'org', scope_id: '0', window: 'month' }),
		).toBe(50)
		await g.t.deps.budgets.delete(budget.id)
		families = await scrape(g)
		expect(sampleValue(families, 'switchyard_budget_limit_usd', labels)).toBeUndefined()
	})

	it('answers only this machine when no METRICS_TOKEN is set', async () => {
		await using g = await startGateway()
		expect((await fetch(`${originOf(g)}/metrics`)).status).toBe(200)
		// Through a proxy on the same host, every client would look local: a forwarded request is refused.
		const proxied = await fetch(`${originOf(g)}/metrics`, { headers: { 'x-forwarded-for': '203.0.113.9' } })
		expect(proxied.status).toBe(403)
		expect(await proxied.text()).toContain('METRICS_TOKEN')
		// Without a socket address to check (no server), nothing is local.
		expect((await g.t.call('GET', '/metrics')).status).toBe(403)
	})

	it('needs METRICS_TOKEN as a bearer token when it is set', async () => {
		await using g = await startGateway({ METRICS_TOKEN: TOKEN })
		const status = async (headers: Record<string, string>) =>
			(await fetch(`${originOf(g)}/metrics`, { headers })).status
		const missing = await fetch(`${originOf(g)}/metrics`)
		expect(missing.status).toBe(401)
		expect(missing.headers.get('www-authenticate')).toBe('Bearer realm="metrics"')
		expect({
			wrong: await status({ authorization: `Bearer ${TOKEN}x` }),
			prefix: await status({ authorization: `Bearer ${TOKEN.slice(0, -1)}` }),
			basic: await status({ authorization: `Basic ${btoa(`user:${TOKEN}`)}` }),
			gatewayKey: await status({ authorization: `Bearer ${g.key}` }),
			right: await status({ authorization: `Bearer ${TOKEN}` }),
			lowercase: await status({ authorization: `bearer ${TOKEN}` }),
			// With a token, where the scraper is does not matter.
			proxied: await status({ authorization: `Bearer ${TOKEN}`, 'x-forwarded-for': '203.0.113.9' }),
		}).toEqual({
			wrong: 401,
			prefix: 401,
			basic: 401,
			gatewayKey: 401,
			right: 200,
			lowercase: 200,
			proxied: 200,
		})
		expect((await g.t.call('GET', '/metrics', { token: TOKEN })).status).toBe(200)
	})

	it('refuses a METRICS_TOKEN under 16 characters at start, without repeating it', () => {
		const problems = (() => {
			try {
				loadConfig({ METRICS_TOKEN: 'short-secret' })
			} catch (error) {
				if (error instanceof ConfigError) return error.problems
			}
			return []
		})()
		expect(problems).toEqual(['METRICS_TOKEN must be at least 16 characters (openssl rand -hex 32)'])
	})

	it('takes the token only in the Authorization header', async () => {
		await using g = await startGateway({ METRICS_TOKEN: TOKEN })
		expect((await fetch(`${originOf(g)}/metrics?token=${TOKEN}`)).status).toBe(401)
	})
})

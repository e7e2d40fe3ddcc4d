// What a caller sends can cost at most a clear error: bodies within size and depth budgets on every route,
// header values that cannot break an answer, one log row per request, a 499 for an abandoned upload.
import { describe, expect, it } from 'bun:test'
import { connect } from 'node:net'
import { signupUser } from '../../helpers/app'
import { startGateway } from '../../helpers/gateway'
import { until } from '../../helpers/until'

const hello = [{ role: 'user', content: 'Hello' }]

/** `{"messages":[[[[…]]]]}`: a small body nested `depth` levels deep under `messages`. */
const nested = (depth: number) => `{"model":"auto","messages":${'['.repeat(depth)}${']'.repeat(depth)}}`

describe('the depth budget', () => {
	it('refuses a body nested past 64 levels with a 400 naming the field, before any work, and logs it', async () => {
		await using g = await startGateway()
		const res = await g.fetch('/chat/completions', { method: 'POST', body: nested(100_000) })
		expect(res.status).toBe(400)
		expect(await res.json()).toEqual({
			error: {
				message: 'The request body nests deeper than 64 levels',
				type: 'invalid_request_error',
				param: 'messages',
				code: null,
			},
		})
		expect(g.upstream.requests).toEqual([])
		expect((await g.rows()).map((row) => row.status)).toEqual([400])
	})

	it('takes a body nested within the budget, strings that look like brackets included', async () => {
		await using g = await startGateway()
		const content = '[[[[{{{{'.repeat(100)
		const tools = [
			{
				type: 'function',
				function: {
					name: 'deep',
					parameters: {
						type: 'object',
						properties: {
							a: { type: 'object', properties: { b: { type: 'array', items: { type: 'string' } } } },
						},
					},
				},
			},
		]
		const res = await g.fetch('/chat/completions', {
			method: 'POST',
			body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content }], tools }),
		})
		expect(res.status).toBe(200)
	})

	it('refuses deep nesting on the dashboard API too', async () => {
		await using g = await startGateway()
		const res = await g.t.call('POST', '/api/rules/test', {
			token: g.token,
			body: `{"request":${'{"a":'.repeat(200)}1${'}'.repeat(200)}}`,
		})
		expect(res.status).toBe(400)
		expect(((await res.json()) as { error: { param: string } }).error.param).toBe('request')
	})

	it('keeps the event loop answering while deep bodies arrive', async () => {
		await using g = await startGateway()
		const origin = g.baseURL.replace(/\/v1$/, '')
		const attack = Array.from({ length: 4 }, () =>
			g.fetch('/chat/completions', { method: 'POST', body: nested(100_000) }).then((res) => res.status),
		)
		const pauses: number[] = []
		for (let i = 0; i < 20; i++) {
			const started = performance.now()
			expect((await fetch(`${origin}/healthz`)).status).toBe(200)
			pauses.push(performance.now() - started)
		}
		expect(await Promise.all(attack)).toEqual([400, 400, 400, 400])
		pauses.sort((a, b) => a - b)
		// Each deep body costs one linear scan of 200 KB: a few milliseconds at most, never a stall.
		expect(pauses.at(-1)).toBeLessThan(50)
	})
})

describe('the size budget', () => {
	it('refuses a dashboard API body over 1 MiB with a 413, without reading it', async () => {
		await using g = await startGateway()
		const res = await g.t.call('POST', '/api/auth/login', {
			body: JSON.stringify({ email: 'a@example.com', password: 'x'.repeat(2 * 1024 * 1024) }),
		})
		expect(res.status).toBe(413)
		expect(((await res.json()) as { error: { code: string } }).error.code).toBe('request_too_large')
	})

	it('refuses an API body that grows past 1 MiB without announcing its length', async () => {
		await using g = await startGateway()
		const piece = new TextEncoder().encode(' '.repeat(256 * 1024))
		let sent = 0
		const body = new ReadableStream<Uint8Array>({
			pull(controller) {
				if (sent++ < 8) controller.enqueue(piece)
				else controller.close()
			},
		})
		const origin = g.baseURL.replace(/\/v1$/, '')
		const res = await fetch(`${origin}/api/auth/login`, {
			method: 'POST',
			headers: { 'content-type': 'application/json' },
			body,
		})
		expect(res.status).toBe(413)
	})

	it('still takes a rules document and a form', async () => {
		await using g = await startGateway()
		const { cookie } = await signupUser(g.t, 'second@example.com')
		const form = await g.t.call('POST', '/keys', {
			cookie,
			headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'http://localhost' },
			body: 'name=laptop',
		})
		expect(form.status).toBe(200)
		const rules = await g.t.call('GET', '/api/rules', { token: g.token })
		const saved = await g.t.call('PUT', '/api/rules', { token: g.token, body: await rules.json() })
		expect(saved.status).toBe(200)
	})
})

describe('one answer, one row', () => {
	it('answers with percent-encoded header values when a dropped field name holds CR/LF or an emoji', async () => {
		await using g = await startGateway()
		const body = `{"model":"anthropic/claude-haiku-5-5","messages":${JSON.stringify(hello)},"evil\\r\\nset-cookie: x=1":1,"😀":2}`
		const res = await g.fetch('/chat/completions', { method: 'POST', body })
		expect(res.status).toBe(200)
		expect(res.headers.get('set-cookie')).toBeNull()
		expect(res.headers.get('x-switchyard-dropped')).toBe('evil%0D%0Aset-cookie: x=1, %F0%9F%98%80')
		expect((await g.rows()).map((row) => row.status)).toEqual([200])
	})

	it('logs an upload the client abandoned as 499, once', async () => {
		await using g = await startGateway()
		const { hostname, port } = new URL(g.baseURL)
		const socket = connect(Number(port), hostname)
		await new Promise<void>((resolve) => socket.once('connect', () => resolve()))
		socket.write(
			`POST /v1/chat/completions HTTP/1.1\r\nhost: ${hostname}\r\nauthorization: Bearer ${g.key}\r\ncontent-type: application/json\r\ncontent-length: 100000\r\n\r\n{"model":"auto",`,
		)
		// A round trip through the same server: by then it has read the headers and waits for the body.
		await fetch(`${g.baseURL.replace(/\/v1$/, '')}/healthz`)
		socket.destroy()
		await until(async () => (await g.rows()).length === 1, 3000)
		expect((await g.rows()).map((row) => [row.status, row.errorType])).toEqual([
			[499, 'invalid_request_error'],
		])
	})
})

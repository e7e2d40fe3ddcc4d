import { afterEach, describe, expect, it } from 'bun:test'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import type { Socket, TCPSocketListener } from 'bun'
import { UpstreamError } from '../../src/providers/errors'
import { proxyConfigured } from '../../src/providers/http'
import { Http1Client } from '../../src/providers/http1'
import { until } from '../helpers/until'

const TLS_DIR = join(import.meta.dir, '../fixtures/tls')
const pem = (name: string) => readFileSync(join(TLS_DIR, name), 'utf8')
/** For 127.0.0.1 and localhost, self-signed. */
const cert = pem('cert.pem')
/** For other.example only, self-signed. */
const otherNameCert = pem('other-name-cert.pem')

interface Received {
	head: string
	body: string
}
type Reply = (request: Received, socket: Socket<{ buffer: Buffer }>, index: number) => void

/**
 * A TCP server that reads whole HTTP requests (Content-Length bodies) and lets each test write the answer
 * bytes itself, so the client meets the framings, splits and closes real providers produce.
 */
function rawServer(reply: Reply, options: { tls?: { cert: string; key: string } } = {}) {
	const state = { connections: 0, closed: 0, requests: [] as Received[] }
	const listener: TCPSocketListener<{ buffer: Buffer }> = Bun.listen<{ buffer: Buffer }>({
		hostname: '127.0.0.1',
		port: 0,
		...(options.tls ? { tls: options.tls } : {}),
		socket: {
			open(socket) {
				state.connections++
				socket.data = { buffer: Buffer.alloc(0) }
			},
			data(socket, chunk) {
				socket.data.buffer = Buffer.concat([socket.data.buffer, chunk])
				for (;;) {
					const buffer = socket.data.buffer
					const end = buffer.indexOf('\r\n\r\n')
					if (end < 0) return
					const head = buffer.toString('latin1', 0, end)
					const length = Number(/\r\ncontent-length: (\d+)/i.exec(head)?.[1] ?? 0)
					if (buffer.length < end + 4 + length) return
					const body = buffer.toString('utf8', end + 4, end + 4 + length)
					socket.data.buffer = buffer.subarray(end + 4 + length)
					state.requests.push({ head, body })
					reply({ head, body }, socket, state.requests.length - 1)
				}
			},
			close() {
				state.closed++
			},
		},
	})
	servers.push(listener)
	const scheme = options.tls ? 'https' : 'http'
	return { url: `${scheme}://127.0.0.1:${listener.port}/v1/chat/completions?x=1`, state }
}

const servers: TCPSocketListener<{ buffer: Buffer }>[] = []
const clients: Http1Client[] = []
afterEach(() => {
	for (const server of servers.splice(0)) server.stop(true)
	for (const client of clients.splice(0)) client.close()
})

function newClient(options: ConstructorParameters<typeof Http1Client>[0] = {}) {
	const client = new Http1Client(options)
	clients.push(client)
	return client
}

const json = (status: number, body: string, extra = '') =>
	`HTTP/1.1 ${status} X\r\ncontent-type: application/json\r\n${extra}content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
const never = () => new AbortController().signal

describe('the HTTP/1.1 client for JSON calls', () => {
	it('sends the request line, host and headers, reads a Content-Length answer, and reuses the connection', async () => {
		const server = rawServer((request, socket) => socket.write(json(200, `{"echo":${request.body}}`)))
		const client = newClient()
		for (const n of [1, 2]) {
			const answer = await client.post(server.url, { authorization: 'Bearer k' }, `{"n":${n}}`, never())
			expect(answer).toEqual({ status: 200, text: `{"echo":{"n":${n}}}` })
		}
		expect(server.state.connections).toBe(1)
		const [line, ...headers] = (server.state.requests[0]?.head ?? '').split('\r\n')
		expect(line).toBe('POST /v1/chat/completions?x=1 HTTP/1.1')
		expect(headers).toContain(`host: 127.0.0.1:${new URL(server.url).port}`)
		expect(headers).toContain('content-type: application/json')
		expect(headers).toContain('accept-encoding: identity')
		expect(headers).toContain('content-length: 7')
		expect(headers).toContain('authorization: Bearer k')
	})

	it('reads a chunked answer that arrives in pieces, with a character split between them, and trailers', async () => {
		const body = Buffer.from('{"text":"café ✓"}')
		const split = body.indexOf(0xa9) // the second byte of "é"
		const server = rawServer(async (_request, socket) => {
			socket.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n')
			await sleep(5)
			socket.write(`${split.toString(16)};ext=1\r\n`)
			socket.write(body.subarray(0, split))
			await sleep(5)
			socket.write(`\r\n${(body.length - split).toString(16)}\r\n`)
			socket.write(Buffer.concat([body.subarray(split), Buffer.from('\r\n0\r\n')]))
			await sleep(5)
			socket.write('x-trailer: 1\r\n\r\n')
		})
		const answer = await newClient().post(server.url, {}, '{}', never())
		expect(answer).toEqual({ status: 200, text: '{"text":"café ✓"}' })
	})

	it('reads an answer that ends with its connection, and opens a new one for the next call', async () => {
		const server = rawServer((_request, socket) => {
			socket.write('HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\r\n{"closed":')
			setTimeout(() => socket.end('true}'), 5)
		})
		const client = newClient()
		for (let call = 0; call < 2; call++) {
			expect(await client.post(server.url, {}, '{}', never())).toEqual({
				status: 200,
				text: '{"closed":true}',
			})
		}
		expect(server.state.connections).toBe(2)
	})

	it('does not reuse a connection the server asked to close', async () => {
		const server = rawServer((_request, socket) => socket.write(json(200, '{}', 'Connection: close\r\n')))
		const client = newClient()
		await client.post(server.url, {}, '{}', never())
		await client.post(server.url, {}, '{}', never())
		expect(server.state.connections).toBe(2)
	})

	it('decodes a gzip answer sent despite accept-encoding: identity', async () => {
		const server = rawServer((_request, socket) => {
			const zipped = gzipSync('{"zipped":true}')
			socket.write(`HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: ${zipped.length}\r\n\r\n`)
			socket.write(zipped)
		})
		expect(await newClient().post(server.url, {}, '{}', never())).toEqual({
			status: 200,
			text: '{"zipped":true}',
		})
	})

	it('skips informational answers before the real one', async () => {
		const server = rawServer((_request, socket) =>
			socket.write(`HTTP/1.1 103 Early Hints\r\nlink: </a>\r\n\r\n${json(200, '{"ok":1}')}`),
		)
		expect(await newClient().post(server.url, {}, '{}', never())).toEqual({ status: 200, text: '{"ok":1}' })
	})

	it('answers an error status with its body, and keeps the connection', async () => {
		const server = rawServer((_request, socket) =>
			socket.write(json(429, '{"error":{"message":"slow down"}}')),
		)
		const client = newClient()
		expect(await client.post(server.url, {}, '{}', never())).toEqual({
			status: 429,
			text: '{"error":{"message":"slow down"}}',
		})
		await client.post(server.url, {}, '{}', never())
		expect(server.state.connections).toBe(1)
	})

	it('sends a 3 MiB body whole, in UTF-8', async () => {
		const server = rawServer((request, socket) =>
			socket.write(
				json(200, JSON.stringify({ bytes: Buffer.byteLength(request.body), tail: request.body.slice(-3) })),
			),
		)
		const body = `"${'é'.repeat(1_500_000)}ok"`
		const answer = await newClient().post(server.url, {}, body, never())
		expect(JSON.parse(answer.text)).toEqual({ bytes: Buffer.byteLength(body), tail: 'ok"' })
	})

	it('closes a connection idle for longer than idleMs instead of reusing it', async () => {
		const server = rawServer((_request, socket) => socket.write(json(200, '{}')))
		const client = newClient({ idleMs: 30 })
		await client.post(server.url, {}, '{}', never())
		await sleep(60)
		await client.post(server.url, {}, '{}', never())
		expect(server.state.connections).toBe(2)
	})

	it('sends a call again on a fresh connection when the server closed the reused one without answering', async () => {
		// The server answers the first call on each connection and drops the connection on the second, as a
		// server closing an idle connection just as a call goes out.
		const perConnection = new WeakMap<object, number>()
		const server = rawServer((_request, socket) => {
			const seen = (perConnection.get(socket) ?? 0) + 1
			perConnection.set(socket, seen)
			if (seen === 1) socket.write(json(200, '{"ok":true}'))
			else socket.end()
		})
		const client = newClient()
		await client.post(server.url, {}, '{}', never())
		expect(await client.post(server.url, {}, '{}', never())).toEqual({ status: 200, text: '{"ok":true}' })
		expect(server.state.connections).toBe(2)
		expect(server.state.requests).toHaveLength(3)
	})

	it('fails a call whose fresh connection closes without an answer, without sending it again', async () => {
		const server = rawServer((_request, socket) => socket.end())
		await expect(newClient().post(server.url, {}, '{}', never())).rejects.toThrow(
			'the upstream closed the connection before answering',
		)
		expect(server.state.requests).toHaveLength(1)
	})

	it('keeps to its connection limit: calls beyond it wait for a connection', async () => {
		const server = rawServer((request, socket) => setTimeout(() => socket.write(json(200, request.body)), 10))
		const client = newClient({ maxConnections: 1 })
		const answers = await Promise.all([1, 2, 3].map((n) => client.post(server.url, {}, `${n}`, never())))
		expect(answers.map((answer) => answer.text)).toEqual(['1', '2', '3'])
		expect(server.state.connections).toBe(1)
	})

	it('rejects with an AbortError and drops the connection when the signal aborts', async () => {
		const server = rawServer(() => {})
		const controller = new AbortController()
		const call = newClient().post(server.url, {}, '{}', controller.signal)
		await until(() => server.state.requests.length === 1, 2000)
		controller.abort()
		const error = await call.catch((failure: unknown) => failure)
		expect(error).toBeInstanceOf(Error)
		expect((error as Error).name).toBe('AbortError')
		await until(() => server.state.closed === 1, 2000)
	})

	it('rejects at once for a signal that already aborted, and gives up a place in line when aborted there', async () => {
		const server = rawServer((request, socket) => setTimeout(() => socket.write(json(200, request.body)), 20))
		const client = newClient({ maxConnections: 1 })
		const gone = new AbortController()
		gone.abort()
		await expect(client.post(server.url, {}, '{}', gone.signal)).rejects.toThrow('aborted')
		const waiting = new AbortController()
		const first = client.post(server.url, {}, '"first"', never())
		const second = client.post(server.url, {}, '"second"', waiting.signal)
		waiting.abort()
		await expect(second).rejects.toThrow('aborted')
		expect((await first).text).toBe('"first"')
		await sleep(40)
		expect(server.state.requests.map((request) => request.body)).toEqual(['"first"'])
	})

	it('fails on a refused connection', async () => {
		const server = rawServer(() => {})
		const { url } = server
		for (const listener of servers.splice(0)) listener.stop(true)
		await expect(newClient().post(url, {}, '{}', never())).rejects.toThrow(/refused|connect/i)
	})

	it('fails with a protocol error on an answer that is not HTTP/1.1, or an invalid length', async () => {
		for (const answer of ['SSH-2.0-OpenSSH\r\n\r\n', 'HTTP/1.1 200 OK\r\ncontent-length: -1\r\n\r\n']) {
			const server = rawServer((_request, socket) => socket.write(answer))
			const error = await newClient()
				.post(server.url, {}, '{}', never())
				.catch((failure: unknown) => failure)
			expect(error).toBeInstanceOf(UpstreamError)
			expect((error as UpstreamError).kind).toBe('protocol')
		}
	})

	it('refuses header values with line breaks', async () => {
		const server = rawServer((_request, socket) => socket.write(json(200, '{}')))
		await expect(
			newClient().post(server.url, { authorization: 'Bearer k\r\nx-injected: 1' }, '{}', never()),
		).rejects.toThrow('line breaks are not allowed')
		await sleep(10)
		expect(server.state.requests).toHaveLength(0)
	})

	it('verifies the certificate of an HTTPS upstream, and its name', async () => {
		const reply: Reply = (_request, socket) => socket.write(json(200, '{"secure":true}'))
		const server = rawServer(reply, { tls: { cert, key: pem('key.pem') } })
		await expect(newClient().post(server.url, {}, '{}', never())).rejects.toThrow(/certificate|self.signed/i)
		const trusting = newClient({ ca: cert })
		expect(await trusting.post(server.url, {}, '{}', never())).toEqual({
			status: 200,
			text: '{"secure":true}',
		})
		const misnamed = rawServer(reply, { tls: { cert: otherNameCert, key: pem('other-name-key.pem') } })
		await expect(newClient({ ca: otherNameCert }).post(misnamed.url, {}, '{}', never())).rejects.toThrow(
			/does not match/,
		)
	})
})

describe('the choice of client', () => {
	it('leaves calls to fetch when a proxy is configured, in either case', () => {
		expect(proxyConfigured({ HTTPS_PROXY: 'http://proxy:3128' })).toBe(true)
		expect(proxyConfigured({ http_proxy: 'http://proxy:3128' })).toBe(true)
		expect(proxyConfigured({ ALL_PROXY: 'socks5://proxy' })).toBe(true)
		expect(proxyConfigured({ HTTPS_PROXY: '', PATH: '/bin' })).toBe(false)
	})
})

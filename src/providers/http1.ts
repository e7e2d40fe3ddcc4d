// The gateway's JSON calls to providers, as HTTP/1.1 on Bun's TCP and TLS sockets. `fetch` hands every
// call to Bun's HTTP client thread and back, which on a busy core cost more than the whole rest of the call:
// this client runs on the event loop (docs/performance.md, "The upstream client"). Streams still use
// `fetch` (`http.ts`). It speaks what providers answer: Content-Length, chunked or close-delimited bodies,
// gzip, deflate or brotli if a server compresses despite `accept-encoding: identity`, keep-alive
// connections per origin, certificate verification (Bun's default).

import { brotliDecompressSync, gunzipSync, inflateSync } from 'node:zlib'
import type { Socket, TCPSocketConnectOptions } from 'bun'
import { UpstreamError } from './errors'

export interface HttpAnswer {
	status: number
	text: string
}

export interface Http1ClientOptions {
	/** Extra trusted certificates (PEM), for tests; the system's are always trusted. */
	ca?: string
	/** @default 4 s: an idle connection older than this is closed rather than reused, as undici does */
	idleMs?: number
	/** @default 256 connections per origin, as Bun's own client; further calls wait for one */
	maxConnections?: number
}

const CRLF_CRLF = Buffer.from('\r\n\r\n')
const CRLF = Buffer.from('\r\n')

/** Where a URL's calls go, parsed once per URL. */
interface Target {
	origin: string
	hostname: string
	port: number
	tls: boolean
	requestLine: string
}

/** One connection to an origin; `call` is the exchange it carries, if any. */
interface Connection {
	socket: Socket<Connection> | undefined
	origin: string
	call: Call | undefined
	idleSince: number
	closed: boolean
	/** It carried a call before: the server may have closed it as idle just as this call went out. */
	reused: boolean
}

type Framing = 'length' | 'chunked' | 'close'

/** One request and its answer as it arrives. */
class Call {
	received: Buffer = Buffer.alloc(0)
	status = 0
	framing: Framing = 'close'
	/** Where the body starts in `received`, once the head is in. */
	bodyStart = -1
	contentLength = 0
	encoding = ''
	keepAlive = true
	/** Bytes of the request that the socket has not taken yet (a big body on a slow connection). */
	unsent: Buffer | undefined
	connection: Connection | undefined
	done = false
	/** Sent again once, on a fresh connection, after a reused one closed without a byte of answer. */
	retried = false

	constructor(
		readonly target: Target,
		readonly request: string,
		readonly resolve: (answer: HttpAnswer) => void,
		readonly reject: (error: Error) => void,
	) {}
}

export class Http1Client {
	private readonly targets = new Map<string, Target>()
	private readonly idle = new Map<string, Connection[]>()
	private readonly open = new Map<string, number>()
	private readonly waiting = new Map<string, Call[]>()
	private readonly idleMs: number
	private readonly maxConnections: number
	private readonly ca: string | undefined

	constructor(options: Http1ClientOptions = {}) {
		this.idleMs = options.idleMs ?? 4000
		this.maxConnections = options.maxConnections ?? 256
		this.ca = options.ca
	}

	/** POSTs `body` and resolves with the whole answer, whatever its status; rejects on a broken exchange. */
	post(url: string, headers: Record<string, string>, body: string, signal: AbortSignal): Promise<HttpAnswer> {
		const target = this.targetOf(url)
		let request = `${target.requestLine}content-length: ${Buffer.byteLength(body)}\r\n`
		for (const name in headers) {
			const value = headers[name] as string
			if (hasLineBreak(name) || hasLineBreak(value)) {
				return Promise.reject(new TypeError(`invalid header ${name}: line breaks are not allowed`))
			}
			request += `${name}: ${value}\r\n`
		}
		request += `\r\n${body}`
		return new Promise<HttpAnswer>((resolve, reject) => {
			if (signal.aborted) return reject(abortError())
			const call = new Call(target, request, resolve, reject)
			signal.addEventListener('abort', () => this.abort(call), { once: true })
			this.dispatch(call)
		})
	}

	/** Closes every idle connection (shutdown, tests). */
	close() {
		for (const connections of this.idle.values())
			for (const connection of connections) this.discard(connection)
		this.idle.clear()
	}

	private targetOf(url: string): Target {
		let target = this.targets.get(url)
		if (target) return target
		const parsed = new URL(url)
		const tls = parsed.protocol === 'https:'
		if (!tls && parsed.protocol !== 'http:') throw new TypeError(`unsupported protocol ${parsed.protocol}`)
		target = {
			origin: parsed.origin,
			hostname: parsed.hostname.replace(/^\[|\]$/g, ''),
			port: Number(parsed.port) || (tls ? 443 : 80),
			tls,
			requestLine:
				`POST ${parsed.pathname}${parsed.search} HTTP/1.1\r\nhost: ${parsed.host}\r\n` +
				'content-type: application/json\r\naccept: application/json\r\naccept-encoding: identity\r\n' +
				'user-agent: switchyard\r\n',
		}
		this.targets.set(url, target)
		return target
	}

	private dispatch(call: Call) {
		const origin = call.target.origin
		const connection = this.reusable(origin)
		if (connection) return this.send(connection, call)
		const opened = this.open.get(origin) ?? 0
		if (opened >= this.maxConnections) {
			const queue = this.waiting.get(origin) ?? []
			queue.push(call)
			this.waiting.set(origin, queue)
			return
		}
		this.open.set(origin, opened + 1)
		const fresh: Connection = { socket: undefined, origin, call, idleSince: 0, closed: false, reused: false }
		call.connection = fresh
		let connecting: Promise<Socket<Connection>>
		try {
			connecting = this.connect(fresh, call.target)
		} catch (error) {
			return this.fail(fresh, error as Error)
		}
		connecting.then(
			(socket) => {
				fresh.socket = socket
				if (fresh.closed) socket.end()
				else this.write(fresh, call.request)
			},
			(error: unknown) => this.fail(fresh, error instanceof Error ? error : new Error(String(error))),
		)
	}

	/** The most recently used idle connection that is still fresh; older ones are closed. */
	private reusable(origin: string): Connection | undefined {
		const connections = this.idle.get(origin)
		if (!connections) return undefined
		const now = performance.now()
		for (let connection = connections.pop(); connection; connection = connections.pop()) {
			if (!connection.closed && now - connection.idleSince < this.idleMs) return connection
			this.discard(connection)
		}
		return undefined
	}

	private send(connection: Connection, call: Call) {
		connection.call = call
		call.connection = connection
		this.write(connection, call.request)
	}

	/** Writes what the socket takes now; `drain` writes the rest. A string goes as UTF-8 without a copy here. */
	private write(connection: Connection, data: string | Buffer) {
		const call = connection.call
		if (!connection.socket || !call) return
		const written = Math.max(connection.socket.write(data), 0)
		const size = typeof data === 'string' ? Buffer.byteLength(data) : data.length
		call.unsent = written < size ? Buffer.from(data).subarray(written) : undefined
	}

	private connect(connection: Connection, target: Target) {
		const options: TCPSocketConnectOptions<Connection> = {
			hostname: target.hostname,
			port: target.port,
			data: connection,
			socket: this.handlers,
		}
		if (target.tls) Object.assign(options, { tls: this.ca ? { ca: this.ca } : true })
		return Bun.connect(options)
	}

	private readonly handlers = {
		data: (socket: Socket<Connection>, chunk: Buffer) => this.receive(socket.data, chunk),
		drain: (socket: Socket<Connection>) => {
			const unsent = socket.data.call?.unsent
			if (unsent) this.write(socket.data, unsent)
		},
		end: (socket: Socket<Connection>) => this.ended(socket.data),
		close: (socket: Socket<Connection>) => this.ended(socket.data),
		error: (socket: Socket<Connection>, error: Error) => this.fail(socket.data, error),
		// Bun closes a TLS connection whose certificate it refused; this says why.
		handshake: (socket: Socket<Connection>, success: boolean, refusal: Error | null) => {
			if (!success)
				this.fail(socket.data, new Error(`TLS handshake failed: ${refusal?.message ?? 'refused'}`))
		},
	}

	private receive(connection: Connection, chunk: Buffer) {
		const call = connection.call
		if (!call) return this.discard(connection)
		call.received = call.received.length === 0 ? chunk : Buffer.concat([call.received, chunk])
		try {
			if (call.bodyStart < 0 && !this.readHead(call)) return
			const body = this.completeBody(call)
			if (body) this.finish(connection, call, body)
		} catch (error) {
			this.fail(connection, error as Error)
		}
	}

	/** Parses the status line and the headers that frame the body; false until the head is complete. */
	private readHead(call: Call): boolean {
		for (;;) {
			const end = call.received.indexOf(CRLF_CRLF)
			if (end < 0) return false
			// Header names are case-insensitive; the values read here are too.
			const head = call.received.toString('latin1', 0, end + 2).toLowerCase()
			if (!STATUS_LINE.test(head)) throw protocolError('the upstream did not answer in HTTP/1.1')
			call.status = Number(head.slice(9, 12))
			// 1xx answers (100 Continue, 103 Early Hints) come before the real one.
			if (call.status < 200) {
				call.received = call.received.subarray(end + 4)
				continue
			}
			const connection = headerValue(head, 'connection')
			call.keepAlive =
				head.charCodeAt(7) === 49 ? !connection?.includes('close') : !!connection?.includes('keep-alive')
			call.encoding = headerValue(head, 'content-encoding') ?? ''
			const length = headerValue(head, 'content-length')
			if (headerValue(head, 'transfer-encoding')?.endsWith('chunked')) call.framing = 'chunked'
			else if (length !== undefined) {
				call.framing = 'length'
				call.contentLength = Number(length)
				if (!/^\d+$/.test(length)) throw protocolError('the upstream sent an invalid Content-Length')
			} else call.framing = call.status === 204 || call.status === 304 ? 'length' : 'close'
			call.bodyStart = end + 4
			return true
		}
	}

	/** The body once all of it is in, per its framing (a close-delimited one ends with the connection). */
	private completeBody(call: Call): Buffer | undefined {
		const body = call.received.subarray(call.bodyStart)
		if (call.framing === 'length') {
			return body.length >= call.contentLength ? body.subarray(0, call.contentLength) : undefined
		}
		if (call.framing === 'chunked') return dechunk(body)
		return undefined
	}

	private finish(connection: Connection, call: Call, body: Buffer) {
		connection.call = undefined
		let text: string
		try {
			text = decode(body, call.encoding)
		} catch {
			this.discard(connection)
			return this.settle(call, protocolError('the upstream sent a body that could not be decoded'))
		}
		// An answer that came before the whole request went out leaves the connection mid-request.
		if (call.keepAlive && call.framing !== 'close' && !call.unsent) this.release(connection)
		else this.discard(connection)
		this.settle(call, { status: call.status, text })
	}

	/** The peer closed: a close-delimited body is complete; anything else in flight failed. */
	private ended(connection: Connection) {
		const call = connection.call
		connection.call = undefined
		this.discard(connection)
		if (!call || call.done) return
		if (call.bodyStart >= 0 && call.framing === 'close') {
			return this.finish(connection, call, call.received.subarray(call.bodyStart))
		}
		this.lost(connection, call, new Error('the upstream closed the connection before answering'))
	}

	private fail(connection: Connection, error: Error) {
		const call = connection.call
		connection.call = undefined
		this.discard(connection)
		if (call) this.lost(connection, call, error)
	}

	/** A connection broke under `call`: sent once more if a reused one broke before any answer, else failed. */
	private lost(connection: Connection, call: Call, error: Error) {
		if (connection.reused && !call.retried && call.received.length === 0 && !call.done) {
			call.retried = true
			return this.dispatch(call)
		}
		this.settle(call, error)
	}

	/** The caller gave up: drop the connection mid-exchange (its state is unknown), or the call's place in line. */
	private abort(call: Call) {
		if (call.done) return
		const connection = call.connection
		if (connection?.call === call) {
			connection.call = undefined
			this.discard(connection)
		}
		const queue = this.waiting.get(call.target.origin)
		const queued = queue?.indexOf(call) ?? -1
		if (queue && queued >= 0) queue.splice(queued, 1)
		this.settle(call, abortError())
	}

	private settle(call: Call, outcome: HttpAnswer | Error) {
		if (call.done) return
		call.done = true
		call.connection = undefined
		if (outcome instanceof Error) call.reject(outcome)
		else call.resolve(outcome)
	}

	/** A finished connection goes back to its origin's idle list, or straight to a waiting call. */
	private release(connection: Connection) {
		connection.call = undefined
		const next = this.waiting.get(connection.origin)?.shift()
		if (next) return this.send(connection, next)
		connection.idleSince = performance.now()
		connection.reused = true
		const connections = this.idle.get(connection.origin) ?? []
		connections.push(connection)
		this.idle.set(connection.origin, connections)
	}

	private discard(connection: Connection) {
		if (!connection.closed) connection.socket?.end()
		this.forget(connection)
	}

	/** The connection no longer counts against its origin; a waiting call may open a new one. */
	private forget(connection: Connection) {
		if (connection.closed) return
		connection.closed = true
		this.open.set(connection.origin, (this.open.get(connection.origin) ?? 1) - 1)
		const next = this.waiting.get(connection.origin)?.shift()
		if (next) this.dispatch(next)
	}
}

const STATUS_LINE = /^http\/1\.[01] [1-5]\d\d[ \r]/

const hasLineBreak = (text: string) => text.includes('\n') || text.includes('\r')

/** A header's value in a lower-cased head that ends with a line break; the first, if repeated. */
function headerValue(head: string, name: string): string | undefined {
	const at = head.indexOf(`\r\n${name}:`)
	if (at < 0) return undefined
	const start = at + name.length + 3
	return head.slice(start, head.indexOf('\r\n', start)).trim()
}

/** A chunked body decoded, once its last chunk is in; undefined until then. */
function dechunk(body: Buffer): Buffer | undefined {
	const parts: Buffer[] = []
	let at = 0
	for (;;) {
		const lineEnd = body.indexOf(CRLF, at)
		if (lineEnd < 0) return undefined
		const size = Number.parseInt(body.toString('latin1', at, lineEnd).split(';')[0] as string, 16)
		if (!Number.isSafeInteger(size) || size < 0) throw protocolError('the upstream sent an invalid chunk')
		if (size === 0) {
			// Trailers, if any, end with an empty line.
			return body.indexOf(CRLF_CRLF, lineEnd) >= 0 ? Buffer.concat(parts) : undefined
		}
		const start = lineEnd + 2
		if (body.length < start + size + 2) return undefined
		parts.push(body.subarray(start, start + size))
		at = start + size + 2
	}
}

function decode(body: Buffer, encoding: string): string {
	if (encoding === '' || encoding === 'identity') return body.toString('utf8')
	if (encoding === 'gzip' || encoding === 'x-gzip') return gunzipSync(body).toString('utf8')
	if (encoding === 'deflate') return inflateSync(body).toString('utf8')
	if (encoding === 'br') return brotliDecompressSync(body).toString('utf8')
	throw protocolError(`unsupported content-encoding ${encoding}`)
}

const protocolError = (message: string) => new UpstreamError('protocol', 0, message)

function abortError(): Error {
	return new DOMException('The operation was aborted.', 'AbortError')
}

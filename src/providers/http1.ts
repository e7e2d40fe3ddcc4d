// The gateway's JSON calls to providers, as HTTP/1.1 on Bun's TCP and TLS sockets. `fetch` hands every
// call to Bun's HTTP client thread and back, which on a busy core cost more than the whole rest of the call:
// this client runs on the event loop (docs/performance.md, "The upstream client"). Streams still use
// `fetch` (`http.ts`). This file keeps the connections (keep-alive per origin, a limit, one resend after a
// reused connection dropped, abort, certificate verification as Bun does it); `http1-answer.ts` reads the
// answers.
import type { Socket, TCPSocketConnectOptions } from 'bun'
import { AnswerReader, type HttpAnswer } from './http1-answer'

export interface Http1ClientOptions {
	/** Extra trusted certificates (PEM), for tests; the system's are always trusted. */
	ca?: string
	/** @default 4 s: an idle connection older than this is closed rather than reused, as undici does */
	idleMs?: number
	/** @default 256 connections per origin, as Bun's own client; further calls wait for one */
	maxConnections?: number
}

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

/** One request and its answer as it arrives. */
class Call {
	answer = new AnswerReader()
	/** Bytes of the request that the socket has not taken yet (a big body on a slow connection). */
	unsent: Buffer | undefined
	connection: Connection | undefined
	done = false
	/** Sent again once, on a fresh connection, after a reused one closed without a byte of answer. */
	retried = false

	constructor(
		readonly target: Target,
		readonly request: string,
		/** The request's size in bytes (UTF-8). */
		readonly size: number,
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
		const bodySize = Buffer.byteLength(body)
		let head = `${target.requestLine}content-length: ${bodySize}\r\n`
		for (const name in headers) {
			const value = headers[name] as string
			if (hasLineBreak(name) || hasLineBreak(value)) {
				return Promise.reject(new TypeError(`invalid header ${name}: line breaks are not allowed`))
			}
			head += `${name}: ${value}\r\n`
		}
		head += '\r\n'
		const size = Buffer.byteLength(head) + bodySize
		return new Promise<HttpAnswer>((resolve, reject) => {
			if (signal.aborted) return reject(abortError())
			const call = new Call(target, head + body, size, resolve, reject)
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
				else this.write(fresh, call.request, call.size)
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
		this.write(connection, call.request, call.size)
	}

	/** Writes what the socket takes now; `drain` writes the rest. A string goes as UTF-8 without a copy here. */
	private write(connection: Connection, data: string | Buffer, size: number) {
		const call = connection.call
		if (!connection.socket || !call) return
		const written = Math.max(connection.socket.write(data), 0)
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
			if (unsent) this.write(socket.data, unsent, unsent.length)
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
		let text: string | undefined
		try {
			text = call.answer.push(chunk)
		} catch (error) {
			return this.fail(connection, error as Error)
		}
		if (text !== undefined) this.finish(connection, call, text)
	}

	private finish(connection: Connection, call: Call, text: string) {
		connection.call = undefined
		// An answer that came before the whole request went out leaves the connection mid-request.
		if (call.answer.reusable && !call.unsent) this.release(connection)
		else this.discard(connection)
		this.settle(call, { status: call.answer.status, text })
	}

	/** The peer closed: a close-delimited body is complete; anything else in flight failed. */
	private ended(connection: Connection) {
		const call = connection.call
		connection.call = undefined
		this.discard(connection)
		if (!call || call.done) return
		let text: string | undefined
		try {
			text = call.answer.ended()
		} catch (error) {
			return this.settle(call, error as Error)
		}
		if (text !== undefined) return this.finish(connection, call, text)
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
		if (connection.reused && !call.retried && !call.answer.started && !call.done) {
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

const hasLineBreak = (text: string) => text.includes('\n') || text.includes('\r')

function abortError(): Error {
	return new DOMException('The operation was aborted.', 'AbortError')
}

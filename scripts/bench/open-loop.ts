/**
 * The open-loop load generator: sends requests at a fixed arrival rate whatever the server does, and times
 * each one from the moment it was scheduled, not from when it could finally be sent, so a server that
 * stalls is charged for every request that waited (no coordinated omission; wrk2's rule). Run as its
 * own process, pinned to the load core: `bun scripts/bench/open-loop.ts '<OpenLoopSpec as JSON>'`; it
 * prints `RESULT <OpenLoopResult as JSON>`.
 *
 * HTTP/1.1 over keep-alive sockets (`Bun.connect`), one request at a time per connection: a small pool is
 * opened up front and grows, up to MAX_CONNECTIONS, when every connection is busy at a send time.
 * Requests that find no free connection wait in a queue, their clock already running. With several
 * origins (instances of one server), each has its own pool and queue, with an equal share of the
 * connections, and the requests go to them in turn: round robin, as a load balancer deals them out.
 */
import type { Socket } from 'bun'
import type { MetronomeSpec } from './metronome'
import { type Percentiles, percentiles } from './stats'

export interface OpenLoopSpec {
	/** http://127.0.0.1:<port>, one per instance: requests go to them in turn. */
	origins: string[]
	path: string
	headers: Record<string, string>
	body: string
	/** Requests per second. */
	rate: number
	durationMs: number
	/** After the last send, how long to wait for the answers still due before counting them as timeouts. */
	drainMs: number
}

export interface OpenLoopResult {
	scheduled: number
	/** Requests written to a socket: what the server received. */
	sent: number
	/** 2xx answers read in full; only these have latencies. */
	ok: number
	errors: {
		/** A connection could not be opened. */
		connect: number
		/** A non-2xx answer. */
		status: number
		/** The connection closed before the answer was complete. */
		closed: number
		/** Sent, but unanswered `drainMs` after the last send. */
		timeout: number
		/** Never sent: no connection became free in time. */
		unsent: number
	}
	statuses: Record<string, number>
	/** From the scheduled send time to the last byte of the answer, in ms. */
	latencyMs: Percentiles | null
	/** From the scheduled send time to the first byte of the body, in ms. */
	ttfbMs: Percentiles | null
	/** How late the generator's clock woke for each send, in ms: its own noise, included in the figures above. */
	sendLagMs: Percentiles | null
	connectionsOpened: number
	/** First scheduled send to last answer, in ms. */
	elapsedMs: number
}

/** One origin's connections and the requests waiting for one of them. */
interface Pool {
	hostname: string
	port: number
	request: Buffer
	idle: Connection[]
	all: Set<Connection>
	connecting: number
	/** Scheduled times of requests waiting for a connection, oldest first. */
	queue: number[]
	queueHead: number
}

interface Connection {
	pool: Pool
	socket: Socket<Connection> | undefined
	busy: boolean
	scheduled: number
	firstByteAt: number
	buffer: Buffer
	/** Offset of the body in `buffer`, -1 until the head is complete. */
	bodyStart: number
	status: number
	/** -1: chunked; -2: until the connection closes. */
	contentLength: number
	/** Offset of the next chunk-size line in `buffer` (chunked bodies). */
	chunkAt: number
	keepAlive: boolean
	unwritten: Uint8Array | undefined
}

/** Connections opened before the first send. */
const INITIAL_CONNECTIONS = 16
const MAX_CONNECTIONS = 256
const EMPTY = Buffer.alloc(0)
const HEAD_END = Buffer.from('\r\n\r\n')
const CRLF = Buffer.from('\r\n')

export async function runOpenLoop(spec: OpenLoopSpec): Promise<OpenLoopResult> {
	const body = Buffer.from(spec.body)
	const pools: Pool[] = spec.origins.map((text) => {
		const origin = new URL(text)
		const head = [`POST ${spec.path} HTTP/1.1`, `Host: ${origin.host}`]
		for (const [name, value] of Object.entries(spec.headers)) head.push(`${name}: ${value}`)
		head.push(`Content-Length: ${body.length}`, '', '')
		return {
			hostname: origin.hostname,
			port: Number(origin.port),
			request: Buffer.concat([Buffer.from(head.join('\r\n')), body]),
			idle: [],
			all: new Set(),
			connecting: 0,
			queue: [],
			queueHead: 0,
		}
	})
	const initialPerPool = Math.max(1, Math.round(INITIAL_CONNECTIONS / pools.length))
	const maxPerPool = Math.max(1, Math.floor(MAX_CONNECTIONS / pools.length))

	const count = Math.max(1, Math.round((spec.rate * spec.durationMs) / 1000))
	const intervalMs = 1000 / spec.rate
	const latencies = new Float64Array(count)
	const ttfbs = new Float64Array(count)
	const lags = new Float64Array(count)
	const result: OpenLoopResult = {
		scheduled: count,
		sent: 0,
		ok: 0,
		errors: { connect: 0, status: 0, closed: 0, timeout: 0, unsent: 0 },
		statuses: {},
		latencyMs: null,
		ttfbMs: null,
		sendLagMs: null,
		connectionsOpened: 0,
		elapsedMs: 0,
	}
	let lagged = 0
	let finished = 0
	let lastDoneAt = 0

	let onSettled: (() => void) | undefined
	const settle = () => {
		finished++
		if (finished === count) onSettled?.()
	}

	function complete(conn: Connection) {
		const now = performance.now()
		lastDoneAt = now
		const status = conn.status
		result.statuses[status] = (result.statuses[status] ?? 0) + 1
		if (status >= 200 && status < 300) {
			latencies[result.ok] = now - conn.scheduled
			ttfbs[result.ok] = (conn.firstByteAt || now) - conn.scheduled
			result.ok++
		} else {
			result.errors.status++
		}
		conn.busy = false
		conn.buffer = EMPTY
		settle()
		if (!conn.keepAlive) {
			conn.pool.all.delete(conn)
			conn.socket?.end()
			refill(conn.pool)
			return
		}
		release(conn)
	}

	/** A free connection takes the oldest waiting request, or goes back to the pool. */
	function release(conn: Connection) {
		const pool = conn.pool
		if (pool.queueHead < pool.queue.length) send(conn, pool.queue[pool.queueHead++] as number)
		else pool.idle.push(conn)
	}

	function send(conn: Connection, scheduled: number) {
		const socket = conn.socket
		if (!socket) throw new Error('send on a connection that is not open')
		conn.busy = true
		conn.scheduled = scheduled
		conn.firstByteAt = 0
		conn.buffer = EMPTY
		conn.bodyStart = -1
		conn.status = 0
		conn.contentLength = -2
		conn.chunkAt = 0
		conn.keepAlive = true
		const request = conn.pool.request
		const written = socket.write(request)
		if (written < 0) {
			conn.busy = false
			conn.pool.all.delete(conn)
			result.errors.closed++
			settle()
			return
		}
		result.sent++
		conn.unwritten = written < request.length ? request.subarray(written) : undefined
	}

	/** Opens connections while requests wait and the pool may grow. */
	function refill(pool: Pool) {
		while (
			pool.queue.length - pool.queueHead > pool.connecting &&
			pool.all.size + pool.connecting < maxPerPool
		)
			open(pool)
	}

	function open(pool: Pool) {
		const conn: Connection = {
			pool,
			socket: undefined,
			busy: false,
			scheduled: 0,
			firstByteAt: 0,
			buffer: EMPTY,
			bodyStart: -1,
			status: 0,
			contentLength: -2,
			chunkAt: 0,
			keepAlive: true,
			unwritten: undefined,
		}
		pool.connecting++
		result.connectionsOpened++
		Bun.connect<Connection>({
			hostname: pool.hostname,
			port: pool.port,
			data: conn,
			socket: {
				open(socket) {
					pool.connecting--
					conn.socket = socket
					pool.all.add(conn)
					socket.setNoDelay(true)
					release(conn)
				},
				data(socket, chunk) {
					const conn = socket.data
					if (!conn.busy) return
					if (conn.firstByteAt === 0 && conn.bodyStart >= 0) conn.firstByteAt = performance.now()
					conn.buffer = conn.buffer.length === 0 ? chunk : Buffer.concat([conn.buffer, chunk])
					if (parse(conn)) complete(conn)
				},
				drain(socket) {
					const conn = socket.data
					const rest = conn.unwritten
					if (!rest) return
					const written = socket.write(rest)
					conn.unwritten = written >= 0 && written < rest.length ? rest.subarray(written) : undefined
				},
				close(socket) {
					const conn = socket.data
					pool.all.delete(conn)
					const index = pool.idle.indexOf(conn)
					if (index >= 0) pool.idle.splice(index, 1)
					if (conn.busy && conn.contentLength === -2 && conn.bodyStart >= 0) {
						// A body delimited by the end of the connection is complete now.
						conn.keepAlive = false
						complete(conn)
					} else if (conn.busy) {
						conn.busy = false
						result.errors.closed++
						settle()
					}
					refill(pool)
				},
				connectError() {
					pool.connecting--
					result.errors.connect++
				},
			},
		}).catch(() => {})
	}

	/** Reads what has arrived; true once the whole answer is in `conn.buffer`. */
	function parse(conn: Connection): boolean {
		const buffer = conn.buffer
		if (conn.bodyStart < 0) {
			const end = buffer.indexOf(HEAD_END)
			if (end < 0) return false
			conn.bodyStart = end + 4
			if (buffer.length > conn.bodyStart) conn.firstByteAt = performance.now()
			const lines = buffer.toString('latin1', 0, end).split('\r\n')
			conn.status = Number(lines[0]?.slice(9, 12))
			for (const line of lines.slice(1)) {
				const colon = line.indexOf(':')
				const name = line.slice(0, colon).trim().toLowerCase()
				const value = line
					.slice(colon + 1)
					.trim()
					.toLowerCase()
				if (name === 'content-length') conn.contentLength = Number(value)
				else if (name === 'transfer-encoding' && value.includes('chunked')) conn.contentLength = -1
				else if (name === 'connection' && value === 'close') conn.keepAlive = false
			}
			if (conn.contentLength === -2 && (conn.status === 204 || conn.status === 304)) conn.contentLength = 0
			conn.chunkAt = conn.bodyStart
		}
		if (conn.contentLength >= 0) return buffer.length - conn.bodyStart >= conn.contentLength
		if (conn.contentLength === -2) return false
		for (;;) {
			const lineEnd = buffer.indexOf(CRLF, conn.chunkAt)
			if (lineEnd < 0) return false
			const size = Number.parseInt(buffer.toString('latin1', conn.chunkAt, lineEnd), 16)
			if (size === 0) return buffer.indexOf(HEAD_END, lineEnd) === lineEnd
			const next = lineEnd + 2 + size + 2
			if (next > buffer.length) return false
			conn.chunkAt = next
		}
	}

	for (const pool of pools) for (let i = 0; i < initialPerPool; i++) open(pool)
	const connecting = () => pools.reduce((sum, pool) => sum + pool.connecting, 0)
	const ready = performance.now()
	while (connecting() > 0 && performance.now() - ready < 2000) await Bun.sleep(1)

	const metronome = new Worker(new URL('./metronome.ts', import.meta.url).href)
	const settled = new Promise<void>((resolve) => {
		onSettled = resolve
	})
	const start = performance.now() + 20
	let next = 0
	metronome.onmessage = () => {
		const now = performance.now()
		for (; next < count && start + next * intervalMs <= now; next++) {
			const scheduled = start + next * intervalMs
			lags[lagged++] = now - scheduled
			const pool = pools[next % pools.length] as Pool
			const conn = pool.idle.pop()
			if (conn) send(conn, scheduled)
			else {
				pool.queue.push(scheduled)
				refill(pool)
			}
		}
	}
	const clock: MetronomeSpec = { startEpochMs: performance.timeOrigin + start, intervalMs, count }
	metronome.postMessage(clock)

	const lastSend = start + (count - 1) * intervalMs
	const deadline = new Promise<void>((resolve) =>
		setTimeout(resolve, Math.max(0, lastSend - performance.now()) + spec.drainMs),
	)
	await Promise.race([settled, deadline])
	metronome.terminate()

	const waiting = pools.reduce((sum, pool) => sum + pool.queue.length - pool.queueHead, 0)
	const unscheduled = count - next
	result.errors.unsent = waiting + unscheduled
	let inFlight = 0
	for (const pool of pools) {
		for (const conn of pool.all) {
			// Counted here as a timeout; not busy, so that closing it does not count it again as closed.
			if (conn.busy) inFlight++
			conn.busy = false
			conn.socket?.end()
		}
	}
	result.errors.timeout = inFlight
	result.latencyMs = percentiles(latencies, result.ok)
	result.ttfbMs = percentiles(ttfbs, result.ok)
	result.sendLagMs = percentiles(lags, lagged)
	result.elapsedMs = (lastDoneAt || performance.now()) - start
	return result
}

if (import.meta.main) {
	const spec = JSON.parse(process.argv[2] ?? '') as OpenLoopSpec
	const result = await runOpenLoop(spec)
	console.log(`RESULT ${JSON.stringify(result)}`)
	process.exit(0)
}

// No upstream call is ever sent twice by the gateway's own machinery. An OpenAI "upstream" that is a raw
// TCP server misbehaves in each way a connection can, and counts every request that reached it; an
// Anthropic one answers. Each fault must show one call per logged attempt, and a fallback only where the
// upstream never began a successful answer.
import { describe, expect, it } from 'bun:test'
import type { Socket } from 'bun'
import { startGateway } from '../../helpers/gateway'

type Fault =
	/** Answers the first request of a connection and keeps it alive; closes after reading the next one. */
	| 'close-reused-after-request'
	| 'close-on-connect'
	| 'close-mid-request'
	| 'close-after-request'
	| 'hang-before-headers'
	| 'hang-mid-body'
	| 'reset-mid-body'

interface Peer {
	head: string
	started: boolean
	/** Requests answered on this connection. */
	answered: number
}

const COMPLETION = JSON.stringify({
	id: 'chatcmpl-1',
	object: 'chat.completion',
	created: 1,
	model: 'gpt-6-luna',
	choices: [
		{ index: 0, message: { role: 'assistant', content: 'Hi' }, finish_reason: 'stop', logprobs: null },
	],
	usage: { prompt_tokens: 2, completion_tokens: 1, total_tokens: 3 },
})

/** A raw HTTP/1.1 server that applies `fault` to every connection and counts the requests it was sent. */
function faultyUpstream(fault: Fault) {
	let connections = 0
	let requests = 0
	const open = new Set<Socket<Peer>>()
	const server = Bun.listen<Peer>({
		hostname: '127.0.0.1',
		port: 0,
		socket: {
			open(socket) {
				connections++
				open.add(socket)
				socket.data = { head: '', started: false, answered: 0 }
				if (fault === 'close-on-connect') socket.end()
			},
			data(socket, chunk) {
				const peer = socket.data
				peer.head += chunk.toString('latin1')
				if (peer.started || !peer.head.includes('\r\n\r\n')) return
				// The request line and headers have arrived: one request, whatever happens to its body.
				peer.started = true
				requests++
				const headEnd = peer.head.indexOf('\r\n\r\n') + 4
				const length = Number(/content-length: *(\d+)/i.exec(peer.head)?.[1] ?? 0)
				const complete = peer.head.length - headEnd >= length
				if (fault === 'close-reused-after-request' && complete) {
					if (peer.answered > 0) return void socket.end()
					peer.answered++
					peer.head = ''
					peer.started = false
					socket.write(
						`HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nconnection: keep-alive\r\ncontent-length: ${COMPLETION.length}\r\n\r\n${COMPLETION}`,
					)
				} else if (fault === 'close-mid-request') socket.end()
				else if (fault === 'close-after-request' && complete) socket.end()
				else if (fault === 'hang-mid-body' || fault === 'reset-mid-body') {
					const answer = JSON.stringify({ id: 'chatcmpl-1', object: 'chat.completion', choices: [] })
					socket.write(
						`HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: ${answer.length}\r\n\r\n${answer.slice(0, 10)}`,
					)
					if (fault === 'reset-mid-body') socket.terminate()
				}
			},
			close(socket) {
				open.delete(socket)
			},
		},
	})
	return {
		baseUrl: `http://127.0.0.1:${server.port}/v1`,
		counts: () => ({ connections, requests }),
		[Symbol.dispose]() {
			for (const socket of open) socket.terminate()
			server.stop(true)
		},
	}
}

const hello = [{ role: 'user', content: 'Hello' }]

describe('connection faults: one call per logged attempt, never sent again', () => {
	it.each<[Fault, { status: number; fallback: boolean; requests: number }]>([
		['close-on-connect', { status: 200, fallback: true, requests: 0 }],
		['close-mid-request', { status: 200, fallback: true, requests: 1 }],
		['close-after-request', { status: 200, fallback: true, requests: 1 }],
		['hang-before-headers', { status: 200, fallback: true, requests: 1 }],
		['hang-mid-body', { status: 502, fallback: false, requests: 1 }],
		['reset-mid-body', { status: 502, fallback: false, requests: 1 }],
	])('%s', async (fault, expected) => {
		for (const stream of [false, true]) {
			using openai = faultyUpstream(fault)
			await using g = await startGateway({
				OPENAI_BASE_URL: openai.baseUrl,
				UPSTREAM_TIMEOUT_MS: '300',
				UPSTREAM_TOTAL_TIMEOUT_MS: '800',
			})
			await g.onlyTier(['openai/gpt-6-luna', 'anthropic/claude-haiku-5-5'])
			const res = await g.fetch('/chat/completions', {
				method: 'POST',
				body: JSON.stringify({ model: 'auto', messages: hello, stream }),
			})
			const text = await res.text()
			const [row] = await g.rows()
			const attempts = row?.attempts ?? []
			const called = {
				status: stream && expected.status === 200 ? res.status : row?.status,
				fallback: g.upstream.requests.length === 1,
				requests: openai.counts().requests,
			}
			expect({ stream, ...called }).toEqual({ stream, ...expected })
			// Every call the upstreams received is one logged attempt, and no model was tried twice.
			expect(attempts.map((attempt) => attempt.model)).toEqual(
				expected.fallback ? ['openai/gpt-6-luna', 'anthropic/claude-haiku-5-5'] : ['openai/gpt-6-luna'],
			)
			expect(openai.counts().requests + g.upstream.requests.length).toBeLessThanOrEqual(attempts.length)
			expect(openai.counts().connections).toBe(1)
			if (!expected.fallback) expect(text).toContain('not sent again')
		}
	})

	it('never sends a call again when a kept-alive connection closes after reading it', async () => {
		using openai = faultyUpstream('close-reused-after-request')
		await using g = await startGateway({ OPENAI_BASE_URL: openai.baseUrl })
		const call = () =>
			g.fetch('/chat/completions', {
				method: 'POST',
				body: JSON.stringify({ model: 'gpt-6-luna', messages: hello }),
			})
		expect((await call()).status).toBe(200)
		expect((await call()).status).toBe(502)
		expect(openai.counts()).toEqual({ connections: 1, requests: 2 })
		expect((await g.rows()).map((row) => row.attempts.length)).toEqual([1, 1])
	})
})

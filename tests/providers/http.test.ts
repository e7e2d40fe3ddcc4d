import { describe, expect, it } from 'bun:test'
import type { Socket } from 'bun'
import { UpstreamError } from '../../src/providers/upstream-error'
import { postJsonForText } from '../../src/providers/upstream-http'
import { until } from '../helpers/until'

interface Peer {
	buffer: string
	requests: number
}

type OnRequest = (socket: Socket<Peer>, requestOnConnection: number) => void

/**
 * A raw HTTP/1.1 server that counts every complete request it reads, and lets each test decide, per
 * request on a connection, what happens next: answer with keep-alive, or close without a byte.
 */
function rawServer(onRequest: OnRequest) {
	let received = 0
	const server = Bun.listen<Peer>({
		hostname: '127.0.0.1',
		port: 0,
		socket: {
			open(socket) {
				socket.data = { buffer: '', requests: 0 }
			},
			data(socket, chunk) {
				const peer = socket.data
				peer.buffer += chunk.toString()
				for (;;) {
					const headEnd = peer.buffer.indexOf('\r\n\r\n')
					if (headEnd === -1) return
					const length = Number(/content-length: *(\d+)/i.exec(peer.buffer.slice(0, headEnd))?.[1] ?? 0)
					if (peer.buffer.length < headEnd + 4 + length) return
					peer.buffer = peer.buffer.slice(headEnd + 4 + length)
					received++
					peer.requests++
					onRequest(socket, peer.requests)
				}
			},
		},
	})
	return {
		url: `http://127.0.0.1:${server.port}/v1/chat/completions`,
		received: () => received,
		[Symbol.dispose]: () => server.stop(true),
	}
}

const answer = (socket: Socket<Peer>, body: string) =>
	socket.write(
		`HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: keep-alive\r\n\r\n${body}`,
	)

const call = () => ({ signal: new AbortController().signal, began() {} })

/** 32 MiB, as UPSTREAM_MAX_ANSWER_BYTES defaults. */
const MAX_ANSWER_BYTES = 32 * 1024 * 1024
const limits = { maxAnswerBytes: MAX_ANSWER_BYTES }

describe('upstream calls over fetch', () => {
	it('never sends a request twice when a kept-alive connection closes after reading it', async () => {
		using server = rawServer((socket, n) => {
			if (n === 1) answer(socket, '{"ok":1}')
			else socket.end()
		})
		expect(await postJsonForText(server.url, {}, { n: 1 }, call(), limits)).toBe('{"ok":1}')
		const second = postJsonForText(server.url, {}, { n: 2 }, call(), limits)
		await expect(second).rejects.toBeInstanceOf(UpstreamError)
		await expect(second).rejects.toMatchObject({ kind: 'connection' })
		expect(server.received()).toBe(2)
	})

	it('never sends a request twice when a fresh connection closes after reading it', async () => {
		using server = rawServer((socket) => socket.end())
		await expect(postJsonForText(server.url, {}, { n: 1 }, call(), limits)).rejects.toMatchObject({
			kind: 'connection',
		})
		expect(server.received()).toBe(1)
	})

	it('reports the answer beginning once its 2xx headers arrive', async () => {
		using server = rawServer((socket) => answer(socket, '{}'))
		let began = 0
		await postJsonForText(
			server.url,
			{},
			{},
			{ signal: new AbortController().signal, began: () => began++ },
			limits,
		)
		expect(began).toBe(1)
	})

	it('refuses an answer that declares more than the limit, without reading it', async () => {
		using server = rawServer((socket) =>
			socket.write(
				`HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: ${MAX_ANSWER_BYTES + 1}\r\n\r\n{`,
			),
		)
		await expect(postJsonForText(server.url, {}, {}, call(), limits)).rejects.toMatchObject({
			kind: 'protocol',
			message: `the upstream answer is larger than ${MAX_ANSWER_BYTES} bytes`,
		})
	})

	it('refuses a chunked answer that grows past the limit, and stops reading it', async () => {
		const piece = new TextEncoder().encode('x'.repeat(1024 * 1024))
		let sent = 0
		let cancelled = false
		using server = Bun.serve({
			port: 0,
			hostname: '127.0.0.1',
			fetch: () =>
				new Response(
					new ReadableStream<Uint8Array>({
						pull(controller) {
							sent++
							controller.enqueue(piece)
						},
						cancel() {
							cancelled = true
						},
					}),
					{ headers: { 'content-type': 'application/json' } },
				),
		})
		await expect(
			postJsonForText(`${server.url}v1/chat/completions`, {}, {}, call(), limits),
		).rejects.toMatchObject({
			kind: 'protocol',
		})
		await until(() => cancelled, 2000)
		expect(sent).toBeLessThan(64)
	})
})

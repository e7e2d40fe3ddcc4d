// Reading one HTTP/1.1 answer as its bytes arrive, for the client in `http1.ts`: the status line, the
// headers that frame the body (Content-Length, chunked, or until the connection closes), and the body
// decoded to text (gzip, deflate or brotli, should a server compress despite `accept-encoding: identity`).
import { brotliDecompressSync, gunzipSync, inflateSync } from 'node:zlib'
import { UpstreamError } from './errors'

const CRLF_CRLF = Buffer.from('\r\n\r\n')
const CRLF = Buffer.from('\r\n')
const STATUS_LINE = /^http\/1\.[01] [1-5]\d\d[ \r]/

type Framing = 'length' | 'chunked' | 'close'

export interface HttpAnswer {
	status: number
	text: string
}

export class AnswerReader {
	status = 0
	private received: Buffer = Buffer.alloc(0)
	private framing: Framing = 'close'
	/** Where the body starts in `received`, once the head is in. */
	private bodyStart = -1
	private contentLength = 0
	private encoding = ''
	private keepAlive = true

	/** Whether any byte of the answer arrived. */
	get started(): boolean {
		return this.received.length > 0
	}

	/** Whether the connection may carry another call once this answer is in. */
	get reusable(): boolean {
		return this.keepAlive && this.framing !== 'close'
	}

	/** Takes the next bytes; the body as text once it is complete, undefined until then. */
	push(chunk: Buffer): string | undefined {
		this.received = this.received.length === 0 ? chunk : Buffer.concat([this.received, chunk])
		if (this.bodyStart < 0 && !this.readHead()) return undefined
		const body = this.received.subarray(this.bodyStart)
		if (this.framing === 'length') {
			return body.length >= this.contentLength
				? decode(body.subarray(0, this.contentLength), this.encoding)
				: undefined
		}
		if (this.framing === 'chunked') {
			const whole = dechunk(body)
			return whole && decode(whole, this.encoding)
		}
		return undefined
	}

	/** The connection ended: the body as text if it was delimited by that end, else undefined. */
	ended(): string | undefined {
		if (this.bodyStart < 0 || this.framing !== 'close') return undefined
		return decode(this.received.subarray(this.bodyStart), this.encoding)
	}

	/** Parses the status line and the headers that frame the body; false until the head is complete. */
	private readHead(): boolean {
		for (;;) {
			const end = this.received.indexOf(CRLF_CRLF)
			if (end < 0) return false
			// Header names are case-insensitive; the values read here are too.
			const head = this.received.toString('latin1', 0, end + 2).toLowerCase()
			if (!STATUS_LINE.test(head)) throw protocolError('the upstream did not answer in HTTP/1.1')
			this.status = Number(head.slice(9, 12))
			// 1xx answers (100 Continue, 103 Early Hints) come before the real one.
			if (this.status < 200) {
				this.received = this.received.subarray(end + 4)
				continue
			}
			const connection = headerValue(head, CONNECTION)
			this.keepAlive =
				head.charCodeAt(7) === 49 ? !connection?.includes('close') : !!connection?.includes('keep-alive')
			this.encoding = headerValue(head, CONTENT_ENCODING) ?? ''
			const length = headerValue(head, CONTENT_LENGTH)
			if (headerValue(head, TRANSFER_ENCODING)?.endsWith('chunked')) this.framing = 'chunked'
			else if (length !== undefined) {
				if (!/^\d+$/.test(length)) throw protocolError('the upstream sent an invalid Content-Length')
				this.framing = 'length'
				this.contentLength = Number(length)
			} else this.framing = this.status === 204 || this.status === 304 ? 'length' : 'close'
			this.bodyStart = end + 4
			return true
		}
	}
}

const CONNECTION = '\r\nconnection:'
const CONTENT_ENCODING = '\r\ncontent-encoding:'
const CONTENT_LENGTH = '\r\ncontent-length:'
const TRANSFER_ENCODING = '\r\ntransfer-encoding:'

/** A header's value in a lower-cased head that ends with a line break; the first, if repeated. */
function headerValue(head: string, line: string): string | undefined {
	const at = head.indexOf(line)
	if (at < 0) return undefined
	const start = at + line.length
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
	try {
		return inflated(body, encoding).toString('utf8')
	} catch {
		throw protocolError('the upstream sent a body that could not be decoded')
	}
}

function inflated(body: Buffer, encoding: string): Buffer {
	if (encoding === 'gzip' || encoding === 'x-gzip') return gunzipSync(body)
	if (encoding === 'deflate') return inflateSync(body)
	if (encoding === 'br') return brotliDecompressSync(body)
	throw new Error(`unsupported content-encoding ${encoding}`)
}

const protocolError = (message: string) => new UpstreamError('protocol', 0, message)

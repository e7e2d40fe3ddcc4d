/**
 * Thinking-block signatures that bind what Anthropic binds [A2, A5]: the model that wrote the block, the
 * conversation before the assistant turn that holds it, and the block's text. They carry an HMAC under a
 * key drawn once per process, so a test cannot forge one and every fake in the process can check one.
 */
import { blocksOf } from './cache'
import { canonicalJson, isRecord } from './wire'

export type SignedKind = 'thinking' | 'redacted'

export interface Signed {
	kind: SignedKind
	writer: string
	/** `conversationHashes(…)[i]` of the request that produced the block. */
	prefix: string
	/** `textHash` of the block's text as the API returned it. */
	text: string
}

const KEY = crypto.getRandomValues(new Uint8Array(32))

export function sign(block: Signed): string {
	const payload = [block.kind, block.writer, block.prefix, block.text].join('|')
	return Buffer.from(`${payload}|${mac(payload)}`).toString('base64')
}

/** The signed fields, or null when the value is not a signature of this process or was altered. */
export function verify(value: unknown, kind: SignedKind): Signed | null {
	if (typeof value !== 'string' || value === '') return null
	const fields = Buffer.from(value, 'base64').toString('utf8').split('|')
	if (fields.length !== 5) return null
	const [signedKind, writer, prefix, text, tag] = fields as [string, string, string, string, string]
	if (signedKind !== kind || tag !== mac(fields.slice(0, 4).join('|'))) return null
	return { kind, writer, prefix, text }
}

export function textHash(text: string): string {
	return Bun.hash.wyhash(text).toString(16)
}

/**
 * `hashes[i]` is the hash of the conversation before `messages[i]` (`hashes[messages.length]`: the whole
 * request): system, tools, then messages, with a string content equal to one text block, `cache_control`
 * ignored, and thinking blocks left out, since the API itself drops earlier turns' thinking.
 */
export function conversationHashes(body: Record<string, unknown>): string[] {
	let hash = Bun.hash.wyhash(canonicalJson([blocksOf(body.system), body.tools ?? []]))
	const hashes = [hash.toString(16)]
	const messages = Array.isArray(body.messages) ? body.messages : []
	for (const message of messages) {
		const role = isRecord(message) ? message.role : null
		const content = isRecord(message) ? blocksOf(message.content).filter((block) => !isThinking(block)) : []
		hash = Bun.hash.wyhash(canonicalJson({ role, content }), hash)
		hashes.push(hash.toString(16))
	}
	return hashes
}

export function isThinking(block: unknown): block is Record<string, unknown> {
	return isRecord(block) && (block.type === 'thinking' || block.type === 'redacted_thinking')
}

function mac(payload: string): string {
	return new Bun.CryptoHasher('sha256', KEY).update(payload).digest('hex').slice(0, 32)
}

const encoder = new TextEncoder()
const decoder = new TextDecoder()
const IV_BYTES = 12

export function randomBase64Url(bytes: number): string {
	return Buffer.from(crypto.getRandomValues(new Uint8Array(bytes))).toString('base64url')
}

/**
 * Every gateway request hashes its key: Bun's one-shot SHA-256 is several times cheaper than `node:crypto`'s
 * hasher (docs/performance.md, "What this session's changes did").
 */
export function sha256Hex(value: string): string {
	return Bun.SHA256.hash(value, 'hex')
}

export function importEncryptionKey(base64: string): Promise<CryptoKey> {
	return crypto.subtle.importKey('raw', Buffer.from(base64, 'base64'), 'AES-GCM', false, [
		'encrypt',
		'decrypt',
	])
}

/** AES-256-GCM with a fresh random IV per call; the result is IV ‖ ciphertext ‖ tag. */
export async function encryptSecret(key: CryptoKey, plaintext: string): Promise<Uint8Array> {
	const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES))
	const sealed = new Uint8Array(
		await crypto.subtle.encrypt({ name: 'AES-GCM', iv }, key, encoder.encode(plaintext)),
	)
	const out = new Uint8Array(IV_BYTES + sealed.length)
	out.set(iv)
	out.set(sealed, IV_BYTES)
	return out
}

export async function decryptSecret(key: CryptoKey, sealed: Uint8Array<ArrayBuffer>): Promise<string> {
	const iv = sealed.subarray(0, IV_BYTES)
	const plain = await crypto.subtle.decrypt({ name: 'AES-GCM', iv }, key, sealed.subarray(IV_BYTES))
	return decoder.decode(plain)
}

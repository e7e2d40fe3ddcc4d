import { join } from 'node:path'
import type { Config } from './config'
import { importEncryptionKey } from './lib/crypto'
import { fileExists, readText, writeFileAtomic } from './lib/files'

export interface Secrets {
	readonly jwtSecret: string
	readonly encryptionKey: CryptoKey
	/** Keys the request log's text digests; derived from the encryption key, so it is never stored. */
	readonly textDigestKey: Uint8Array
}

interface StoredSecrets {
	jwtSecret: string
	encryptionKey: string
}

const randomBase64 = (bytes: number) =>
	Buffer.from(crypto.getRandomValues(new Uint8Array(bytes))).toString('base64')

/** A separate key for another purpose, so no use of one key can reveal anything about another. */
const deriveKey = (base64Key: string, purpose: string) =>
	new Bun.CryptoHasher('sha256', Buffer.from(base64Key, 'base64')).update(purpose).digest() as Uint8Array

/**
 * Secrets from the environment, or in development the ones generated on first start and kept
 * (mode 0600) in the data folder, so sessions and stored provider keys survive restarts.
 */
export async function resolveSecrets(config: Config): Promise<Secrets> {
	let stored: StoredSecrets | undefined
	if (!config.jwtSecret || !config.encryptionKey) {
		const path = join(config.dataDir, 'secrets.json')
		if (fileExists(path)) {
			stored = JSON.parse(readText(path)) as StoredSecrets
		} else {
			stored = { jwtSecret: randomBase64(48), encryptionKey: randomBase64(32) }
			writeFileAtomic(path, `${JSON.stringify(stored, null, '\t')}\n`, 0o600)
			console.log(`Generated development secrets in ${path}`)
		}
	}
	const jwtSecret = config.jwtSecret ?? stored?.jwtSecret
	const encryptionKey = config.encryptionKey ?? stored?.encryptionKey
	if (!jwtSecret || !encryptionKey) throw new Error('secrets could not be resolved')
	return {
		jwtSecret,
		encryptionKey: await importEncryptionKey(encryptionKey),
		textDigestKey: deriveKey(encryptionKey, 'switchyard text digest v1'),
	}
}

import { describe, expect, it } from 'bun:test'
import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadConfig } from '../src/config'
import { decryptSecret, encryptSecret } from '../src/lib/crypto'
import { resolveSecrets } from '../src/secrets'

describe('resolveSecrets', () => {
	it('generates development secrets once, keeps them private, and reuses them', async () => {
		const dir = mkdtempSync(join(tmpdir(), 'switchyard-secrets-'))
		try {
			const config = loadConfig({ DATABASE_PATH: join(dir, 'data', 'switchyard.db') })
			const first = await resolveSecrets(config)
			const file = join(dir, 'data', 'secrets.json')
			expect(statSync(file).mode & 0o777).toBe(0o600)
			const second = await resolveSecrets(config)
			expect(second.jwtSecret).toBe(first.jwtSecret)
			const sealed = await encryptSecret(first.encryptionKey, 'sk-survives-restarts')
			expect(await decryptSecret(second.encryptionKey, new Uint8Array(sealed))).toBe('sk-survives-restarts')
		} finally {
			rmSync(dir, { recursive: true, force: true })
		}
	})

	it('uses the environment when both secrets are set, writing nothing', async () => {
		const dir = mkdtempSync(join(tmpdir(), 'switchyard-secrets-'))
		try {
			const config = loadConfig({
				DATABASE_PATH: join(dir, 'switchyard.db'),
				JWT_SECRET: 'j'.repeat(40),
				ENCRYPTION_KEY: Buffer.alloc(32, 3).toString('base64'),
			})
			expect((await resolveSecrets(config)).jwtSecret).toBe('j'.repeat(40))
			expect(() => statSync(join(dir, 'secrets.json'))).toThrow()
		} finally {
			rmSync(dir, { recursive: true, force: true })
		}
	})
})

describe('encryptSecret', () => {
	it('uses a fresh IV each time', async () => {
		const key = await crypto.subtle.importKey('raw', new Uint8Array(32), 'AES-GCM', false, [
			'encrypt',
			'decrypt',
		])
		const a = await encryptSecret(key, 'same text')
		const b = await encryptSecret(key, 'same text')
		expect(Buffer.from(a.subarray(0, 12)).equals(Buffer.from(b.subarray(0, 12)))).toBe(false)
		expect(Buffer.from(a).equals(Buffer.from(b))).toBe(false)
	})

	it('refuses a tampered ciphertext', async () => {
		const key = await crypto.subtle.importKey('raw', new Uint8Array(32), 'AES-GCM', false, [
			'encrypt',
			'decrypt',
		])
		const sealed = new Uint8Array(await encryptSecret(key, 'sk-secret'))
		sealed[sealed.length - 1] = (sealed[sealed.length - 1] ?? 0) ^ 1
		await expect(decryptSecret(key, sealed)).rejects.toThrow()
	})
})

import type { Database } from 'bun:sqlite'
import { describe, expect, it } from 'bun:test'
import { makeApp, SAME_ORIGIN, signupUser } from '../helpers/app'
import { sqliteStore } from '../helpers/stores'

interface CreatedKey {
	id: number
	name: string
	prefix: string
	rateLimitPerMinute: number | null
	key: string
}

async function createKey(
	t: Awaited<ReturnType<typeof makeApp>>,
	token: string,
	name = 'my app',
	rateLimitPerMinute?: number,
) {
	const res = await t.call('POST', '/api/keys', { token, body: { name, rateLimitPerMinute } })
	expect(res.status).toBe(201)
	return (await res.json()) as CreatedKey
}

describe('every user’s gateway keys, for an admin', () => {
	it('lists them with their owners, and lets an admin revoke any of them', async () => {
		await using t = await makeApp()
		const { token: admin } = await signupUser(t, 'admin@example.com')
		const { token: dev } = await signupUser(t, 'dev@example.com')
		const theirs = await createKey(t, dev, 'laptop')
		const all = (await (await t.call('GET', '/api/keys?scope=all', { token: admin })).json()) as {
			id: number
			ownerEmail: string
		}[]
		expect(all.map((key) => [key.id, key.ownerEmail])).toEqual([[theirs.id, 'dev@example.com']])
		expect((await t.call('DELETE', `/api/keys/${theirs.id}`, { token: admin })).status).toBe(404)
		expect((await t.call('DELETE', `/api/keys/${theirs.id}?scope=all`, { token: admin })).status).toBe(204)
		expect(await t.deps.gatewayKeys.authenticate(theirs.key)).toBeNull()
	})

	it('refuses a developer 403 for everyone’s keys', async () => {
		await using t = await makeApp()
		await signupUser(t, 'admin@example.com')
		const { token: dev } = await signupUser(t, 'dev@example.com')
		expect((await t.call('GET', '/api/keys?scope=all', { token: dev })).status).toBe(403)
		expect((await t.call('DELETE', '/api/keys/1?scope=all', { token: dev })).status).toBe(403)
	})

	it('shows an admin every key on the Keys page, with a revoke button for each', async () => {
		await using t = await makeApp()
		const { token: admin } = await signupUser(t, 'admin@example.com')
		const { token: dev } = await signupUser(t, 'dev@example.com')
		const theirs = await createKey(t, dev, 'laptop')
		const page = await (await t.call('GET', '/keys', { token: admin })).text()
		expect(page).toContain('<td data-label="Owner">dev@example.com</td>')
		expect(page).toContain(`hx-post="/keys/${theirs.id}/revoke?scope=all"`)
		const own = await (await t.call('GET', '/keys', { token: dev })).text()
		expect(own).not.toContain('Everyone&#39;s gateway keys')
		expect(own).not.toContain('data-label="Owner"')
	})
})

describe('gateway keys API', () => {
	it('creates a key shown once, with the sy_ prefix and 256 bits of randomness', async () => {
		await using t = await makeApp()
		const { token } = await signupUser(t, 'ada@example.com')
		const created = await createKey(t, token, 'billing')
		expect(created.name).toBe('billing')
		expect(created.key).toMatch(/^sy_[A-Za-z0-9_-]{43}$/)
		expect(created.prefix).toBe(created.key.slice(0, 11))
		const list = (await (await t.call('GET', '/api/keys', { token })).json()) as Record<string, unknown>[]
		expect(list).toEqual([
			{
				id: created.id,
				ownerEmail: 'ada@example.com',
				name: 'billing',
				prefix: created.prefix,
				rateLimitPerMinute: null,
				createdAt: expect.any(String),
				lastUsedAt: null,
				revokedAt: null,
			},
		])
		expect(JSON.stringify(list)).not.toContain(created.key)
	})

	it('stores only the SHA-256 of the key', async () => {
		await using t = await makeApp()
		const { token } = await signupUser(t, 'ada@example.com')
		const created = await createKey(t, token)
		const [row] = await t.deps.store.db.select().from(t.deps.store.tables.gatewayKeys)
		expect(row?.keyHash).toBe(new Bun.CryptoHasher('sha256').update(created.key).digest('hex'))
	})

	it('refuses a second live key with the same name, and allows it once the first is revoked', async () => {
		await using t = await makeApp()
		const { token } = await signupUser(t, 'ada@example.com')
		const first = await createKey(t, token, 'ci')
		const again = await t.call('POST', '/api/keys', { token, body: { name: ' ci ' } })
		expect(again.status).toBe(409)
		expect(await again.json()).toEqual({
			error: {
				message: 'You already have a key named "ci"',
				type: 'invalid_request_error',
				param: 'name',
				code: 'key_name_taken',
			},
		})
		await t.call('DELETE', `/api/keys/${first.id}`, { token })
		await createKey(t, token, 'ci')
	})

	it('takes a revoked key’s show-once banner away with it', async () => {
		await using t = await makeApp()
		const { cookie } = await signupUser(t, 'ada@example.com')
		const htmx = { ...SAME_ORIGIN, 'hx-request': 'true', 'content-type': 'application/x-www-form-urlencoded' }
		const made = await t.call('POST', '/keys', { cookie, headers: htmx, body: 'name=ci' })
		expect(await made.text()).toContain('id="new-key-value"')
		const [key] = await t.deps.gatewayKeys.list(null)
		const revoked = await t.call('POST', `/keys/${key?.id}/revoke`, { cookie, headers: htmx })
		const section = await revoked.text()
		expect(section).toStartWith('<section id="gateway-keys"')
		expect(section).not.toContain('id="new-key-value"')
		expect(section).toContain('class="revoked"')
	})

	it('gives two keys different values', async () => {
		await using t = await makeApp()
		const { token } = await signupUser(t, 'ada@example.com')
		const [a, b] = [await createKey(t, token, 'one'), await createKey(t, token, 'two')]
		expect(a.key).not.toBe(b.key)
	})

	it.each([
		[{ name: '   ' }, 'name'],
		[{ name: 'x'.repeat(101) }, 'name'],
		[{}, 'name'],
	])('answers 400 for %j', async (body, param) => {
		await using t = await makeApp()
		const { token } = await signupUser(t, 'ada@example.com')
		const res = await t.call('POST', '/api/keys', { token, body })
		expect(res.status).toBe(400)
		expect(((await res.json()) as { error: { param: string } }).error.param).toBe(param)
	})

	it('revokes a key at once: the next lookup refuses it', async () => {
		await using t = await makeApp()
		const { token } = await signupUser(t, 'ada@example.com')
		const created = await createKey(t, token)
		expect(await t.deps.gatewayKeys.authenticate(created.key)).toMatchObject({ keyId: created.id, userId: 1 })
		const before = Date.now()
		const res = await t.call('DELETE', `/api/keys/${created.id}`, { token })
		const after = Date.now()
		expect(res.status).toBe(204)
		expect(await t.deps.gatewayKeys.authenticate(created.key)).toBeNull()
		const [listed] = (await (await t.call('GET', '/api/keys', { token })).json()) as { revokedAt: string }[]
		expect(Date.parse(listed?.revokedAt ?? '')).toBeWithin(before, after + 1)
	})

	it('answers 404 for an unknown key id and 400 for one that is not a number', async () => {
		await using t = await makeApp()
		const { token } = await signupUser(t, 'ada@example.com')
		expect((await t.call('DELETE', '/api/keys/999', { token })).status).toBe(404)
		expect((await t.call('DELETE', '/api/keys/abc', { token })).status).toBe(400)
	})

	it("answers 404 to user B revoking user A's key, and lists only one's own keys", async () => {
		await using t = await makeApp()
		const a = await signupUser(t, 'a@example.com')
		const b = await signupUser(t, 'b@example.com')
		const created = await createKey(t, a.token)
		expect((await t.call('DELETE', `/api/keys/${created.id}`, { token: b.token })).status).toBe(404)
		expect(await (await t.call('GET', '/api/keys', { token: b.token })).json()).toEqual([])
		expect(await t.deps.gatewayKeys.authenticate(created.key)).not.toBeNull()
	})

	it('answers 401 without a session', async () => {
		await using t = await makeApp()
		expect((await t.call('GET', '/api/keys')).status).toBe(401)
		expect((await t.call('POST', '/api/keys', { body: { name: 'x' } })).status).toBe(401)
		expect((await t.call('DELETE', '/api/keys/1')).status).toBe(401)
	})

	it('looks a key up with one query on the key-hash index (SQLite)', async () => {
		await using test = sqliteStore()
		const plan = (test.store.sqlite as Database)
			.query(
				'EXPLAIN QUERY PLAN SELECT k.id FROM gateway_keys k JOIN users u ON u.id = k.user_id WHERE k.key_hash = ? AND k.revoked_at IS NULL',
			)
			.all('x') as { detail: string }[]
		expect(plan.map((step) => step.detail)).toEqual([
			'SEARCH k USING INDEX gateway_keys_key_hash_idx (key_hash=?)',
			'SEARCH u USING INTEGER PRIMARY KEY (rowid=?)',
		])
	})

	it('refuses keys without the prefix or unknown keys', async () => {
		await using t = await makeApp()
		expect(await t.deps.gatewayKeys.authenticate('sk-something')).toBeNull()
		expect(await t.deps.gatewayKeys.authenticate('sy_unknown')).toBeNull()
	})

	it('keeps last use in memory and writes it at most once a minute', async () => {
		await using t = await makeApp()
		const { token } = await signupUser(t, 'ada@example.com')
		const created = await createKey(t, token)
		const readStored = async () =>
			(await t.deps.store.db.select().from(t.deps.store.tables.gatewayKeys))[0]?.lastUsedAt?.getTime() ?? null
		await t.deps.gatewayKeys.authenticate(created.key, 1_000_000)
		expect(await readStored()).toBeNull()
		const [listed] = (await (await t.call('GET', '/api/keys', { token })).json()) as { lastUsedAt: string }[]
		expect(listed?.lastUsedAt).toBe(new Date(1_000_000).toISOString())
		await t.deps.gatewayKeys.flushLastUsed()
		expect(await readStored()).toBe(1_000_000)
		await t.deps.gatewayKeys.authenticate(created.key, 1_030_000)
		await t.deps.gatewayKeys.flushLastUsed()
		expect(await readStored()).toBe(1_000_000)
		await t.deps.gatewayKeys.flushLastUsed(true)
		expect(await readStored()).toBe(1_030_000)
	})
})

describe('provider keys API', () => {
	it('saves a user key, lists only its last four characters, replaces and removes it', async () => {
		await using t = await makeApp()
		const { token } = await signupUser(t, 'ada@example.com')
		const save = await t.call('PUT', '/api/provider-keys/openai', {
			token,
			body: { apiKey: 'sk-first-key-1111', verify: false },
		})
		expect(save.status).toBe(200)
		expect(await save.json()).toEqual({ provider: 'openai', scope: 'user', last4: '1111', checked: false })
		await t.call('PUT', '/api/provider-keys/openai', {
			token,
			body: { apiKey: 'sk-second-key-2222', verify: false },
		})
		const list = (await (await t.call('GET', '/api/provider-keys', { token })).json()) as unknown[]
		expect(list).toEqual([
			{
				provider: 'openai',
				scope: 'user',
				last4: '2222',
				createdAt: expect.any(String),
				source: 'dashboard',
			},
		])
		expect(JSON.stringify(list)).not.toContain('sk-second')
		expect((await t.call('DELETE', '/api/provider-keys/openai', { token })).status).toBe(204)
		expect(await (await t.call('GET', '/api/provider-keys', { token })).json()).toEqual([])
	})

	it('answers 404 for a provider the catalog does not know', async () => {
		await using t = await makeApp()
		const { token } = await signupUser(t, 'ada@example.com')
		expect((await t.call('PUT', '/api/provider-keys/nope', { token, body: { apiKey: 'k' } })).status).toBe(
			404,
		)
		expect((await t.call('DELETE', '/api/provider-keys/nope', { token })).status).toBe(404)
	})

	it.each([
		[{ apiKey: '' }, 'apiKey'],
		[{ apiKey: 'has spaces inside' }, 'apiKey'],
		[{}, 'apiKey'],
		[{ apiKey: 'sk-ok', scope: 'team' }, 'scope'],
	])('answers 400 for %j', async (body, param) => {
		await using t = await makeApp()
		const { token } = await signupUser(t, 'ada@example.com')
		const res = await t.call('PUT', '/api/provider-keys/openai', { token, body })
		expect(res.status).toBe(400)
		expect(((await res.json()) as { error: { param: string } }).error.param).toBe(param)
	})

	it('lets an admin set organisation keys and refuses developers with 403', async () => {
		await using t = await makeApp()
		const admin = await signupUser(t, 'admin@example.com')
		const dev = await signupUser(t, 'dev@example.com')
		const orgKey = { apiKey: 'sk-ant-org-9999', scope: 'org', verify: false }
		expect(
			(await t.call('PUT', '/api/provider-keys/anthropic', { token: dev.token, body: orgKey })).status,
		).toBe(403)
		expect(
			(await t.call('DELETE', '/api/provider-keys/anthropic?scope=org', { token: dev.token })).status,
		).toBe(403)
		expect(
			(await t.call('PUT', '/api/provider-keys/anthropic', { token: admin.token, body: orgKey })).status,
		).toBe(200)
		const devView = (await (
			await t.call('GET', '/api/provider-keys', { token: dev.token })
		).json()) as unknown[]
		expect(devView).toEqual([
			{
				provider: 'anthropic',
				scope: 'org',
				last4: '9999',
				createdAt: expect.any(String),
				source: 'dashboard',
			},
		])
		expect(
			(await t.call('DELETE', '/api/provider-keys/anthropic?scope=org', { token: admin.token })).status,
		).toBe(204)
		expect(await (await t.call('GET', '/api/provider-keys', { token: dev.token })).json()).toEqual([])
	})

	it("keeps one user's keys away from another", async () => {
		await using t = await makeApp()
		const a = await signupUser(t, 'a@example.com')
		const b = await signupUser(t, 'b@example.com')
		await t.call('PUT', '/api/provider-keys/openai', {
			token: a.token,
			body: { apiKey: 'sk-a-key-aaaa', verify: false },
		})
		expect(await (await t.call('GET', '/api/provider-keys', { token: b.token })).json()).toEqual([])
		expect((await t.call('DELETE', '/api/provider-keys/openai', { token: b.token })).status).toBe(204)
		expect(await t.deps.providerKeys.resolve(a.user.id, 'openai')).toEqual({
			apiKey: 'sk-a-key-aaaa',
			scope: 'user',
			source: 'user',
		})
		expect(await t.deps.providerKeys.resolve(b.user.id, 'openai')).toBeNull()
	})

	it("resolves the caller's own key first, then the organisation's, then the environment's", async () => {
		await using t = await makeApp({ OPENAI_API_KEY: 'sk-from-env-0000' })
		const admin = await signupUser(t, 'admin@example.com')
		const dev = await signupUser(t, 'dev@example.com')
		expect(await t.deps.providerKeys.resolve(dev.user.id, 'openai')).toEqual({
			apiKey: 'sk-from-env-0000',
			scope: 'org',
			source: 'env',
		})
		await t.call('PUT', '/api/provider-keys/openai', {
			token: admin.token,
			body: { apiKey: 'sk-org-saved-1111', scope: 'org', verify: false },
		})
		expect(await t.deps.providerKeys.resolve(dev.user.id, 'openai')).toEqual({
			apiKey: 'sk-org-saved-1111',
			scope: 'org',
			source: 'org',
		})
		await t.call('PUT', '/api/provider-keys/openai', {
			token: dev.token,
			body: { apiKey: 'sk-dev-own-2222', verify: false },
		})
		expect(await t.deps.providerKeys.resolve(dev.user.id, 'openai')).toEqual({
			apiKey: 'sk-dev-own-2222',
			scope: 'user',
			source: 'user',
		})
		expect(await t.deps.providerKeys.resolve(admin.user.id, 'openai')).toEqual({
			apiKey: 'sk-org-saved-1111',
			scope: 'org',
			source: 'org',
		})
	})

	it('shows environment organisation keys by their last four characters', async () => {
		await using t = await makeApp({ ANTHROPIC_API_KEY: 'sk-ant-env-4321' })
		const { token } = await signupUser(t, 'ada@example.com')
		expect(await (await t.call('GET', '/api/provider-keys', { token })).json()).toEqual([
			{ provider: 'anthropic', scope: 'org', last4: '4321', createdAt: null, source: 'env' },
		])
	})
})

describe('secrets at rest', () => {
	it('never writes a gateway key or provider key in clear to the database file or its WAL', async () => {
		// The file is SQLite's; on PostgreSQL the same code stores the same hash and ciphertext.
		await using t = await makeApp({}, { backend: 'sqlite' })
		const { token } = await signupUser(t, 'ada@example.com')
		const created = await createKey(t, token)
		const providerKey = 'sk-proj-THIS-MUST-NOT-LEAK-1234567890'
		await t.call('PUT', '/api/provider-keys/openai', { token, body: { apiKey: providerKey, verify: false } })
		const files = [`${t.deps.config.databasePath}`, `${t.deps.config.databasePath}-wal`]
		const bytes = await Promise.all(files.map((file) => Bun.file(file).arrayBuffer()))
		expect(bytes[1]?.byteLength).toBeGreaterThan(0)
		for (const content of bytes) {
			const text = Buffer.from(content).toString('latin1')
			expect(text).not.toContain(created.key)
			expect(text).not.toContain(created.key.slice(11))
			expect(text).not.toContain(providerKey)
			expect(text).not.toContain('THIS-MUST-NOT-LEAK')
		}
	})
})

describe('gateway key limits', () => {
	it('stores an optional requests-per-minute limit and refuses a bad one', async () => {
		await using t = await makeApp()
		const { token } = await signupUser(t, 'ada@example.com')
		expect((await createKey(t, token, 'limited', 60)).rateLimitPerMinute).toBe(60)
		const [listed] = (await (await t.call('GET', '/api/keys', { token })).json()) as {
			rateLimitPerMinute: number
		}[]
		expect(listed?.rateLimitPerMinute).toBe(60)
		for (const rateLimitPerMinute of [0, 1.5, -1, 'many']) {
			const bad = await t.call('POST', '/api/keys', { token, body: { name: 'x', rateLimitPerMinute } })
			expect(bad.status).toBe(400)
		}
	})
})

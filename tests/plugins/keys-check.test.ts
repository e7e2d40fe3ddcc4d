import { describe, expect, it, spyOn } from 'bun:test'
import { join } from 'node:path'
import { eq } from 'drizzle-orm'
import { makeApp, SAME_ORIGIN, type SignedUp, signupUser, type TestApp } from '../helpers/app'
import { type FakeUpstream, startFakeUpstream } from '../helpers/fake-upstream'

const GOOD_OPENAI = 'sk-openai-good-key-1234'
const GOOD_ANTHROPIC = 'sk-ant-good-key-5678'
const WRONG_OPENAI = 'sk-proj-wrong-key-0000-9999'

const LOCAL_CATALOG = join(import.meta.dir, '..', '..', 'examples', 'catalog.local.json')

interface Checked extends AsyncDisposable {
	t: TestApp
	upstream: FakeUpstream
}

/** The app with OpenAI and Anthropic at a fake upstream that takes only the GOOD keys. */
async function checkedApp(env: Record<string, string> = {}): Promise<Checked> {
	const upstream = await startFakeUpstream({ keys: { openai: [GOOD_OPENAI], anthropic: [GOOD_ANTHROPIC] } })
	const t = await makeApp({
		OPENAI_BASE_URL: upstream.openaiBaseUrl,
		ANTHROPIC_BASE_URL: upstream.anthropicBaseUrl,
		...env,
	})
	return {
		t,
		upstream,
		async [Symbol.asyncDispose]() {
			await t.close()
			await upstream.stop()
		},
	}
}

/** A base URL where nothing listens any more. */
async function closedBaseUrl(): Promise<string> {
	const server = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: () => new Response() })
	const url = `${server.url}v1`
	await server.stop(true)
	return url
}

const saveKey = (t: TestApp, token: string, provider: string, body: Record<string, unknown>) =>
	t.call('PUT', `/api/provider-keys/${provider}`, { token, body })

async function inUse(t: TestApp, token: string, provider = 'openai') {
	const res = await t.call('GET', '/api/provider-keys/in-use', { token })
	expect(res.status).toBe(200)
	const all = (await res.json()) as Record<string, unknown>[]
	return all.find((entry) => entry.provider === provider)
}

const HTMX_FORM = {
	...SAME_ORIGIN,
	'hx-request': 'true',
	'content-type': 'application/x-www-form-urlencoded',
}
const PLAIN_FORM = { ...SAME_ORIGIN, 'content-type': 'application/x-www-form-urlencoded' }

const postForm = (
	t: TestApp,
	who: SignedUp,
	fields: Record<string, string>,
	headers: Record<string, string> = HTMX_FORM,
) =>
	t.call('POST', '/provider-keys/openai', {
		cookie: who.cookie,
		headers,
		body: new URLSearchParams(fields).toString(),
	})

describe('saving a provider key checks it with the provider', () => {
	it('saves a key the provider takes, after one GET of its model list with that key', async () => {
		await using c = await checkedApp()
		const { token, user } = await signupUser(c.t, 'ada@example.com')
		const res = await saveKey(c.t, token, 'openai', { apiKey: GOOD_OPENAI })
		expect(res.status).toBe(200)
		expect(await res.json()).toEqual({ provider: 'openai', scope: 'user', last4: '1234', checked: true })
		expect(
			c.upstream.requests.map(({ method, path, headers }) => [method, path, headers.authorization]),
		).toEqual([['GET', '/v1/models', `Bearer ${GOOD_OPENAI}`]])
		expect(await c.t.deps.providerKeys.resolve(user.id, 'openai')).toEqual({
			apiKey: GOOD_OPENAI,
			scope: 'user',
			source: 'user',
		})
	})

	it('checks an Anthropic key with the version header the gateway sends', async () => {
		await using c = await checkedApp()
		const { token } = await signupUser(c.t, 'ada@example.com')
		expect((await saveKey(c.t, token, 'anthropic', { apiKey: GOOD_ANTHROPIC })).status).toBe(200)
		const [sent] = c.upstream.requests
		expect([sent?.method, sent?.path, sent?.headers['anthropic-version']]).toEqual([
			'GET',
			'/v1/models',
			'2026-10-21',
		])
	})

	it('refuses 400 a key the provider rejects, in its words, and saves nothing', async () => {
		await using c = await checkedApp()
		const { token } = await signupUser(c.t, 'ada@example.com')
		const res = await saveKey(c.t, token, 'openai', { apiKey: WRONG_OPENAI })
		expect(res.status).toBe(400)
		const text = await res.text()
		expect(JSON.parse(text)).toEqual({
			error: {
				message:
					'OpenAI refused this key: Incorrect API key provided: [redacted]. You can find your API key at https://platform.openai.com/account/api-keys.',
				type: 'invalid_request_error',
				param: 'apiKey',
				code: 'provider_key_rejected',
			},
		})
		expect(text).not.toContain(WRONG_OPENAI)
		expect(text).not.toContain('wrong-key')
		expect(await (await c.t.call('GET', '/api/provider-keys', { token })).json()).toEqual([])
	})

	it("refuses an Anthropic key Anthropic rejects, with Anthropic's message", async () => {
		await using c = await checkedApp()
		const { token } = await signupUser(c.t, 'ada@example.com')
		const res = await saveKey(c.t, token, 'anthropic', { apiKey: 'sk-ant-not-this-one-1111' })
		expect(res.status).toBe(400)
		expect(((await res.json()) as { error: { message: string } }).error.message).toBe(
			'Anthropic refused this key: invalid x-api-key',
		)
	})

	it('refuses 400 when the provider cannot be reached, and saves nothing', async () => {
		await using t = await makeApp({ OPENAI_BASE_URL: await closedBaseUrl() })
		const { token } = await signupUser(t, 'ada@example.com')
		const res = await saveKey(t, token, 'openai', { apiKey: GOOD_OPENAI })
		expect(res.status).toBe(400)
		expect(await res.json()).toEqual({
			error: {
				message:
					'Could not reach OpenAI to check the key: the connection was refused. Save it without checking to keep it anyway.',
				type: 'invalid_request_error',
				param: 'apiKey',
				code: 'provider_unreachable',
			},
		})
		expect(await (await t.call('GET', '/api/provider-keys', { token })).json()).toEqual([])
	})

	it('gives up after the time to first byte when that is shorter than five seconds', async () => {
		using silent = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: () => new Promise<Response>(() => {}) })
		await using t = await makeApp({ OPENAI_BASE_URL: `${silent.url}v1`, UPSTREAM_TIMEOUT_MS: '200' })
		const { token } = await signupUser(t, 'ada@example.com')
		const res = await saveKey(t, token, 'openai', { apiKey: GOOD_OPENAI })
		expect(res.status).toBe(400)
		expect(((await res.json()) as { error: { message: string } }).error.message).toBe(
			'Could not reach OpenAI to check the key: no answer within 200 ms. Save it without checking to keep it anyway.',
		)
	})

	it('counts a provider error (5xx) as unreachable', async () => {
		using failing = Bun.serve({
			port: 0,
			hostname: '127.0.0.1',
			fetch: () => Response.json({ error: { message: 'The server is overloaded' } }, { status: 503 }),
		})
		await using t = await makeApp({ OPENAI_BASE_URL: `${failing.url}v1` })
		const { token } = await signupUser(t, 'ada@example.com')
		const res = await saveKey(t, token, 'openai', { apiKey: GOOD_OPENAI })
		expect(await res.json()).toEqual({
			error: {
				message:
					'Could not reach OpenAI to check the key: it answered HTTP 503: The server is overloaded. Save it without checking to keep it anyway.',
				type: 'invalid_request_error',
				param: 'apiKey',
				code: 'provider_unreachable',
			},
		})
	})

	it('saves without checking with verify: false, offline or deliberately, and never calls the provider', async () => {
		await using offline = await makeApp({ OPENAI_BASE_URL: await closedBaseUrl() })
		const ada = await signupUser(offline, 'ada@example.com')
		const saved = await saveKey(offline, ada.token, 'openai', { apiKey: GOOD_OPENAI, verify: false })
		expect(await saved.json()).toEqual({ provider: 'openai', scope: 'user', last4: '1234', checked: false })

		await using c = await checkedApp()
		const bob = await signupUser(c.t, 'bob@example.com')
		const deliberate = await saveKey(c.t, bob.token, 'openai', { apiKey: WRONG_OPENAI, verify: false })
		expect(deliberate.status).toBe(200)
		expect(c.upstream.requests).toEqual([])
		expect(await c.t.deps.providerKeys.resolve(bob.user.id, 'openai')).toMatchObject({ apiKey: WRONG_OPENAI })
	})

	it('answers 400 for a verify that is not a boolean', async () => {
		await using c = await checkedApp()
		const { token } = await signupUser(c.t, 'ada@example.com')
		const res = await saveKey(c.t, token, 'openai', { apiKey: GOOD_OPENAI, verify: 'no' })
		expect(res.status).toBe(400)
		expect(((await res.json()) as { error: { param: string } }).error.param).toBe('verify')
	})

	it('refuses what the caller got wrong before asking the provider anything', async () => {
		await using c = await checkedApp()
		await signupUser(c.t, 'admin@example.com')
		const dev = await signupUser(c.t, 'dev@example.com')
		expect((await saveKey(c.t, dev.token, 'openai', { apiKey: GOOD_OPENAI, scope: 'org' })).status).toBe(403)
		expect((await saveKey(c.t, dev.token, 'openai', { apiKey: 'two words' })).status).toBe(400)
		expect((await saveKey(c.t, dev.token, 'nope', { apiKey: GOOD_OPENAI })).status).toBe(404)
		expect(c.upstream.requests).toEqual([])
	})
})

describe('which key requests use, and why', () => {
	it('says there is no key when there is none', async () => {
		await using t = await makeApp()
		const { token } = await signupUser(t, 'ada@example.com')
		expect(await inUse(t, token)).toEqual({
			provider: 'openai',
			source: 'none',
			last4: null,
			envVar: null,
			shadows: null,
			check: null,
			unreadable: false,
		})
	})

	it('names the environment variable an organisation key comes from', async () => {
		await using t = await makeApp({ OPENAI_API_KEY: 'sk-from-env-wxyz' })
		const { token } = await signupUser(t, 'ada@example.com')
		expect(await inUse(t, token)).toEqual({
			provider: 'openai',
			source: 'env',
			last4: 'wxyz',
			envVar: 'OPENAI_API_KEY',
			shadows: null,
			check: null,
			unreadable: false,
		})
	})

	it('shows a developer the organisation key an admin saved, then their own key in front of it', async () => {
		await using c = await checkedApp({ OPENAI_API_KEY: 'sk-from-env-wxyz' })
		const admin = await signupUser(c.t, 'admin@example.com')
		const dev = await signupUser(c.t, 'dev@example.com')
		const before = new Date()
		await saveKey(c.t, admin.token, 'openai', { apiKey: GOOD_OPENAI, scope: 'org' })
		const org = await inUse(c.t, dev.token)
		expect(org).toEqual({
			provider: 'openai',
			source: 'org',
			last4: '1234',
			envVar: null,
			shadows: null,
			check: { checked: true, at: expect.any(String) },
			unreadable: false,
		})
		const { at } = (org?.check ?? {}) as { at?: string }
		expect(Date.parse(at ?? '')).toBeGreaterThanOrEqual(before.getTime() - 1)
		await saveKey(c.t, dev.token, 'openai', { apiKey: WRONG_OPENAI, verify: false })
		expect(await inUse(c.t, dev.token)).toEqual({
			provider: 'openai',
			source: 'user',
			last4: '9999',
			envVar: null,
			shadows: { source: 'org', last4: '1234', envVar: null },
			check: { checked: false, at: expect.any(String) },
			unreadable: false,
		})
		expect(await inUse(c.t, admin.token)).toMatchObject({ source: 'org', last4: '1234' })
	})

	it('says which environment key an own key shadows', async () => {
		await using t = await makeApp({ OPENAI_API_KEY: 'sk-from-env-wxyz' })
		const { token } = await signupUser(t, 'ada@example.com')
		await saveKey(t, token, 'openai', { apiKey: 'sk-own-key-abcd', verify: false })
		expect(await inUse(t, token)).toMatchObject({
			source: 'user',
			last4: 'abcd',
			shadows: { source: 'env', last4: 'wxyz', envVar: 'OPENAI_API_KEY' },
		})
	})

	it('says a keyless local server needs no key', async () => {
		await using t = await makeApp({ CATALOG_PATH: LOCAL_CATALOG })
		const { token } = await signupUser(t, 'ada@example.com')
		expect(await inUse(t, token, 'ollama')).toEqual({
			provider: 'ollama',
			source: 'keyless',
			last4: null,
			envVar: null,
			shadows: null,
			check: null,
			unreadable: false,
		})
	})

	it('passes over a saved key that cannot be decrypted, and says so', async () => {
		await using t = await makeApp({ OPENAI_API_KEY: 'sk-from-env-wxyz' })
		const admin = await signupUser(t, 'admin@example.com')
		await saveKey(t, admin.token, 'openai', { apiKey: 'sk-org-saved-1111', scope: 'org', verify: false })
		await saveKey(t, admin.token, 'openai', { apiKey: 'sk-own-key-abcd', verify: false })
		const { db, tables } = t.deps.store
		await db
			.update(tables.providerKeys)
			.set({ secret: Buffer.from([0]) })
			.where(eq(tables.providerKeys.scope, 'user'))
		const warn = spyOn(console, 'warn').mockImplementation(() => {})
		try {
			expect(await inUse(t, admin.token)).toMatchObject({ source: 'org', last4: '1111', unreadable: true })
			expect(warn.mock.calls.flat().join('\n')).toContain('cannot be decrypted')
		} finally {
			warn.mockRestore()
		}
	})

	it('puts each explanation on the Keys page, escaped', async () => {
		await using c = await checkedApp({ ANTHROPIC_API_KEY: 'sk-ant-from-env-wxyz' })
		const admin = await signupUser(c.t, 'admin@example.com')
		const dev = await signupUser(c.t, 'dev@example.com')
		await saveKey(c.t, admin.token, 'openai', { apiKey: GOOD_OPENAI, scope: 'org' })
		await saveKey(c.t, dev.token, 'openai', { apiKey: 'sk-dev-own-<b>x', verify: false })
		const page = await (await c.t.call('GET', '/keys', { token: dev.token })).text()
		const row = (id: string) =>
			page.slice(
				page.indexOf(`id="provider-${id}"`),
				page.indexOf('</tr>', page.indexOf(`id="provider-${id}"`)),
			)
		expect(row('openai')).toContain('Your key …&lt;b&gt;x (yours shadows the organisation&#x27;s …1234)')
		expect(row('openai')).toContain('Saved without checking (')
		expect(row('openai')).toContain('requests fail instead of using the organisation&#x27;s key')
		expect(row('anthropic')).toContain('Organisation key …wxyz from ANTHROPIC_API_KEY (environment)')
		expect(row('groq')).toContain('No key: requests to this provider fail')
		const adminPage = await (await c.t.call('GET', '/keys', { token: admin.token })).text()
		expect(adminPage).toContain('Organisation key …1234 (saved by an admin)')
		expect(adminPage).toContain('Checked with the provider when saved, ')
	})
})

describe('the provider-key form', () => {
	it('shows a refusal inline (422), offers to save without checking, and saves nothing', async () => {
		await using c = await checkedApp()
		const ada = await signupUser(c.t, 'ada@example.com')
		const res = await postForm(c.t, ada, { apiKey: WRONG_OPENAI, scope: 'user' })
		expect(res.status).toBe(422)
		const section = await res.text()
		expect(section).toStartWith('<section id="provider-keys"')
		expect(section).toContain(
			'OpenAI refused this key: Incorrect API key provided: [redacted]. You can find your API key at https://platform.openai.com/account/api-keys.',
		)
		expect(section.match(/name="verify"/g)).toHaveLength(1)
		const openaiRow = section.slice(
			section.indexOf('id="provider-openai"'),
			section.indexOf('</tr>', section.indexOf('id="provider-openai"')),
		)
		expect(openaiRow).toContain('<input type="checkbox" name="verify" value="false"/>')
		expect(section).not.toContain(WRONG_OPENAI)
		expect(await c.t.deps.providerKeys.list(ada.user)).toEqual([])
	})

	it('saves the refused key when "Save without checking" is ticked', async () => {
		await using c = await checkedApp()
		const ada = await signupUser(c.t, 'ada@example.com')
		const res = await postForm(c.t, ada, { apiKey: WRONG_OPENAI, scope: 'user', verify: 'false' })
		expect(res.status).toBe(200)
		const section = await res.text()
		expect(section).toContain('Your key …9999')
		expect(section).toContain('Saved without checking, ')
		expect(section).not.toContain('name="verify"')
		expect(c.upstream.requests).toEqual([])
	})

	it('says the provider could not be reached, on a full page without htmx too', async () => {
		await using t = await makeApp({ OPENAI_BASE_URL: await closedBaseUrl() })
		const ada = await signupUser(t, 'ada@example.com')
		const res = await postForm(t, ada, { apiKey: GOOD_OPENAI, scope: 'user' }, PLAIN_FORM)
		expect(res.status).toBe(422)
		const page = await res.text()
		expect(page).toStartWith('<!doctype html>')
		expect(page).toContain('Could not reach OpenAI to check the key: the connection was refused.')
		expect(page).toContain('name="verify"')
		expect(page).not.toContain(GOOD_OPENAI)
	})

	it('saves a good key and shows it in use', async () => {
		await using c = await checkedApp()
		const ada = await signupUser(c.t, 'ada@example.com')
		const res = await postForm(c.t, ada, { apiKey: GOOD_OPENAI, scope: 'user' })
		expect(res.status).toBe(200)
		const section = await res.text()
		expect(section).toContain('Your key …1234')
		expect(section).toContain('Checked with the provider when saved, ')
		expect(section).not.toContain(GOOD_OPENAI)
	})

	it('does not offer to skip the check for a mistake the check has nothing to do with', async () => {
		await using c = await checkedApp()
		const ada = await signupUser(c.t, 'ada@example.com')
		const res = await postForm(c.t, ada, { apiKey: 'two words', scope: 'user' })
		expect(res.status).toBe(422)
		const section = await res.text()
		expect(section).toContain('That does not look like an API key')
		expect(section).not.toContain('name="verify"')
	})
})

describe('a provider key in answers', () => {
	it('never appears in any answer, even when the provider repeats it whole', async () => {
		const key = 'plain-provider-secret-4242'
		using echoing = Bun.serve({
			port: 0,
			hostname: '127.0.0.1',
			fetch: (request) =>
				Response.json(
					{ error: { message: `no such key: ${request.headers.get('authorization')}` } },
					{ status: 401 },
				),
		})
		await using t = await makeApp({ OPENAI_BASE_URL: `${echoing.url}v1` })
		const ada = await signupUser(t, 'ada@example.com')
		const answers = [
			await saveKey(t, ada.token, 'openai', { apiKey: key }),
			await postForm(t, ada, { apiKey: key, scope: 'user' }),
			await postForm(t, ada, { apiKey: key, scope: 'user' }, PLAIN_FORM),
			await saveKey(t, ada.token, 'openai', { apiKey: key, verify: false }),
			await t.call('GET', '/api/provider-keys', { token: ada.token }),
			await t.call('GET', '/api/provider-keys/in-use', { token: ada.token }),
			await t.call('GET', '/keys', { token: ada.token }),
		]
		const texts = await Promise.all(answers.map((answer) => answer.text()))
		expect(texts[0]).toContain('OpenAI refused this key: no such key: Bearer [redacted]')
		for (const text of texts) {
			expect(text).not.toContain(key)
			expect(text).not.toContain('provider-secret')
		}
	})
})

import { describe, expect, it } from 'bun:test'
import { makeApp, SAME_ORIGIN, type SignedUp, signupUser, type TestApp } from '../helpers/app'
import { type FakeUpstream, startFakeUpstream } from '../helpers/fake-upstream'

const GOOD_OPENAI = 'sk-openai-good-key-1234'
const GOOD_ANTHROPIC = 'sk-ant-good-key-5678'
const WRONG_OPENAI = 'sk-proj-wrong-key-0000-9999'

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
		expect(c.t.deps.providerKeys.list(ada.user)).toEqual([])
	})

	it('saves the refused key when "Save without checking" is ticked', async () => {
		await using c = await checkedApp()
		const ada = await signupUser(c.t, 'ada@example.com')
		const res = await postForm(c.t, ada, { apiKey: WRONG_OPENAI, scope: 'user', verify: 'false' })
		expect(res.status).toBe(200)
		const section = await res.text()
		expect(section).toContain('<code>…9999</code>')
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
		expect(section).toContain('<code>…1234</code>')
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

import { describe, expect, it } from 'bun:test'
import { KEY_CHECK_CODES, ProviderKeyChecker, refusal } from '../../src/keys/key-check'
import type { CatalogProvider } from '../../src/providers/catalog'
import { startFakeUpstream } from '../helpers/fake-upstream'

const checker = new ProviderKeyChecker()

/** A provider of `kind` at `baseUrl`, as the catalog describes one. */
const providerAt = (
	baseUrl: string,
	kind: CatalogProvider['kind'] = 'openai',
	name = 'OpenAI',
): CatalogProvider => ({
	id: name.toLowerCase(),
	name,
	kind,
	baseUrl,
	keyEnv: `${name.toUpperCase()}_API_KEY`,
})

/** A one-route upstream answering every request with `answer`. */
const serveAnswer = (answer: (request: Request) => Response | Promise<Response>) =>
	Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: answer })

describe('ProviderKeyChecker', () => {
	it.each([
		['openai', 'openai', 'sk-openai-test', '/v1/models'],
		['anthropic', 'anthropic', 'sk-ant-test', '/v1/models'],
		['groq', 'openai-compatible', 'sk-groq-test', '/groq/openai/v1/models'],
		['mistral', 'openai-compatible', 'sk-mistral-test', '/mistral/v1/models'],
		['deepseek', 'openai-compatible', 'sk-deepseek-test', '/deepseek/models'],
		['together', 'openai-compatible', 'sk-together-test', '/together/v1/models'],
	] as const)('accepts a good %s key with one GET of the model list', async (id, kind, key, path) => {
		await using upstream = await startFakeUpstream()
		const baseUrl =
			id === 'openai'
				? upstream.openaiBaseUrl
				: id === 'anthropic'
					? upstream.anthropicBaseUrl
					: upstream.baseUrls[id]
		expect(await checker.check(providerAt(baseUrl, kind, id), key)).toEqual({ outcome: 'ok' })
		expect(upstream.requests.map(({ method, path }) => ({ method, path }))).toEqual([{ method: 'GET', path }])
		const [sent] = upstream.requests
		expect(sent?.headers.authorization).toBe(`Bearer ${key}`)
		if (kind === 'anthropic') expect(sent?.headers['anthropic-version']).toBe('2026-10-21')
	})

	it("reports OpenAI's refusal in its own words, with the key it repeats masked", async () => {
		await using upstream = await startFakeUpstream()
		const key = 'sk-proj-wrong-key-9876543210'
		const found = await checker.check(providerAt(upstream.openaiBaseUrl), key)
		expect(found).toEqual({
			outcome: 'rejected',
			status: 401,
			message:
				'Incorrect API key provided: [redacted]. You can find your API key at https://platform.openai.com/account/api-keys.',
		})
	})

	it.each([
		['anthropic', 'anthropic', 'invalid x-api-key'],
		['groq', 'openai-compatible', 'Invalid API Key'],
		['mistral', 'openai-compatible', 'Unauthorized'],
		['deepseek', 'openai-compatible', 'Authentication Fails, Your api key is invalid'],
	] as const)('reports a refused %s key with the provider message', async (id, kind, message) => {
		await using upstream = await startFakeUpstream()
		const baseUrl = id === 'anthropic' ? upstream.anthropicBaseUrl : upstream.baseUrls[id]
		expect(await checker.check(providerAt(baseUrl, kind, id), 'not-the-key-0000')).toEqual({
			outcome: 'rejected',
			status: 401,
			message,
		})
	})

	it('counts a 403 as a refusal, and masks the key even where it has no known shape', async () => {
		const key = 'custom-secret-value-7777'
		using upstream = serveAnswer((request) =>
			Response.json(
				{
					error: { message: `key ${request.headers.get('authorization')?.slice(7)} has no access to models` },
				},
				{ status: 403 },
			),
		)
		expect(await checker.check(providerAt(`${upstream.url}v1`), key)).toEqual({
			outcome: 'rejected',
			status: 403,
			message: 'key [redacted] has no access to models',
		})
	})

	it('says a closed port cannot be reached', async () => {
		const closed = serveAnswer(() => new Response('never'))
		const baseUrl = `${closed.url}v1`
		await closed.stop(true)
		const found = await checker.check(providerAt(baseUrl), 'sk-openai-test')
		expect(found).toEqual({ outcome: 'unreachable', reason: 'the connection was refused' })
	})

	it('gives up on a provider that does not answer within the timeout', async () => {
		let arrived = () => {}
		const arrival = new Promise<void>((resolve) => {
			arrived = resolve
		})
		using upstream = serveAnswer(() => {
			arrived()
			return new Promise<Response>(() => {})
		})
		const quick = new ProviderKeyChecker({ timeoutMs: 150 })
		const found = await quick.check(providerAt(`${upstream.url}v1`), 'sk-openai-test')
		await arrival
		expect(found).toEqual({ outcome: 'unreachable', reason: 'no answer within 150 ms' })
	})

	it('stops when the caller goes away, without calling it a timeout', async () => {
		using upstream = serveAnswer(() => new Promise<Response>(() => {}))
		const leaving = new AbortController()
		const pending = checker.check(providerAt(`${upstream.url}v1`), 'sk-openai-test', leaving.signal)
		leaving.abort()
		const found = await pending
		expect(found.outcome).toBe('unreachable')
		expect(JSON.stringify(found)).not.toContain('no answer within')
	})

	it.each([
		[500, { error: { message: 'The server had an error' } }, 'it answered HTTP 500: The server had an error'],
		[503, 'upstream connect error', 'it answered HTTP 503'],
		[
			404,
			{ error: { message: 'Invalid URL (GET /v2/models)' } },
			'it answered HTTP 404: Invalid URL (GET /v2/models)',
		],
		[429, { error: { message: 'Rate limit reached' } }, 'it answered HTTP 429: Rate limit reached'],
	])('cannot tell from an HTTP %i, and says so', async (status, body, reason) => {
		using upstream = serveAnswer(() =>
			typeof body === 'string' ? new Response(body, { status }) : Response.json(body, { status }),
		)
		expect(await checker.check(providerAt(`${upstream.url}v1`), 'sk-openai-test')).toEqual({
			outcome: 'unreachable',
			reason,
		})
	})

	it('does not take a web page or a redirect for a model list', async () => {
		using page = serveAnswer(
			() => new Response('<html>Sign in</html>', { headers: { 'content-type': 'text/html' } }),
		)
		expect(await checker.check(providerAt(`${page.url}v1`), 'sk-openai-test')).toEqual({
			outcome: 'unreachable',
			reason: 'it answered with something other than a model list',
		})
		using moved = serveAnswer(() => Response.redirect('https://example.com/v1/models', 301))
		expect(await checker.check(providerAt(`${moved.url}v1`), 'sk-openai-test')).toEqual({
			outcome: 'unreachable',
			reason: "it redirected (HTTP 301): set the provider's base URL to the final address",
		})
	})
})

describe('refusal', () => {
	const openai = providerAt('http://127.0.0.1:1/v1')

	it('is a 400 on apiKey that names the provider and quotes it', () => {
		const error = refusal(openai, { outcome: 'rejected', status: 401, message: 'Invalid API Key' })
		expect([error.status, error.type, error.param, error.code, error.message]).toEqual([
			400,
			'invalid_request_error',
			'apiKey',
			'provider_key_rejected',
			'OpenAI refused this key: Invalid API Key',
		])
	})

	it('says the provider could not be reached and how to save anyway', () => {
		const error = refusal(openai, { outcome: 'unreachable', reason: 'no answer within 5 s' })
		expect([error.status, error.code, error.message]).toEqual([
			400,
			'provider_unreachable',
			'Could not reach OpenAI to check the key: no answer within 5 s. Save it without checking to keep it anyway.',
		])
		expect(KEY_CHECK_CODES).toEqual(['provider_key_rejected', 'provider_unreachable'])
	})
})

import { describe, expect, it } from 'bun:test'
import OpenAI from 'openai'
import { type GatewayHarness, startGateway } from '../../helpers/gateway'

const hello = [{ role: 'user' as const, content: 'Hello' }]

async function limitKey(g: GatewayHarness, limits: Record<string, number | null>) {
	const [key] = await g.t.deps.gatewayKeys.list(g.userId)
	if (!key) throw new Error('no key')
	const res = await g.t.call('PATCH', `/api/keys/${key.id}`, { token: g.token, body: limits })
	expect(res.status).toBe(200)
	return (await res.json()) as Record<string, unknown>
}

const chat = (g: GatewayHarness, extra: Record<string, unknown> = {}) =>
	g.fetch('/chat/completions', {
		method: 'POST',
		body: JSON.stringify({ model: 'gpt-4o-mini', messages: hello, max_tokens: 100, ...extra }),
	})

describe('a key’s own limits on the gateway', () => {
	it('saves the limits PATCH sends and answers them', async () => {
		await using g = await startGateway()
		const answer = await limitKey(g, { rpm: 60, tpm: 1000, concurrency: 2, cacheTtlSeconds: 300 })
		expect(answer).toMatchObject({ rpm: 60, tpm: 1000, concurrency: 2, cacheTtlSeconds: 300 })
		const cleared = await limitKey(g, { tpm: null, concurrency: null, cacheTtlSeconds: null })
		expect(cleared).toMatchObject({ rpm: 60, tpm: null, concurrency: null, cacheTtlSeconds: null })
	})

	it('sends x-ratelimit headers as OpenAI does, and refuses past the tokens per minute', async () => {
		await using g = await startGateway()
		await limitKey(g, { rpm: 60, tpm: 250 })
		const first = await chat(g)
		expect(first.status).toBe(200)
		expect(first.headers.get('x-ratelimit-limit-requests')).toBe('60')
		expect(first.headers.get('x-ratelimit-remaining-requests')).toBe('59')
		expect(first.headers.get('x-ratelimit-reset-requests')).toMatch(/^\d+(\.\d+)?(ms|s)$/)
		expect(first.headers.get('x-ratelimit-limit-tokens')).toBe('250')
		expect(Number(first.headers.get('x-ratelimit-remaining-tokens'))).toBeLessThan(250)
		await first.text()
		// Each request reserves its prompt and its 100 max_tokens, and gives back what it did not use; a request
		// for 300 tokens can never fit until the minute refills.
		const tooMany = await chat(g, { max_tokens: 240 })
		expect(tooMany.status).toBe(429)
		expect(tooMany.headers.get('retry-after')).toMatch(/^\d+$/)
		const { error } = (await tooMany.json()) as { error: { code: string; message: string } }
		expect(error.code).toBe('tokens_exceeded')
		expect(error.message).toContain('tokens per min (TPM)')
		// The OpenAI SDK sees a RateLimitError; with retries off it does not wait.
		const openai = new OpenAI({ apiKey: g.key, baseURL: g.baseURL, maxRetries: 0 })
		const failed = await openai.chat.completions
			.create({ model: 'gpt-4o-mini', messages: hello, max_tokens: 240 })
			.catch((caught) => caught)
		expect(failed).toBeInstanceOf(OpenAI.RateLimitError)
	})

	it('holds the key to its requests in flight', async () => {
		await using g = await startGateway()
		await limitKey(g, { concurrency: 2 })
		g.upstream.script('gpt-4o-mini', { kind: 'slow', firstByteMs: 300, chunkMs: 0 })
		g.upstream.script('gpt-4o-mini', { kind: 'slow', firstByteMs: 300, chunkMs: 0 })
		const slow = [chat(g), chat(g)]
		await Bun.sleep(100)
		const third = await chat(g)
		expect(third.status).toBe(429)
		expect(((await third.json()) as { error: { code: string } }).error.code).toBe('concurrency_exceeded')
		const done = await Promise.all(slow)
		expect(done.map((res) => res.status)).toEqual([200, 200])
		await Promise.all(done.map((res) => res.text()))
		// Both slots are free again once their log rows are written.
		expect((await chat(g)).status).toBe(200)
	})

	it('leaves a key without limits without headers', async () => {
		await using g = await startGateway()
		const res = await chat(g)
		expect(res.headers.get('x-ratelimit-limit-requests')).toBeNull()
		expect(res.headers.get('x-ratelimit-limit-tokens')).toBeNull()
		await res.text()
	})
})

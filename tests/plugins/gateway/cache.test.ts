import { describe, expect, it } from 'bun:test'
import { signupUser } from '../../helpers/app'
import { type GatewayHarness, startGateway } from '../../helpers/gateway'

const body = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'What is a cache?' }] }

function ask(g: GatewayHarness, options: { ttl?: string; key?: string; extra?: object; path?: string } = {}) {
	const headers: Record<string, string> = {
		authorization: `Bearer ${options.key ?? g.key}`,
		'content-type': 'application/json',
	}
	if (options.ttl !== undefined) headers['x-switchyard-cache-ttl'] = options.ttl
	return fetch(`${g.baseURL}${options.path ?? '/chat/completions'}`, {
		method: 'POST',
		headers,
		body: JSON.stringify({ ...body, ...options.extra }),
	})
}

async function otherUsersKey(g: GatewayHarness) {
	const { token } = await signupUser(g.t, 'second@example.com')
	const created = await g.t.call('POST', '/api/keys', { token, body: { name: 'theirs' } })
	return ((await created.json()) as { key: string }).key
}

describe('the response cache', () => {
	it('answers an identical request from the cache at $0, logged as a hit with what it saved', async () => {
		await using g = await startGateway()
		const first = await ask(g, { ttl: '60' })
		expect(first.headers.get('x-switchyard-cache')).toBe('miss')
		const cost = first.headers.get('x-switchyard-cost-usd')
		const answer = await first.text()
		// The same request with its keys in another order is the same request.
		const second = await fetch(`${g.baseURL}/chat/completions`, {
			method: 'POST',
			headers: {
				authorization: `Bearer ${g.key}`,
				'content-type': 'application/json',
				'x-switchyard-cache-ttl': '60',
			},
			body: JSON.stringify({ messages: body.messages, model: body.model }),
		})
		expect(second.headers.get('x-switchyard-cache')).toBe('hit')
		expect(second.headers.get('x-switchyard-cost-usd')).toBe('0.00000000')
		expect(second.headers.get('x-switchyard-model')).toBe('openai/gpt-4o-mini')
		expect(second.headers.get('x-switchyard-request-id')).not.toBe(
			first.headers.get('x-switchyard-request-id'),
		)
		expect(await second.text()).toBe(answer)
		expect(g.upstream.requests).toHaveLength(1)
		const rows = await g.rows()
		expect(rows.map((row) => row.costUsd)).toEqual([Number(cost), 0])
		expect(rows[1]?.cacheHit).toBe(true)
		expect(rows[1]?.cacheSavedUsd).toBeCloseTo(Number(cost), 8)
	})

	it('keeps each user’s answers to that user', async () => {
		await using g = await startGateway()
		await (await ask(g, { ttl: '60' })).text()
		const theirs = await ask(g, { ttl: '60', key: await otherUsersKey(g) })
		expect(theirs.headers.get('x-switchyard-cache')).toBe('miss')
		await theirs.text()
		expect(g.upstream.requests).toHaveLength(2)
	})

	it('shares answers between users only when RESPONSE_CACHE_SHARED says so', async () => {
		await using g = await startGateway({ RESPONSE_CACHE_SHARED: 'true' })
		await (await ask(g, { ttl: '60' })).text()
		const theirs = await ask(g, { ttl: '60', key: await otherUsersKey(g) })
		expect(theirs.headers.get('x-switchyard-cache')).toBe('hit')
		await theirs.text()
		expect(g.upstream.requests).toHaveLength(1)
	})

	it('expires an answer after its TTL, and uses no cache without one or with a TTL of 0', async () => {
		await using g = await startGateway()
		await (await ask(g, { ttl: '1' })).text()
		await Bun.sleep(1100)
		const expired = await ask(g, { ttl: '1' })
		expect(expired.headers.get('x-switchyard-cache')).toBe('miss')
		await expired.text()
		const off = await ask(g, { ttl: '0' })
		expect(off.headers.get('x-switchyard-cache')).toBeNull()
		await off.text()
		const none = await ask(g)
		expect(none.headers.get('x-switchyard-cache')).toBeNull()
		await none.text()
		expect(g.upstream.requests).toHaveLength(4)
		const bad = await ask(g, { ttl: 'soon' })
		expect(bad.status).toBe(400)
		expect(((await bad.json()) as { error: { param: string } }).error.param).toBe('x-switchyard-cache-ttl')
	})

	it('replays a stream byte for byte, and never a stream for a JSON request', async () => {
		await using g = await startGateway()
		const first = await (await ask(g, { ttl: '60', extra: { stream: true } })).text()
		const replay = await ask(g, { ttl: '60', extra: { stream: true } })
		expect(replay.headers.get('x-switchyard-cache')).toBe('hit')
		expect(replay.headers.get('content-type')).toStartWith('text/event-stream')
		expect(await replay.text()).toBe(first)
		const json = await ask(g, { ttl: '60' })
		expect(json.headers.get('x-switchyard-cache')).toBe('miss')
		await json.text()
		expect(g.upstream.requests).toHaveLength(2)
	})

	it('serves the Messages door from its own entries, in its own format', async () => {
		await using g = await startGateway()
		const messages = { model: 'anthropic/claude-haiku-5-5', max_tokens: 100 }
		const first = await (await ask(g, { ttl: '60', path: '/messages', extra: messages })).text()
		const again = await ask(g, { ttl: '60', path: '/messages', extra: messages })
		expect(again.headers.get('x-switchyard-cache')).toBe('hit')
		expect(await again.text()).toBe(first)
		expect(JSON.parse(first).type).toBe('message')
	})
})

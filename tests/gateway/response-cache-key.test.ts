import { describe, expect, it } from 'bun:test'
import { GatewayError } from '../../src/errors'
import {
	CACHE_TTL_HEADER,
	type CacheKeyInput,
	cacheKey,
	cacheKeys,
	cacheTtlMs,
	canonicalJson,
	MAX_CACHE_TTL_SECONDS,
	uncacheable,
} from '../../src/gateway/response-cache-key'

const MINI = 'openai/gpt-4o-mini'
const BODY = {
	model: 'auto',
	temperature: 0.7,
	messages: [
		{ role: 'system', content: 'Be brief.' },
		{ role: 'user', content: 'What is the capital of France?' },
	],
}

const input = (overrides: Partial<CacheKeyInput> = {}): CacheKeyInput => ({
	scope: 7,
	door: 'chat',
	model: MINI,
	body: BODY,
	nativeHeaders: {},
	...overrides,
})

describe('canonicalJson', () => {
	it('sorts object keys at every depth and keeps arrays in order', () => {
		expect(canonicalJson({ b: [{ y: 1, x: 2 }, 3], a: { d: null, c: 'é' } })).toBe(
			'{"a":{"c":"é","d":null},"b":[{"x":2,"y":1},3]}',
		)
	})

	it('leaves undefined fields out, as JSON.stringify does', () => {
		expect(canonicalJson({ a: undefined, b: [undefined] })).toBe('{"b":[null]}')
	})
})

describe('cacheKey', () => {
	it('is a SHA-256 in hex', () => {
		expect(cacheKey(input())).toMatch(/^[0-9a-f]{64}$/)
	})

	it('is the same whatever the order of the body’s keys, at every depth', () => {
		const reordered = {
			messages: [
				{ content: 'Be brief.', role: 'system' },
				{ content: 'What is the capital of France?', role: 'user' },
			],
			temperature: 0.7,
			model: 'auto',
		}
		expect(cacheKey(input({ body: reordered }))).toBe(cacheKey(input()))
	})

	it('differs when any value that shapes the answer differs', () => {
		const base = cacheKey(input())
		const variants: Record<string, unknown>[] = [
			{ ...BODY, temperature: 0 },
			{ ...BODY, model: MINI },
			{ ...BODY, seed: 1 },
			{ ...BODY, n: 2 },
			{ ...BODY, max_tokens: 10 },
			{ ...BODY, messages: [...BODY.messages].reverse() },
			{ ...BODY, tools: [{ type: 'function', function: { name: 'f' } }] },
		]
		const keys = variants.map((body) => cacheKey(input({ body })))
		expect(new Set([base, ...keys]).size).toBe(variants.length + 1)
	})

	it('differs per candidate model, and cacheKeys hashes the body once for all of them', () => {
		const keyFor = cacheKeys(input())
		expect(keyFor(MINI)).toBe(cacheKey(input()))
		expect(keyFor('anthropic/claude-haiku-4-5')).not.toBe(keyFor(MINI))
	})

	it('keeps two users apart even for the same request', () => {
		expect(cacheKey(input({ scope: 1 }))).not.toBe(cacheKey(input({ scope: 2 })))
	})

	it('shares the shared scope between users, and keeps it apart from every user’s own', () => {
		const shared = cacheKey(input({ scope: 'shared' }))
		expect(cacheKey(input({ scope: 'shared' }))).toBe(shared)
		expect(cacheKey(input({ scope: 1 }))).not.toBe(shared)
	})

	it('keeps the doors apart', () => {
		expect(cacheKey(input({ door: 'responses' }))).not.toBe(cacheKey(input({ door: 'chat' })))
	})

	it('keys the forwarded headers by name, in any case and order', () => {
		const betas = { 'anthropic-version': '2023-06-01', 'anthropic-beta': 'tools-2024' }
		const key = cacheKey(input({ door: 'messages', nativeHeaders: betas }))
		const sameBetas = { 'Anthropic-Beta': 'tools-2024', 'anthropic-version': '2023-06-01' }
		expect(cacheKey(input({ door: 'messages', nativeHeaders: sameBetas }))).toBe(key)
		expect(
			cacheKey(input({ door: 'messages', nativeHeaders: { 'anthropic-version': '2023-06-01' } })),
		).not.toBe(key)
	})

	it('treats an absent stream as stream: false, and never lets a stream meet a JSON answer', () => {
		expect(cacheKey(input({ body: { ...BODY, stream: false } }))).toBe(cacheKey(input()))
		expect(cacheKey(input({ body: { ...BODY, stream: true } }))).not.toBe(cacheKey(input()))
	})

	it('ignores stream_options without a stream, and keys them with one (include_usage adds a chunk)', () => {
		const usage = { stream_options: { include_usage: true } }
		expect(cacheKey(input({ body: { ...BODY, ...usage } }))).toBe(cacheKey(input()))
		const streamed = { ...BODY, stream: true }
		expect(cacheKey(input({ body: { ...streamed, ...usage } }))).not.toBe(cacheKey(input({ body: streamed })))
	})

	it.each([
		['chat', 'user', 'end-user-42'],
		['embeddings', 'user', 'end-user-42'],
		['messages', 'metadata', { user_id: 'end-user-42' }],
	] as const)('ignores the end-user id on the %s door (%s), which no answer echoes', (door, field, value) => {
		expect(cacheKey(input({ door, body: { ...BODY, [field]: value } }))).toBe(cacheKey(input({ door })))
	})

	it.each(['user', 'metadata'])('keys %s on the responses door, whose answer echoes it', (field) => {
		const body = { ...BODY, [field]: field === 'user' ? 'u1' : { tag: 'a' } }
		expect(cacheKey(input({ door: 'responses', body }))).not.toBe(cacheKey(input({ door: 'responses' })))
	})
})

describe('uncacheable', () => {
	it.each([
		['responses', { background: true }, 'a background response is polled, not answered'],
		['responses', { conversation: 'conv_1' }, 'the conversation is held and changed upstream'],
		['messages', { container: 'container_1' }, 'the code-execution container is held and changed upstream'],
	] as const)('refuses %s with %o', (door, body, why) => {
		expect(uncacheable(door, { ...BODY, ...body })).toBe(why)
	})

	it.each([
		['chat', { temperature: 1.2 }],
		['chat', { n: 3 }],
		['chat', { seed: 42 }],
		['chat', { tools: [{ type: 'function', function: { name: 'f' } }] }],
		['responses', { background: false, conversation: null }],
		['embeddings', { input: 'hello' }],
	] as const)('accepts %s with %o', (door, body) => {
		expect(uncacheable(door, { ...BODY, ...body })).toBeNull()
	})
})

describe('cacheTtlMs', () => {
	it('is the key’s TTL without the header, and 0 for a key without a cache', () => {
		expect(cacheTtlMs(300, null)).toBe(300_000)
		expect(cacheTtlMs(null, null)).toBe(0)
		expect(cacheTtlMs(0, null)).toBe(0)
	})

	it('takes the header over the key, opting in or out for one request', () => {
		expect(cacheTtlMs(null, '60')).toBe(60_000)
		expect(cacheTtlMs(300, ' 0 ')).toBe(0)
		expect(cacheTtlMs(300, String(MAX_CACHE_TTL_SECONDS))).toBe(MAX_CACHE_TTL_SECONDS * 1000)
	})

	it.each(['', '-1', '1.5', 'soon', '1e3', String(MAX_CACHE_TTL_SECONDS + 1)])(
		'refuses the header %p with a 400 naming it',
		(header) => {
			let thrown: unknown
			try {
				cacheTtlMs(300, header)
			} catch (error) {
				thrown = error
			}
			expect(thrown).toBeInstanceOf(GatewayError)
			expect({ status: (thrown as GatewayError).status, param: (thrown as GatewayError).param }).toEqual({
				status: 400,
				param: CACHE_TTL_HEADER,
			})
		},
	)
})

// Secrets never leave in clear: providers repeat the key they were sent in their errors, and that text
// reaches the caller, the request log and the server's own log only through one redaction step.
import { afterEach, beforeEach, describe, expect, it, spyOn } from 'bun:test'
import { redactSecrets } from '../../../src/lib/redact'
import type { Behaviour } from '../../helpers/fake-upstream'
import { type GatewayHarness, readEvents, startGateway } from '../../helpers/gateway'

/** The organisation's OpenAI key, in no known key shape: only knowing it can mask it. */
const SHAPELESS_KEY = 'Zq7bT2vL9xW4mN8pR3sK6yH1'
const KEY_SHAPES = {
	'OpenAI project key': 'sk-proj-4fJ9kL2mN8pQ3rS7tV1wX5yZ0aB6cD',
	'OpenAI masked key': 'sk-PMafP***************************************E873',
	'Anthropic key': 'sk-ant-api03-Xy9wV8uT7sR6qP5oN4mL3kJ2iH1gF0eD',
	'Groq key': 'gsk_8hG7fE6dC5bA4zY3xW2vU1tS0rQ9pO',
	'Google key': 'AIzaSyD4kL9mN2pQ7rS1tV6wX3yZ8aB5cE0fGh',
	'Switchyard key': 'sy_Ab12Cd34Ef56Gh78Ij90Kl',
	'the call’s own key': SHAPELESS_KEY,
	'echoed bearer token': 'Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl',
}

const hello = [{ role: 'user', content: 'Hello' }]
let logged: string[] = []
let spies: ReturnType<typeof spyOn>[] = []

beforeEach(() => {
	logged = []
	spies = (['error', 'warn', 'log'] as const).map((level) =>
		spyOn(console, level).mockImplementation((...args: unknown[]) => {
			logged.push(args.map(String).join(' '))
		}),
	)
})
afterEach(() => {
	for (const spy of spies) spy.mockRestore()
})

async function gateway() {
	return startGateway({ OPENAI_API_KEY: SHAPELESS_KEY }, { upstreamKeys: { openai: [SHAPELESS_KEY] } })
}

/** Everything that left the gateway or was kept: the caller's answer, the log row, the server's log. */
async function everywhere(g: GatewayHarness, answer: string) {
	const rows = await g.rows()
	return [answer, JSON.stringify(rows), logged.join('\n')].join('\n')
}

const call = (g: GatewayHarness, body: object) =>
	g.fetch('/chat/completions', { method: 'POST', body: JSON.stringify(body) })

describe('redactSecrets', () => {
	it.each(Object.entries(KEY_SHAPES))('masks a %s', (_, key) => {
		const text = `Incorrect API key provided: ${key}. You can find your API key at https://example.test/keys.`
		expect(redactSecrets(text, [SHAPELESS_KEY])).toBe(
			'Incorrect API key provided: [redacted]. You can find your API key at https://example.test/keys.',
		)
	})

	it('leaves ordinary words and short strings alone', () => {
		const text = 'the desk-top task-based risk-free sy_… answer (HTTP 401)'
		expect(redactSecrets(text, ['abc'])).toBe(text)
	})
})

describe('upstream text that repeats a key', () => {
	const paths: [string, (key: string) => Behaviour, boolean][] = [
		[
			'a 401 JSON error',
			(key) => ({ kind: 'error', status: 401, message: `Incorrect API key provided: ${key}` }),
			false,
		],
		[
			'a 400 returned to the caller',
			(key) => ({ kind: 'error', status: 400, message: `Bad request from ${key}` }),
			false,
		],
		[
			'an error event before content',
			(key) => ({ kind: 'stream-error', afterChunks: 1, message: `Key ${key} is disabled` }),
			true,
		],
		[
			'an error event after content',
			(key) => ({ kind: 'stream-error', afterChunks: 3, message: `Key ${key} is disabled` }),
			true,
		],
	]

	for (const [path, behaviour, stream] of paths) {
		it.each(Object.entries(KEY_SHAPES))(`never leaves in ${path}: %s`, async (_, key) => {
			await using g = await gateway()
			g.upstream.script('gpt-4o-mini', behaviour(key))
			const res = await call(g, { model: 'gpt-4o-mini', messages: hello, stream })
			const answer = stream && res.status === 200 ? (await readEvents(res)).join('\n') : await res.text()
			const all = await everywhere(g, answer)
			expect(all).toContain('[redacted]')
			expect(all).not.toContain(key)
		})
	}

	it.each(Object.entries(KEY_SHAPES))('never leaves in an Anthropic error: %s', async (_, key) => {
		await using g = await gateway()
		g.upstream.script('claude-haiku-5-5', {
			kind: 'error',
			status: 403,
			message: `key ${key} may not use this model`,
		})
		const res = await call(g, { model: 'anthropic/claude-haiku-5-5', messages: hello })
		const all = await everywhere(g, await res.text())
		expect(res.status).toBe(502)
		expect(all).not.toContain(key)
	})

	it.each(Object.entries(KEY_SHAPES))('never leaves in a Responses API error event: %s', async (_, key) => {
		await using g = await gateway()
		g.upstream.script('gpt-6.2-sol', { kind: 'stream-error', afterChunks: 3, message: `key ${key} revoked` })
		const tools = [{ type: 'function', function: { name: 'lookup', parameters: { type: 'object' } } }]
		const res = await call(g, { model: 'gpt-6.2-sol', messages: hello, tools, stream: true })
		const all = await everywhere(g, (await readEvents(res)).join('\n'))
		expect(all).not.toContain(key)
	})
})

import { describe, expect, it } from 'bun:test'
import OpenAI from 'openai'
import { type GatewayHarness, startGateway } from '../../helpers/gateway'
import { until } from '../../helpers/until'

/** Two tiers: "light" for plain turns, "heavy" (dearer) for any turn that says "prove". */
async function tieredRules(g: GatewayHarness, extra: Record<string, unknown> = {}) {
	const saved = await g.t.call('PUT', '/api/rules', {
		token: g.token,
		body: {
			version: 1,
			defaultTier: 'light',
			tiers: {
				light: { models: ['openai/gpt-4o-mini', 'openai/gpt-4.1-mini'] },
				heavy: { models: ['openai/gpt-4.1', 'openai/gpt-4o'] },
			},
			rules: [{ name: 'proof', when: { keywords: ['prove'] }, tier: 'heavy' }],
			...extra,
		},
	})
	expect(saved.status).toBe(200)
}

const client = (g: GatewayHarness, session: string) =>
	new OpenAI({
		apiKey: g.key,
		baseURL: g.baseURL,
		maxRetries: 0,
		defaultHeaders: { 'x-switchyard-session': session },
	})

type Turn = OpenAI.Chat.ChatCompletionMessageParam

async function turn(openai: OpenAI, history: Turn[], content: string) {
	const messages: Turn[] = [...history, { role: 'user', content }]
	const { data, response } = await openai.chat.completions.create({ model: 'auto', messages }).withResponse()
	return {
		model: response.headers.get('x-switchyard-model'),
		tier: response.headers.get('x-switchyard-tier'),
		history: [...messages, { role: 'assistant' as const, content: data.choices[0]?.message.content ?? '' }],
	}
}

/** The pin text of the newest logged request, once the log has it. */
async function loggedPins(g: GatewayHarness, count: number) {
	let rows: { id: number; door: string }[] = []
	await until(async () => {
		const listed = await g.t.call('GET', '/api/requests?limit=50', { token: g.token })
		rows = (await listed.json()) as { id: number; door: string }[]
		return rows.length >= count
	}, 3000)
	const details = await Promise.all(
		rows.map(async (row) => {
			const detail = await g.t.call('GET', `/api/requests/${row.id}`, { token: g.token })
			return ((await detail.json()) as { pin: string | null }).pin
		}),
	)
	return details.reverse()
}

describe('sessions stay on one model', () => {
	it('escalates to a stronger tier and never drops back, and the log says why', async () => {
		await using g = await startGateway()
		await tieredRules(g)
		const openai = client(g, 'conv-1')
		const first = await turn(openai, [], 'Hello there')
		expect(first).toMatchObject({ model: 'openai/gpt-4o-mini', tier: 'light' })
		const second = await turn(openai, first.history, 'Now prove that the sum of two even numbers is even')
		expect(second).toMatchObject({ model: 'openai/gpt-4.1', tier: 'heavy' })
		// A plain turn would go to "light" on its own; in this session it stays on the stronger model.
		const third = await turn(openai, second.history, 'Thanks, and a short summary?')
		expect(third).toMatchObject({ model: 'openai/gpt-4.1', tier: 'heavy' })
		// Another session is routed on its own.
		const other = await turn(client(g, 'conv-2'), [], 'Thanks, and a short summary?')
		expect(other).toMatchObject({ model: 'openai/gpt-4o-mini', tier: 'light' })

		const pins = await loggedPins(g, 4)
		expect(pins[0]).toBeNull()
		expect(pins[1]).toContain(
			'x-switchyard-session header: escalated from openai/gpt-4o-mini (tier light) to tier heavy',
		)
		expect(pins[2]).toMatch(
			/^x-switchyard-session header: stays on openai\/gpt-4\.1 \(tier heavy, pinned .*\); the rules chose tier light$/,
		)
		expect(pins[3]).toBeNull()
	})

	it('is explained by /api/rules/test for a session id', async () => {
		await using g = await startGateway()
		await tieredRules(g)
		const openai = client(g, 'conv-test')
		const first = await turn(openai, [], 'Please prove it')
		expect(first.model).toBe('openai/gpt-4.1')
		const test = async (session: string) => {
			const res = await g.t.call('POST', '/api/rules/test', {
				token: g.token,
				body: { session, request: { model: 'auto', messages: [{ role: 'user', content: 'thanks' }] } },
			})
			expect(res.status).toBe(200)
			return (await res.json()) as { tier: string; wouldCall: string; session: Record<string, unknown> }
		}
		const pinned = await test('conv-test')
		expect(pinned.tier).toBe('light')
		expect(pinned.wouldCall).toBe('openai/gpt-4.1')
		expect(pinned.session).toMatchObject({
			source: 'x-switchyard-session header',
			pinnedModel: 'openai/gpt-4.1',
			pinnedTier: 'heavy',
			outcome: 'stays',
		})
		const fresh = await test('conv-unknown')
		expect(fresh.wouldCall).toBe('openai/gpt-4o-mini')
		expect(fresh.session).toMatchObject({ pinnedModel: null, outcome: 'none' })
	})

	it('falls back inside a session and stays on the model that answered', async () => {
		await using g = await startGateway()
		await tieredRules(g)
		const openai = client(g, 'conv-fallback')
		const first = await turn(openai, [], 'Hello there')
		expect(first.model).toBe('openai/gpt-4o-mini')
		g.upstream.script('gpt-4o-mini', { kind: 'error', status: 503 })
		const second = await turn(openai, first.history, 'And again')
		expect(second.model).toBe('openai/gpt-4.1-mini')
		// The pin moved with the fallback: the next turn goes there first, with the pinned model healthy again.
		const third = await turn(openai, second.history, 'Once more')
		expect(third.model).toBe('openai/gpt-4.1-mini')
	})

	it('recognises a conversation by its opening when the client names no session', async () => {
		await using g = await startGateway()
		await tieredRules(g)
		const openai = new OpenAI({ apiKey: g.key, baseURL: g.baseURL, maxRetries: 0 })
		const first = await turn(openai, [], 'Please prove Fermat for n = 4')
		expect(first.model).toBe('openai/gpt-4.1')
		const second = await turn(openai, first.history, 'ok, thanks')
		expect(second.model).toBe('openai/gpt-4.1')
	})

	it('routes a client model name through an alias, and leaves named models unpinned', async () => {
		await using g = await startGateway()
		await tieredRules(g, { aliases: { 'claude-sonnet-*': 'auto', 'claude-haiku-*': 'light' } })
		const res = await g.fetch('/chat/completions', {
			method: 'POST',
			body: JSON.stringify({ model: 'claude-haiku-5-5', messages: [{ role: 'user', content: 'prove it' }] }),
		})
		expect(res.headers.get('x-switchyard-tier')).toBe('light')
		expect(res.headers.get('x-switchyard-rule')).toBe('alias claude-haiku-5-5')
		await res.text()
		const auto = await g.fetch('/chat/completions', {
			method: 'POST',
			body: JSON.stringify({ model: 'claude-sonnet-5-5', messages: [{ role: 'user', content: 'prove it' }] }),
		})
		expect(auto.headers.get('x-switchyard-tier')).toBe('heavy')
		await auto.text()
	})

	it('is off with SESSION_IDLE_MINUTES=0', async () => {
		await using g = await startGateway({ SESSION_IDLE_MINUTES: '0' })
		await tieredRules(g)
		const openai = client(g, 'conv-off')
		const first = await turn(openai, [], 'Please prove it')
		expect(first.model).toBe('openai/gpt-4.1')
		const second = await turn(openai, first.history, 'ok')
		expect(second.model).toBe('openai/gpt-4o-mini')
	})
})

import { describe, expect, it } from 'bun:test'
import claudeCodeStartup from '../../fixtures/agents/claude-code/startup.json'
import claudeCodeConversation from '../../fixtures/agents/claude-code/tool-conversation.json'
import codexConversation from '../../fixtures/agents/codex/tool-conversation.json'
import codexProbe from '../../fixtures/agents/codex/websocket-probe.json'
import {
	contentFromEvents,
	gatewayRoot,
	loggedRequests,
	type NamedEvent,
	namedEvents,
	received,
} from '../../helpers/doors'
import { type GatewayHarness, startGateway } from '../../helpers/gateway'

// The recorded request shapes of Claude Code and Codex CLI (tests/fixtures/agents) replayed through the
// running gateway, as the agents send them, with the gateway key in place of the placeholder.

interface AgentRequest {
	method: string
	path: string
	headers: Record<string, string>
	// biome-ignore lint/suspicious/noExplicitAny: fixtures are arbitrary JSON
	body: any
}

/** Sends a recorded request as the agent would, the test's gateway key in place of the placeholder. */
async function replay(g: GatewayHarness, request: AgentRequest, body: unknown = request.body) {
	const headers = { ...request.headers }
	if (headers['x-api-key']) headers['x-api-key'] = g.key
	if (headers.authorization) headers.authorization = `Bearer ${g.key}`
	const response = await fetch(`${gatewayRoot(g)}${request.path}`, {
		method: request.method,
		headers,
		body: body === null ? undefined : JSON.stringify(body),
	})
	const text = await response.text()
	return { status: response.status, headers: response.headers, text }
}

const eventsOf = (text: string): NamedEvent[] => namedEvents(text)

/** A Claude Code turn with the assistant turns before it replaced by what the model really answered. */
function spliced(request: AgentRequest, answers: Record<string, unknown>[][]): unknown {
	const body = structuredClone(request.body)
	let answer = 0
	for (const message of body.messages) {
		if (message.role !== 'assistant') continue
		message.content = answers[answer++]
	}
	// The tool_result answers the tool_use the model really made.
	const toolUse = answers[0]?.find((block) => block.type === 'tool_use')
	for (const message of body.messages) {
		if (message.role !== 'user' || !Array.isArray(message.content)) continue
		for (const block of message.content) if (block.type === 'tool_result') block.tool_use_id = toolUse?.id
	}
	return body
}

describe('Claude Code through /v1/messages', () => {
	it('gets through its start-up: model discovery, a token count, a title request', async () => {
		await using g = await startGateway()
		const [hello, models, count, title] = claudeCodeStartup.requests as AgentRequest[]
		// The connection-warming probe: any answer will do, Claude Code ignores it.
		expect((await replay(g, hello as AgentRequest)).status).toBeLessThan(500)
		const listed = await replay(g, models as AgentRequest)
		expect(listed.status).toBe(200)
		const page = JSON.parse(listed.text)
		expect(page).toMatchObject({ has_more: false, first_id: 'auto' })
		expect(page.data).toContainEqual({
			type: 'model',
			id: 'anthropic/claude-sonnet-5-5',
			display_name: 'anthropic/claude-sonnet-5-5',
			created_at: expect.any(String),
		})
		const counted = await replay(g, count as AgentRequest)
		expect(counted.status).toBe(200)
		expect(counted.headers.get('x-switchyard-estimated')).toBe('false')
		expect(JSON.parse(counted.text).input_tokens).toBeGreaterThan(0)
		const [countSent] = received(g, 'anthropic-count-tokens')
		expect(countSent?.body).toEqual(count?.body)
		expect(countSent?.headers['anthropic-beta']).toBe(count?.headers['anthropic-beta'])
		expect(countSent?.headers['anthropic-version']).toBe('2023-06-01')
		const titled = await replay(g, title as AgentRequest)
		expect(titled.status).toBe(200)
		expect(JSON.parse(titled.text).content).toEqual([{ type: 'text', text: 'Hello from claude-haiku-5-5' }])
		const [titleSent] = received(g, 'anthropic')
		expect(titleSent?.body).toEqual(title?.body)
		expect(titleSent?.headers['anthropic-beta']).toBe(title?.headers['anthropic-beta'])
		// The token count is advice, not a request: only the title request is logged.
		const rows = await loggedRequests(g)
		expect(rows.map(({ door, model, status }) => ({ door, model, status }))).toEqual([
			{ door: 'messages', model: 'anthropic/claude-haiku-5-5', status: 200 },
		])
	})

	it('holds a three-turn tool conversation on ?beta=true, signed thinking given back each turn', async () => {
		await using g = await startGateway()
		g.upstream.script(
			'claude-sonnet-5-5',
			{
				kind: 'reply',
				toolCalls: [
					{
						name: 'Bash',
						arguments: '{"command":"wc -l package.json","description":"Count lines in package.json"}',
					},
				],
			},
			{ kind: 'reply', text: 'package.json has 42 lines.' },
			{ kind: 'reply', text: '{' },
		)
		const [turn1, turn2, turn3] = claudeCodeConversation.requests as AgentRequest[]
		const first = await replay(g, turn1 as AgentRequest)
		expect(first.status).toBe(200)
		const answer1 = contentFromEvents(eventsOf(first.text))
		expect(answer1.map((block) => block.type)).toEqual(['thinking', 'tool_use'])
		expect(answer1[1]).toMatchObject({ name: 'Bash', input: { command: 'wc -l package.json' } })
		const second = await replay(g, turn2 as AgentRequest, spliced(turn2 as AgentRequest, [answer1]))
		expect(second.status).toBe(200)
		const answer2 = contentFromEvents(eventsOf(second.text))
		expect(answer2.at(-1)).toEqual({ type: 'text', text: 'package.json has 42 lines.' })
		const third = await replay(g, turn3 as AgentRequest, spliced(turn3 as AgentRequest, [answer1, answer2]))
		expect(third.status).toBe(200)
		expect(contentFromEvents(eventsOf(third.text)).at(-1)).toEqual({ type: 'text', text: '{' })
		const sent = received(g, 'anthropic')
		expect(sent.map((request) => request.path)).toEqual(['/v1/messages', '/v1/messages', '/v1/messages'])
		for (const request of sent) {
			expect(request.headers['anthropic-beta']).toBe(turn1?.headers['anthropic-beta'])
			expect(request.headers['anthropic-version']).toBe('2023-06-01')
		}
		expect(sent[2]?.body).toEqual(spliced(turn3 as AgentRequest, [answer1, answer2]))
		const rows = await loggedRequests(g)
		expect(rows.map(({ door, status }) => ({ door, status }))).toEqual([
			{ door: 'messages', status: 200 },
			{ door: 'messages', status: 200 },
			{ door: 'messages', status: 200 },
		])
		for (const row of rows) expect(row.costUsd).toBeGreaterThan(0)
	})
})

describe('Codex CLI through /v1/responses', () => {
	it('holds its three-turn tool conversation, store false, encrypted reasoning given back', async () => {
		await using g = await startGateway()
		g.upstream.script('gpt-6.1-terra', {
			kind: 'reply',
			toolCalls: [
				{
					name: 'shell',
					arguments: '{"command":["bash","-lc","wc -l package.json"],"workdir":"/home/dev/project"}',
				},
			],
		})
		const answers = []
		for (const request of codexConversation.requests as AgentRequest[]) answers.push(await replay(g, request))
		expect(answers.map(({ status }) => status)).toEqual([200, 200, 200])
		const completed = answers.map(({ text }) =>
			eventsOf(text).find(({ event }) => event === 'response.completed'),
		)
		expect(completed[0]?.data.response.output.map((item: { type: string }) => item.type)).toEqual([
			'reasoning',
			'function_call',
		])
		expect(completed[0]?.data.response.output[0].encrypted_content).toStartWith('gAAAAA')
		expect(completed[2]?.data.response.output.at(-1).content[0].text).toBe('Hello from gpt-6.1-terra')
		const sent = received(g, 'openai-responses')
		const requests = codexConversation.requests as AgentRequest[]
		expect(sent.map((request) => request.body)).toEqual(
			requests.map((request) => ({ ...request.body, model: 'gpt-6.1-terra', store: false, stream: true })),
		)
		const rows = await loggedRequests(g)
		expect(rows.map(({ door, model, status }) => ({ door, model, status }))).toEqual([
			{ door: 'responses', model: 'openai/gpt-6.1-terra', status: 200 },
			{ door: 'responses', model: 'openai/gpt-6.1-terra', status: 200 },
			{ door: 'responses', model: 'openai/gpt-6.1-terra', status: 200 },
		])
		for (const row of rows) expect(row.costUsd).toBeGreaterThan(0)
	})

	it('gets 426 for its WebSocket probe, and so falls back to HTTP streaming at once', async () => {
		await using g = await startGateway()
		const [probe] = codexProbe.requests as AgentRequest[]
		const answer = await replay(g, probe as AgentRequest)
		expect(answer.status).toBe(426)
		expect(answer.headers.get('upgrade')).toBe('websocket')
		expect(JSON.parse(answer.text).error.code).toBe('websocket_not_supported')
		expect(g.upstream.requests).toHaveLength(0)
	})
})

describe('Claude Code on an OpenAI model, by a rules alias', () => {
	it('holds the three-turn tool conversation, translated both ways', async () => {
		await using g = await startGateway()
		const rules = {
			version: 1,
			aliases: { 'claude-*': 'coding' },
			defaultTier: 'coding',
			tiers: { coding: { models: ['openai/gpt-6.1-terra'] } },
			rules: [],
		}
		const saved = await g.t.call('PUT', '/api/rules', { token: g.token, body: rules })
		expect(saved.status).toBe(200)
		g.upstream.script(
			'gpt-6.1-terra',
			{ kind: 'reply', toolCalls: [{ name: 'Bash', arguments: '{"command":"wc -l package.json"}' }] },
			{ kind: 'reply', text: 'package.json has 42 lines.' },
		)
		const [turn1, turn2, turn3] = claudeCodeConversation.requests as AgentRequest[]
		const first = await replay(g, turn1 as AgentRequest)
		expect(first.status).toBe(200)
		expect(first.headers.get('x-switchyard-model')).toBe('openai/gpt-6.1-terra')
		const answer1 = contentFromEvents(eventsOf(first.text))
		expect(answer1.at(-1)).toMatchObject({
			type: 'tool_use',
			name: 'Bash',
			input: { command: 'wc -l package.json' },
		})
		const second = await replay(g, turn2 as AgentRequest, spliced(turn2 as AgentRequest, [answer1]))
		expect(second.status).toBe(200)
		const answer2 = contentFromEvents(eventsOf(second.text))
		expect(answer2.at(-1)).toEqual({ type: 'text', text: 'package.json has 42 lines.' })
		const third = await replay(g, turn3 as AgentRequest, spliced(turn3 as AgentRequest, [answer1, answer2]))
		expect(third.status).toBe(200)
		expect(contentFromEvents(eventsOf(third.text)).at(-1)).toEqual({
			type: 'text',
			text: 'Hello from gpt-6.1-terra',
		})
		const rows = await loggedRequests(g)
		expect(rows.map(({ door, model, tier, status }) => ({ door, model, tier, status }))).toEqual([
			{ door: 'messages', model: 'openai/gpt-6.1-terra', tier: 'coding', status: 200 },
			{ door: 'messages', model: 'openai/gpt-6.1-terra', tier: 'coding', status: 200 },
			{ door: 'messages', model: 'openai/gpt-6.1-terra', tier: 'coding', status: 200 },
		])
	})
})

describe('Codex CLI on a Claude model', () => {
	it('holds the three-turn tool conversation, Claude’s thinking carried in encrypted reasoning', async () => {
		await using g = await startGateway()
		g.upstream.script(
			'claude-sonnet-5-5',
			{
				kind: 'reply',
				toolCalls: [{ name: 'shell', arguments: '{"command":["bash","-lc","wc -l package.json"]}' }],
			},
			{ kind: 'reply', text: 'package.json has 42 lines.' },
		)
		const [turn1, turn2, turn3] = codexConversation.requests as AgentRequest[]
		const onClaude = (request: AgentRequest, input: unknown[]) => ({
			...request.body,
			model: 'anthropic/claude-sonnet-5-5',
			input,
		})
		const outputOf = (text: string) =>
			eventsOf(text).find(({ event }) => event === 'response.completed')?.data.response.output as Record<
				string,
				unknown
			>[]
		const opening = (turn1 as AgentRequest).body.input as unknown[]
		const first = await replay(g, turn1 as AgentRequest, onClaude(turn1 as AgentRequest, opening))
		expect(first.status).toBe(200)
		const output1 = outputOf(first.text)
		expect(output1.map((item) => item.type)).toEqual(['reasoning', 'function_call'])
		const call = output1[1] as { call_id: string }
		const input2 = [
			...opening,
			...output1,
			{ type: 'function_call_output', call_id: call.call_id, output: '{"output":"42 package.json\\n"}' },
		]
		const second = await replay(g, turn2 as AgentRequest, onClaude(turn2 as AgentRequest, input2))
		expect(second.status).toBe(200)
		const output2 = outputOf(second.text)
		expect(output2.at(-1)).toMatchObject({
			type: 'message',
			content: [{ text: 'package.json has 42 lines.' }],
		})
		const follow = (turn3 as AgentRequest).body.input.at(-1)
		const third = await replay(
			g,
			turn3 as AgentRequest,
			onClaude(turn3 as AgentRequest, [...input2, ...output2, follow]),
		)
		expect(third.status).toBe(200)
		expect(outputOf(third.text).at(-1)).toMatchObject({ content: [{ text: 'Hello from claude-sonnet-5-5' }] })
		const sent = received(g, 'anthropic')
		// Codex's user items are one user turn; the assistant's turns open with Claude's own signed thinking.
		expect(sent.map((request) => request.body.messages.length)).toEqual([1, 3, 5])
		expect(sent[1]?.body.messages[1].content.map((block: { type: string }) => block.type)).toEqual([
			'thinking',
			'tool_use',
		])
		const rows = await loggedRequests(g)
		expect(rows.map(({ door, status }) => ({ door, status }))).toEqual([
			{ door: 'responses', status: 200 },
			{ door: 'responses', status: 200 },
			{ door: 'responses', status: 200 },
		])
	})
})

// What the end-to-end tests of the front doors share: the official Anthropic SDK pointed at the gateway,
// the request log as the dashboard's JSON API shows it, and server-sent events read back by name.
import Anthropic from '@anthropic-ai/sdk'
import OpenAI from 'openai'
import { signupUser } from './app'
import type { RecordedRequest } from './fake-upstream'
import type { GatewayHarness } from './gateway'

/** The gateway's root: the Anthropic SDK and Claude Code take the base URL without `/v1`. */
export const gatewayRoot = (g: GatewayHarness) => g.baseURL.replace(/\/v1$/, '')

/** `@anthropic-ai/sdk` as a user configures it for Switchyard: the gateway key, the gateway's root. */
export function anthropicClient(
	g: GatewayHarness,
	options: { apiKey?: string; headers?: Record<string, string> } = {},
): Anthropic {
	return new Anthropic({
		apiKey: options.apiKey ?? g.key,
		baseURL: gatewayRoot(g),
		maxRetries: 0,
		defaultHeaders: options.headers,
	})
}

/** A row of `GET /api/requests`, as the dashboard shows it. */
export interface LoggedRequest {
	id: number
	door: string
	requestedModel: string | null
	model: string | null
	provider: string | null
	tier: string | null
	rule: string | null
	status: number
	promptTokens: number
	completionTokens: number
	costUsd: number
	error: string | null
}

/** The request log through the dashboard's JSON API, oldest first, once the buffered rows are written. */
export async function loggedRequests(g: GatewayHarness): Promise<LoggedRequest[]> {
	await g.t.deps.requestLog.flush()
	const res = await fetch(`${gatewayRoot(g)}/api/requests?limit=200`, {
		headers: { authorization: `Bearer ${g.token}` },
	})
	if (res.status !== 200) throw new Error(`GET /api/requests: ${res.status} ${await res.text()}`)
	return ((await res.json()) as LoggedRequest[]).reverse()
}

/** What the fake upstream received on one of its APIs, in order. */
export const received = (g: GatewayHarness, format: RecordedRequest['format']) =>
	g.upstream.requests.filter((request) => request.format === format)

/** A second user with a gateway key of their own, and the OpenAI SDK on it. */
export async function otherUser(g: GatewayHarness, email = 'other@example.com') {
	const { token } = await signupUser(g.t, email)
	const created = await g.t.call('POST', '/api/keys', { token, body: { name: 'other' } })
	const { key } = (await created.json()) as { key: string }
	return { key, openai: new OpenAI({ apiKey: key, baseURL: g.baseURL, maxRetries: 0 }) }
}

export interface NamedEvent {
	event: string | null
	// biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary fields of the events
	data: any
}

/** Server-sent events as `{event, data}`, the data parsed as JSON (the text when it is not). */
export function namedEvents(text: string): NamedEvent[] {
	return text
		.split('\n\n')
		.filter((block) => block.trim() !== '')
		.map((block) => {
			let event: string | null = null
			let data = ''
			for (const line of block.split('\n')) {
				if (line.startsWith('event: ')) event = line.slice(7)
				if (line.startsWith('data: ')) data += line.slice(6)
			}
			try {
				return { event, data: JSON.parse(data) }
			} catch {
				return { event, data }
			}
		})
}

/** Every `x-switchyard-*` header of a response, by name. */
export function switchyardHeaders(headers: Headers): Record<string, string> {
	return Object.fromEntries([...headers].filter(([name]) => name.startsWith('x-switchyard-')))
}

/** A message's content blocks as a client assembles them from Anthropic's stream events. */
export function contentFromEvents(events: NamedEvent[]): Record<string, unknown>[] {
	const blocks: Record<string, unknown>[] = []
	const json = new Map<number, string>()
	for (const { data } of events) {
		if (data.type === 'content_block_start') blocks[data.index] = { ...data.content_block }
		if (data.type === 'content_block_stop' && json.has(data.index)) {
			const block = blocks[data.index] as Record<string, unknown>
			block.input = JSON.parse(json.get(data.index) || '{}')
		}
		if (data.type !== 'content_block_delta') continue
		const block = blocks[data.index] as Record<string, string>
		const { delta } = data
		if (delta.type === 'text_delta') block.text += delta.text
		if (delta.type === 'thinking_delta') block.thinking += delta.thinking
		if (delta.type === 'signature_delta') block.signature = delta.signature
		if (delta.type === 'input_json_delta')
			json.set(data.index, (json.get(data.index) ?? '') + delta.partial_json)
	}
	return blocks
}

import { describe, expect, it } from 'bun:test'
import { GatewayError } from '../../../src/errors'
import {
	chatToMessage,
	createMessagesEncoder,
	estimateMessagesTokens,
	messagesForRules,
	messagesToChat,
} from '../../../src/gateway/doors/messages'
import type { ChatChunk, ChatResponse } from '../../../src/providers/types'

type Json = Record<string, unknown>

/** A small seeded generator (mulberry32), so that a failure replays. */
function random(seed: number) {
	let state = seed
	return () => {
		state = (state + 0x6d2b79f5) | 0
		let t = Math.imul(state ^ (state >>> 15), 1 | state)
		t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296
	}
}

const WORDS = [
	'text',
	'image',
	'document',
	'tool_use',
	'tool_result',
	'thinking',
	'redacted_thinking',
	'user',
	'assistant',
	'system',
	'base64',
	'url',
	'file',
	'content',
	'enabled',
	'adaptive',
	'disabled',
	'auto',
	'any',
	'tool',
	'none',
	'json_schema',
	'__proto__',
	'constructor',
	'toString',
	'hasOwnProperty',
	'',
	'data:image/png;base64,AAAA',
	'{"a":1',
	'x'.repeat(300),
]
const KEYS = [
	'type',
	'text',
	'content',
	'role',
	'source',
	'data',
	'media_type',
	'url',
	'id',
	'name',
	'input',
	'tool_use_id',
	'is_error',
	'cache_control',
	'thinking',
	'signature',
	'budget_tokens',
	'effort',
	'schema',
	'title',
	'index',
	'delta',
	'function',
	'arguments',
	'tool_calls',
	'usage',
	'prompt_tokens',
	'choices',
	'message',
	'finish_reason',
	'thinking_blocks',
	'reasoning_content',
	'__proto__',
]

function hostile(next: () => number, depth = 0): unknown {
	const pick = <T>(items: readonly T[]) => items[Math.floor(next() * items.length)] as T
	switch (Math.floor(next() * (depth > 2 ? 6 : 8))) {
		case 0:
			return null
		case 1:
			return undefined
		case 2:
			return pick([0, -1, 1.5, 1e308, Number.NaN, Number.POSITIVE_INFINITY, 7, 2 ** 53])
		case 3:
			return next() < 0.5
		case 4:
		case 5:
			return pick(WORDS)
		case 6:
			return Array.from({ length: Math.floor(next() * 4) }, () => hostile(next, depth + 1))
		default: {
			const value: Json = {}
			for (let i = Math.floor(next() * 5); i > 0; i--) value[pick(KEYS)] = hostile(next, depth + 1)
			return value
		}
	}
}

/** Replaces (or deletes) the value at a random path of a copy of `value`. */
function mutate(value: unknown, next: () => number): unknown {
	const copy = structuredClone(value) as Json
	let node: unknown = copy
	for (let step = 0; step < 6; step++) {
		if (typeof node !== 'object' || node === null) break
		const keys = Object.keys(node)
		if (keys.length === 0) break
		const key = keys[Math.floor(next() * keys.length)] as string
		const child = (node as Json)[key]
		if (next() < 0.3 || typeof child !== 'object' || child === null) {
			if (next() < 0.15) delete (node as Json)[key]
			else (node as Json)[key] = hostile(next)
			return copy
		}
		node = child
	}
	return copy
}

const VALID: Json[] = [
	{ model: 'claude-sonnet-5-5', max_tokens: 100, messages: [{ role: 'user', content: 'Hi' }] },
	{
		model: 'claude-sonnet-5-5',
		max_tokens: 100,
		stream: true,
		system: [{ type: 'text', text: 'S', cache_control: { type: 'ephemeral' } }],
		thinking: { type: 'enabled', budget_tokens: 2048 },
		output_config: { effort: 'high', format: { type: 'json_schema', schema: { type: 'object' } } },
		metadata: { user_id: 'u' },
		stop_sequences: ['END'],
		tools: [{ name: 'Bash', input_schema: { type: 'object' } }],
		tool_choice: { type: 'tool', name: 'Bash', disable_parallel_tool_use: true },
		messages: [
			{
				role: 'user',
				content: [
					{ type: 'text', text: 'Look' },
					{ type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'AAAA' } },
					{ type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: 'JVBE' } },
				],
			},
			{
				role: 'assistant',
				content: [
					{ type: 'thinking', thinking: 'T', signature: 'S' },
					{ type: 'redacted_thinking', data: 'D' },
					{ type: 'tool_use', id: 't1', name: 'Bash', input: { command: 'ls' } },
				],
			},
			{
				role: 'user',
				content: [
					{
						type: 'tool_result',
						tool_use_id: 't1',
						is_error: true,
						content: [
							{ type: 'text', text: 'r' },
							{ type: 'image', source: { type: 'url', url: 'https://x/y.png' } },
						],
					},
				],
			},
		],
	},
]

const ROUNDS = 1500

describe('messages door translation under hostile input', () => {
	it('throws nothing but a 400 GatewayError, whatever the body', () => {
		const next = random(20261203)
		const surprises: string[] = []
		for (let round = 0; round < ROUNDS; round++) {
			const body = next() < 0.1 ? hostile(next) : mutate(VALID[round % VALID.length], next)
			for (const run of [messagesToChat, messagesForRules, estimateMessagesTokens]) {
				try {
					const result = run(body as Json)
					JSON.stringify(result)
				} catch (error) {
					if (!(error instanceof GatewayError) || error.status !== 400) {
						surprises.push(`${run.name} on ${JSON.stringify(body)?.slice(0, 300)}: ${String(error)}`)
					}
				}
			}
		}
		expect(surprises).toEqual([])
	})

	it('answers any completion shape as a Message without throwing', () => {
		const next = random(7)
		const valid = {
			id: 'chatcmpl-1',
			choices: [
				{ index: 0, message: { role: 'assistant', content: 'x', tool_calls: [] }, finish_reason: 'stop' },
			],
			usage: { prompt_tokens: 1, completion_tokens: 1 },
		}
		for (let round = 0; round < ROUNDS; round++) {
			const response = next() < 0.2 ? hostile(next) : mutate(valid, next)
			const message = chatToMessage(response as ChatResponse, 'm')
			expect(Array.isArray(message.content)).toBe(true)
		}
	})

	it('encodes any chunk shapes as well-formed events without throwing', () => {
		const next = random(11)
		const valid = {
			id: 'chatcmpl-1',
			choices: [
				{
					index: 0,
					delta: {
						content: 'x',
						reasoning_content: 'r',
						thinking_blocks: [{ type: 'thinking', thinking: 't', signature: 's' }],
						tool_calls: [{ index: 0, id: 'c', function: { name: 'f', arguments: '{}' } }],
					},
					finish_reason: null,
				},
			],
		}
		for (let round = 0; round < 300; round++) {
			const encoder = createMessagesEncoder('m')
			let sse = ''
			for (let i = 0; i < 6; i++) {
				const value = next() < 0.2 ? hostile(next) : mutate(valid, next)
				sse += encoder.chunk(value as ChatChunk)
			}
			sse += encoder.end()
			for (const block of sse.split('\n\n').filter(Boolean)) {
				expect(block).toMatch(/^event: [a-z_]+\ndata: \{.*\}$/s)
			}
			expect(sse.endsWith('event: message_stop\ndata: {"type":"message_stop"}\n\n')).toBe(true)
		}
	})
})

import { describe, expect, it } from 'bun:test'
import { GatewayError } from '../../../src/errors'
import {
	chatToResponse,
	createResponsesEncoder,
	responsesForRules,
	responsesToChat,
} from '../../../src/gateway/doors/responses'
import type { ChatChunk, ChatResponse } from '../../../src/providers/types'

/** A small seeded generator (mulberry32), so a failure replays. */
function random(seed: number) {
	let state = seed
	return () => {
		state = (state + 0x6d2b79f5) | 0
		let t = Math.imul(state ^ (state >>> 15), 1 | state)
		t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296
	}
}

const KEYS = [
	'type',
	'role',
	'content',
	'text',
	'input',
	'model',
	'tools',
	'tool_choice',
	'name',
	'arguments',
	'call_id',
	'output',
	'summary',
	'encrypted_content',
	'image_url',
	'file_id',
	'file_data',
	'file_url',
	'id',
	'parameters',
	'strict',
	'format',
	'schema',
	'mode',
	'effort',
	'refusal',
	'instructions',
	'reasoning',
	'text',
	'stream',
	'__proto__',
	'constructor',
	'toString',
	'prompt_cache_breakpoint',
	'max_output_tokens',
	'metadata',
]
const STRINGS = [
	'message',
	'function_call',
	'function_call_output',
	'reasoning',
	'item_reference',
	'input_text',
	'output_text',
	'input_image',
	'input_file',
	'refusal',
	'summary_text',
	'user',
	'assistant',
	'system',
	'developer',
	'tool',
	'function',
	'web_search',
	'allowed_tools',
	'json_schema',
	'json_object',
	'auto',
	'required',
	'none',
	'',
	'switchyard.thinking.v1:!!!',
	'switchyard.thinking.v1:bnVsbA==',
	'\u0000',
	'</script>',
	'a'.repeat(1000),
]

function value(next: () => number, depth: number): unknown {
	const pick = next()
	if (depth > 5 || pick < 0.3) {
		const scalars = [
			null,
			true,
			false,
			0,
			-1,
			1.5,
			Number.MAX_SAFE_INTEGER,
			STRINGS[Math.floor(next() * STRINGS.length)],
		]
		return scalars[Math.floor(next() * scalars.length)]
	}
	if (pick < 0.6) return Array.from({ length: Math.floor(next() * 4) }, () => value(next, depth + 1))
	const object: Record<string, unknown> = {}
	for (let i = Math.floor(next() * 5); i > 0; i--) {
		object[KEYS[Math.floor(next() * KEYS.length)] ?? 'type'] = value(next, depth + 1)
	}
	return object
}

/** A body that is mostly well-formed, so the fuzz reaches deep into items and parts. */
function body(next: () => number): Record<string, unknown> {
	const shaped = value(next, 0)
	const base: Record<string, unknown> = isRecord(shaped) ? shaped : {}
	if (next() < 0.8) base.model = 'auto'
	if (next() < 0.8) base.input = Array.from({ length: 1 + Math.floor(next() * 4) }, () => value(next, 1))
	return base
}

/** A request using every feature the door translates: the fuzz mutates it at random places. */
const RICH = {
	model: 'auto',
	instructions: 'Be brief',
	input: [
		{
			role: 'user',
			content: [
				{ type: 'input_text', text: 'q' },
				{ type: 'input_image', image_url: 'data:x', detail: 'low' },
			],
		},
		{ type: 'reasoning', summary: [{ type: 'summary_text', text: 's' }], encrypted_content: 'x' },
		{ type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'a', annotations: [] }] },
		{ type: 'function_call', call_id: 'c', name: 'f', arguments: '{}' },
		{ type: 'function_call_output', call_id: 'c', output: [{ type: 'input_text', text: 'r' }] },
		{ role: 'user', content: [{ type: 'input_file', file_data: 'data:y', filename: 'y.pdf' }] },
	],
	tools: [{ type: 'function', name: 'f', parameters: { type: 'object' }, strict: false }],
	tool_choice: { type: 'allowed_tools', mode: 'auto', tools: [{ type: 'function', name: 'f' }] },
	text: { format: { type: 'json_schema', name: 'o', schema: { type: 'object' } }, verbosity: 'low' },
	reasoning: { effort: 'low' },
	max_output_tokens: 10,
	stream: true,
}

/** RICH with one to three of its values, at any depth, replaced by random ones. */
function mutated(next: () => number): Record<string, unknown> {
	const copy = structuredClone(RICH) as Record<string, unknown>
	for (let n = 1 + Math.floor(next() * 3); n > 0; n--) {
		let node: unknown = copy
		while (true) {
			const keys = isRecord(node) || Array.isArray(node) ? Object.keys(node) : []
			const key = keys[Math.floor(next() * keys.length)]
			if (key === undefined) break
			const child = (node as Record<string, unknown>)[key]
			if (next() < 0.35 || !(isRecord(child) || Array.isArray(child))) {
				;(node as Record<string, unknown>)[key] = value(next, 3)
				break
			}
			node = child
		}
	}
	return copy
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
	typeof v === 'object' && v !== null && !Array.isArray(v)

function outcome(run: () => unknown): 'ok' | 'gateway-error' {
	try {
		run()
		return 'ok'
	} catch (error) {
		if (error instanceof GatewayError) return 'gateway-error'
		throw error
	}
}

const ANSWER = {
	id: 'c',
	object: 'chat.completion',
	created: 1,
	model: 'm',
	choices: [
		{
			index: 0,
			message: { role: 'assistant', content: 'x', refusal: null },
			finish_reason: 'stop',
			logprobs: null,
		},
	],
} as ChatResponse

const CHUNKS = [
	{
		id: 'c',
		object: 'chat.completion.chunk',
		created: 1,
		model: 'm',
		choices: [{ index: 0, delta: { content: 'x' }, finish_reason: null }],
	},
	{
		id: 'c',
		object: 'chat.completion.chunk',
		created: 1,
		model: 'm',
		choices: [{ index: 0, delta: {}, finish_reason: 'stop' }],
	},
] as ChatChunk[]

describe('responses door fuzz', () => {
	it('throws nothing but GatewayError for hostile bodies and histories', () => {
		const outcomes = new Set<string>()
		for (let seed = 1; seed <= 3000; seed++) {
			const next = random(seed)
			const request = seed % 2 === 0 ? mutated(next) : body(next)
			const history = next() < 0.3 ? (value(next, 1) as unknown[]) : []
			const safeHistory = Array.isArray(history) ? history : []
			outcomes.add(outcome(() => responsesToChat(request, safeHistory)))
			outcome(() => responsesForRules(request, safeHistory))
		}
		// Both paths were exercised, so the fuzz is not just bouncing off the first check.
		expect([...outcomes].sort()).toEqual(['gateway-error', 'ok'])
	})

	it('renders any request the door accepted without throwing', () => {
		for (let seed = 1; seed <= 500; seed++) {
			const next = random(seed)
			const request = seed % 2 === 0 ? mutated(next) : body(next)
			expect(() => chatToResponse(ANSWER, request, 'resp_f')).not.toThrow()
			const encoder = createResponsesEncoder(request, 'resp_f')
			expect(() => CHUNKS.map((chunk) => encoder.chunk(chunk)).join('') + encoder.end()).not.toThrow()
		}
	})

	it.each([
		['a non-object body', null],
		['an array body', []],
		['a prototype key', JSON.parse('{"model":"m","input":[{"__proto__":{"role":"user"},"content":"x"}]}')],
		[
			'deep nesting',
			{
				model: 'm',
				input: [{ role: 'user', content: [JSON.parse(`${'['.repeat(500)}${']'.repeat(500)}`)] }],
			},
		],
	])('refuses %s with a GatewayError', (_, hostile) => {
		expect(outcome(() => responsesToChat(hostile as Record<string, unknown>))).toBe('gateway-error')
	})
})

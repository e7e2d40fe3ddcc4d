import { describe, expect, it, test } from 'bun:test'
import { type ChatRequestLike, extractFeatures } from '../../src/rules/features'

const image = { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } }

describe('extractFeatures', () => {
	it('estimates tokens as characters / 4, rounded up, plus 4 per message', () => {
		const { features } = extractFeatures({
			messages: [
				{ role: 'system', content: 'abcdef' },
				{ role: 'user', content: 'abc' },
			],
		})
		// 9 characters → 3 tokens, + 2 × 4
		expect(features).toEqual({
			promptTokens: 11,
			messages: 2,
			hasTools: false,
			hasImages: false,
			jsonMode: false,
			maxTokens: null,
		})
	})

	it('counts text parts, refusals, tool call arguments, legacy function calls and tool definitions', () => {
		const tools = [{ type: 'function', function: { name: 'f', parameters: { type: 'object' } } }]
		const { features } = extractFeatures({
			messages: [
				{ role: 'user', content: [{ type: 'text', text: 'a'.repeat(10) }, image] },
				{
					role: 'assistant',
					content: [{ type: 'refusal', refusal: 'b'.repeat(5) }],
					tool_calls: [
						{ id: '1', type: 'function', function: { name: 'f', arguments: 'c'.repeat(7) } },
						{ id: '2', type: 'custom', custom: { name: 'g', input: 'd'.repeat(3) } },
					],
					function_call: { name: 'f', arguments: 'e'.repeat(2) },
				},
				{ role: 'tool', tool_call_id: '1', content: [{ type: 'text', text: 'f'.repeat(4) }] },
			],
			tools,
		})
		// Texts 10 + 5 + 7 + 3 + 2 + 4 and the tools' 76 characters of JSON: 107 / 4 → 27 tokens; 4 per
		// message, 12; 765 for the image. 27 + 12 + 765 = 804.
		expect(features.promptTokens).toBe(804)
		expect(features.hasImages).toBe(true)
		expect(features.hasTools).toBe(true)
	})

	it('adds 765 tokens per image', () => {
		const one = extractFeatures({ messages: [{ role: 'user', content: [image] }] }).features
		const two = extractFeatures({ messages: [{ role: 'user', content: [image, image] }] }).features
		expect([one.promptTokens, two.promptTokens]).toEqual([4 + 765, 4 + 2 * 765])
	})

	test.each<[string, ChatRequestLike, boolean]>([
		['no tools', { messages: [] }, false],
		['an empty tools list', { messages: [], tools: [] }, false],
		['tools', { messages: [], tools: [{ type: 'function', function: { name: 'f' } }] }, true],
		['legacy functions', { messages: [], functions: [{ name: 'f' }] }, true],
		['an empty functions list', { messages: [], functions: [] }, false],
	])('hasTools with %s', (_, body, expected) => {
		expect(extractFeatures(body).features.hasTools).toBe(expected)
	})

	test.each<[string, unknown, boolean]>([
		['no response_format', undefined, false],
		['text', { type: 'text' }, false],
		['json_object', { type: 'json_object' }, true],
		['json_schema', { type: 'json_schema', json_schema: { name: 'x', schema: {} } }, true],
		['null', null, false],
	])('jsonMode with %s', (_, format, expected) => {
		expect(extractFeatures({ messages: [], response_format: format }).features.jsonMode).toBe(expected)
	})

	test.each<[string, ChatRequestLike, number | null]>([
		['neither', { messages: [] }, null],
		['max_tokens', { messages: [], max_tokens: 100 }, 100],
		['max_completion_tokens', { messages: [], max_completion_tokens: 200 }, 200],
		['both: max_completion_tokens wins', { messages: [], max_tokens: 100, max_completion_tokens: 200 }, 200],
		['a null max_completion_tokens', { messages: [], max_tokens: 100, max_completion_tokens: null }, 100],
		['a non-number', { messages: [], max_tokens: '100' }, null],
	])('maxTokens with %s', (_, body, expected) => {
		expect(extractFeatures(body).features.maxTokens).toBe(expected)
	})

	it('takes the last user message, joining its text parts with newlines', () => {
		const { text } = extractFeatures({
			messages: [
				{ role: 'user', content: 'first question' },
				{ role: 'assistant', content: 'an answer' },
				{
					role: 'user',
					content: [{ type: 'text', text: 'line one' }, image, { type: 'text', text: 'line two' }],
				},
				{ role: 'assistant', content: 'later answer' },
			],
		})
		expect(text.lastUserMessage).toBe('line one\nline two')
	})

	it('joins every system and developer message, string or parts, with newlines', () => {
		const { text } = extractFeatures({
			messages: [
				{ role: 'system', content: 'You are terse.' },
				{ role: 'user', content: 'hi' },
				{
					role: 'developer',
					content: [
						{ type: 'text', text: 'Answer in French.' },
						{ type: 'text', text: 'No emoji.' },
					],
				},
			],
		})
		expect(text).toEqual({ lastUserMessage: 'hi', system: 'You are terse.\nAnswer in French.\nNo emoji.' })
	})

	it('returns empty text and zero counts for a body without messages', () => {
		expect(extractFeatures({})).toEqual({
			features: {
				promptTokens: 0,
				messages: 0,
				hasTools: false,
				hasImages: false,
				jsonMode: false,
				maxTokens: null,
			},
			text: { lastUserMessage: '', system: '' },
		})
	})

	it('ignores malformed messages and parts instead of throwing', () => {
		const { features, text } = extractFeatures({
			messages: [
				null,
				'text',
				{ role: 'user', content: [null, 7, { type: 'text', text: 3 }, { type: 'text', text: 'ok' }] },
			],
			tools: 'not a list',
		})
		expect(features).toEqual({
			promptTokens: 1 + 3 * 4,
			messages: 3,
			hasTools: false,
			hasImages: false,
			jsonMode: false,
			maxTokens: null,
		})
		expect(text.lastUserMessage).toBe('ok')
	})
})

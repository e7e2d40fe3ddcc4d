import { describe, expect, it } from 'bun:test'
import type { ChatCompletionMessageParam, ChatCompletionTool } from 'openai/resources/chat/completions'
import { startGateway } from '../../helpers/gateway'

const tools: ChatCompletionTool[] = [
	{
		type: 'function',
		function: {
			name: 'get_weather',
			description: 'Current weather for a city',
			parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
		},
	},
	{
		type: 'function',
		function: { name: 'get_time', parameters: { type: 'object', properties: { zone: { type: 'string' } } } },
	},
]

/** A conversation that already went once through tool calls and their results. */
const conversation: ChatCompletionMessageParam[] = [
	{ role: 'system', content: 'You are terse.' },
	{ role: 'user', content: 'Weather and time in Paris?' },
	{
		role: 'assistant',
		content: null,
		tool_calls: [
			{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
			{
				id: 'call_2',
				type: 'function',
				function: { name: 'get_time', arguments: '{"zone":"Europe/Paris"}' },
			},
		],
	},
	{ role: 'tool', tool_call_id: 'call_1', content: '18°C, cloudy' },
	{ role: 'tool', tool_call_id: 'call_2', content: '14:05' },
	{ role: 'user', content: 'And in Rome?' },
]

const nextCalls = [
	{ name: 'get_weather', arguments: '{"city":"Rome"}' },
	{ name: 'get_time', arguments: '{"zone":"Europe/Rome"}' },
]

describe('Anthropic models through the OpenAI API', () => {
	it('translates the request and answers an OpenAI chat.completion', async () => {
		await using g = await startGateway()
		const { data, response } = await g.openai.chat.completions
			.create({
				model: 'anthropic/claude-haiku-4-5',
				messages: [
					{ role: 'system', content: 'Be brief.' },
					{ role: 'user', content: 'Hi' },
				],
				stop: ['END'],
				temperature: 0.2,
				frequency_penalty: 0.5,
			})
			.withResponse()
		expect(data.object).toBe('chat.completion')
		expect(data.model).toBe('claude-haiku-4-5')
		expect(data.choices[0]?.message.content).toBe('Hello from claude-haiku-4-5')
		expect(data.choices[0]?.finish_reason).toBe('stop')
		expect(response.headers.get('x-switchyard-provider')).toBe('anthropic')
		const [sent] = g.upstream.requests
		expect(sent?.format).toBe('anthropic')
		// The version @anthropic-ai/sdk 1.x sends, which the gateway pins.
		expect(sent?.headers['anthropic-version']).toBe('2026-10-21')
		expect(sent?.body).toEqual({
			model: 'claude-haiku-4-5',
			system: 'Be brief.',
			messages: [{ role: 'user', content: 'Hi' }],
			// Anthropic requires max_tokens: the catalog's output limit for claude-haiku-4-5.
			max_tokens: 64000,
			stop_sequences: ['END'],
			stream: false,
		})
	})

	it('sends images as base64 blocks and JSON mode as an instruction', async () => {
		await using g = await startGateway()
		await g.openai.chat.completions.create({
			model: 'claude-haiku-4-5',
			response_format: { type: 'json_object' },
			messages: [
				{
					role: 'user',
					content: [
						{ type: 'text', text: 'What is this?' },
						{ type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
					],
				},
			],
		})
		const body = g.upstream.requests[0]?.body
		expect(body.messages[0].content[1]).toEqual({
			type: 'image',
			source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' },
		})
		expect(body.system).toContain('JSON')
	})

	it('prices cache reads and writes at their own rates and logs them', async () => {
		await using g = await startGateway()
		g.upstream.script('claude-haiku-4-5', {
			kind: 'reply',
			usage: { prompt: 100, completion: 50, cached: 1000, cacheWrite: 400 },
		})
		const data = await g.openai.chat.completions.create({
			model: 'claude-haiku-4-5',
			messages: [{ role: 'user', content: 'Hi' }],
		})
		expect(data.usage).toMatchObject({ prompt_tokens: 1500, completion_tokens: 50, total_tokens: 1550 })
		expect(data.usage?.prompt_tokens_details?.cached_tokens).toBe(1000)
		const [row] = await g.rows()
		expect(row).toMatchObject({
			promptTokens: 1500,
			cachedTokens: 1000,
			cacheWriteTokens: 400,
			completionTokens: 50,
		})
		// claude-haiku-4-5 at $1 input, $0.10 cached read, $1.25 cache write, $5 output per million:
		// (100 × 1 + 1000 × 0.10 + 400 × 1.25 + 50 × 5) / 1M = 950 / 1M = $0.00095.
		expect(row?.costUsd).toBeCloseTo(0.00095, 12)
	})

	it('streams text with usage at the end and logs the stream priced', async () => {
		await using g = await startGateway()
		const stream = await g.openai.chat.completions.create({
			model: 'claude-haiku-4-5',
			messages: [{ role: 'user', content: 'Hi' }],
			stream: true,
			stream_options: { include_usage: true },
		})
		let text = ''
		let usage: unknown
		for await (const chunk of stream) {
			text += chunk.choices[0]?.delta.content ?? ''
			if (chunk.usage) usage = chunk.usage
		}
		expect(text).toBe('Hello from claude-haiku-4-5')
		// "Hi": 2 characters / 4 → 1 token; the answer's 3 words: 3 tokens.
		expect(usage).toMatchObject({ prompt_tokens: 1, completion_tokens: 3, total_tokens: 4 })
		expect((await g.rows())[0]).toMatchObject({
			stream: true,
			status: 200,
			usageReported: true,
			provider: 'anthropic',
		})
	})

	it('reassembles streamed parallel tool calls in the OpenAI SDK exactly as from OpenAI', async () => {
		await using g = await startGateway()
		const finalFrom = async (model: string) => {
			g.upstream.script(model, { kind: 'reply', text: '', toolCalls: nextCalls })
			const runner = g.openai.chat.completions.stream({
				model,
				messages: conversation,
				tools,
				parallel_tool_calls: true,
			})
			return runner.finalChatCompletion()
		}
		const fromOpenAI = await finalFrom('gpt-4o-mini')
		const fromAnthropic = await finalFrom('claude-haiku-4-5')
		const shape = (completion: typeof fromOpenAI) => ({
			finish: completion.choices[0]?.finish_reason,
			calls: completion.choices[0]?.message.tool_calls?.map((call) =>
				call.type === 'function'
					? { name: call.function.name, args: JSON.parse(call.function.arguments) }
					: call,
			),
		})
		expect(shape(fromAnthropic)).toEqual(shape(fromOpenAI))
		expect(shape(fromAnthropic)).toEqual({
			finish: 'tool_calls',
			calls: [
				{ name: 'get_weather', args: { city: 'Rome' } },
				{ name: 'get_time', args: { zone: 'Europe/Rome' } },
			],
		})
		// The history reached Anthropic as alternating turns with tool_use and tool_result blocks.
		const sent = g.upstream.requests[1]?.body
		expect(sent.system).toBe('You are terse.')
		expect(sent.messages.map((m: { role: string }) => m.role)).toEqual(['user', 'assistant', 'user'])
		expect(sent.messages[1].content.map((b: { type: string }) => b.type)).toEqual(['tool_use', 'tool_use'])
		expect(sent.messages[2].content.map((b: { type: string }) => b.type)).toEqual([
			'tool_result',
			'tool_result',
			'text',
		])
		expect(sent.tools.map((t: { name: string }) => t.name)).toEqual(['get_weather', 'get_time'])
	})

	it('falls back to a healthy provider within a tier of candidates (named models have one)', async () => {
		await using g = await startGateway()
		g.upstream.script('claude-haiku-4-5', { kind: 'error', status: 529 })
		const res = await g.fetch('/chat/completions', {
			method: 'POST',
			body: JSON.stringify({ model: 'claude-haiku-4-5', messages: [{ role: 'user', content: 'Hi' }] }),
		})
		expect(res.status).toBe(502)
		expect((await g.rows())[0]?.attempts).toEqual([
			{
				model: 'anthropic/claude-haiku-4-5',
				provider: 'anthropic',
				status: 529,
				latencyMs: expect.any(Number),
				// The upstream's own message for its 529.
				error: 'Overloaded',
			},
		])
	})
})

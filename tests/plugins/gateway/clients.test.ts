import { describe, expect, it } from 'bun:test'
import { createOpenAICompatible } from '@ai-sdk/openai-compatible'
import { ChatOpenAI } from '@langchain/openai'
import { generateText, streamText } from 'ai'
import { startGateway } from '../../helpers/gateway'

// The gateway's promise: a client changes its base URL and nothing else.
describe('popular clients work unchanged', () => {
	it('Vercel AI SDK (@ai-sdk/openai-compatible): generateText and streamText, on OpenAI and Anthropic models', async () => {
		await using g = await startGateway()
		const switchyard = createOpenAICompatible({
			name: 'switchyard',
			baseURL: g.baseURL,
			apiKey: g.key,
			includeUsage: true,
		})
		// Usage as the fake upstream counts it: "Say hello", 9 characters / 4 → 3 tokens; 3 words of answer.
		const usage = { inputTokens: 3, outputTokens: 3, totalTokens: 6 }
		for (const model of ['openai/gpt-4o-mini', 'anthropic/claude-haiku-4-5']) {
			const id = model.split('/')[1]
			const generated = await generateText({ model: switchyard(model), prompt: 'Say hello' })
			expect(generated.text).toBe(`Hello from ${id}`)
			expect(generated.usage).toMatchObject(usage)
			const streamed = streamText({ model: switchyard(model), prompt: 'Say hello' })
			let text = ''
			for await (const delta of streamed.textStream) text += delta
			expect(text).toBe(`Hello from ${id}`)
			expect(await streamed.usage).toMatchObject(usage)
		}
		expect((await g.rows()).map((row) => [row.model, row.stream, row.status])).toEqual([
			['openai/gpt-4o-mini', false, 200],
			['openai/gpt-4o-mini', true, 200],
			['anthropic/claude-haiku-4-5', false, 200],
			['anthropic/claude-haiku-4-5', true, 200],
		])
	})

	it("LangChain's ChatOpenAI: invoke and stream, on OpenAI and Anthropic models", async () => {
		await using g = await startGateway()
		for (const model of ['gpt-4o-mini', 'claude-haiku-4-5']) {
			const llm = new ChatOpenAI({
				model,
				apiKey: g.key,
				configuration: { baseURL: g.baseURL },
				maxRetries: 0,
			})
			const answer = await llm.invoke('Say hello')
			expect(answer.content).toBe(`Hello from ${model}`)
			let text = ''
			for await (const chunk of await llm.stream('Say hello')) text += String(chunk.content)
			expect(text).toBe(`Hello from ${model}`)
		}
		expect((await g.rows()).map((row) => [row.model, row.stream, row.status, row.usageReported])).toEqual([
			['openai/gpt-4o-mini', false, 200, true],
			['openai/gpt-4o-mini', true, 200, true],
			['anthropic/claude-haiku-4-5', false, 200, true],
			['anthropic/claude-haiku-4-5', true, 200, true],
		])
	})

	it("LangChain's ChatOpenAI: tool calls bound with bindTools come back parsed", async () => {
		await using g = await startGateway()
		g.upstream.script('claude-haiku-4-5', {
			kind: 'reply',
			text: '',
			toolCalls: [{ name: 'get_weather', arguments: '{"city":"Oslo"}' }],
		})
		const llm = new ChatOpenAI({
			model: 'claude-haiku-4-5',
			apiKey: g.key,
			configuration: { baseURL: g.baseURL },
		})
		const withTools = llm.bindTools([
			{
				type: 'function',
				function: {
					name: 'get_weather',
					parameters: { type: 'object', properties: { city: { type: 'string' } } },
				},
			},
		])
		const answer = await withTools.invoke('Weather in Oslo?')
		expect(answer.tool_calls?.map(({ name, args }) => ({ name, args }))).toEqual([
			{ name: 'get_weather', args: { city: 'Oslo' } },
		])
	})
})

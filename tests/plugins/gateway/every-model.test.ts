// The gateway never sends a model what its provider would refuse: every catalog model gets a battery of
// common requests through the running server, against the strict fake upstream, and each one is either
// answered or refused by the gateway itself as something the model cannot take (400 model_incapable),
// never by the upstream.
import { describe, expect, it } from 'bun:test'
import { FAKE_MODELS } from '../../helpers/fake-upstream'
import { startGateway } from '../../helpers/gateway'

const weather = {
	type: 'function',
	function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } },
}
const user = { role: 'user', content: 'What is the weather in Oslo?' }
const toolCall = {
	id: 'call_1',
	type: 'function',
	function: { name: 'get_weather', arguments: '{"city":"Oslo"}' },
}
const toolLoop = [
	user,
	{ role: 'assistant', content: null, tool_calls: [toolCall] },
	{ role: 'tool', tool_call_id: 'call_1', content: 'rain' },
]

const SCENARIOS: Record<string, Record<string, unknown>> = {
	plain: {},
	'developer message': { messages: [{ role: 'developer', content: 'Answer in French.' }, user] },
	stream: { stream: true, stream_options: { include_usage: true } },
	tools: { tools: [weather] },
	'tools, streamed': { tools: [weather], stream: true },
	'forced tool_choice': { tools: [weather], tool_choice: 'required' },
	'named tool_choice': {
		tools: [weather],
		tool_choice: { type: 'function', function: { name: 'get_weather' } },
	},
	'parallel_tool_calls false': { tools: [weather], parallel_tool_calls: false },
	'tool loop without thinking blocks': { messages: toolLoop, tools: [weather] },
	sampling: { temperature: 0.3, top_p: 0.9, presence_penalty: 0.1, frequency_penalty: 0.1, seed: 7 },
	logprobs: { logprobs: true, top_logprobs: 2 },
	stop: { stop: ['END'] },
	'max_tokens above the model maximum': { max_tokens: 10_000_000 },
	max_completion_tokens: { max_completion_tokens: 64 },
	prefill: { messages: [user, { role: 'assistant', content: 'The weather' }] },
	json_object: { response_format: { type: 'json_object' } },
	json_schema: {
		response_format: {
			type: 'json_schema',
			json_schema: { name: 'w', schema: { type: 'object', properties: {} } },
		},
	},
	user: { user: 'user-42' },
	'n of 1': { n: 1 },
	...Object.fromEntries(
		['none', 'minimal', 'low', 'medium', 'high', 'xhigh', 'max'].map((effort) => [
			`effort ${effort}`,
			{ reasoning_effort: effort },
		]),
	),
	'effort high with tools': { reasoning_effort: 'high', tools: [weather] },
	'effort none with tools and temperature': { reasoning_effort: 'none', tools: [weather], temperature: 0.2 },
}

describe('every catalog model, against the strict fake', () => {
	it('is known to the fake upstream', async () => {
		await using g = await startGateway({}, { compatibleProviders: true })
		const unknown = g.t.deps.catalog.models
			.filter((model) => !FAKE_MODELS[model.provider as keyof typeof FAKE_MODELS]?.includes(model.id))
			.map((model) => model.qualifiedId)
		expect(unknown).toEqual([])
	})

	it('is sent only what it takes, for every common request', async () => {
		await using g = await startGateway({}, { compatibleProviders: true })
		const refusedUpstream: string[] = []
		let answered = 0
		let incapable = 0
		for (const model of g.t.deps.catalog.models.filter((m) => !g.t.deps.catalog.retiredOn(m))) {
			for (const [name, fields] of Object.entries(SCENARIOS)) {
				const body = { model: model.qualifiedId, messages: [user], ...fields }
				const res = await g.fetch('/chat/completions', { method: 'POST', body: JSON.stringify(body) })
				const text = await res.text()
				if (res.status === 200 && !text.includes('"error"')) answered++
				else if (res.status === 400 && JSON.parse(text).error?.code === 'model_incapable') incapable++
				else refusedUpstream.push(`${model.qualifiedId} / ${name}: ${res.status} ${text.slice(0, 300)}`)
			}
		}
		expect(refusedUpstream).toEqual([])
		expect(answered).toBeGreaterThan(incapable)
	})
})

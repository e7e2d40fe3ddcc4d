/**
 * What the benchmark sends, per scenario and target. The client request to Switchyard is the one a user
 * sends; `direct` (the fake upstream called straight) and `floor` (through the bare proxy) get the request
 * the upstream receives in that scenario, so the three differ only by what sits in between.
 */

export type ScenarioName = 'openai' | 'anthropic'
export type TargetName = 'direct' | 'floor' | 'switchyard'

export interface Load {
	path: string
	headers: Record<string, string>
	body: string
}

const MESSAGES = [{ role: 'user', content: 'Hello, how are you?' }]
/** The version Switchyard sends, under which the fake upstream applies Anthropic's current rules. */
const ANTHROPIC_VERSION = '2026-10-21'
/** What Switchyard asks for when the client sets no limit: the catalog's maxOutputTokens of claude-haiku-5-5. */
const ANTHROPIC_MAX_TOKENS = 128_000

export const SCENARIOS: Record<ScenarioName, { title: string }> = {
	openai: { title: 'OpenAI, model "auto" (default rules: short-chat → openai/gpt-6-luna)' },
	anthropic: { title: 'Anthropic translation, model "anthropic/claude-haiku-5-5"' },
}
export const SCENARIO_NAMES = Object.keys(SCENARIOS) as ScenarioName[]
export const TARGETS: TargetName[] = ['direct', 'floor', 'switchyard']

/** The request each target gets in `scenario`; `stream` asks for server-sent events. */
export function loadFor(
	scenario: ScenarioName,
	target: TargetName,
	gatewayKey: string,
	stream: boolean,
): Load {
	const json = { 'Content-Type': 'application/json' }
	const streaming = stream ? { stream: true } : {}
	if (target === 'switchyard') {
		const model = scenario === 'openai' ? 'auto' : 'anthropic/claude-haiku-5-5'
		return {
			path: '/v1/chat/completions',
			headers: { ...json, Authorization: `Bearer ${gatewayKey}` },
			body: JSON.stringify({ model, messages: MESSAGES, ...streaming }),
		}
	}
	if (scenario === 'openai') {
		// Switchyard asks for usage in every stream.
		const usage = stream ? { stream_options: { include_usage: true } } : {}
		return {
			path: '/v1/chat/completions',
			headers: { ...json, Authorization: 'Bearer sk-openai-test' },
			body: JSON.stringify({ model: 'gpt-6-luna', messages: MESSAGES, ...streaming, ...usage }),
		}
	}
	return {
		path: '/v1/messages',
		headers: { ...json, 'x-api-key': 'sk-ant-test', 'anthropic-version': ANTHROPIC_VERSION },
		body: JSON.stringify({
			model: 'claude-haiku-5-5',
			max_tokens: ANTHROPIC_MAX_TOKENS,
			messages: MESSAGES,
			stream,
			// Switchyard asks Claude 5.x for readable thinking.
			thinking: { type: 'adaptive', display: 'summarized' },
		}),
	}
}

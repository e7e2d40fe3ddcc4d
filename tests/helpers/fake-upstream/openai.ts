/**
 * OpenAI Chat Completions (`POST /v1/chat/completions`), `openai` SDK 7.x shapes: rules OA-1..OA-10 of
 * docs/providers.md, then answers with OpenAI's usage details and prompt caching.
 */
import { type ChatFlavour, openaiUsage, renderChat } from './chat'
import { type Effort, isPast, type OpenAIModel, openaiModel, quotedList } from './models'
import { reasoningTokens } from './tokens'
import type { Context, Plan } from './types'
import { type Body, given, isRecord, openaiError, openaiErrorFields, openaiRefusal, randomId } from './wire'

/** OA-1: the Chat Completions parameters of the official SDK [O5], plus `moderation` (openai-node 7.57). */
const CHAT_FIELDS = new Set([
	'model',
	'messages',
	'audio',
	'frequency_penalty',
	'function_call',
	'functions',
	'logit_bias',
	'logprobs',
	'max_completion_tokens',
	'max_tokens',
	'metadata',
	'modalities',
	'moderation',
	'n',
	'parallel_tool_calls',
	'prediction',
	'presence_penalty',
	'prompt_cache_key',
	'prompt_cache_options',
	'prompt_cache_retention',
	'reasoning_effort',
	'response_format',
	'safety_identifier',
	'seed',
	'service_tier',
	'stop',
	'store',
	'stream',
	'stream_options',
	'temperature',
	'tool_choice',
	'tools',
	'top_logprobs',
	'top_p',
	'user',
	'verbosity',
	'web_search_options',
])

/** The catalog's sampling fields: refused while reasoning is on (OA-5). */
export const SAMPLING_FIELDS = [
	'temperature',
	'top_p',
	'logprobs',
	'top_logprobs',
	'presence_penalty',
	'frequency_penalty',
	'logit_bias',
	'stop',
]

/** [O6]: prompts of 1,024 tokens and more, cached in 128-token steps. */
export const OPENAI_CACHE = { min: 1024, step: 128 }

export interface Reasoning {
	effort: Effort | null
	on: boolean
}

/** OA-9, OA-10 (and the same 404s on the Responses API). */
export function openaiModelOrRefusal(id: string, now: Date): OpenAIModel | Response {
	const model = openaiModel(id)
	const notFound = (message: string) =>
		openaiError(404, { message, type: 'invalid_request_error', param: null, code: 'model_not_found' })
	if (!model) return notFound(`The model \`${id}\` does not exist or you do not have access to it.`)
	if (isPast(model.shutdown, now)) {
		return notFound(
			`The model \`${id}\` has been deprecated, learn more here: https://platform.openai.com/docs/deprecations`,
		)
	}
	return model
}

/** OA-4 / OR-2's message. */
export function unsupportedEffort(
	value: unknown,
	model: OpenAIModel,
	levels: readonly Effort[],
	param: string,
) {
	return openaiRefusal(
		`Unsupported value: '${value}' is not supported with the '${model.id}' model. Supported values are: ${quotedList(levels)}.`,
		param,
		'unsupported_value',
	)
}

/** OA-5, OA-6 / OR-3 for the given fields, when reasoning is on. */
export function samplingRefusal(
	body: Body,
	model: OpenAIModel,
	fields: readonly string[],
): Response | undefined {
	const legacy = model.family === 'gpt-5' || model.family === 'o3'
	for (const field of fields) {
		if (!given(body, field)) continue
		if (legacy && field === 'temperature') {
			if (body.temperature === 1) continue
			return openaiRefusal(
				`Unsupported value: 'temperature' does not support ${body.temperature} with this model. Only the default (1) value is supported.`,
				'temperature',
				'unsupported_value',
			)
		}
		return openaiRefusal(
			`Unsupported parameter: '${field}' is not supported with this model.`,
			field,
			legacy ? 'unsupported_parameter' : null,
		)
	}
	return undefined
}

export function checkChat(body: Body, ctx: Context): Response | Plan {
	for (const field of Object.keys(body)) {
		if (!CHAT_FIELDS.has(field)) return openaiRefusal(`Unrecognized request argument supplied: ${field}`)
	}
	const model = openaiModelOrRefusal(body.model as string, ctx.now)
	if (model instanceof Response) return model
	const reasoning = chatReasoning(body, model)
	if (reasoning instanceof Response) return reasoning
	if (!model.parallelToolCalls && given(body, 'parallel_tool_calls')) {
		return openaiRefusal(
			"Unsupported parameter: 'parallel_tool_calls' is not supported with this model.",
			'parallel_tool_calls',
			'unsupported_parameter',
		)
	}
	if (reasoning.on) {
		const sampling = samplingRefusal(body, model, SAMPLING_FIELDS)
		if (sampling) return sampling
	}
	const functionTools =
		Array.isArray(body.tools) && body.tools.some((tool) => isRecord(tool) && tool.type === 'function')
	if (
		functionTools &&
		(model.chatTools === 'never' || (model.chatTools === 'reasoning-off' && reasoning.on))
	) {
		return openaiRefusal(
			`Function tools with reasoning_effort are not supported for ${model.id} in /v1/chat/completions. To use function tools, use /v1/responses or set reasoning_effort to 'none'.`,
			'reasoning_effort',
		)
	}
	const flavour: ChatFlavour = {
		provider: 'openai',
		cache: OPENAI_CACHE,
		reportsCacheWrites: model.reportsCacheWrites,
		refusalField: true,
		streamUsage: 'stream_options',
		callId: () => randomId('call_'),
		usage: openaiUsage,
	}
	const request = {
		body,
		model: model.id,
		reasoningTokens: reasoningTokens(reasoning.on ? reasoning.effort : null),
		ctx,
	}
	return {
		model: model.id,
		stream: body.stream === true,
		answer: (reply) => renderChat(request, flavour, reply),
		error: (status, message, type) => {
			const fields = openaiErrorFields(status, message)
			return openaiError(status, type ? { ...fields, type } : fields)
		},
	}
}

/** OA-2, OA-3, OA-4 and the effort the request runs at. */
function chatReasoning(body: Body, model: OpenAIModel): Reasoning | Response {
	if (model.levels === null) {
		if ('reasoning_effort' in body) {
			return openaiRefusal('Unrecognized request argument supplied: reasoning_effort')
		}
		return { effort: null, on: false }
	}
	if (given(body, 'max_tokens')) {
		return openaiRefusal(
			"Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.",
			'max_tokens',
			'unsupported_parameter',
		)
	}
	const value = body.reasoning_effort
	if (given(body, 'reasoning_effort') && !model.chatLevels.includes(value as Effort)) {
		return unsupportedEffort(value, model, model.chatLevels, 'reasoning_effort')
	}
	const effort = given(body, 'reasoning_effort') ? (value as Effort) : model.defaultEffort
	return { effort, on: effort !== 'none' }
}

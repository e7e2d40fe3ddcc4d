/**
 * The OpenAI-compatible providers, each on its documented Chat Completions route: Groq
 * (`/openai/v1/chat/completions`), Mistral (`/v1/chat/completions`), DeepSeek (`/chat/completions`) and
 * Together (`/v1/chat/completions`). Rules GQ-1..GQ-4, MI-1, DS-1 and TG-1 of docs/providers.md.
 */
import { type ChatFlavour, type Counts, renderChat } from './chat'
import { type CompatibleModel, type CompatibleProvider, compatibleModel } from './models'
import { reasoningTokens } from './tokens'
import type { Context, Plan } from './types'
import {
	type Body,
	given,
	isRecord,
	mistralCallId,
	openaiErrorFields,
	randomId,
	requestIdHeader,
} from './wire'

/** GQ-1: the top-level fields Groq's API reference lists, minus the three it documents as a 400. */
const GROQ_FIELDS = new Set([
	'model',
	'messages',
	'citation_options',
	'compound_custom',
	'documents',
	'exclude_domains',
	'frequency_penalty',
	'function_call',
	'functions',
	'include_domains',
	'include_reasoning',
	'max_completion_tokens',
	'max_tokens',
	'metadata',
	'n',
	'parallel_tool_calls',
	'presence_penalty',
	'reasoning_effort',
	'reasoning_format',
	'response_format',
	'search_settings',
	'seed',
	'service_tier',
	'stop',
	'store',
	'stream',
	'stream_options',
	'temperature',
	'tool_choice',
	'tools',
	'top_p',
	'user',
])

/** GQ-2: message fields per role. */
const GROQ_MESSAGE_FIELDS: Record<string, readonly string[]> = {
	system: ['role', 'content'],
	developer: ['role', 'content'],
	user: ['role', 'content'],
	assistant: ['role', 'content', 'tool_calls', 'reasoning', 'function_call'],
	tool: ['role', 'content', 'tool_call_id'],
}

/** MI-1: Mistral's request schema; anything else is `extra_forbidden`. */
const MISTRAL_FIELDS = new Set([
	'model',
	'messages',
	'temperature',
	'top_p',
	'max_tokens',
	'stream',
	'stop',
	'random_seed',
	'response_format',
	'tools',
	'tool_choice',
	'presence_penalty',
	'frequency_penalty',
	'n',
	'prediction',
	'parallel_tool_calls',
	'prompt_mode',
	'safe_prompt',
	'reasoning_effort',
	'prompt_cache_key',
])

const MISTRAL_MESSAGE_FIELDS: Record<string, readonly string[]> = {
	system: ['role', 'content'],
	user: ['role', 'content'],
	assistant: ['role', 'content', 'tool_calls', 'prefix'],
	tool: ['role', 'content', 'tool_call_id', 'name'],
}

/** The providers' automatic caching, as far as their pages describe it (Together reports none). */
const CACHE = {
	groq: { min: 1024, step: 128 },
	mistral: { min: 1024, step: 128 },
	deepseek: { min: 64, step: 64 },
	together: null,
}

export function checkCompatible(provider: CompatibleProvider, body: Body, ctx: Context): Response | Plan {
	const refusal =
		provider === 'mistral' ? checkMistral(body) : provider === 'groq' ? checkGroq(body) : undefined
	if (refusal) return refusal
	const id = body.model as string
	const model = compatibleModel(provider, id)
	if (!model) return unknownModel(provider, id)
	const effort = body.reasoning_effort
	if (model.efforts && given(body, 'reasoning_effort') && !model.efforts.includes(effort as string)) {
		// Groq's observed wording ("none or default"); Together's is ours, in the docs' form.
		const levels =
			provider === 'together'
				? model.efforts.join(', ')
				: `${model.efforts.slice(0, -1).join(', ')} or ${model.efforts.at(-1)}`
		return compatibleError(provider, 400, `reasoning_effort must be one of ${levels}`)
	}
	const reasoning = reasons(provider, model, body)
	if (provider === 'deepseek' && reasoning) {
		const messages = Array.isArray(body.messages) ? body.messages : []
		const unreplayed = messages.some(
			(message) =>
				isRecord(message) &&
				message.role === 'assistant' &&
				Array.isArray(message.tool_calls) &&
				message.tool_calls.length > 0 &&
				typeof message.reasoning_content !== 'string',
		)
		if (unreplayed) {
			return compatibleError(
				provider,
				400,
				'The reasoning_content in the thinking mode must be passed back to the API.',
			)
		}
	}
	const flavour: ChatFlavour = {
		provider,
		cache: CACHE[provider],
		reportsCacheWrites: false,
		refusalField: false,
		streamUsage: provider === 'mistral' ? 'always' : 'stream_options',
		callId: provider === 'mistral' ? mistralCallId : () => randomId('call_'),
		usage: (counts) => usageOf(provider, counts),
		...(provider !== 'mistral' &&
			reasoning && {
				reasoningField: provider === 'deepseek' ? 'reasoning_content' : 'reasoning',
			}),
	}
	const request = { body, model: id, reasoningTokens: reasoning ? reasoningTokens('medium') : 0, ctx }
	return {
		model: id,
		stream: body.stream === true,
		answer: (reply) => renderChat(request, flavour, reply),
		error: (status, message, type) => compatibleError(provider, status, message, type),
	}
}

/** Whether the model reasons on this request, by each provider's switch. */
function reasons(provider: CompatibleProvider, model: CompatibleModel, body: Body): boolean {
	if (!model.reasonsByDefault) return false
	if (provider === 'deepseek') return !(isRecord(body.thinking) && body.thinking.type === 'disabled')
	if (provider === 'groq') return body.reasoning_effort !== 'none' && body.reasoning_format !== 'hidden'
	if (provider === 'together' && isRecord(body.reasoning)) return body.reasoning.enabled !== false
	return true
}

function checkGroq(body: Body): Response | undefined {
	for (const field of Object.keys(body)) {
		if (!GROQ_FIELDS.has(field)) return compatibleError('groq', 400, `property '${field}' is unsupported`)
	}
	const messages = Array.isArray(body.messages) ? body.messages : []
	for (const [i, message] of messages.entries()) {
		if (!isRecord(message)) continue
		const allowed = GROQ_MESSAGE_FIELDS[String(message.role)] ?? []
		const extra = Object.keys(message).find((field) => !allowed.includes(field))
		if (extra === undefined) continue
		return compatibleError(
			'groq',
			400,
			`'messages.${i}' : for 'role:${message.role}' the following must be satisfied[('messages.${i}' : property '${extra}' is unsupported)]`,
		)
	}
	if (given(body, 'n') && body.n !== 1) {
		const bound = (body.n as number) > 1 ? 'at most' : 'at least'
		return compatibleError('groq', 400, `'n' : number must be ${bound} 1`)
	}
	return undefined
}

/** MI-1: every field outside the schema, reported at once as pydantic does. */
function checkMistral(body: Body): Response | undefined {
	const detail: unknown[] = []
	const forbid = (loc: (string | number)[], input: unknown) =>
		detail.push({
			type: 'extra_forbidden',
			loc: ['body', ...loc],
			msg: 'Extra inputs are not permitted',
			input,
		})
	for (const field of Object.keys(body)) if (!MISTRAL_FIELDS.has(field)) forbid([field], body[field])
	const messages = Array.isArray(body.messages) ? body.messages : []
	for (const [i, message] of messages.entries()) {
		if (!isRecord(message)) continue
		const role = String(message.role)
		const allowed = MISTRAL_MESSAGE_FIELDS[role]
		if (!allowed) {
			detail.push({
				type: 'union_tag_invalid',
				loc: ['body', 'messages', i],
				msg: `Input tag '${role}' found using 'role' does not match any of the expected tags: 'system', 'user', 'assistant', 'tool'`,
				input: message,
			})
			continue
		}
		for (const field of Object.keys(message)) {
			if (!allowed.includes(field)) forbid(['messages', i, role, field], message[field])
		}
	}
	if (detail.length === 0) return undefined
	const body422 = {
		object: 'error',
		message: { detail },
		type: 'invalid_request_error',
		param: null,
		code: null,
	}
	return Response.json(body422, { status: 422, headers: requestIdHeader(false) })
}

function unknownModel(provider: CompatibleProvider, id: string): Response {
	if (provider === 'mistral') {
		const body = {
			object: 'error',
			message: `Invalid model: ${id}`,
			type: 'invalid_model',
			param: null,
			code: '1500',
		}
		return Response.json(body, { status: 400, headers: requestIdHeader(false) })
	}
	if (provider === 'deepseek') return compatibleError(provider, 400, 'Model Not Exist')
	const message =
		provider === 'groq'
			? `The model \`${id}\` does not exist or you do not have access to it.`
			: `Unable to access model ${id}. Please visit https://api.together.ai/models to see the list of supported models or contact the owner to request access.`
	return compatibleError(provider, 404, message, undefined, 'model_not_found')
}

/** Each provider's error body: Groq leaves out param and code, DeepSeek repeats the type as code. */
export function compatibleError(
	provider: CompatibleProvider,
	status: number,
	message?: string,
	type?: string,
	code?: string,
): Response {
	const fields = openaiErrorFields(status, message)
	const kind = type ?? fields.type
	const headers = requestIdHeader(false)
	if (provider === 'mistral') {
		const body = { object: 'error', message: fields.message, type: kind, param: null, code: code ?? null }
		return Response.json(body, { status, headers })
	}
	if (provider === 'groq') {
		return Response.json(
			{ error: { message: fields.message, type: kind, ...(code && { code }) } },
			{ status, headers },
		)
	}
	const error = {
		message: fields.message,
		type: kind,
		param: null,
		code: code ?? (provider === 'deepseek' ? kind : fields.code),
	}
	return Response.json({ error }, { status, headers })
}

function usageOf(provider: CompatibleProvider, counts: Counts): Record<string, unknown> {
	const base = {
		prompt_tokens: counts.prompt,
		completion_tokens: counts.completion,
		total_tokens: counts.prompt + counts.completion,
	}
	if (provider === 'together') return base
	if (provider === 'mistral') return { ...base, prompt_tokens_details: { cached_tokens: counts.cached } }
	const details = {
		...base,
		prompt_tokens_details: { cached_tokens: counts.cached },
		completion_tokens_details: { reasoning_tokens: counts.reasoning },
	}
	if (provider === 'groq') return details
	return {
		...details,
		prompt_cache_hit_tokens: counts.cached,
		prompt_cache_miss_tokens: counts.prompt - counts.cached,
	}
}

/** Each provider's answer to a missing or wrong key. */
export function compatibleAuthError(provider: CompatibleProvider): Response {
	const headers = requestIdHeader(false)
	if (provider === 'mistral') {
		return Response.json({ message: 'Unauthorized', request_id: randomId('') }, { status: 401, headers })
	}
	if (provider === 'deepseek') {
		const message = 'Authentication Fails, Your api key is invalid'
		return compatibleError(provider, 401, message, 'authentication_error', 'invalid_request_error')
	}
	const message =
		provider === 'groq'
			? 'Invalid API Key'
			: 'Invalid API key provided. You can find your API key at https://api.together.xyz/settings/api-keys.'
	return compatibleError(provider, 401, message, 'invalid_request_error', 'invalid_api_key')
}

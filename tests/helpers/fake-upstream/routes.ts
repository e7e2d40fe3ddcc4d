/**
 * Routing and the checks every API makes before reading a request: the route, the key, Anthropic's
 * version header, a JSON body with the required fields. Also each provider's model list.
 */
import { compatibleAuthError, compatibleError } from './compatible'
import {
	ANTHROPIC_MODELS,
	EMBEDDING_MODELS,
	FAKE_MODELS,
	isPast,
	OPENAI_MODELS,
	type Provider,
} from './models'
import type { Format } from './types'
import {
	anthropicError,
	isRecord,
	openaiError,
	openaiErrorFields,
	openaiRefusal,
	requestIdHeader,
} from './wire'

/** What the checks need from the server: its keys and its clock. */
export interface Gate {
	keys: Record<Provider, Set<string>>
	now: () => Date
}

/** Each provider's chat route, as its SDK or docs build it from the base URL. */
export const CHAT_ROUTES: Record<string, Format> = {
	'/v1/chat/completions': 'openai',
	'/v1/responses': 'openai-responses',
	'/v1/embeddings': 'openai-embeddings',
	'/v1/messages': 'anthropic',
	'/v1/messages/count_tokens': 'anthropic-count-tokens',
	'/groq/openai/v1/chat/completions': 'groq',
	'/mistral/v1/chat/completions': 'mistral',
	// DeepSeek's base URL has no /v1; its docs allow one.
	'/deepseek/chat/completions': 'deepseek',
	'/deepseek/v1/chat/completions': 'deepseek',
	'/together/v1/chat/completions': 'together',
}

const MODEL_ROUTES: Record<string, Format> = {
	'/groq/openai/v1/models': 'groq',
	'/mistral/v1/models': 'mistral',
	'/deepseek/models': 'deepseek',
	'/deepseek/v1/models': 'deepseek',
	'/together/v1/models': 'together',
}

/** Route, auth, version header and body checks, in the order the real APIs apply them. */
export function reject(
	gate: Gate,
	request: Request,
	format: Format,
	path: string,
	parsed: boolean,
	body: unknown,
) {
	const route = `${request.method} ${path}`
	const chat = request.method === 'POST' && CHAT_ROUTES[path] === format
	const models = request.method === 'GET' && (path === '/v1/models' || MODEL_ROUTES[path] === format)
	if (!chat && !models) return notFound(format, route)
	if (format === 'anthropic' || format === 'anthropic-count-tokens') {
		return rejectAnthropic(gate, request, format, models, parsed, body)
	}
	const provider =
		format === 'openai' || format === 'openai-responses' || format === 'openai-embeddings' ? 'openai' : format
	const key = bearer(request)
	if (provider !== 'openai') {
		if (key === undefined || !gate.keys[provider].has(key)) return compatibleAuthError(provider)
	} else if (key === undefined) {
		const message =
			"You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY)."
		return openaiRefusalWith(401, message)
	} else if (!gate.keys.openai.has(key)) {
		return openaiError(401, openaiErrorFields(401, incorrectKeyMessage(key)))
	}
	if (models) return modelList(provider, gate.now())
	if (!parsed || !isRecord(body)) {
		const message =
			"We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON.)"
		return provider === 'openai' ? openaiRefusal(message) : compatibleError(provider, 400, message)
	}
	if (typeof body.model !== 'string') {
		if (format === 'openai-responses') {
			return openaiRefusal("Missing required parameter: 'model'.", 'model', 'missing_required_parameter')
		}
		return provider === 'openai'
			? openaiRefusal('you must provide a model parameter')
			: compatibleError(provider, 400, 'you must provide a model parameter')
	}
	if (format === 'openai-responses' || format === 'openai-embeddings') return undefined
	if (!Array.isArray(body.messages)) {
		if (provider !== 'openai') {
			return compatibleError(provider, 400, "Missing required parameter: 'messages'.")
		}
		return openaiRefusal("Missing required parameter: 'messages'.", 'messages', 'missing_required_parameter')
	}
	return undefined
}

/** AN-18: the versions Anthropic publishes [A1]; any other value is refused. */
export const ANTHROPIC_VERSIONS = ['2023-01-01', '2023-06-01', '2026-10-21']

function rejectAnthropic(
	gate: Gate,
	request: Request,
	format: Format,
	models: boolean,
	parsed: boolean,
	body: unknown,
) {
	const key = request.headers.get('x-api-key') ?? bearer(request)
	if (key === undefined) return anthropicError(401, 'x-api-key header is required')
	if (!gate.keys.anthropic.has(key)) return anthropicError(401, 'invalid x-api-key')
	const version = request.headers.get('anthropic-version')
	if (version === null) return anthropicError(400, 'anthropic-version: header is required')
	if (!ANTHROPIC_VERSIONS.includes(version)) {
		return anthropicError(400, `anthropic-version: "${version}" is not a valid version`)
	}
	if (models) return modelList('anthropic', gate.now())
	if (!parsed || !isRecord(body)) return anthropicError(400, 'There was an error parsing the body')
	// Counting tokens generates nothing, so it takes no max_tokens [A10].
	const required = format === 'anthropic' ? ['model', 'messages', 'max_tokens'] : ['model', 'messages']
	for (const field of required) {
		if (body[field] === undefined) return anthropicError(400, `${field}: Field required`)
	}
	if (typeof body.model !== 'string') return anthropicError(400, 'model: Input should be a valid string')
	return undefined
}

/** The provider's model list, retired models left out. */
function modelList(provider: Provider, today: Date): Response {
	if (provider === 'anthropic') {
		const data = ANTHROPIC_MODELS.filter((model) => !isPast(model.retired, today)).map((model) => ({
			type: 'model',
			id: model.id,
			display_name: model.id,
			created_at: '2025-10-01T00:00:00Z',
		}))
		const page = { data, has_more: false, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null }
		return Response.json(page, { headers: requestIdHeader(true) })
	}
	const ids =
		provider === 'openai'
			? [
					...OPENAI_MODELS.filter((model) => !isPast(model.shutdown, today)).map((model) => model.id),
					...EMBEDDING_MODELS.map((model) => model.id),
				]
			: FAKE_MODELS[provider]
	const data = ids.map((id) => ({
		id,
		object: 'model',
		created: 1_715_367_049,
		owned_by: ownerOf(provider),
	}))
	return Response.json({ object: 'list', data }, { headers: requestIdHeader(false) })
}

export function formatOf(request: Request, path: string): Format {
	const routed = CHAT_ROUTES[path] ?? MODEL_ROUTES[path]
	if (routed) return routed
	const prefix = path.split('/')[1]
	if (prefix === 'groq' || prefix === 'mistral' || prefix === 'deepseek' || prefix === 'together') {
		return prefix
	}
	return request.headers.has('anthropic-version') || request.headers.has('x-api-key') ? 'anthropic' : 'openai'
}

function notFound(format: Format, route: string): Response {
	if (format === 'anthropic') return anthropicError(404, 'Not Found')
	if (format === 'mistral') return Response.json({ detail: 'Not Found' }, { status: 404 })
	return openaiRefusalWith(404, `Invalid URL (${route})`)
}

function openaiRefusalWith(status: number, message: string): Response {
	return openaiError(status, { message, type: 'invalid_request_error', param: null, code: null })
}

function ownerOf(provider: Exclude<Provider, 'anthropic'>): string {
	const owners: Record<Exclude<Provider, 'anthropic'>, string> = {
		openai: 'system',
		groq: 'groq',
		mistral: 'mistralai',
		deepseek: 'deepseek',
		together: 'together',
	}
	return owners[provider]
}

function bearer(request: Request): string | undefined {
	const header = request.headers.get('authorization')
	if (!header?.startsWith('Bearer ')) return undefined
	return header.slice('Bearer '.length).trim()
}

/**
 * OpenAI's 401 for a wrong key repeats it, masked: its first 8 characters, then stars, then its last 4
 * (observed: "Incorrect API key provided: sk-PMafP****…E873. You can find your API key at …").
 */
function incorrectKeyMessage(key: string): string {
	const shown = key.length > 12 ? `${key.slice(0, 8)}${'*'.repeat(key.length - 12)}${key.slice(-4)}` : key
	return `Incorrect API key provided: ${shown}. You can find your API key at https://platform.openai.com/account/api-keys.`
}

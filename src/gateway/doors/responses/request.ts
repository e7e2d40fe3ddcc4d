// A Responses API request as a Chat Completions request, for the rules and for every upstream but OpenAI.
// Validates what it reads and throws only `badRequest`, naming the field as OpenAI does (`input[2].content[0]`).
//
// Dropped, with no Chat Completions equivalent: `background`, `conversation`, `include`, `max_tool_calls`,
// `prompt`, `store`, `truncation`, `top_logprobs`, `stream_options`, `context_management`,
// `reasoning.summary` (Claude's thinking is always summarised), and `previous_response_id` (the caller
// resolves it into `history`). OpenAI's own `encrypted_content` is dropped: no other provider can read it.
import { badRequest } from '../../../errors'
import type { ChatRequest } from '../../../providers/types'
import {
	check,
	HOSTED_TOOL_MESSAGE,
	label,
	type Mode,
	openaiOnly,
	present,
	string,
	toMessages,
} from './items'
import { isObject } from './output'

type Json = Record<string, unknown>

/** Request fields carried to Chat Completions under the same name, with the JSON type each must have. */
const SAME_FIELDS: Record<string, 'number' | 'string' | 'boolean' | 'object'> = {
	temperature: 'number',
	top_p: 'number',
	parallel_tool_calls: 'boolean',
	user: 'string',
	safety_identifier: 'string',
	prompt_cache_key: 'string',
	prompt_cache_retention: 'string',
	service_tier: 'string',
	metadata: 'object',
}

function toTools(tools: unknown, mode: Mode): Json[] {
	check(tools, 'array', 'tools')
	return (tools as unknown[]).map((tool, i) => {
		const path = `tools[${i}]`
		if (!isObject(tool)) throw badRequest(`${path} must be an object`, path)
		if (tool.type !== 'function') {
			// The rules only ask whether there are tools: a hosted one stands in as a function of its type's name.
			if (mode.rules) return { type: 'function', function: { name: label(tool.type) } }
			throw openaiOnly(
				`Tools of type ${label(tool.type)} are not supported: ${HOSTED_TOOL_MESSAGE}`,
				`${path}.type`,
			)
		}
		const fn: Json = { name: string(tool, 'name', path) }
		if (typeof tool.description === 'string') fn.description = tool.description
		if (tool.parameters !== undefined && tool.parameters !== null) {
			check(tool.parameters, 'object', `${path}.parameters`)
			fn.parameters = tool.parameters
		}
		// Left out, the Responses API makes the schema strict by rewriting it; a chat upstream gets it as sent.
		if (typeof tool.strict === 'boolean') fn.strict = tool.strict
		return { type: 'function', function: fn }
	})
}

/** The function a tool choice names; a hosted tool's stand-in name for the rules (see toTools). */
function functionName(choice: Json, param: string, mode: Mode): string {
	if (choice.type === 'function') return string(choice, 'name', param)
	if (mode.rules) return label(choice.type)
	throw openaiOnly(
		`tool_choice of type ${label(choice.type)} is not supported: ${HOSTED_TOOL_MESSAGE}`,
		param,
	)
}

/** Sets `tool_choice`; `allowed_tools` is enforced by sending only those tools, as chat upstreams have no such list. */
function applyToolChoice(chat: Json, choice: unknown, mode: Mode): void {
	if (choice === 'auto' || choice === 'none' || choice === 'required') {
		chat.tool_choice = choice
		return
	}
	if (!isObject(choice))
		throw badRequest('tool_choice must be auto, none, required or an object', 'tool_choice')
	if (choice.type !== 'allowed_tools') {
		chat.tool_choice = { type: 'function', function: { name: functionName(choice, 'tool_choice', mode) } }
		return
	}
	if (choice.mode !== 'auto' && choice.mode !== 'required') {
		throw badRequest('tool_choice.mode must be auto or required', 'tool_choice.mode')
	}
	check(choice.tools, 'array', 'tool_choice.tools')
	const allowed = new Set(
		(choice.tools as unknown[]).map((tool, i) => {
			const param = `tool_choice.tools[${i}]`
			if (!isObject(tool)) throw badRequest(`${param} must be an object`, param)
			return functionName(tool, param, mode)
		}),
	)
	const tools = (chat.tools ?? []) as { function: { name: string } }[]
	chat.tools = tools.filter((tool) => allowed.has(tool.function.name))
	chat.tool_choice = choice.mode
}

function toResponseFormat(format: unknown): Json {
	if (!isObject(format)) throw badRequest('text.format must be an object', 'text.format')
	if (format.type === 'text' || format.type === 'json_object') return { type: format.type }
	if (format.type !== 'json_schema') {
		throw badRequest(`text.format of type ${label(format.type)} is not supported`, 'text.format.type')
	}
	check(format.schema, 'object', 'text.format.schema')
	const schema: Json = { name: string(format, 'name', 'text.format'), schema: format.schema }
	if (typeof format.strict === 'boolean') schema.strict = format.strict
	if (typeof format.description === 'string') schema.description = format.description
	return { type: 'json_schema', json_schema: schema }
}

function applyText(chat: Json, text: unknown): void {
	if (!isObject(text)) throw badRequest('text must be an object', 'text')
	if (text.format !== undefined && text.format !== null) chat.response_format = toResponseFormat(text.format)
	if (text.verbosity !== undefined && text.verbosity !== null)
		chat.verbosity = string(text, 'verbosity', 'text')
}

function translate(body: Record<string, unknown>, history: unknown[], mode: Mode): ChatRequest {
	if (!isObject(body)) throw badRequest('The request body must be a JSON object')
	const chat: Json = { model: string(body, 'model', '') }
	const messages = toMessages(body.instructions, history, body.input, mode)
	if (!messages.some((message) => message.role !== 'system')) {
		throw badRequest('Missing required parameter: input', 'input')
	}
	chat.messages = messages

	if (present(body.tools)) chat.tools = toTools(body.tools, mode)
	if (present(body.tool_choice)) applyToolChoice(chat, body.tool_choice, mode)
	for (const [key, type] of Object.entries(SAME_FIELDS)) {
		if (!present(body[key])) continue
		check(body[key], type, key)
		chat[key] = body[key]
	}
	if (present(body.max_output_tokens)) {
		check(body.max_output_tokens, 'number', 'max_output_tokens')
		chat.max_completion_tokens = body.max_output_tokens
	}
	if (present(body.reasoning)) {
		check(body.reasoning, 'object', 'reasoning')
		const effort = (body.reasoning as Json).effort
		if (present(effort)) chat.reasoning_effort = string(body.reasoning as Json, 'effort', 'reasoning')
	}
	if (present(body.text)) applyText(chat, body.text)
	if (present(body.stream)) {
		check(body.stream, 'boolean', 'stream')
		// The Responses stream always ends with usage, so the chat stream must carry it.
		if (body.stream) Object.assign(chat, { stream: true, stream_options: { include_usage: true } })
	}
	// The Responses API takes tool settings without tools; Chat Completions refuses them (and an empty list).
	if (!(chat.tools as unknown[] | undefined)?.length) {
		delete chat.tools
		delete chat.tool_choice
		delete chat.parallel_tool_calls
	}
	return chat as unknown as ChatRequest
}

/**
 * A Responses request (`body`) as a Chat Completions request for an upstream. `history` holds the items of
 * earlier turns (their input, then their output), which come after `instructions` and before `body.input`.
 * What only OpenAI runs (built-in tools, files by id, item references) throws code `openai_only`.
 */
export function responsesToChat(body: Record<string, unknown>, history: unknown[] = []): ChatRequest {
	return translate(body, history, { rules: false })
}

/**
 * The same request as the rules see it, for one `responsesToChat` refused as `openai_only`: built-in tools
 * stand in as functions named after their type, images and files by id stay images and files, hosted-tool
 * items are left out. Never sent upstream.
 */
export function responsesForRules(body: Record<string, unknown>, history: unknown[] = []): ChatRequest {
	return translate(body, history, { rules: true })
}

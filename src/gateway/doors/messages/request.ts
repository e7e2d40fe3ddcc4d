// An Anthropic Messages request (API version 2026-10-21, as Claude Code and @anthropic-ai/sdk send it) as a
// Chat Completions request: the exact inverse of src/providers/anthropic/transform.ts, so that a body sent
// through both comes back with the same meaning. Sources in ./index.ts.
import type { ChatCompletionTool, ChatCompletionToolChoiceOption } from 'openai/resources/chat/completions'
import { badRequest } from '../../../errors'
import type { ChatRequest } from '../../../providers/types'
import { extractFeatures } from '../../../rules/features'
import { anthropicOnly, type Message, type Reader, systemMessage, turnMessages } from './content'
import {
	cacheControl,
	isRecord,
	type Json,
	list,
	optionalBoolean,
	optionalNumber,
	optionalText,
	record,
	text,
	typeOf,
} from './read'

/** Anthropic's effort levels; each has a `reasoning_effort` of the same name. */
const EFFORTS = new Set(['low', 'medium', 'high', 'xhigh', 'max'])

/**
 * A thinking budget as the smallest effort level whose budget in thinking.ts covers it, so that a level
 * translated to a budget there comes back as the same level here.
 */
const BUDGET_LEVELS = [
	{ upTo: 2048, level: 'low' },
	{ upTo: 8192, level: 'medium' },
] as const

const TOOL_CHOICES = { auto: 'auto', any: 'required', none: 'none' } as const satisfies Record<
	string,
	ChatCompletionToolChoiceOption
>

/**
 * The Chat Completions request an Anthropic Messages body stands for. Throws a 400 `GatewayError` naming
 * the field for a malformed body, and one with code `anthropic_only` for what no other model can run.
 */
export function messagesToChat(body: Record<string, unknown>): ChatRequest {
	return translate(body, false)
}

/**
 * The chat request the rules classify when `messagesToChat` refused with code `anthropic_only`: the same
 * translation, leaving out what only Anthropic runs (server tools, Files API ids, MCP servers) instead of
 * refusing it. Malformed bodies are still refused.
 */
export function messagesForRules(body: Record<string, unknown>): ChatRequest {
	return translate(body, true)
}

/**
 * Input tokens of a Messages body, estimated as the rules estimate a chat request (src/rules/features.ts:
 * characters / 4, 4 per message, 765 per image), plus the JSON of the tools only Anthropic runs.
 */
export function estimateMessagesTokens(body: Record<string, unknown>): number {
	const chat = translate(body, true)
	const tools = Array.isArray(body.tools)
		? body.tools.filter((tool) => isRecord(tool) && tool.type !== undefined && tool.type !== 'custom')
		: []
	const anthropicTools = tools.length > 0 ? Math.ceil(JSON.stringify(tools).length / 4) : 0
	return extractFeatures(chat).features.promptTokens + anthropicTools
}

function translate(input: unknown, lenient: boolean): ChatRequest {
	if (!isRecord(input)) throw badRequest('The request body must be a JSON object')
	const body = input
	const model = text(body.model, 'model')
	if (model === '') throw badRequest('model: expected a model name', 'model')
	const reader: Reader = { lenient, model }

	const messages: Message[] = []
	const system = systemMessage(body.system, 'system')
	if (system) messages.push(system)
	const turns = list(body.messages, 'messages')
	if (turns.length === 0) throw badRequest('messages: at least one message is required', 'messages')
	turns.forEach((turn, i) => {
		messages.push(...turnMessages(turn, `messages[${i}]`, reader))
	})

	const request: Json = { model, messages }
	const maxTokens = optionalNumber(body.max_tokens, 'max_tokens', { min: 1, integer: true })
	if (maxTokens === undefined && !lenient) throw badRequest('max_tokens: required', 'max_tokens')
	if (maxTokens !== undefined) request.max_tokens = maxTokens
	const stop = stopSequences(body.stop_sequences)
	if (stop.length > 0) request.stop = stop
	const temperature = optionalNumber(body.temperature, 'temperature', { min: 0, max: 1 })
	if (temperature !== undefined) request.temperature = temperature
	const topP = optionalNumber(body.top_p, 'top_p', { min: 0, max: 1 })
	if (topP !== undefined) request.top_p = topP
	// top_k has no Chat Completions equivalent: left out.
	const metadata =
		body.metadata === undefined || body.metadata === null ? {} : record(body.metadata, 'metadata')
	const user = optionalText(metadata.user_id, 'metadata.user_id')
	if (user) request.user = user
	if (optionalBoolean(body.stream, 'stream')) {
		request.stream = true
		// The door's message_delta reports usage, which a chat stream sends only when asked.
		request.stream_options = { include_usage: true }
	}
	const output =
		body.output_config === undefined || body.output_config === null
			? {}
			: record(body.output_config, 'output_config')
	const effort = reasoningEffort(body.thinking, output.effort, reader)
	if (effort) request.reasoning_effort = effort
	const format = responseFormat(output.format, reader)
	if (format) request.response_format = format
	if (Array.isArray(body.mcp_servers) && body.mcp_servers.length > 0) {
		anthropicOnly(
			reader,
			'mcp_servers: MCP servers are run by Anthropic; only Anthropic models can use them',
			'mcp_servers',
		)
	}
	const tools = body.tools === undefined || body.tools === null ? [] : chatTools(body.tools, reader)
	if (tools.length > 0) {
		request.tools = tools
		// Chat Completions refuses tool_choice and parallel_tool_calls without tools; Anthropic ignores them.
		Object.assign(request, toolChoice(body.tool_choice, reader))
	}
	return request as unknown as ChatRequest
}

function stopSequences(value: unknown): string[] {
	if (value === undefined || value === null) return []
	return list(value, 'stop_sequences').map((sequence, i) => text(sequence, `stop_sequences[${i}]`))
}

/**
 * Custom tools become functions (input_schema as parameters). Anthropic-defined tools (web search, bash, text
 * editor, code execution, computer use, memory…) have no chat equivalent: refused, so that the pipeline tries
 * Anthropic models only.
 */
function chatTools(value: unknown, reader: Reader): ChatCompletionTool[] {
	return list(value, 'tools').flatMap((item, i): ChatCompletionTool[] => {
		const param = `tools[${i}]`
		const tool = record(item, param)
		const type = tool.type === undefined || tool.type === null ? 'custom' : text(tool.type, `${param}.type`)
		if (type !== 'custom') {
			anthropicOnly(
				reader,
				`${param}: ${type} is a tool Anthropic defines; only Anthropic models can run it`,
				`${param}.type`,
			)
			return []
		}
		const name = text(tool.name, `${param}.name`)
		const description = optionalText(tool.description, `${param}.description`)
		const parameters = record(tool.input_schema, `${param}.input_schema`)
		const strict = optionalBoolean(tool.strict, `${param}.strict`)
		const fn = { name, ...(description && { description }), parameters, ...(strict === true && { strict }) }
		return [{ type: 'function', function: fn, ...cacheControl(tool, param) } as ChatCompletionTool]
	})
}

function toolChoice(value: unknown, reader: Reader): Json {
	if (value === undefined || value === null) return {}
	const choice = record(value, 'tool_choice')
	const type = typeOf(choice, 'tool_choice')
	let mapped: ChatCompletionToolChoiceOption
	if (type === 'tool') {
		mapped = { type: 'function', function: { name: text(choice.name, 'tool_choice.name') } }
	} else if (Object.hasOwn(TOOL_CHOICES, type)) {
		mapped = TOOL_CHOICES[type as keyof typeof TOOL_CHOICES]
	} else {
		anthropicOnly(
			reader,
			`tool_choice.type: ${type} is not a tool choice other models know`,
			'tool_choice.type',
		)
		return {}
	}
	const serial = optionalBoolean(choice.disable_parallel_tool_use, 'tool_choice.disable_parallel_tool_use')
	return { tool_choice: mapped, ...(serial === true && type !== 'none' && { parallel_tool_calls: false }) }
}

/**
 * `thinking` and `output_config.effort` as one `reasoning_effort`: thinking turned off is `none`; an effort
 * is the level of the same name; a budget is the level whose budget (thinking.ts) covers it; adaptive
 * thinking without an effort leaves the model its default.
 */
function reasoningEffort(thinkingValue: unknown, effortValue: unknown, reader: Reader): string | undefined {
	let effort = optionalText(effortValue, 'output_config.effort')
	if (effort !== undefined && !EFFORTS.has(effort)) {
		anthropicOnly(
			reader,
			`output_config.effort: ${effort} is not an effort other models know`,
			'output_config.effort',
		)
		effort = undefined
	}
	if (thinkingValue === undefined || thinkingValue === null) return effort
	const thinking = record(thinkingValue, 'thinking')
	const type = typeOf(thinking, 'thinking')
	if (type === 'disabled' || type === 'between_tools') return 'none'
	if (type === 'adaptive') return effort
	if (type !== 'enabled') {
		anthropicOnly(reader, `thinking.type: ${type} is not a thinking mode other models know`, 'thinking.type')
		return effort
	}
	const budget = optionalNumber(thinking.budget_tokens, 'thinking.budget_tokens', { min: 1, integer: true })
	if (budget === undefined) throw badRequest('thinking.budget_tokens: required', 'thinking.budget_tokens')
	return effort ?? BUDGET_LEVELS.find((step) => budget <= step.upTo)?.level ?? 'high'
}

/** `output_config.format` (a JSON schema) as the `response_format` transform.ts turns back into it. */
function responseFormat(value: unknown, reader: Reader): Json | undefined {
	if (value === undefined || value === null) return undefined
	const format = record(value, 'output_config.format')
	const type = typeOf(format, 'output_config.format')
	if (type !== 'json_schema') {
		anthropicOnly(
			reader,
			`output_config.format.type: ${type} is not an output format other models know`,
			'output_config.format.type',
		)
		return undefined
	}
	const schema = record(format.schema, 'output_config.format.schema')
	return { type: 'json_schema', json_schema: { name: 'response', schema, strict: true } }
}

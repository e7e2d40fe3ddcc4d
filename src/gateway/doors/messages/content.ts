// The messages of an Anthropic Messages request as chat messages: the inverse of how
// src/providers/anthropic/transform.ts builds Anthropic turns from chat messages. Sources in ./index.ts.
import type {
	ChatCompletionContentPart,
	ChatCompletionContentPartText,
	ChatCompletionMessageFunctionToolCall,
	ChatCompletionMessageParam,
} from 'openai/resources/chat/completions'
import { badRequest } from '../../../errors'
import type { ThinkingBlock } from '../../../providers/anthropic/response'
import {
	cacheControl,
	invalid,
	isRecord,
	type Json,
	list,
	optionalBoolean,
	optionalText,
	record,
	text,
	typeOf,
} from './read'

type Cacheable = { cache_control?: Json }
type TextPart = ChatCompletionContentPartText & Cacheable
type UserPart = ChatCompletionContentPart & Cacheable
/** A chat message with the fields the gateway adds to OpenAI's (transform.ts reads them back). */
export type Message = ChatCompletionMessageParam &
	Cacheable & { reasoning_content?: string; thinking_blocks?: ThinkingBlock[] }

/**
 * The code of the 400 thrown for what only an Anthropic model can do (server tools, Files API ids, MCP
 * servers): the request is valid, but no other model can take it.
 */
const ANTHROPIC_ONLY = 'anthropic_only'

export interface Reader {
	/** Token counts and rules: what only Anthropic runs is left out, not refused; max_tokens is optional. */
	lenient: boolean
	/** The model the thinking blocks sent back are tagged with (`ThinkingBlock.model`). */
	model: string
}

/**
 * Refuses what only Anthropic models take. Values Anthropic may add later (block, source, tool, thinking
 * types) are refused this way too, not as malformed, so that a newer client still reaches Anthropic.
 */
export function anthropicOnly(reader: Reader, message: string, param: string): void {
	if (!reader.lenient) throw badRequest(message, param, ANTHROPIC_ONLY)
}

/** `system` as a string or text blocks; their cache_control stays on the parts, where transform.ts reads it. */
export function systemMessage(value: unknown, param: string): Message | undefined {
	if (value === undefined || value === null) return undefined
	if (typeof value === 'string') return value === '' ? undefined : { role: 'system', content: value }
	const parts = list(value, param).map((block, j) => textPart(block, `${param}[${j}]`))
	return parts.length > 0 ? { role: 'system', content: parts } : undefined
}

function textPart(value: unknown, param: string): TextPart {
	const block = record(value, param)
	const type = typeOf(block, param)
	if (type !== 'text') invalid(`${param}.type`, "'text'", type)
	// Citations point into documents of this conversation; the chat form has nowhere to keep them.
	return { type: 'text', text: text(block.text, `${param}.text`), ...cacheControl(block, param) }
}

export function turnMessages(value: unknown, param: string, reader: Reader): Message[] {
	const turn = record(value, param)
	const role = turn.role
	if (role === 'user') return userMessages(turn.content, `${param}.content`, reader)
	if (role === 'assistant') return [assistantMessage(turn.content, `${param}.content`, reader)]
	if (role === 'system') {
		const system = systemMessage(turn.content, `${param}.content`)
		return system ? [system] : []
	}
	return invalid(`${param}.role`, "'user', 'assistant' or 'system'", role)
}

function blocksOf(content: unknown, param: string): Json[] {
	return list(content, param).map((block, j) => record(block, `${param}[${j}]`))
}

/**
 * A user turn: its tool results become `tool` messages, in order, and the rest one user message after them,
 * as Chat Completions wants the answers right after the assistant message that called the tools. Images and
 * documents inside tool results move to that user message: a chat tool message holds text only.
 */
function userMessages(content: unknown, param: string, reader: Reader): Message[] {
	if (typeof content === 'string') return [{ role: 'user', content }]
	const tools: Message[] = []
	const fromTools: UserPart[] = []
	const parts: UserPart[] = []
	blocksOf(content, param).forEach((block, j) => {
		const at = `${param}[${j}]`
		if (block.type === 'tool_result') tools.push(toolMessage(block, at, reader, fromTools))
		else parts.push(...userParts(block, at, reader))
	})
	const rest = [...fromTools, ...parts]
	return rest.length > 0 ? [...tools, { role: 'user', content: rest }] : tools
}

/** A content block of a user turn or of a tool result, as chat content parts. */
function userParts(block: Json, param: string, reader: Reader): UserPart[] {
	const type = typeOf(block, param)
	switch (type) {
		case 'text':
			return [textPart(block, param)]
		case 'image':
			return imagePart(block, param, reader)
		case 'document':
			return documentParts(block, param, reader)
		case 'search_result':
			return [searchResultPart(block, param)]
		default:
			anthropicOnly(
				reader,
				`${param}.type: content blocks of type ${type} can only be sent to Anthropic models`,
				`${param}.type`,
			)
			return []
	}
}

function imagePart(block: Json, param: string, reader: Reader): UserPart[] {
	const source = record(block.source, `${param}.source`)
	const sourceType = typeOf(source, `${param}.source`)
	let url: string
	if (sourceType === 'base64') {
		const mediaType = text(source.media_type, `${param}.source.media_type`)
		url = `data:${mediaType};base64,${text(source.data, `${param}.source.data`)}`
	} else if (sourceType === 'url') {
		url = text(source.url, `${param}.source.url`)
	} else if (sourceType === 'file') {
		anthropicOnly(
			reader,
			`${param}.source: files uploaded to Anthropic can only be read by Anthropic models`,
			`${param}.source`,
		)
		return []
	} else {
		anthropicOnly(
			reader,
			`${param}.source.type: ${sourceType} image sources are Anthropic's own`,
			`${param}.source.type`,
		)
		return []
	}
	return [{ type: 'image_url', image_url: { url }, ...cacheControl(block, param) }]
}

/**
 * A PDF becomes a chat `file` part (a data URL, as OpenAI takes PDFs); plain text and content sources become
 * text; a PDF by URL or by Files API id cannot reach another provider.
 */
function documentParts(block: Json, param: string, reader: Reader): UserPart[] {
	const source = record(block.source, `${param}.source`)
	const sourceType = typeOf(source, `${param}.source`)
	const title = optionalText(block.title, `${param}.title`)
	const cache = cacheControl(block, param)
	if (sourceType === 'base64') {
		const mediaType = text(source.media_type, `${param}.source.media_type`)
		const data = text(source.data, `${param}.source.data`)
		const file = { file_data: `data:${mediaType};base64,${data}`, filename: title || 'document.pdf' }
		return [{ type: 'file', file, ...cache }]
	}
	if (sourceType === 'text') {
		const context = optionalText(block.context, `${param}.context`)
		const body = text(source.data, `${param}.source.data`)
		return [{ type: 'text', text: [title, context, body].filter(Boolean).join('\n\n'), ...cache }]
	}
	if (sourceType === 'content') {
		const inner = source.content
		if (typeof inner === 'string') return [{ type: 'text', text: inner, ...cache }]
		return blocksOf(inner, `${param}.source.content`).flatMap((part, k) => {
			const at = `${param}.source.content[${k}]`
			return part.type === 'image' ? imagePart(part, at, reader) : [textPart(part, at)]
		})
	}
	if (sourceType === 'url' || sourceType === 'file') {
		const what = sourceType === 'url' ? 'documents by URL' : 'files uploaded to Anthropic'
		anthropicOnly(reader, `${param}.source: ${what} can only be read by Anthropic models`, `${param}.source`)
		return []
	}
	anthropicOnly(
		reader,
		`${param}.source.type: ${sourceType} document sources are Anthropic's own`,
		`${param}.source.type`,
	)
	return []
}

function searchResultPart(block: Json, param: string): TextPart {
	const title = text(block.title, `${param}.title`)
	const source = text(block.source, `${param}.source`)
	const body = list(block.content, `${param}.content`).map(
		(part, k) => textPart(part, `${param}.content[${k}]`).text,
	)
	return { type: 'text', text: [title, source, ...body].join('\n\n'), ...cacheControl(block, param) }
}

/**
 * A tool_result as a `tool` message. Chat has no error flag, so an error result says so in its text.
 * Its cache_control goes on the message, which transform.ts puts back on the tool_result.
 */
function toolMessage(block: Json, param: string, reader: Reader, fromTools: UserPart[]): Message {
	const id = text(block.tool_use_id, `${param}.tool_use_id`)
	const isError = optionalBoolean(block.is_error, `${param}.is_error`) === true
	const raw = block.content
	let content: string | TextPart[]
	if (raw === undefined || raw === null || typeof raw === 'string') {
		const result = raw ?? ''
		content = isError ? (result ? `Error: ${result}` : 'Error') : result
	} else {
		const parts: TextPart[] = []
		blocksOf(raw, `${param}.content`).forEach((part, k) => {
			const at = `${param}.content[${k}]`
			for (const converted of userParts(part, at, reader)) {
				if (converted.type === 'text') parts.push(converted)
				else fromTools.push(converted)
			}
		})
		content = isError ? [{ type: 'text', text: 'Error:' }, ...parts] : parts
	}
	return { role: 'tool', tool_call_id: id, content, ...cacheControl(block, param) }
}

/**
 * An assistant turn: text, tool calls with their input as a JSON string, and thinking as transform.ts reads
 * it back: `reasoning_content` (the text) plus the signed blocks in `thinking_blocks`, tagged with the model
 * the request names. An unsigned thinking block (what this door makes of another provider's reasoning) keeps
 * only its text: it can never be replayed to Anthropic.
 */
function assistantMessage(content: unknown, param: string, reader: Reader): Message {
	if (typeof content === 'string') return { role: 'assistant', content }
	const texts: TextPart[] = []
	const toolCalls: ChatCompletionMessageFunctionToolCall[] = []
	const thinking: ThinkingBlock[] = []
	let reasoning = ''
	let thought = false
	blocksOf(content, param).forEach((block, j) => {
		const at = `${param}[${j}]`
		const type = typeOf(block, at)
		if (type === 'text') texts.push(textPart(block, at))
		else if (type === 'tool_use') toolCalls.push(toolCall(block, at))
		else if (type === 'thinking') {
			const words = text(block.thinking, `${at}.thinking`)
			const signature = optionalText(block.signature, `${at}.signature`) ?? ''
			reasoning += words
			thought = true
			if (signature !== '') thinking.push({ type, thinking: words, signature, model: reader.model })
		} else if (type === 'redacted_thinking') {
			thinking.push({ type, data: text(block.data, `${at}.data`), model: reader.model })
			thought = true
		} else {
			anthropicOnly(
				reader,
				`${at}.type: content blocks of type ${type} can only be sent to Anthropic models`,
				`${at}.type`,
			)
		}
	})
	const only = texts[0]
	const message: Message = {
		role: 'assistant',
		content:
			texts.length === 0
				? toolCalls.length > 0
					? null
					: ''
				: texts.length === 1 && only && !only.cache_control
					? only.text
					: texts,
	}
	if (toolCalls.length > 0) message.tool_calls = toolCalls
	if (thought) message.reasoning_content = reasoning
	if (thinking.length > 0) message.thinking_blocks = thinking
	return message
}

function toolCall(block: Json, param: string): ChatCompletionMessageFunctionToolCall {
	const input = block.input ?? {}
	if (!isRecord(input)) invalid(`${param}.input`, 'an object', input)
	return {
		id: text(block.id, `${param}.id`),
		type: 'function',
		function: { name: text(block.name, `${param}.name`), arguments: JSON.stringify(input) },
	}
}

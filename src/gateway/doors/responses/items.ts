// Input items (messages, function calls and their outputs, reasoning) as chat messages. Validates what it
// reads and throws only `badRequest`, naming the field as OpenAI does (`input[2].content[0].type`).
import { badRequest } from '../../../errors'
import { decodeThinking, isObject } from './output'

type Json = Record<string, unknown>

/** Why hosted-tool items and tools are refused: only OpenAI runs them. */
export const HOSTED_TOOL_MESSAGE = 'only OpenAI runs built-in tools; this model takes function tools only'

export const present = (value: unknown) => value !== undefined && value !== null

const IMAGE_DETAILS = new Set(['auto', 'low', 'high'])

function typeOf(value: unknown): string {
	if (value === null) return 'null'
	if (Array.isArray(value)) return 'array'
	return typeof value
}

export function check(value: unknown, type: string, param: string): void {
	if (typeOf(value) !== type)
		throw badRequest(`${param} must be of type ${type}, got ${typeOf(value)}`, param)
}

/** A client's value in a message: itself when a string, else its JSON type (`String()` can throw on objects). */
export const label = (value: unknown) => (typeof value === 'string' ? value : typeOf(value))

/** `item[key]`, which must be a string; `path` is the item's own param, '' at the top level. */
export function string(item: Json, key: string, path: string): string {
	check(item[key], 'string', path ? `${path}.${key}` : key)
	return item[key] as string
}

/** A part's optional `prompt_cache_breakpoint`, which both APIs spell the same. */
const cacheBreakpoint = (part: Json) =>
	isObject(part.prompt_cache_breakpoint) ? { prompt_cache_breakpoint: part.prompt_cache_breakpoint } : {}

/**
 * How strictly to translate. For an upstream, what only OpenAI can run is refused with code `openai_only`
 * (the pipeline then keeps only OpenAI candidates); for the rules, it is stood in for or left out.
 */
export interface Mode {
	rules: boolean
}

/** The code of a refusal for what only OpenAI runs: a valid request, for OpenAI alone. */
export const OPENAI_ONLY = 'openai_only'

export const openaiOnly = (message: string, param: string) => badRequest(message, param, OPENAI_ONLY)

/** Where a part sits: messages from the user take images and files, system text only, tool outputs text here. */
type Place = 'user' | 'system' | 'tool'

/** One content part as a chat part; null when the rules leave it out. */
function toInputPart(part: unknown, path: string, place: Place, mode: Mode): Json | null {
	if (!isObject(part)) throw badRequest(`${path} must be an object`, path)
	const media = part.type === 'input_image' || part.type === 'input_file'
	if (media && place === 'tool') {
		if (mode.rules) return null
		throw openaiOnly('Images and files in function call outputs need OpenAI', `${path}.type`)
	}
	if (media && place === 'system')
		throw badRequest('System and developer messages take text only', `${path}.type`)
	switch (part.type) {
		case 'input_text':
		case 'output_text':
			return { type: 'text', text: string(part, 'text', path), ...cacheBreakpoint(part) }
		case 'input_image': {
			if (present(part.file_id)) {
				// The rules only ask whether there is an image.
				if (mode.rules) return { type: 'image_url', image_url: { url: label(part.file_id) } }
				throw openaiOnly(
					'Images by file_id need OpenAI; send image_url (a URL or a data URL)',
					`${path}.file_id`,
				)
			}
			const url = string(part, 'image_url', path)
			const detail =
				typeof part.detail === 'string' && IMAGE_DETAILS.has(part.detail) ? part.detail : undefined
			return { type: 'image_url', image_url: { url, ...(detail && { detail }) }, ...cacheBreakpoint(part) }
		}
		case 'input_file': {
			const filename = typeof part.filename === 'string' ? { filename: part.filename } : {}
			if (typeof part.file_data === 'string') {
				return { type: 'file', file: { file_data: part.file_data, ...filename }, ...cacheBreakpoint(part) }
			}
			if (mode.rules)
				return typeof part.file_id === 'string' ? { type: 'file', file: { file_id: part.file_id } } : null
			const by = present(part.file_id) ? 'file_id' : 'file_url'
			throw openaiOnly(`Files by ${by} need OpenAI; send file_data`, `${path}.${by}`)
		}
	}
	throw badRequest(`Content parts of type ${label(part.type)} are not supported here`, `${path}.type`)
}

function toParts(content: unknown, path: string, place: Place, mode: Mode): string | Json[] {
	if (typeof content === 'string') return content
	if (!Array.isArray(content)) throw badRequest(`${path} must be a string or an array`, path)
	return content.flatMap((part, i): Json[] => {
		const chat = toInputPart(part, `${path}[${i}]`, place, mode)
		return chat ? [chat] : []
	})
}

/** An assistant message's text and refusal, which chat carries as `content` and `refusal`. */
function toAssistantContent(content: unknown, path: string): { text: string; refusal: string } {
	if (typeof content === 'string') return { text: content, refusal: '' }
	if (!Array.isArray(content)) throw badRequest(`${path} must be a string or an array`, path)
	let text = ''
	let refusal = ''
	content.forEach((part, i) => {
		const at = `${path}[${i}]`
		if (!isObject(part)) throw badRequest(`${at} must be an object`, at)
		if (part.type === 'output_text' || part.type === 'input_text') text += string(part, 'text', at)
		else if (part.type === 'refusal') refusal += string(part, 'refusal', at)
		else throw badRequest(`Assistant content of type ${label(part.type)} is not supported`, `${at}.type`)
	})
	return { text, refusal }
}

/** Builds chat messages from items; consecutive assistant-side items (reasoning, message, calls) make one turn. */
class Conversation {
	readonly messages: Json[] = []
	private assistant: {
		text: string | null
		refusal: string
		reasoning: string[]
		blocks: unknown[]
		calls: Json[]
	} | null = null

	push(message: Json): void {
		this.flush()
		this.messages.push(message)
	}

	private turn() {
		this.assistant ??= { text: null, refusal: '', reasoning: [], blocks: [], calls: [] }
		return this.assistant
	}

	reasoning(text: string, blocks: unknown[]): void {
		// Reasoning precedes what it led to: after an answer or a call, it opens the next message.
		if (this.assistant?.text || this.assistant?.calls.length) this.flush()
		const turn = this.turn()
		if (text) turn.reasoning.push(text)
		turn.blocks.push(...blocks)
	}

	assistantMessage(text: string, refusal: string): void {
		// A second assistant message of one turn stays a message of its own.
		if (this.assistant?.text) this.flush()
		const turn = this.turn()
		turn.text = text
		turn.refusal += refusal
	}

	call(call: Json): void {
		this.turn().calls.push(call)
	}

	flush(): void {
		const turn = this.assistant
		if (!turn) return
		this.assistant = null
		if (turn.text === null && !turn.refusal && turn.calls.length === 0) {
			// Reasoning alone (its answer not sent back) has no chat message to ride on.
			return
		}
		this.messages.push({
			role: 'assistant',
			content: turn.text || (turn.calls.length > 0 || turn.refusal ? null : ''),
			...(turn.refusal && { refusal: turn.refusal }),
			...(turn.calls.length > 0 && { tool_calls: turn.calls }),
			...(turn.reasoning.length > 0 && { reasoning_content: turn.reasoning.join('\n\n') }),
			...(turn.blocks.length > 0 && { thinking_blocks: turn.blocks }),
		})
	}
}

function reasoningText(item: Json, path: string): string {
	const texts: string[] = []
	for (const key of ['summary', 'content'] as const) {
		const parts = item[key]
		if (parts === undefined || parts === null) continue
		if (!Array.isArray(parts)) throw badRequest(`${path}.${key} must be an array`, `${path}.${key}`)
		const own = parts.map((part, i) => {
			const at = `${path}.${key}[${i}]`
			if (!isObject(part)) throw badRequest(`${at} must be an object`, at)
			return string(part, 'text', at)
		})
		// The summary is what the API shows; raw reasoning text stands in only where there is no summary.
		if (texts.length === 0) texts.push(...own.filter(Boolean))
	}
	return texts.join('\n\n')
}

function addItem(conversation: Conversation, item: unknown, path: string, mode: Mode): void {
	if (!isObject(item)) throw badRequest(`${path} must be an object`, path)
	// Messages may leave out `type`, and so may item references (an `id` alone).
	const type =
		item.type ?? (item.role !== undefined ? 'message' : item.id !== undefined ? 'item_reference' : null)
	switch (type) {
		case 'message': {
			const role = item.role
			if (role === 'assistant') {
				const { text, refusal } = toAssistantContent(item.content, `${path}.content`)
				conversation.assistantMessage(text, refusal)
			} else if (role === 'user' || role === 'system' || role === 'developer') {
				const content = toParts(item.content, `${path}.content`, role === 'user' ? 'user' : 'system', mode)
				conversation.push({ role, content })
			} else {
				throw badRequest(`Unknown role ${label(role)}`, `${path}.role`)
			}
			return
		}
		case 'function_call':
			conversation.call({
				id: string(item, 'call_id', path),
				type: 'function',
				function: { name: string(item, 'name', path), arguments: string(item, 'arguments', path) },
			})
			return
		case 'function_call_output':
			conversation.push({
				role: 'tool',
				tool_call_id: string(item, 'call_id', path),
				content: toParts(item.output, `${path}.output`, 'tool', mode),
			})
			return
		case 'reasoning':
			conversation.reasoning(reasoningText(item, path), decodeThinking(item.encrypted_content))
			return
		case 'item_reference':
			// Only OpenAI holds the items its ids name.
			if (mode.rules) return
			throw openaiOnly(
				'Item references need OpenAI: send the item itself, or continue with previous_response_id',
				path,
			)
		default:
			if (typeof type !== 'string') throw badRequest(`${path}.type is required`, `${path}.type`)
			// Hosted tools' calls and results: OpenAI's own, nothing the rules weigh.
			if (mode.rules) return
			throw openaiOnly(`Items of type ${type} are not supported: ${HOSTED_TOOL_MESSAGE}`, `${path}.type`)
	}
}

/**
 * The chat messages for `instructions` (a leading system message), then the items of earlier turns, then
 * `input` (a string is one user message).
 */
export function toMessages(instructions: unknown, history: unknown[], input: unknown, mode: Mode): Json[] {
	const conversation = new Conversation()
	if (present(instructions)) {
		if (typeof instructions !== 'string') throw badRequest('instructions must be a string', 'instructions')
		if (instructions) conversation.push({ role: 'system', content: instructions })
	}
	history.forEach((item, i) => {
		addItem(conversation, item, `previous_response_id[${i}]`, mode)
	})
	if (typeof input === 'string') conversation.push({ role: 'user', content: input })
	else if (Array.isArray(input)) {
		input.forEach((item, i) => {
			addItem(conversation, item, `input[${i}]`, mode)
		})
	} else if (present(input)) throw badRequest('input must be a string or an array of items', 'input')
	conversation.flush()
	return conversation.messages
}

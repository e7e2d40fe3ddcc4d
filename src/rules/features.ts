import type { ChatCompletionCreateParams } from 'openai/resources/chat/completions'

/**
 * What the rules look at, computed once per request. A type rather than an interface, so that the log
 * row can keep this very object as its JSON `features` column (`Record<string, unknown>`) without a copy.
 */
export type RequestFeatures = {
	/** An estimate: characters / 4, plus 4 per message and 765 per image. No tokenizer is run. */
	promptTokens: number
	messages: number
	hasTools: boolean
	hasImages: boolean
	jsonMode: boolean
	/** `max_completion_tokens`, else `max_tokens`, else null. */
	maxTokens: number | null
}

/** The text the text predicates look at. */
export interface RequestText {
	/** The last `user` message; its text parts joined with '\n'. '' when there is none. */
	lastUserMessage: string
	/** Every `system` and `developer` message, joined with '\n'. */
	system: string
}

/**
 * An OpenAI chat-completion body. The gateway validates only the fields it reads and passes the rest on,
 * so anything else in it may have any shape; extraction never throws on a malformed part.
 */
export type ChatRequestLike =
	| ChatCompletionCreateParams
	| {
			messages?: unknown
			tools?: unknown
			functions?: unknown
			response_format?: unknown
			max_tokens?: unknown
			max_completion_tokens?: unknown
	  }

interface LooseBody {
	messages?: unknown
	tools?: unknown
	functions?: unknown
	response_format?: { type?: unknown } | null
	max_tokens?: unknown
	max_completion_tokens?: unknown
}

interface LooseMessage {
	role?: unknown
	content?: unknown
	tool_calls?: unknown
	function_call?: { arguments?: unknown } | null
}

interface LoosePart {
	type?: unknown
	text?: unknown
	refusal?: unknown
}

interface LooseToolCall {
	function?: { arguments?: unknown } | null
	custom?: { input?: unknown } | null
}

const CHARS_PER_TOKEN = 4
const TOKENS_PER_MESSAGE = 4
/** What OpenAI bills for a high-detail 512×512 tile set; a fair middle for an unknown image. */
const TOKENS_PER_IMAGE = 765

const isObject = (value: unknown): value is object => typeof value === 'object' && value !== null

function finiteNumber(value: unknown): number | undefined {
	return typeof value === 'number' && Number.isFinite(value) ? value : undefined
}

/** The text of a message's content: the string itself, or its text parts joined with '\n'. */
function contentText(content: unknown): string {
	if (typeof content === 'string') return content
	if (!Array.isArray(content)) return ''
	let text = ''
	let first = true
	for (const part of content as unknown[]) {
		if (!isObject(part) || (part as LoosePart).type !== 'text') continue
		const value = (part as LoosePart).text
		if (typeof value !== 'string') continue
		text = first ? value : `${text}\n${value}`
		first = false
	}
	return text
}

function toolsLength(tools: unknown): number {
	// Tool definitions are small and nested; their JSON is the fairest size estimate.
	return Array.isArray(tools) && tools.length > 0 ? JSON.stringify(tools).length : 0
}

/** One pass over the messages; no JSON serialisation of message content. */
export function extractFeatures(body: ChatRequestLike): { features: RequestFeatures; text: RequestText } {
	const b = body as LooseBody
	const messages: unknown[] = Array.isArray(b.messages) ? b.messages : []
	let chars = 0
	let images = 0
	let lastUser: unknown
	let system = ''
	let hasSystem = false

	for (const message of messages) {
		if (!isObject(message)) continue
		const { role, content, tool_calls: toolCalls, function_call: functionCall } = message as LooseMessage
		const isSystem = role === 'system' || role === 'developer'
		if (role === 'user') lastUser = content

		if (typeof content === 'string') {
			chars += content.length
			if (isSystem) {
				system = hasSystem ? `${system}\n${content}` : content
				hasSystem = true
			}
		} else if (Array.isArray(content)) {
			for (const part of content as unknown[]) {
				if (!isObject(part)) continue
				const { type, text, refusal } = part as LoosePart
				if (type === 'text' && typeof text === 'string') {
					chars += text.length
					if (isSystem) {
						system = hasSystem ? `${system}\n${text}` : text
						hasSystem = true
					}
				} else if (type === 'image_url') images++
				else if (type === 'refusal' && typeof refusal === 'string') chars += refusal.length
			}
		}

		if (Array.isArray(toolCalls)) {
			for (const call of toolCalls as unknown[]) {
				if (!isObject(call)) continue
				const { function: fn, custom } = call as LooseToolCall
				if (typeof fn?.arguments === 'string') chars += fn.arguments.length
				if (typeof custom?.input === 'string') chars += custom.input.length
			}
		}
		if (typeof functionCall?.arguments === 'string') chars += functionCall.arguments.length
	}

	chars += toolsLength(b.tools) + toolsLength(b.functions)
	const format = isObject(b.response_format) ? b.response_format.type : undefined

	return {
		features: {
			promptTokens:
				Math.ceil(chars / CHARS_PER_TOKEN) + TOKENS_PER_MESSAGE * messages.length + TOKENS_PER_IMAGE * images,
			messages: messages.length,
			hasTools:
				(Array.isArray(b.tools) && b.tools.length > 0) ||
				(Array.isArray(b.functions) && b.functions.length > 0),
			hasImages: images > 0,
			jsonMode: format === 'json_object' || format === 'json_schema',
			maxTokens: finiteNumber(b.max_completion_tokens) ?? finiteNumber(b.max_tokens) ?? null,
		},
		text: { lastUserMessage: contentText(lastUser), system },
	}
}

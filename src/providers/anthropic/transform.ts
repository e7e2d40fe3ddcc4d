// Translates OpenAI Chat Completions (our canonical format) to and from the Anthropic Messages API,
// version 2026-10-21 (the one @anthropic-ai/sdk 1.x sends). Pure functions: no client, no network.
// https://platform.claude.com/docs/en/api/messages
import type Anthropic from '@anthropic-ai/sdk'
import type {
	ChatCompletion,
	ChatCompletionAssistantMessageParam,
	ChatCompletionContentPart,
	ChatCompletionCreateParams,
	ChatCompletionMessageFunctionToolCall,
	ChatCompletionMessageToolCall,
	ChatCompletionToolChoiceOption,
} from 'openai/resources/chat/completions'
import type { CompletionUsage } from 'openai/resources/completions'
import { badRequest } from '../../errors'
import type { TokenUsage } from '../types'

/** What the translation needs to know about the target model, from the catalog. */
export interface AnthropicModelInfo {
	/** The upstream model id, sent as `model`. */
	id: string
	/** The model's maximum output: the default `max_tokens`, and its ceiling. */
	maxOutputTokens: number
}

/** The usage fields of `Message.usage` and of a streamed `message_delta` (where they are cumulative). */
export interface AnthropicUsage {
	input_tokens: number | null
	output_tokens: number
	cache_read_input_tokens?: number | null
	cache_creation_input_tokens?: number | null
}

export type FinishReason = ChatCompletion.Choice['finish_reason']

const FINISH_REASONS = {
	end_turn: 'stop',
	max_tokens: 'length',
	tool_use: 'tool_calls',
	stop_sequence: 'stop',
	pause_turn: 'stop',
	refusal: 'content_filter',
	model_context_window_exceeded: 'length',
} as const satisfies Record<Anthropic.StopReason, FinishReason>

const TOOL_CHOICES = {
	auto: { type: 'auto' },
	none: { type: 'none' },
	required: { type: 'any' },
} as const satisfies Record<string, Anthropic.ToolChoice>

const IMAGE_MEDIA_TYPES = new Set(['image/jpeg', 'image/png', 'image/gif', 'image/webp'])

// Anthropic has no JSON mode (`output_config.format` needs a schema), so `json_object` becomes an instruction
// appended to the system prompt, as LiteLLM does. The answer is returned as-is, without validation.
export const JSON_OBJECT_INSTRUCTION =
	'Respond with a single valid JSON object and nothing else: no prose and no Markdown code fences.'

type Turn = { role: 'user' | 'assistant'; content: Anthropic.ContentBlockParam[] }

/**
 * Builds the Anthropic request. Fields with no Anthropic equivalent are dropped, among them `temperature` and
 * `top_p`: API version 2026-10-21 answers 400 to any sampling parameter, even at its default value.
 */
export function toAnthropicRequest(
	req: ChatCompletionCreateParams,
	model: AnthropicModelInfo,
): Anthropic.MessageCreateParams {
	if (req.n != null && req.n > 1) throw badRequest('n above 1 is not supported by Anthropic models', 'n')
	const system: string[] = []
	const turns: Turn[] = []
	const addTurn = (role: Turn['role'], blocks: Anthropic.ContentBlockParam[]) => {
		const last = turns.at(-1)
		// Anthropic wants alternating roles: consecutive messages of one role become one turn.
		if (last?.role === role) last.content.push(...blocks)
		else if (blocks.length > 0) turns.push({ role, content: blocks })
	}
	req.messages.forEach((message, i) => {
		switch (message.role) {
			case 'system':
			case 'developer':
				system.push(...texts(message.content).filter((text) => text !== ''))
				break
			case 'user':
				addTurn('user', userBlocks(message.content, i))
				break
			case 'assistant':
				addTurn('assistant', assistantBlocks(message, i))
				break
			case 'tool': {
				const content = textBlocks(texts(message.content))
				const result: Anthropic.ToolResultBlockParam = {
					type: 'tool_result',
					tool_use_id: message.tool_call_id,
				}
				if (content.length > 0) {
					result.content = typeof message.content === 'string' ? message.content : content
				}
				addTurn('user', [result])
				break
			}
			default:
				throw badRequest(`Messages with role ${message.role} are not supported`, `messages[${i}].role`)
		}
	})

	const maxTokens = req.max_completion_tokens ?? req.max_tokens ?? model.maxOutputTokens
	const params: Anthropic.MessageCreateParams = {
		model: model.id,
		// Above the model's maximum Anthropic answers 400; the caller asked for "at most", so clamp instead.
		max_tokens: Math.min(maxTokens, model.maxOutputTokens),
		messages: turns.map(toMessage),
		stream: req.stream === true,
	}
	const format = req.response_format
	if (format?.type === 'json_schema' && format.json_schema.schema) {
		params.output_config = { format: { type: 'json_schema', schema: format.json_schema.schema } }
	} else if (format?.type === 'json_object' || format?.type === 'json_schema') {
		system.push(JSON_OBJECT_INSTRUCTION)
	}
	if (system.length > 0) params.system = system.join('\n\n')
	const stop = typeof req.stop === 'string' ? [req.stop] : (req.stop ?? [])
	// Anthropic rejects stop sequences made only of whitespace.
	const stopSequences = stop.filter((sequence) => sequence.trim() !== '')
	if (stopSequences.length > 0) params.stop_sequences = stopSequences
	if (req.user) params.metadata = { user_id: req.user }
	if (req.tools && req.tools.length > 0) {
		params.tools = req.tools.map((tool, i): Anthropic.Tool => {
			if (tool.type !== 'function') {
				throw badRequest('Only function tools are supported by Anthropic models', `tools[${i}].type`)
			}
			const { name, description, parameters, strict } = tool.function
			return {
				name,
				...(description && { description }),
				input_schema: (parameters ?? { type: 'object', properties: {} }) as Anthropic.Tool.InputSchema,
				...(strict === true && { strict }),
			}
		})
		const toolChoice = toToolChoice(req.tool_choice, req.parallel_tool_calls)
		if (toolChoice) params.tool_choice = toolChoice
	}
	return params
}

function toToolChoice(
	choice: ChatCompletionToolChoiceOption | undefined,
	parallel: boolean | undefined,
): Anthropic.ToolChoice | undefined {
	let mapped: Anthropic.ToolChoice | undefined
	if (typeof choice === 'string') {
		if (!Object.hasOwn(TOOL_CHOICES, choice)) throw badRequest(`Unknown tool_choice ${choice}`, 'tool_choice')
		mapped = { ...TOOL_CHOICES[choice] }
	} else if (choice?.type === 'function') {
		mapped = { type: 'tool', name: choice.function.name }
	} else if (choice) {
		throw badRequest(`tool_choice of type ${choice.type} is not supported by Anthropic models`, 'tool_choice')
	}
	if (parallel !== false || mapped?.type === 'none') return mapped
	return { ...(mapped ?? { type: 'auto' }), disable_parallel_tool_use: true }
}

function toMessage({ role, content }: Turn): Anthropic.MessageParam {
	// Anthropic requires a turn's tool_result blocks to come before any other content.
	const ordered =
		role === 'user'
			? [
					...content.filter((b) => b.type === 'tool_result'),
					...content.filter((b) => b.type !== 'tool_result'),
				]
			: content
	const only = ordered[0]
	if (ordered.length === 1 && only?.type === 'text') return { role, content: only.text }
	return { role, content: ordered }
}

function texts(content: string | Array<{ type: 'text'; text: string }>): string[] {
	return typeof content === 'string' ? [content] : content.map((part) => part.text)
}

// Anthropic rejects empty text blocks.
function textBlocks(strings: string[]): Anthropic.TextBlockParam[] {
	return strings.filter((text) => text !== '').map((text) => ({ type: 'text', text }))
}

function userBlocks(content: string | ChatCompletionContentPart[], i: number): Anthropic.ContentBlockParam[] {
	if (typeof content === 'string') return textBlocks([content])
	return content.flatMap((part, j): Anthropic.ContentBlockParam[] => {
		if (part.type === 'text') return textBlocks([part.text])
		if (part.type === 'image_url') {
			return [imageBlock(part.image_url?.url, `messages[${i}].content[${j}].image_url.url`)]
		}
		throw badRequest(
			`Content parts of type ${part.type} are not supported by Anthropic models`,
			`messages[${i}].content[${j}].type`,
		)
	})
}

function imageBlock(url: unknown, param: string): Anthropic.ImageBlockParam {
	const text = typeof url === 'string' ? url : ''
	const dataUrl = /^data:([\w.+-]+\/[\w.+-]+);base64,(.+)$/s.exec(text)
	if (dataUrl) {
		const mediaType = dataUrl[1]?.toLowerCase().replace('image/jpg', 'image/jpeg') ?? ''
		if (!IMAGE_MEDIA_TYPES.has(mediaType)) {
			throw badRequest(`Anthropic models accept JPEG, PNG, GIF and WebP images, not ${mediaType}`, param)
		}
		const media_type = mediaType as Anthropic.Base64ImageSource['media_type']
		return { type: 'image', source: { type: 'base64', media_type, data: dataUrl[2] ?? '' } }
	}
	if (/^https?:\/\/\S+$/i.test(text) && URL.canParse(text)) {
		return { type: 'image', source: { type: 'url', url: text } }
	}
	throw badRequest('An image URL must be a data URL (data:image/png;base64,...) or an http(s) URL', param)
}

function assistantBlocks(
	message: ChatCompletionAssistantMessageParam,
	i: number,
): Anthropic.ContentBlockParam[] {
	const content = message.content ?? []
	const strings =
		typeof content === 'string'
			? [content]
			: content.map((part) => (part.type === 'refusal' ? part.refusal : part.text))
	const toolUses = (message.tool_calls ?? []).map((call, k) =>
		toolUseBlock(call, `messages[${i}].tool_calls[${k}]`),
	)
	return [...textBlocks(strings), ...toolUses]
}

function toolUseBlock(call: ChatCompletionMessageToolCall, param: string): Anthropic.ToolUseBlockParam {
	if (call.type !== 'function') {
		throw badRequest('Only function tool calls are supported by Anthropic models', `${param}.type`)
	}
	const { name, arguments: args } = call.function
	return { type: 'tool_use', id: call.id, name, input: parseArguments(args, `${param}.function.arguments`) }
}

function parseArguments(args: string, param: string): Record<string, unknown> {
	// Some clients send "" for a function without parameters.
	if (args.trim() === '') return {}
	let input: unknown
	try {
		input = JSON.parse(args)
	} catch {
		throw badRequest('Tool call arguments are not valid JSON', param)
	}
	if (typeof input !== 'object' || input === null || Array.isArray(input)) {
		throw badRequest('Tool call arguments must be a JSON object', param)
	}
	return input as Record<string, unknown>
}

export function toFinishReason(reason: Anthropic.StopReason | null): FinishReason {
	// A stop reason newer than this table still ends the choice.
	return (reason && FINISH_REASONS[reason]) ?? 'stop'
}

export function toTokenUsage(usage: AnthropicUsage): TokenUsage {
	const cachedTokens = usage.cache_read_input_tokens ?? 0
	const cacheWriteTokens = usage.cache_creation_input_tokens ?? 0
	return {
		promptTokens: (usage.input_tokens ?? 0) + cachedTokens + cacheWriteTokens,
		completionTokens: usage.output_tokens,
		cachedTokens,
		cacheWriteTokens,
	}
}

export function toOpenAIUsage(usage: TokenUsage): CompletionUsage {
	return {
		prompt_tokens: usage.promptTokens,
		completion_tokens: usage.completionTokens,
		total_tokens: usage.promptTokens + usage.completionTokens,
		prompt_tokens_details: { cached_tokens: usage.cachedTokens },
	}
}

/** Text blocks are joined, `tool_use` blocks become `tool_calls`, and thinking blocks are dropped. */
export function fromAnthropicResponse(
	msg: Anthropic.Message,
	meta: { id: string; created: number },
): { completion: ChatCompletion; usage: TokenUsage } {
	let text = ''
	const toolCalls: ChatCompletionMessageFunctionToolCall[] = []
	for (const block of msg.content) {
		if (block.type === 'text') text += block.text
		if (block.type === 'tool_use') {
			const args = JSON.stringify(block.input ?? {})
			toolCalls.push({ id: block.id, type: 'function', function: { name: block.name, arguments: args } })
		}
	}
	const usage = toTokenUsage(msg.usage)
	const completion: ChatCompletion = {
		id: meta.id,
		object: 'chat.completion',
		created: meta.created,
		model: msg.model,
		choices: [
			{
				index: 0,
				message: {
					role: 'assistant',
					content: text === '' && toolCalls.length > 0 ? null : text,
					refusal: null,
					...(toolCalls.length > 0 && { tool_calls: toolCalls }),
				},
				logprobs: null,
				finish_reason: toFinishReason(msg.stop_reason),
			},
		],
		usage: toOpenAIUsage(usage),
	}
	return { completion, usage }
}

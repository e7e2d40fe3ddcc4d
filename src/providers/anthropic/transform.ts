// Translates an OpenAI Chat Completions request (our canonical format) to the Anthropic Messages API,
// version 2026-10-21 (the one @anthropic-ai/sdk 1.x sends), shaped by what the catalog says each Claude
// model accepts (docs/providers.md). Pure functions: no client, no network. The answer side is response.ts.
// https://platform.claude.com/docs/en/api/messages
import type Anthropic from '@anthropic-ai/sdk'
import type {
	ChatCompletionAssistantMessageParam,
	ChatCompletionContentPart,
	ChatCompletionCreateParams,
	ChatCompletionMessageToolCall,
	ChatCompletionToolChoiceOption,
} from 'openai/resources/chat/completions'
import { badRequest } from '../../errors'
import type { CatalogModel } from '../catalog'
import { checkRefusals, planReasoning, type ShapeLog } from '../shape'
import { applyThinking, replayedThinking } from './thinking'

const TOOL_CHOICES = {
	auto: { type: 'auto' },
	none: { type: 'none' },
	required: { type: 'any' },
} as const satisfies Record<string, Anthropic.ToolChoice>

const IMAGE_MEDIA_TYPES = new Set(['image/jpeg', 'image/png', 'image/gif', 'image/webp'])

/** Request fields the translation carries over; every other field the caller sent is dropped and named. */
const TRANSLATED = new Set([
	'model',
	'messages',
	'max_tokens',
	'max_completion_tokens',
	'stop',
	'stream',
	'stream_options',
	'tools',
	'tool_choice',
	'parallel_tool_calls',
	'response_format',
	'user',
	'reasoning_effort',
	'n',
])

// Anthropic has no JSON mode (`output_config.format` needs a schema), so `json_object` becomes an instruction
// appended to the system prompt, as LiteLLM does. The answer is returned as-is, without validation.
export const JSON_OBJECT_INSTRUCTION =
	'Respond with a single valid JSON object and nothing else: no prose and no Markdown code fences.'

export type Block = Anthropic.ContentBlockParam
export type Turn = { role: 'user' | 'assistant'; content: Block[] }
type CacheControl = Anthropic.CacheControlEphemeral
/** OpenAI-shaped parts and messages may carry Anthropic's `cache_control` (as LiteLLM accepts it). */
type Cacheable = { cache_control?: CacheControl }

/**
 * Builds the Anthropic request for `model`. Fields with no Anthropic equivalent are dropped and recorded in
 * `log`, among them `temperature` and `top_p`: API version 2026-10-21 answers 400 to any sampling parameter.
 * Throws a `GatewayError` when the model cannot take the request at all.
 */
export function toAnthropicRequest(
	req: ChatCompletionCreateParams,
	model: CatalogModel,
	log: ShapeLog,
): Anthropic.MessageCreateParams {
	if (req.n != null && req.n > 1) throw badRequest('n above 1 is not supported by Anthropic models', 'n')
	for (const field of Object.keys(req)) {
		if (!TRANSLATED.has(field) && (req as unknown as Record<string, unknown>)[field] !== undefined)
			log.drop(field)
	}
	const system: Anthropic.TextBlockParam[] = []
	const turns: Turn[] = []
	const addTurn = (role: Turn['role'], blocks: Block[]) => {
		const last = turns.at(-1)
		// Anthropic wants alternating roles: consecutive messages of one role become one turn.
		if (last?.role === role) last.content.push(...blocks)
		else if (blocks.length > 0) turns.push({ role, content: blocks })
	}
	req.messages.forEach((message, i) => {
		switch (message.role) {
			case 'system':
			case 'developer':
				system.push(...withMessageCache(textParts(message.content), message))
				break
			case 'user':
				addTurn('user', withMessageCache(userBlocks(message.content, i), message))
				break
			case 'assistant':
				addTurn('assistant', assistantBlocks(message, i, model.qualifiedId))
				break
			case 'tool': {
				const result: Anthropic.ToolResultBlockParam = {
					type: 'tool_result',
					tool_use_id: message.tool_call_id,
				}
				const content = textParts(message.content)
				if (content.length > 0) {
					const cached = content.some((block) => block.cache_control)
					result.content = typeof message.content === 'string' && !cached ? message.content : content
				}
				addTurn('user', withMessageCache([result], message))
				break
			}
			default:
				throw badRequest(`Messages with role ${message.role} are not supported`, `messages[${i}].role`)
		}
	})

	const maxTokens = Math.min(
		req.max_completion_tokens ?? req.max_tokens ?? model.maxOutputTokens,
		model.maxOutputTokens,
	)
	const params: Anthropic.MessageCreateParams = {
		model: model.id,
		// Above the model's maximum Anthropic answers 400; the caller asked for "at most", so clamp instead.
		max_tokens: maxTokens,
		messages: turns.map(toMessage),
		stream: req.stream === true,
	}
	const plan = planReasoning(req.reasoning_effort, model, log)
	const thinkingOn = applyThinking(params, turns, model, plan, log)
	checkRefusals(req, model, { ...plan, off: !thinkingOn })

	const format = req.response_format
	if (format?.type === 'json_schema' && format.json_schema.schema) {
		params.output_config = {
			...params.output_config,
			format: { type: 'json_schema', schema: format.json_schema.schema },
		}
	} else if (format?.type === 'json_object' || format?.type === 'json_schema') {
		system.push({ type: 'text', text: JSON_OBJECT_INSTRUCTION })
	}
	if (system.length > 0) {
		// A plain string unless a block carries cache_control, so the request stays as it always was.
		params.system = system.some((block) => block.cache_control)
			? system
			: system.map((block) => block.text).join('\n\n')
	}
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
			const cache = (tool as Cacheable).cache_control
			return {
				name,
				...(description && { description }),
				input_schema: (parameters ?? { type: 'object', properties: {} }) as Anthropic.Tool.InputSchema,
				...(strict === true && { strict }),
				...(cache && { cache_control: cache }),
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
	if (ordered.length === 1 && only?.type === 'text' && !only.cache_control)
		return { role, content: only.text }
	return { role, content: ordered }
}

/** A message-level `cache_control` marks the message's last block, as on Anthropic's own messages. */
function withMessageCache<T extends Block>(blocks: T[], message: object): T[] {
	const cache = (message as Cacheable).cache_control
	const last = blocks.at(-1)
	if (!cache || !last) return blocks
	return [...blocks.slice(0, -1), { ...last, cache_control: cache }]
}

type TextPart = { type: 'text'; text: string } & Cacheable

// Anthropic rejects empty text blocks.
function textParts(content: string | TextPart[]): Anthropic.TextBlockParam[] {
	const parts = typeof content === 'string' ? [{ type: 'text' as const, text: content }] : content
	return parts
		.filter((part) => part.text !== '')
		.map((part) => ({
			type: 'text',
			text: part.text,
			...(part.cache_control && { cache_control: part.cache_control }),
		}))
}

function userBlocks(content: string | ChatCompletionContentPart[], i: number): Block[] {
	if (typeof content === 'string') return textParts(content)
	return content.flatMap((part, j): Block[] => {
		const cache = (part as Cacheable).cache_control
		if (part.type === 'text') return textParts([part as TextPart])
		if (part.type === 'image_url') {
			const image = imageBlock(part.image_url?.url, `messages[${i}].content[${j}].image_url.url`)
			return [cache ? { ...image, cache_control: cache } : image]
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

/**
 * An assistant turn as Anthropic wants it back: its signed thinking blocks first (only those this model
 * wrote: a signature is bound to its model), then its text, then its tool calls.
 */
function assistantBlocks(message: ChatCompletionAssistantMessageParam, i: number, modelId: string): Block[] {
	const content = message.content ?? []
	const parts: TextPart[] =
		typeof content === 'string'
			? [{ type: 'text', text: content }]
			: content.map((part) => ({ type: 'text', text: part.type === 'refusal' ? part.refusal : part.text }))
	const toolUses = (message.tool_calls ?? []).map((call, k) =>
		toolUseBlock(call, `messages[${i}].tool_calls[${k}]`),
	)
	return [...replayedThinking(message, modelId), ...textParts(parts), ...toolUses]
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

import { type TSchema, Type } from '@sinclair/typebox'
import { TypeCompiler } from '@sinclair/typebox/compiler'
import { badRequest, toParam } from '../errors'
import type { ChatRequest } from './types'

const open = { additionalProperties: true }
const nullable = <T extends TSchema>(schema: T) =>
	Type.Optional(Type.Union([schema, Type.Null()], { description: schema.description }))

const ContentPart = Type.Object({ type: Type.String({ minLength: 1 }) }, open)

const Message = Type.Object(
	{
		role: Type.Union(
			['system', 'developer', 'user', 'assistant', 'tool', 'function'].map((role) => Type.Literal(role)),
			{ description: 'one of system, developer, user, assistant, tool' },
		),
		content: nullable(
			Type.Union([Type.String(), Type.Array(ContentPart)], {
				description: 'a string or an array of content parts',
			}),
		),
		tool_calls: Type.Optional(
			Type.Array(
				Type.Object(
					{
						id: Type.String(),
						type: Type.String(),
						function: Type.Object({ name: Type.String(), arguments: Type.String() }, open),
					},
					open,
				),
			),
		),
		tool_call_id: Type.Optional(Type.String()),
		name: Type.Optional(Type.String()),
	},
	open,
)

/**
 * The Chat Completions request: only the fields the gateway reads are checked; every other field passes
 * through untouched to OpenAI-compatible upstreams.
 */
export const ChatRequestSchema = Type.Object(
	{
		model: Type.String({ minLength: 1, description: 'a model id, provider/id, or "auto"' }),
		messages: Type.Array(Message, { minItems: 1, description: 'a non-empty array of messages' }),
		stream: nullable(Type.Boolean()),
		stream_options: nullable(Type.Object({ include_usage: Type.Optional(Type.Boolean()) }, open)),
		temperature: nullable(Type.Number({ minimum: 0, maximum: 2, description: 'a number between 0 and 2' })),
		top_p: nullable(Type.Number({ minimum: 0, maximum: 1, description: 'a number between 0 and 1' })),
		max_tokens: nullable(Type.Integer({ minimum: 1, description: 'a positive integer' })),
		max_completion_tokens: nullable(Type.Integer({ minimum: 1, description: 'a positive integer' })),
		n: nullable(Type.Integer({ minimum: 1, maximum: 128, description: 'an integer from 1 to 128' })),
		stop: nullable(
			Type.Union([Type.String(), Type.Array(Type.String(), { maxItems: 4 })], {
				description: 'a string or up to 4 strings',
			}),
		),
		tools: Type.Optional(
			Type.Array(
				Type.Object(
					{ type: Type.String(), function: Type.Optional(Type.Object({ name: Type.String() }, open)) },
					open,
				),
			),
		),
		tool_choice: Type.Optional(Type.Union([Type.String(), Type.Object({ type: Type.String() }, open)])),
		parallel_tool_calls: Type.Optional(Type.Boolean()),
		response_format: Type.Optional(
			Type.Object(
				{
					type: Type.Union([Type.Literal('text'), Type.Literal('json_object'), Type.Literal('json_schema')], {
						description: 'one of text, json_object, json_schema',
					}),
				},
				open,
			),
		),
		user: Type.Optional(Type.String()),
		seed: nullable(Type.Integer()),
	},
	open,
)

const checker = TypeCompiler.Compile(ChatRequestSchema)

/** Deepest schema description along the failing path, for a message a person can act on. */
function describe(schema: TSchema): string | undefined {
	return typeof schema.description === 'string' ? schema.description : undefined
}

/** Checks a parsed body against the schema; throws a 400 naming the offending field. */
export function checkChatRequest(body: Record<string, unknown>): ChatRequest {
	if (checker.Check(body)) {
		const request = body as unknown as ChatRequest
		checkContentParts(request)
		return request
	}
	const first = checker.Errors(body).First()
	const param = toParam(first?.path)
	const expected = first
		? (describe(first.schema) ?? first.message.replace(/^expected /i, ''))
		: 'a valid value'
	throw badRequest(
		first?.value === undefined
			? `Missing required parameter: '${param}'.`
			: `Invalid value for '${param}': expected ${expected}.`,
		param,
	)
}

/**
 * The content parts the gateway itself reads (text and images), checked one by one: a union schema
 * would only say "expected union value", where this names the exact part.
 */
function checkContentParts(request: ChatRequest) {
	request.messages.forEach((message, i) => {
		if (!Array.isArray(message.content)) return
		message.content.forEach((part, j) => {
			const where = `messages[${i}].content[${j}]`
			if (part.type === 'text' && typeof (part as { text?: unknown }).text !== 'string') {
				throw badRequest(`Missing required parameter: '${where}.text'.`, `${where}.text`)
			}
			if (part.type === 'image_url') {
				const image = (part as { image_url?: { url?: unknown } }).image_url
				if (typeof image?.url !== 'string') {
					throw badRequest(`Missing required parameter: '${where}.image_url.url'.`, `${where}.image_url.url`)
				}
			}
		})
	})
}

/**
 * OpenAI Responses API (`POST /v1/responses`), `openai` SDK 7.x shapes: rules OR-1..OR-8 of
 * docs/providers.md, then Response objects and the `response.*` event stream. A Response created without
 * `store: false` is kept (ids only) so that `previous_response_id` and stored reasoning items resolve.
 */
import { type Counts, countsFor } from './chat'
import { type Effort, type OpenAIModel, quotedList } from './models'
import {
	OPENAI_CACHE,
	openaiModelOrRefusal,
	type Reasoning,
	samplingRefusal,
	unsupportedEffort,
} from './openai'
import { reasoningTokens } from './tokens'
import type { Context, Plan, Rendered, ReplyBehaviour, StoredResponse, StreamErrorBehaviour } from './types'
import {
	type Body,
	event,
	given,
	isRecord,
	nowSeconds,
	openaiError,
	openaiErrorFields,
	openaiRefusal,
	randomId,
	split,
	words,
} from './wire'

/** OR-1: the Responses parameters of the official SDK (openai-node 7.57). */
const RESPONSES_FIELDS = new Set([
	'model',
	'input',
	'instructions',
	'tools',
	'tool_choice',
	'parallel_tool_calls',
	'max_output_tokens',
	'max_tool_calls',
	'reasoning',
	'text',
	'include',
	'store',
	'stream',
	'stream_options',
	'previous_response_id',
	'conversation',
	'prompt',
	'prompt_cache_key',
	'prompt_cache_options',
	'prompt_cache_retention',
	'service_tier',
	'safety_identifier',
	'metadata',
	'truncation',
	'background',
	'context_management',
	'temperature',
	'top_p',
	'top_logprobs',
	'user',
	'access_programs',
	'image',
	'moderation',
])

const VERBOSITIES = ['low', 'medium', 'high']
const SUMMARY_TEXT = 'Planned a short answer.'

const INPUT_PARTS: Record<string, readonly string[]> = {
	assistant: ['output_text', 'refusal'],
	user: ['input_text', 'input_image', 'input_file'],
	system: ['input_text', 'input_image', 'input_file'],
	developer: ['input_text', 'input_image', 'input_file'],
}

export function checkResponses(body: Body, ctx: Context): Response | Plan {
	for (const field of Object.keys(body)) {
		if (!RESPONSES_FIELDS.has(field)) {
			return openaiRefusal(`Unknown parameter: '${field}'.`, field, 'unknown_parameter')
		}
	}
	const model = openaiModelOrRefusal(body.model as string, ctx.now)
	if (model instanceof Response) return model
	const reasoning = responsesReasoning(body, model)
	if (reasoning instanceof Response) return reasoning
	if (reasoning.on) {
		const sampling = samplingRefusal(body, model, ['temperature', 'top_p', 'top_logprobs'])
		if (sampling) return sampling
	}
	const previous = previousOf(body, ctx)
	if (previous instanceof Response) return previous
	const shape = checkShape(body, ctx, previous)
	if (shape) return shape
	const request = {
		body,
		model: model.id,
		reasoningTokens: reasoningTokens(reasoning.on ? reasoning.effort : null),
		ctx,
	}
	return {
		model: model.id,
		stream: body.stream === true,
		answer: (reply) => render(request, model, reasoning, reply, previous),
		error: (status, message, type) => {
			const fields = openaiErrorFields(status, message)
			return openaiError(status, type ? { ...fields, type } : fields)
		},
	}
}

/** OR-4, OR-2 and the effort the request runs at. */
function responsesReasoning(body: Body, model: OpenAIModel): Reasoning | Response {
	const config = isRecord(body.reasoning) ? body.reasoning : undefined
	if (model.levels === null) {
		if (given(body, 'reasoning')) {
			return openaiRefusal(
				"Unsupported parameter: 'reasoning.effort' is not supported with this model.",
				'reasoning.effort',
				'unsupported_parameter',
			)
		}
		return { effort: null, on: false }
	}
	const value = config?.effort
	if (value !== undefined && value !== null && !model.levels.includes(value as Effort)) {
		return unsupportedEffort(value, model, model.levels, 'reasoning.effort')
	}
	const effort = (value as Effort | null | undefined) ?? model.defaultEffort
	return { effort, on: effort !== 'none' }
}

/** OR-6: the stored Response a request continues; refused when it was never stored (`store: false`) or is unknown. */
function previousOf(body: Body, ctx: Context): StoredResponse | undefined | Response {
	if (!given(body, 'previous_response_id')) return undefined
	const id = String(body.previous_response_id)
	return (
		ctx.stored.get(id) ??
		openaiRefusal(
			`Previous response with id '${id}' not found.`,
			'previous_response_id',
			'previous_response_not_found',
		)
	)
}

/** OR-5, OR-7, OR-8, and the shapes the SDK documents for tools, input items and `text.format` [O5]. */
function checkShape(body: Body, ctx: Context, previous: StoredResponse | undefined): Response | undefined {
	const missing = (param: string) =>
		openaiRefusal(`Missing required parameter: '${param}'.`, param, 'missing_required_parameter')
	if (Array.isArray(body.tools)) {
		for (const [i, tool] of body.tools.entries()) {
			if (isRecord(tool) && tool.type === 'function' && typeof tool.name !== 'string') {
				return missing(`tools[${i}].name`)
			}
		}
	}
	const verbosity = isRecord(body.text) ? body.text.verbosity : undefined
	if (verbosity !== undefined && verbosity !== null && !VERBOSITIES.includes(verbosity as string)) {
		return openaiRefusal(
			`Invalid value: '${verbosity}'. Supported values are: ${quotedList(VERBOSITIES)}.`,
			'text.verbosity',
			'invalid_value',
		)
	}
	const format = isRecord(body.text) && isRecord(body.text.format) ? body.text.format : undefined
	if (format?.type === 'json_schema') {
		if (typeof format.name !== 'string') return missing('text.format.name')
		if (!isRecord(format.schema)) return missing('text.format.schema')
	}
	if (!Array.isArray(body.input)) return undefined
	const calls = new Set<unknown>(previous?.callIds)
	for (const [i, item] of body.input.entries()) {
		if (!isRecord(item)) continue
		if (item.type === 'function_call') calls.add(item.call_id)
		if (
			item.type === 'reasoning' &&
			typeof item.id === 'string' &&
			typeof item.encrypted_content !== 'string'
		) {
			const known = [...ctx.stored.values()].some((response) => response.itemIds.has(item.id as string))
			if (!known) {
				return openaiError(404, {
					message: `Item with id '${item.id}' not found. Items are not persisted when \`store\` is set to false. Try again with \`store\` set to true, or remove this item from your input.`,
					type: 'invalid_request_error',
					param: 'input',
					code: null,
				})
			}
		}
		if (item.type === 'function_call_output' && !calls.has(item.call_id)) {
			return openaiRefusal(
				`No tool call found for function call output with call_id ${item.call_id}.`,
				'input',
			)
		}
		const allowed = INPUT_PARTS[String(item.role)]
		if ((item.type ?? 'message') !== 'message' || !allowed || !Array.isArray(item.content)) continue
		for (const [j, part] of item.content.entries()) {
			if (!isRecord(part) || allowed.includes(part.type as string)) continue
			return openaiRefusal(
				`Invalid value: '${part.type}'. Supported values are: ${quotedList(allowed)}.`,
				`input[${i}].content[${j}]`,
				'invalid_value',
			)
		}
	}
	return undefined
}

interface Request {
	body: Body
	model: string
	reasoningTokens: number
	ctx: Context
}

function render(
	request: Request,
	model: OpenAIModel,
	reasoning: Reasoning,
	reply: ReplyBehaviour,
	previous: StoredResponse | undefined,
): Rendered {
	const { body } = request
	const reported = reply.model ?? model.id
	const hasTools = Array.isArray(body.tools) && body.tools.length > 0
	const toolCalls = hasTools ? (reply.toolCalls ?? []) : []
	const text = reply.text ?? (toolCalls.length > 0 ? null : `Hello from ${reported}`)
	const counts = countsFor(
		request,
		{ provider: 'openai', cache: OPENAI_CACHE, reportsCacheWrites: model.reportsCacheWrites },
		reply,
		{ text, toolCalls },
	)
	const include = Array.isArray(body.include) ? body.include : []
	const items: Record<string, unknown>[] = []
	const config = isRecord(body.reasoning) ? body.reasoning : {}
	// Codex asks for `summary: "auto"`; `none` and an absent field mean no summary.
	const summarized = typeof config.summary === 'string' && config.summary !== 'none'
	if (reasoning.on) {
		items.push({
			id: randomId('rs_'),
			type: 'reasoning',
			summary: summarized ? [{ type: 'summary_text', text: reply.thinking ?? SUMMARY_TEXT }] : [],
			...(include.includes('reasoning.encrypted_content') && {
				encrypted_content: `gAAAAA${randomId('', 32)}`,
			}),
		})
	}
	if (text !== null) {
		const content = [{ type: 'output_text', text, annotations: [], logprobs: [] }]
		items.push({ id: randomId('msg_'), type: 'message', status: 'completed', role: 'assistant', content })
	}
	for (const call of toolCalls) {
		items.push({
			id: randomId('fc_'),
			type: 'function_call',
			status: 'completed',
			arguments: call.arguments,
			call_id: randomId('call_'),
			name: call.name,
		})
	}
	const incomplete = reply.stopReason === 'max_tokens'
	const id = randomId('resp_')
	if (body.store !== false) {
		const callIds = new Set(previous?.callIds)
		for (const item of [...(Array.isArray(body.input) ? body.input : []), ...items]) {
			if (isRecord(item) && item.type === 'function_call') callIds.add(String(item.call_id))
		}
		request.ctx.stored.set(id, { callIds, itemIds: new Set(items.map((item) => String(item.id))) })
	}
	const createdAt = nowSeconds()
	const snapshot = (status: string, output: unknown[], usage: unknown, error: unknown = null) =>
		responseObject({ id, createdAt, status, output, usage, error, reported, body, reasoning, incomplete })
	return {
		body: () => snapshot(incomplete ? 'incomplete' : 'completed', items, usageOf(counts)),
		parts: () => {
			let sequence = 0
			const send = (type: string, payload: Record<string, unknown>) =>
				event(type, { type, ...payload, sequence_number: sequence++ })
			const parts = [
				send('response.created', { response: snapshot('in_progress', [], null) }),
				send('response.in_progress', { response: snapshot('in_progress', [], null) }),
			]
			for (const [output_index, item] of items.entries()) parts.push(...itemEvents(item, output_index, send))
			const done = incomplete ? 'response.incomplete' : 'response.completed'
			const final = snapshot(incomplete ? 'incomplete' : 'completed', items, usageOf(counts))
			parts.push(send(done, { response: final }))
			return parts
		},
		streamError: (behaviour: StreamErrorBehaviour, sent: number) => {
			const fields = openaiErrorFields(behaviour.status ?? 500, behaviour.message)
			const code = behaviour.errorType ?? fields.type
			const error = { type: 'error', code, message: fields.message, param: null, sequence_number: sent }
			const failed = snapshot('failed', [], null, { code, message: fields.message })
			return [
				event('error', error),
				event('response.failed', { type: 'response.failed', response: failed, sequence_number: sent + 1 }),
			]
		},
	}
}

type Send = (type: string, payload: Record<string, unknown>) => string

/** One output item as its stream events, from `output_item.added` to `output_item.done`. */
function itemEvents(item: Record<string, unknown>, output_index: number, send: Send): string[] {
	const item_id = item.id
	if (item.type === 'reasoning') {
		const summary = item.summary as { type: string; text: string }[]
		// Numbered in the order they are sent: the item is added before its summary parts.
		const added = send('response.output_item.added', {
			output_index,
			item: { id: item_id, type: 'reasoning', summary: [] },
		})
		const parts = summary.flatMap((part, summary_index) => {
			const at = { item_id, output_index, summary_index }
			return [
				send('response.reasoning_summary_part.added', { ...at, part: { type: 'summary_text', text: '' } }),
				...words(part.text).map((delta) => send('response.reasoning_summary_text.delta', { ...at, delta })),
				send('response.reasoning_summary_text.done', { ...at, text: part.text }),
				send('response.reasoning_summary_part.done', { ...at, part }),
			]
		})
		return [added, ...parts, send('response.output_item.done', { output_index, item })]
	}
	if (item.type === 'function_call') {
		const args = item.arguments as string
		return [
			send('response.output_item.added', {
				output_index,
				item: { ...item, status: 'in_progress', arguments: '' },
			}),
			...split(args).map((delta) =>
				send('response.function_call_arguments.delta', { item_id, output_index, delta }),
			),
			send('response.function_call_arguments.done', {
				item_id,
				output_index,
				name: item.name,
				arguments: args,
			}),
			send('response.output_item.done', { output_index, item }),
		]
	}
	const part = (item.content as Record<string, unknown>[])[0] as Record<string, unknown>
	const text = part.text as string
	const at = { item_id, output_index, content_index: 0 }
	return [
		send('response.output_item.added', {
			output_index,
			item: { ...item, status: 'in_progress', content: [] },
		}),
		send('response.content_part.added', { ...at, part: { ...part, text: '' } }),
		...words(text).map((delta) => send('response.output_text.delta', { ...at, delta, logprobs: [] })),
		send('response.output_text.done', { ...at, text, logprobs: [] }),
		send('response.content_part.done', { ...at, part }),
		send('response.output_item.done', { output_index, item }),
	]
}

function usageOf(counts: Counts) {
	return {
		input_tokens: counts.prompt,
		input_tokens_details: {
			cached_tokens: counts.cached,
			...(counts.written !== undefined && { cache_write_tokens: counts.written }),
		},
		output_tokens: counts.completion,
		output_tokens_details: { reasoning_tokens: counts.reasoning },
		total_tokens: counts.prompt + counts.completion,
	}
}

interface Snapshot {
	id: string
	createdAt: number
	status: string
	output: unknown[]
	usage: unknown
	error: unknown
	reported: string
	body: Body
	reasoning: Reasoning
	incomplete: boolean
}

/** A Response object as the API returns it, request settings echoed. */
function responseObject(at: Snapshot) {
	const { body } = at
	const config = isRecord(body.reasoning) ? body.reasoning : {}
	return {
		id: at.id,
		object: 'response',
		created_at: at.createdAt,
		status: at.status,
		background: false,
		error: at.error,
		incomplete_details: at.incomplete && at.status === 'incomplete' ? { reason: 'max_output_tokens' } : null,
		instructions: body.instructions ?? null,
		max_output_tokens: body.max_output_tokens ?? null,
		max_tool_calls: body.max_tool_calls ?? null,
		model: at.reported,
		output: at.output,
		parallel_tool_calls: body.parallel_tool_calls ?? true,
		previous_response_id: body.previous_response_id ?? null,
		prompt_cache_key: body.prompt_cache_key ?? null,
		reasoning: { effort: at.reasoning.effort, summary: config.summary ?? null },
		safety_identifier: body.safety_identifier ?? null,
		service_tier: body.service_tier ?? 'default',
		store: body.store ?? true,
		temperature: body.temperature ?? 1,
		text: {
			format: isRecord(body.text) && body.text.format ? body.text.format : { type: 'text' },
			verbosity: (isRecord(body.text) && body.text.verbosity) || 'medium',
		},
		tool_choice: body.tool_choice ?? 'auto',
		tools: body.tools ?? [],
		top_logprobs: body.top_logprobs ?? 0,
		top_p: body.top_p ?? 1,
		truncation: body.truncation ?? 'disabled',
		usage: at.usage,
		user: body.user ?? null,
		metadata: body.metadata ?? {},
	}
}

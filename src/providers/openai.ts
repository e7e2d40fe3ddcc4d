// OpenAI Chat Completions (https://developers.openai.com/api/reference/resources/chat), and every server that
// speaks it. Our canonical format is this one, so the adapter is close to identity: the body keeps its
// unknown fields and is shaped only where the catalog says the model or the server refuses something
// (docs/providers.md). GPT-6 requests that Chat Completions refuses go to the Responses API
// (`openai-responses.ts`). Chat Completions answers are relayed as the upstream wrote them.
import type { CatalogModel, CatalogProvider } from './catalog'
import { createResponsesStreamTranslator, fromResponse, toResponsesRequest } from './openai-responses'
import {
	allowed,
	checkRefusals,
	incapable,
	planReasoning,
	type ReasoningPlan,
	ShapeLog,
	shapeFields,
} from './shape'
import type {
	ChatChunk,
	ChatRequest,
	ChatResponse,
	ChatStream,
	ProviderAdapter,
	UpstreamTarget,
} from './types'
import { UpstreamError } from './upstream-error'
import {
	type AnswerLimits,
	parseJson,
	postJson,
	postJsonForText,
	readEvents,
	upstreamMessage,
} from './upstream-http'
import { toTokenUsage } from './usage'

type Body = Record<string, unknown>
type Message = Record<string, unknown>

interface OpenAICall {
	api: 'chat' | 'responses'
	body: Body
	/** Usage must be asked for in a stream (`stream_options.include_usage`). */
	askUsage: boolean
}

/** Fields Switchyard itself adds to assistant messages (Claude's thinking); no OpenAI-kind server takes them. */
const GATEWAY_MESSAGE_FIELDS = ['thinking_blocks', 'reasoning_content']

/** The request as this model and this server take it, or a refusal when no shaping can make it so. */
export function prepareOpenAICall(
	request: ChatRequest,
	model: CatalogModel,
	provider: CatalogProvider,
): {
	call: OpenAICall
	log: ShapeLog
} {
	const log = new ShapeLog()
	const chatApi = provider.chatApi ?? {}
	const body: Body = { ...request, model: model.id }
	body.messages = shapeMessages(request.messages as unknown as Message[], provider, log)
	const plan = planReasoning(request.reasoning_effort, model, log)
	if (plan.level) body.reasoning_effort = model.accepts?.reasoning?.names?.[plan.level] ?? plan.level
	else delete body.reasoning_effort
	checkRefusals(request, model, plan)
	shapeFields(body, model, plan, log)
	const api = chooseApi(request, model, provider, plan)
	if (api === 'responses') {
		return { call: { api, body: toResponsesRequest(body, log), askUsage: false }, log }
	}
	const maxTokensField =
		chatApi.maxTokensField ?? (provider.kind === 'openai' ? 'max_completion_tokens' : 'max_tokens')
	rename(body, maxTokensField === 'max_tokens' ? 'max_completion_tokens' : 'max_tokens', maxTokensField)
	for (const [from, to] of Object.entries(chatApi.renames ?? {})) rename(body, from, to)
	for (const field of chatApi.refuses ?? []) log.remove(body, field)
	const known = chatApi.fields
	if (known) for (const field of Object.keys(body)) if (!known.includes(field)) log.remove(body, field)
	const askUsage = chatApi.streamUsage !== 'always'
	if (!askUsage) delete body.stream_options
	return { call: { api, body, askUsage }, log }
}

/**
 * Chat Completions, unless the model takes the request only through the Responses API: function tools
 * with reasoning on (GPT-6), or a level Chat Completions lacks (`max`).
 */
function chooseApi(
	request: ChatRequest,
	model: CatalogModel,
	provider: CatalogProvider,
	plan: ReasoningPlan,
): OpenAICall['api'] {
	const chatLevels = model.accepts?.reasoning?.chatLevels
	const toolsRefused = Boolean(request.tools?.length) && !allowed(model.accepts?.chatTools, plan.off)
	const levelRefused =
		plan.level !== undefined && chatLevels !== undefined && !chatLevels.includes(plan.level)
	if (!toolsRefused && !levelRefused) return 'chat'
	if (provider.chatApi?.responsesApi) return 'responses'
	throw incapable(
		model,
		toolsRefused
			? 'takes function tools only with reasoning off'
			: `does not take reasoning_effort ${plan.level}`,
		toolsRefused ? 'tools' : 'reasoning_effort',
	)
}

/**
 * Messages as this server takes them: without the fields it refuses, developer messages as system ones where
 * it has no developer role, and DeepSeek's tool-call turns with the `reasoning_content` it wants back.
 */
function shapeMessages(messages: Message[], provider: CatalogProvider, log: ShapeLog): Message[] {
	const chatApi = provider.chatApi ?? {}
	const keep = chatApi.messageFields
	return messages.map((message) => {
		let shaped = message
		const strip = (field: string) => {
			if (shaped === message) shaped = { ...message }
			delete shaped[field]
		}
		for (const field of GATEWAY_MESSAGE_FIELDS) {
			if (message[field] !== undefined && !(field === 'reasoning_content' && chatApi.reasoningReplay))
				strip(field)
		}
		if (keep) {
			for (const field of Object.keys(shaped)) {
				if (keep.includes(field)) continue
				if (!GATEWAY_MESSAGE_FIELDS.includes(field)) log.drop(`messages[].${field}`)
				strip(field)
			}
		}
		if (chatApi.developerRole === false && message.role === 'developer')
			shaped = { ...shaped, role: 'system' }
		if (
			chatApi.reasoningReplay &&
			message.role === 'assistant' &&
			message.tool_calls &&
			shaped.reasoning_content === undefined
		) {
			shaped = { ...shaped, reasoning_content: '' }
		}
		return shaped
	})
}

/** Moves `from` to `to`; a value the caller set on `to` itself wins. */
function rename(body: Body, from: string, to: string) {
	if (body[from] === undefined) return
	body[to] ??= body[from]
	delete body[from]
}

const authorization = (target: UpstreamTarget) => ({ authorization: `Bearer ${target.apiKey}` })

const urlOf = (target: UpstreamTarget, api: OpenAICall['api']) =>
	`${target.provider.baseUrl}/${api === 'chat' ? 'chat/completions' : 'responses'}`

const nowSeconds = () => Math.floor(Date.now() / 1000)
const completionId = (responseId: string) => `chatcmpl-${responseId.replace(/^resp_/, '')}`

export function createOpenAIAdapter(limits: AnswerLimits): ProviderAdapter {
	return {
		prepare(request, model, provider) {
			const { call, log } = prepareOpenAICall(request, model, provider)
			return { upstream: call, dropped: log.dropped, adjusted: log.adjusted }
		},

		async chat(prepared, target, options) {
			const call = prepared.upstream as OpenAICall
			const raw = await postJsonForText(
				urlOf(target, call.api),
				authorization(target),
				{ ...call.body, stream: false },
				options,
				limits,
			)
			if (call.api === 'responses') {
				const response = parseJson<Parameters<typeof fromResponse>[0]>(raw)
				if (!response || !Array.isArray(response.output)) {
					throw new UpstreamError('protocol', 0, 'the upstream answer is not a response')
				}
				const { completion, usage } = fromResponse(response, {
					id: completionId(response.id),
					created: nowSeconds(),
				})
				return { response: completion, usage }
			}
			const completion = parseJson<ChatResponse>(raw)
			if (!completion || typeof completion !== 'object' || !Array.isArray(completion.choices)) {
				throw new UpstreamError('protocol', 0, 'the upstream answer is not a chat completion')
			}
			return { response: completion, usage: toTokenUsage(completion.usage), raw }
		},

		async stream(prepared, target, options) {
			const call = prepared.upstream as OpenAICall
			const body: Body = { ...call.body, stream: true }
			// Always ask for usage, so a stream is never priced at $0; the pipeline drops that chunk for a
			// client that did not ask.
			if (call.api === 'chat' && call.askUsage) {
				body.stream_options = { ...((call.body.stream_options ?? {}) as Body), include_usage: true }
			}
			const response = await postJson(urlOf(target, call.api), authorization(target), body, options, limits)
			if (!response.body) throw new UpstreamError('protocol', 0, 'the upstream sent no stream')
			if (call.api === 'responses') return responsesChunks(response.body, limits)
			return Object.assign(chatChunks(response.body, limits), { usageSoFar: () => null })
		},
	}
}

async function* chatChunks(
	body: ReadableStream<Uint8Array>,
	limits: AnswerLimits,
): AsyncGenerator<ChatChunk> {
	for await (const event of readEvents(body, limits)) {
		if (event.data === '[DONE]') return
		const chunk = parseJson<ChatChunk & { error?: unknown }>(event.data)
		// OpenAI reports a failure after the stream started as an event with an `error` field.
		if (chunk.error)
			throw new UpstreamError('http', 500, upstreamMessage(chunk) ?? 'the upstream failed mid-stream')
		yield chunk
	}
}

function responsesChunks(body: ReadableStream<Uint8Array>, limits: AnswerLimits): ChatStream {
	const translator = createResponsesStreamTranslator({
		id: `chatcmpl-${crypto.randomUUID()}`,
		created: nowSeconds(),
	})
	async function* chunks(): AsyncGenerator<ChatChunk> {
		for await (const event of readEvents(body, limits)) {
			yield* translator.push(parseJson(event.data))
		}
	}
	return Object.assign(chunks(), { usageSoFar: translator.usage })
}

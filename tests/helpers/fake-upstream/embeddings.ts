/**
 * OpenAI Embeddings (`POST /v1/embeddings`), `openai` SDK 7.x shapes: rules EM-1..EM-6 of
 * docs/providers.md, then a list of deterministic unit vectors (floats, or base64 little-endian float32).
 */
import { EMBEDDING_MODELS, type EmbeddingModel } from './models'
import { tokensOf } from './tokens'
import type { Context, Plan } from './types'
import { type Body, given, openaiError, openaiErrorFields, openaiRefusal } from './wire'

/** EM-1: the embeddings parameters of the official SDK [O5]. */
const EMBEDDING_FIELDS = new Set(['model', 'input', 'encoding_format', 'dimensions', 'user'])
/** EM-4: "any array must be 2048 dimensions or less" [O8]. */
export const MAX_EMBEDDING_INPUTS = 2048
/** The largest token id of the `cl100k_base` vocabulary the SDK types document [O5]. */
const MAX_TOKEN_ID = 100_257
const INVALID_INPUT =
	"'$.input' is invalid. Please check the API reference: https://platform.openai.com/docs/api-reference."

export function checkEmbeddings(body: Body, _ctx: Context): Response | Plan {
	for (const field of Object.keys(body)) {
		if (!EMBEDDING_FIELDS.has(field)) return openaiRefusal(`Unrecognized request argument supplied: ${field}`)
	}
	const id = body.model as string
	const model = EMBEDDING_MODELS.find((candidate) => candidate.id === id)
	if (!model) {
		return openaiError(404, {
			message: `The model \`${id}\` does not exist or you do not have access to it.`,
			type: 'invalid_request_error',
			param: null,
			code: 'model_not_found',
		})
	}
	if (body.input === undefined) {
		return openaiRefusal("Missing required parameter: 'input'.", 'input', 'missing_required_parameter')
	}
	const inputs = inputsOf(body.input)
	if (inputs === null) return openaiRefusal(INVALID_INPUT)
	const format = body.encoding_format ?? 'float'
	if (format !== 'float' && format !== 'base64') {
		return openaiRefusal(`'${String(format)}' is not one of ['float', 'base64'] - 'encoding_format'`)
	}
	const dimensions = dimensionsOf(body, model)
	if (dimensions instanceof Response) return dimensions
	return {
		model: model.id,
		stream: false,
		answer: (reply) => {
			const counted = inputs.reduce((sum, input) => sum + tokenCount(input), 0)
			const prompt = reply.usage?.prompt ?? counted
			const data = inputs.map((input, index) => {
				const vector = embed(`${model.id}\0${JSON.stringify(input)}`, dimensions)
				return { object: 'embedding', index, embedding: format === 'base64' ? base64Of(vector) : vector }
			})
			const answer = { object: 'list', data, model: reply.model ?? model.id }
			const usage = { prompt_tokens: prompt, total_tokens: prompt }
			return { body: () => ({ ...answer, usage }), parts: () => [], streamError: () => [] }
		},
		error: (status, message, type) => {
			const fields = openaiErrorFields(status, message)
			return openaiError(status, type ? { ...fields, type } : fields)
		},
	}
}

/**
 * EM-3, EM-4: a string, an array of strings, an array of token ids, or an array of token arrays; never
 * empty, never an empty string, at most 2048 entries [O8]. Each input as a string or a token array.
 */
function inputsOf(input: unknown): (string | number[])[] | null {
	const isToken = (value: unknown) =>
		Number.isInteger(value) && (value as number) >= 0 && (value as number) <= MAX_TOKEN_ID
	if (typeof input === 'string') return input === '' ? null : [input]
	if (!Array.isArray(input) || input.length === 0 || input.length > MAX_EMBEDDING_INPUTS) return null
	if (input.every((item) => typeof item === 'string')) {
		return input.some((item) => item === '') ? null : (input as string[])
	}
	if (input.every(isToken)) return [input as number[]]
	const arrays = input.every((item) => Array.isArray(item) && item.length > 0 && item.every(isToken))
	return arrays ? (input as number[][]) : null
}

/** EM-5: `dimensions` only on text-embedding-3 models, between 1 and the model's own size. */
function dimensionsOf(body: Body, model: EmbeddingModel): number | Response {
	if (!given(body, 'dimensions')) return model.dimensions
	if (!model.shortenable) return openaiRefusal('This model does not support specifying dimensions.')
	const value = body.dimensions
	if (!Number.isInteger(value) || (value as number) < 1 || (value as number) > model.dimensions) {
		return openaiRefusal(
			`Invalid value for 'dimensions': ${String(value)}. It must be an integer between 1 and ${model.dimensions}.`,
			'dimensions',
			'invalid_value',
		)
	}
	return value as number
}

/** A string counts as `countPromptTokens` counts text; a token array is its length. */
function tokenCount(input: string | number[]): number {
	return typeof input === 'string' ? tokensOf([input]) : input.length
}

/** A unit vector drawn from a generator seeded by the model and the input: the same input, the same vector. */
export function embed(seed: string, dimensions: number): number[] {
	let state = Number(Bun.hash.wyhash(seed) & 0xffffffffn)
	const next = () => {
		// mulberry32
		state = (state + 0x6d2b79f5) | 0
		let t = Math.imul(state ^ (state >>> 15), 1 | state)
		t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
		return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296
	}
	const vector = Array.from({ length: dimensions }, () => next() * 2 - 1)
	const norm = Math.hypot(...vector) || 1
	// Rounded through float32, so a float answer and a base64 one decode to the same numbers.
	return Array.from(new Float32Array(vector.map((value) => value / norm)))
}

/** The vector's float32 values, little-endian, in base64: what the SDK decodes for `encoding_format: base64`. */
export function base64Of(vector: number[]): string {
	return Buffer.from(new Float32Array(vector).buffer).toString('base64')
}

// `POST /v1/embeddings`: OpenAI's Embeddings API, for OpenAI and OpenAI-compatible embedding models. A
// named model only (`auto` routes chat requests); the body goes untouched but for the model.
import { badRequest } from '../../errors'
import type { NativeApi } from '../../providers/types'
import type { FrontDoor } from './door'

/** The text of `input` for the rules' features and the log: strings joined; token arrays have none. */
function inputText(input: unknown): string {
	if (typeof input === 'string') return input
	if (!Array.isArray(input)) return ''
	return input.filter((item): item is string => typeof item === 'string').join('\n')
}

const NO_TRANSLATION = badRequest(
	'Only OpenAI and OpenAI-compatible providers serve embeddings',
	'model',
	'model_incapable',
)

const neverTranslated = (): never => {
	throw NO_TRANSLATION
}

export const createEmbeddingsDoor = (embeddingsApi: NativeApi): FrontDoor => ({
	name: 'embeddings',
	nativeApi: (kind) => (kind === 'anthropic' ? undefined : embeddingsApi),
	async parse(raw) {
		if (typeof raw.model !== 'string' || raw.model === '')
			throw badRequest('model is required: the embedding model to use', 'model')
		if (raw.model === 'auto')
			throw badRequest('Embeddings need a named model: auto routes chat requests only', 'model')
		const input = raw.input
		const valid = (typeof input === 'string' && input !== '') || (Array.isArray(input) && input.length > 0)
		if (!valid) throw badRequest('input must be a non-empty string or array', 'input')
		if (raw.stream !== undefined) throw badRequest('Embeddings are not streamed', 'stream')
		const chat = { model: raw.model, messages: [{ role: 'user' as const, content: inputText(input) }] }
		return { chat, untranslatable: NO_TRANSLATION, native: raw, nativeHeaders: {}, sent: raw }
	},
	render: neverTranslated,
	encoder: neverTranslated,
	errorBody: () => undefined,
})

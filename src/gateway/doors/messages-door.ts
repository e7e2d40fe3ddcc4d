// `POST /v1/messages`: the Anthropic Messages API, for Claude Code and the Anthropic SDKs. Untouched to
// Anthropic models (with the caller's `anthropic-version` and `anthropic-beta`), translated for the others.
import { GatewayError } from '../../errors'
import type { NativeApi } from '../../providers/types'
import type { FrontDoor } from './door'
import type { StreamEncoder } from './encoder'
import {
	anthropicError,
	chatToMessage,
	createMessagesEncoder,
	messagesForRules,
	messagesToChat,
} from './messages'

/** What Anthropic's gateway contract asks a gateway to forward (https://code.claude.com/docs/en/llm-gateway). */
const FORWARDED_HEADERS = ['anthropic-version', 'anthropic-beta'] as const

/** The code `messagesToChat` gives what only an Anthropic model can run. */
const ANTHROPIC_ONLY = 'anthropic_only'

export const createMessagesDoor = (messagesApi: NativeApi): FrontDoor => ({
	name: 'messages',
	nativeApi: (kind) => (kind === 'anthropic' ? messagesApi : undefined),
	async parse(raw, _principal, headers) {
		const nativeHeaders: Record<string, string> = {}
		for (const name of FORWARDED_HEADERS) {
			const value = headers.get(name)
			if (value) nativeHeaders[name] = value
		}
		const native = withoutThinking(raw, unsigned)
		try {
			return { chat: messagesToChat(raw), untranslatable: null, native, nativeHeaders, sent: raw }
		} catch (error) {
			if (!(error instanceof GatewayError) || error.code !== ANTHROPIC_ONLY) throw error
			// Valid, but only Anthropic runs it: the rules still see the rest of the request.
			return { chat: messagesForRules(raw), untranslatable: error, native, nativeHeaders, sent: raw }
		}
	},
	render: (response) => JSON.stringify(chatToMessage(response, response.model)),
	encoder: ({ model }) => answeringModelEncoder(model),
	errorBody: anthropicError,
	withoutThinking: (body) => withoutThinking(body, () => true),
})

/**
 * The stream's encoder, made at its first chunk, so that `message_start` names the model the upstream
 * reported, as the JSON answer does (`gpt-6-luna`, not the catalog's `openai/gpt-6-luna`).
 */
function answeringModelEncoder(catalogModel: string): StreamEncoder {
	let encoder: StreamEncoder | undefined
	const made = (model?: string) => {
		encoder ??= createMessagesEncoder(model || catalogModel)
		return encoder
	}
	return {
		chunk: (chunk) => made(chunk.model).chunk(chunk),
		end: () => made().end(),
		fail: (error) => made().fail(error),
	}
}

type Block = { type?: unknown; signature?: unknown }

const isThinking = (block: Block) => block.type === 'thinking' || block.type === 'redacted_thinking'

/**
 * Reasoning another provider wrote, given back by the client as a thinking block with no signature
 * (`chatToMessage` writes them so): Anthropic refuses it, and it carries nothing Anthropic can use.
 */
const unsigned = (block: Block) => block.type === 'thinking' && block.signature === ''

/** Assistant turns without the thinking blocks `drop` picks; the body as it is when there are none. */
function withoutThinking(body: Record<string, unknown>, drop: (block: Block) => boolean) {
	if (!Array.isArray(body.messages)) return body
	let changed = false
	const messages = body.messages.map((message: unknown) => {
		if (!message || typeof message !== 'object') return message
		const { role, content } = message as { role?: unknown; content?: unknown }
		if (role !== 'assistant' || !Array.isArray(content)) return message
		const kept = content.filter(
			(block) => !(block && typeof block === 'object' && isThinking(block) && drop(block)),
		)
		if (kept.length === content.length) return message
		changed = true
		return { ...message, content: kept }
	})
	return changed ? { ...body, messages } : body
}

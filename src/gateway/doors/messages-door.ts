// `POST /v1/messages`: the Anthropic Messages API, for Claude Code and the Anthropic SDKs. Untouched to
// Anthropic models (with the caller's `anthropic-version` and `anthropic-beta`), translated for the others.
import { GatewayError } from '../../errors'
import type { NativeApi } from '../../providers/types'
import type { FrontDoor } from './door'
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
		try {
			return { chat: messagesToChat(raw), untranslatable: null, native: raw, nativeHeaders }
		} catch (error) {
			if (!(error instanceof GatewayError) || error.code !== ANTHROPIC_ONLY) throw error
			// Valid, but only Anthropic runs it: the rules still see the rest of the request.
			return { chat: messagesForRules(raw), untranslatable: error, native: raw, nativeHeaders }
		}
	},
	render: (response) => JSON.stringify(chatToMessage(response, response.model)),
	encoder: ({ request }) => createMessagesEncoder(request.chat.model),
	errorBody: anthropicError,
})

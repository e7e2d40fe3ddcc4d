// `POST /v1/chat/completions`: the canonical door, whose format the pipeline itself speaks.
import { toOpenAIError } from '../../errors'
import { checkChatRequest } from '../../providers/chat-request'
import type { ChatChunk } from '../../providers/types'
import type { FrontDoor } from './door'
import type { StreamEncoder } from './encoder'

const isUsageOnly = (chunk: ChatChunk) => chunk.choices.length === 0 && Boolean(chunk.usage)
const data = (value: unknown) => `data: ${JSON.stringify(value)}\n\n`

/**
 * OpenAI's server-sent events, one `data:` line per chunk, ending with `data: [DONE]`. The usage-only
 * chunk that adapters always ask for reaches only a client that asked for `stream_options.include_usage`.
 */
export function chatEncoder(includeUsage: boolean): StreamEncoder {
	return {
		chunk(chunk) {
			if (!includeUsage) {
				if (isUsageOnly(chunk)) return ''
				if (chunk.usage === null) delete chunk.usage
			}
			return data(chunk)
		},
		end: () => 'data: [DONE]\n\n',
		fail: (error) => data(toOpenAIError(error)),
	}
}

export const chatDoor: FrontDoor = {
	name: 'chat',
	nativeApi: () => undefined,
	async parse(raw) {
		return { chat: checkChatRequest(raw), untranslatable: null, native: raw, nativeHeaders: {}, sent: raw }
	},
	render: (response, raw) => raw ?? JSON.stringify(response),
	encoder: ({ request }) => chatEncoder(request.chat.stream_options?.include_usage === true),
	errorBody: () => undefined,
}

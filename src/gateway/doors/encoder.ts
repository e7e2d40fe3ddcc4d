import type { GatewayError } from '../../errors'
import type { ChatChunk } from '../../providers/types'

/**
 * Writes one translated stream in a front door's wire format, as server-sent-event text: the pipeline
 * speaks Chat Completions chunks, each door renders them as its API does. One encoder per response.
 */
export interface StreamEncoder {
	/** The events for one canonical chunk; '' when it adds nothing the door shows. */
	chunk(chunk: ChatChunk): string
	/** The closing events of a stream that completed. */
	end(): string
	/** The door's error event, ending a stream that failed after it began. */
	fail(error: GatewayError): string
	/** The whole answer the stream made, where the door keeps answers (the Responses door). */
	final?(): Record<string, unknown> | null
}

/** One server-sent event, named as Anthropic's and the Responses API's streams name theirs. */
export const sseEvent = (name: string, data: unknown) => `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`

// The start of a relayed stream: pieces of one shape for translated and untouched streams, read up to
// the first content so that a stream that fails before any reaches the client still falls back.
import type { ChatChunk, ChatStream, NativeStream, StreamPiece } from '../providers/types'
import { UpstreamError } from '../providers/upstream-error'

/** A translated stream as pieces of one chunk each, for the relay that also carries untouched ones. */
export function piecesOf(stream: ChatStream): NativeStream {
	async function* pieces(): AsyncGenerator<StreamPiece> {
		for await (const chunk of stream) yield { chunks: [chunk], native: null }
	}
	return Object.assign(pieces(), { usageSoFar: stream.usageSoFar, final: () => null })
}

/**
 * Reads a stream up to its first piece with content (text, reasoning, a tool call or a finish), so that a
 * stream the upstream opens and then fails (Anthropic's `message_start` then `overloaded_error`) still
 * falls back: nothing has reached the client yet. Returns every piece read, in order.
 */
export async function untilContent(iterator: AsyncIterator<StreamPiece>): Promise<StreamPiece[]> {
	const opening: StreamPiece[] = []
	for (;;) {
		const next = await iterator.next()
		if (next.done) {
			if (opening.length > 0) return opening
			throw new UpstreamError('protocol', 0, 'the upstream closed the stream without data')
		}
		opening.push(next.value)
		if (next.value.chunks.some(hasContent)) return opening
	}
}

function hasContent(chunk: ChatChunk): boolean {
	if (chunk.usage) return true
	for (const choice of chunk.choices) {
		if (choice.finish_reason) return true
		const delta = choice.delta as ChatChunk['choices'][number]['delta'] & {
			reasoning_content?: string
			thinking_blocks?: unknown[]
		}
		if (delta.content || delta.tool_calls?.length || delta.refusal) return true
		if (delta.reasoning_content || delta.thinking_blocks?.length) return true
	}
	return false
}

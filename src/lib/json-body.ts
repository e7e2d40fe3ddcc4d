// Request bodies within a size and a depth budget, for every route that reads one: past the size the answer
// is a 413 before the body is read whole, past the depth a 400 before anything else parses it (a body nested
// 100,000 levels deep once stalled the event loop for a second and crashed later recursion).

import { badRequest, GatewayError } from '../errors'
import { readTextWithin } from './bounded-text'

/** Dashboard and API bodies are small: the largest, a rules document, is about 20 KB. */
export const API_BODY_LIMIT_BYTES = 1024 * 1024
/** Deeper than any real request: chat messages with tool schemas nest about 10 levels. */
export const MAX_JSON_DEPTH = 64

const OPEN_OBJECT = 123
const OPEN_ARRAY = 91
const CLOSE_OBJECT = 125
const CLOSE_ARRAY = 93
const QUOTE = 34
const BACKSLASH = 92
const COLON = 58

export const tooLarge = (limitBytes: number) =>
	new GatewayError(413, 'invalid_request_error', `The request body is larger than ${limitBytes} bytes`, {
		code: 'request_too_large',
	})

/** The body as text, refusing more than `limitBytes` before reading it whole (413). */
export const readBounded = (request: Request, limitBytes: number) =>
	readTextWithin(request, limitBytes, () => tooLarge(limitBytes))

/**
 * Refuses JSON text nested deeper than `maxDepth`, in one pass that never recurses: a 400 naming the
 * top-level field the nesting is under. Text that is not JSON is left for the parser to refuse. It runs on
 * every gateway request, so strings (most of a chat body) are skipped with `indexOf`, not walked.
 */
export function checkJsonDepth(text: string, maxDepth = MAX_JSON_DEPTH) {
	let depth = 0
	let topLevelKey: string | null = null
	for (let i = 0; i < text.length; i++) {
		const code = text.charCodeAt(i)
		if (code === QUOTE) {
			const end = closingQuote(text, i + 1)
			// A string at depth 1 followed by a colon is a top-level key.
			if (depth === 1 && nextNonSpace(text, end + 1) === COLON) topLevelKey = text.slice(i + 1, end)
			i = end
		} else if (code === OPEN_OBJECT || code === OPEN_ARRAY) {
			if (++depth > maxDepth) {
				throw badRequest(
					`The request body nests deeper than ${maxDepth} levels`,
					depth > 1 ? topLevelKey : null,
				)
			}
		} else if (code === CLOSE_OBJECT || code === CLOSE_ARRAY) {
			depth--
		}
	}
}

/** The index of the quote that closes a string whose text starts at `from`; the text's length if none does. */
function closingQuote(text: string, from: number): number {
	let end = text.indexOf('"', from)
	while (end !== -1 && isEscaped(text, end)) end = text.indexOf('"', end + 1)
	return end === -1 ? text.length : end
}

/** An odd run of backslashes before `at` escapes it. */
function isEscaped(text: string, at: number): boolean {
	let backslashes = 0
	while (text.charCodeAt(at - 1 - backslashes) === BACKSLASH) backslashes++
	return backslashes % 2 === 1
}

function nextNonSpace(text: string, from: number): number {
	for (let i = from; i < text.length; i++) {
		const code = text.charCodeAt(i)
		if (code !== 32 && code !== 9 && code !== 10 && code !== 13) return code
	}
	return -1
}

/** JSON within the depth budget, or a 400. */
export function parseJson(text: string): unknown {
	checkJsonDepth(text)
	try {
		return JSON.parse(text)
	} catch {
		throw badRequest('The request body is not valid JSON')
	}
}

/** Chat requests carry whole conversations, images included. */
export const GATEWAY_BODY_LIMIT_BYTES = 4 * 1024 * 1024

/** The body as text, refusing more than 4 MiB before reading it whole (413). */
export const readGatewayBody = (request: Request) => readBounded(request, GATEWAY_BODY_LIMIT_BYTES)

/** The body as a JSON object within the depth budget, or a 400. */
export function parseJsonObject(text: string): Record<string, unknown> {
	const body = parseJson(text)
	if (!body || typeof body !== 'object' || Array.isArray(body))
		throw badRequest('The request body must be a JSON object')
	return body as Record<string, unknown>
}

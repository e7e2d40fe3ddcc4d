// Replaying a logged request through rules: three-valued, since the log may not answer a text predicate.
import type { TextDigest } from '../lib/text-digest'
import type { RequestFeatures, RequestText } from './features'
import { type Node, rangeHolds, type TextNode } from './nodes'

/** What the log kept of a request's text: the text itself (LOG_PROMPT_TEXT), its digest, both or neither. */
export interface LoggedText {
	text: RequestText | null
	digest: TextDigest | null
}

export const FALSE = 0
export const TRUE = 1
export const UNKNOWN = 2
export type Truth = typeof FALSE | typeof TRUE | typeof UNKNOWN

const ANSWERS = { yes: TRUE, no: FALSE, unknown: UNKNOWN } as const

/** A text predicate from what was logged: the digest first, then the kept text (which may be an excerpt). */
function textTruth(node: TextNode, logged: LoggedText): Truth {
	const fromDigest =
		logged.digest === null
			? UNKNOWN
			: ANSWERS[node.kind === 'keywords' ? logged.digest.keywords(node.words) : logged.digest.pattern(node)]
	if (fromDigest !== UNKNOWN || logged.text === null) return fromDigest
	const text = node.kind === 'keywords' ? logged.text.lastUserMessage : logged.text[node.field]
	return node.re.test(text) ? TRUE : FALSE
}

/**
 * Kleene evaluation from what the log kept. Not the hot path, so a plain interpreter; `unknown` collects
 * the first text predicate it could not answer, to say what an undetermined replay lacked.
 */
export function truthOfLogged(
	node: Node,
	f: RequestFeatures,
	logged: LoggedText,
	unknown: { first?: TextNode },
): Truth {
	switch (node.kind) {
		case 'range':
			return rangeHolds(node, f[node.field]) ? TRUE : FALSE
		case 'flag':
			return f[node.field] === node.value ? TRUE : FALSE
		case 'keywords':
		case 'regex': {
			const truth = textTruth(node, logged)
			if (truth === UNKNOWN) unknown.first ??= node
			return truth
		}
		case 'not': {
			const inner = truthOfLogged(node.child, f, logged, unknown)
			return inner === UNKNOWN ? UNKNOWN : inner === TRUE ? FALSE : TRUE
		}
		case 'all': {
			let result: Truth = TRUE
			for (const child of node.children) {
				const value = truthOfLogged(child, f, logged, unknown)
				if (value === FALSE) return FALSE
				if (value === UNKNOWN) result = UNKNOWN
			}
			return result
		}
		case 'any': {
			let result: Truth = FALSE
			for (const child of node.children) {
				const value = truthOfLogged(child, f, logged, unknown)
				if (value === TRUE) return TRUE
				if (value === UNKNOWN) result = UNKNOWN
			}
			return result
		}
	}
}

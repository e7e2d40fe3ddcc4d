import type { When } from './schema'

/** How many words a summary quotes before counting the rest. */
const QUOTED_WORDS = 3
/** Longer patterns are cut in a summary; the JSON next to it has them whole. */
const PATTERN_LENGTH = 40

const quoteWords = (words: readonly string[]) => {
	const quoted = words.slice(0, QUOTED_WORDS).map((word) => `"${word}"`)
	const rest = words.length - quoted.length
	return rest > 0 ? `${quoted.join(', ')} or ${rest} more` : quoted.join(' or ')
}

const pattern = (source: string) =>
	`/${source.length > PATTERN_LENGTH ? `${source.slice(0, PATTERN_LENGTH)}…` : source}/`

function range(name: string, bounds: { gte?: number; lte?: number }): string {
	if (bounds.gte !== undefined && bounds.lte !== undefined) return `${name} ${bounds.gte}–${bounds.lte}`
	if (bounds.gte !== undefined) return `${name} ≥ ${bounds.gte}`
	return `${name} ≤ ${bounds.lte}`
}

/**
 * A rule's condition in one readable line, for the rules page next to the JSON:
 * `promptTokens ≥ 400 and (keywords "prove", "lemma", "theorem" or 12 more or tools)`.
 */
export function describeWhen(when: When): string {
	const parts: string[] = []
	if (when.promptTokens) parts.push(range('prompt tokens', when.promptTokens))
	if (when.messages) parts.push(range('messages', when.messages))
	if (when.maxTokens) parts.push(range('max tokens', when.maxTokens))
	if (when.hasTools !== undefined) parts.push(when.hasTools ? 'tools' : 'no tools')
	if (when.hasImages !== undefined) parts.push(when.hasImages ? 'images' : 'no images')
	if (when.jsonMode !== undefined) parts.push(when.jsonMode ? 'JSON mode' : 'no JSON mode')
	if (when.keywords) parts.push(`the last message says ${quoteWords(when.keywords)}`)
	if (when.matches) parts.push(`the last message matches ${pattern(when.matches)}`)
	if (when.system) parts.push(`the system prompt matches ${pattern(when.system)}`)
	if (when.any) parts.push(`(${when.any.map(describeWhen).join(' or ')})`)
	if (when.all) parts.push(`(${when.all.map(describeWhen).join(' and ')})`)
	if (when.not) parts.push(`not (${describeWhen(when.not)})`)
	return parts.length === 0 ? 'always' : parts.join(' and ')
}

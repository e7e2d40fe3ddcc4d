// Why a rule held or failed for a request, in one readable line ("Test a prompt", the simulation).
import type { RequestFeatures, RequestText } from './features'
import type { Node, RangeNode, TextNode } from './nodes'
import { rangeHolds } from './nodes'
import type { TextField } from './patterns'

const quote = (word: string) => JSON.stringify(word)

function describeRange(node: RangeNode, value: number | null, holds: boolean): string {
	if (value === null) return `${node.field} is not set`
	const bounds = [
		node.gte === undefined ? null : `>= ${node.gte}`,
		node.lte === undefined ? null : `<= ${node.lte}`,
	].filter((bound): bound is string => bound !== null)
	if (holds) return `${node.field} ${value} is ${bounds.join(' and ')}`
	const failed = node.gte !== undefined && value < node.gte ? `>= ${node.gte}` : `<= ${node.lte}`
	return `${node.field} ${value} is not ${failed}`
}

const TEXT_NAMES: Record<TextField, string> = {
	lastUserMessage: 'the last user message',
	system: 'the system prompt',
}

/** Reasons are one line each: a long list of words or a long pattern is cut, with what was left out counted. */
const SHOWN_WORDS = 3
const SHOWN_PATTERN = 60
const SHOWN_REASONS = 2

const sample = (words: readonly string[]) =>
	words.length <= SHOWN_WORDS
		? words.map(quote).join(', ')
		: `${words.slice(0, SHOWN_WORDS).map(quote).join(', ')} and ${words.length - SHOWN_WORDS} more`

const shorten = (pattern: string) =>
	pattern.length <= SHOWN_PATTERN ? pattern : `${pattern.slice(0, SHOWN_PATTERN)}…`

/** A text predicate on one line, as a simulation names what it lacked. */
export const describeTextNode = (node: TextNode) =>
	node.kind === 'keywords' ? `keywords ${sample(node.words)}` : `${node.predicate} /${shorten(node.source)}/`

/** Whether `node` holds, and a readable reason for that outcome. */
export function why(node: Node, f: RequestFeatures, t: RequestText): { holds: boolean; reason: string } {
	switch (node.kind) {
		case 'range': {
			const holds = rangeHolds(node, f[node.field])
			return { holds, reason: describeRange(node, f[node.field], holds) }
		}
		case 'flag': {
			const holds = f[node.field] === node.value
			return { holds, reason: `${node.field} is ${f[node.field]}` }
		}
		case 'keywords': {
			const found = node.re.exec(t.lastUserMessage)
			return found
				? { holds: true, reason: `keywords: ${quote(found[0])} in the last user message` }
				: { holds: false, reason: `keywords: none of ${sample(node.words)} in the last user message` }
		}
		case 'regex': {
			const holds = node.re.test(t[node.field])
			const verb = holds ? 'matches' : 'does not match'
			return {
				holds,
				reason: `${node.predicate}: /${shorten(node.re.source)}/ ${verb} ${TEXT_NAMES[node.field]}`,
			}
		}
		case 'not': {
			const inner = why(node.child, f, t)
			return { holds: !inner.holds, reason: `not: ${inner.reason}` }
		}
		case 'all': {
			const reasons: string[] = []
			for (const child of node.children) {
				const result = why(child, f, t)
				if (!result.holds)
					return { holds: false, reason: node.implicit ? result.reason : `all: ${result.reason}` }
				reasons.push(result.reason)
			}
			if (reasons.length === 0) return { holds: true, reason: 'an empty condition always holds' }
			const joined = reasons.join('; ')
			return { holds: true, reason: node.implicit ? joined : `all: (${joined})` }
		}
		case 'any': {
			const reasons: string[] = []
			for (const child of node.children) {
				const result = why(child, f, t)
				if (result.holds) return { holds: true, reason: `any: ${result.reason}` }
				reasons.push(result.reason)
			}
			const shown = reasons.slice(0, SHOWN_REASONS).join('; ')
			const more = reasons.length > SHOWN_REASONS ? `; and ${reasons.length - SHOWN_REASONS} more` : ''
			return { holds: false, reason: `any: none holds (${shown || 'no conditions'}${more})` }
		}
	}
}

// The parsed form of a rule's `when`: a tree of predicates, shared by classification (compile.ts), the
// replay of logged requests (replay.ts) and the reasons "Test a prompt" gives (explain.ts).
import type { TextPattern } from '../lib/text-digest'
import type { PatternCache, TextField } from './patterns'
import type { When } from './schema'

export type RangeField = 'promptTokens' | 'messages' | 'maxTokens'
export type FlagField = 'hasTools' | 'hasImages' | 'jsonMode'

export type Node =
	| { kind: 'range'; field: RangeField; gte: number | undefined; lte: number | undefined }
	| { kind: 'flag'; field: FlagField; value: boolean }
	| { kind: 'keywords'; words: readonly string[]; re: RegExp; ascii: RegExp }
	| { kind: 'regex'; predicate: 'matches' | 'system'; field: TextField; source: string; re: RegExp }
	/** `implicit`: the predicates of one `when` object, rather than an explicit `all: [...]`. */
	| { kind: 'all'; children: Node[]; implicit: boolean }
	| { kind: 'any'; children: Node[] }
	| { kind: 'not'; child: Node }

/** The text each regex predicate reads. */
const TEXT_OF = { matches: 'lastUserMessage', system: 'system' } as const satisfies Record<string, TextField>

export function toNode(when: When, patterns: PatternCache): Node {
	const children: Node[] = []
	for (const key of Object.keys(when) as (keyof When)[]) {
		switch (key) {
			case 'promptTokens':
			case 'messages':
			case 'maxTokens': {
				const range = when[key]
				if (range) children.push({ kind: 'range', field: key, gte: range.gte, lte: range.lte })
				break
			}
			case 'hasTools':
			case 'hasImages':
			case 'jsonMode': {
				const value = when[key]
				if (value !== undefined) children.push({ kind: 'flag', field: key, value })
				break
			}
			case 'keywords':
				if (when.keywords)
					children.push({
						kind: 'keywords',
						words: when.keywords,
						re: patterns.keywords(when.keywords),
						ascii: patterns.asciiKeywords(when.keywords),
					})
				break
			case 'matches':
			case 'system': {
				const pattern = when[key]
				if (pattern !== undefined)
					children.push({
						kind: 'regex',
						predicate: key,
						field: TEXT_OF[key],
						source: pattern,
						re: patterns.pattern(pattern),
					})
				break
			}
			case 'all':
				if (when.all)
					children.push({
						kind: 'all',
						children: when.all.map((child) => toNode(child, patterns)),
						implicit: false,
					})
				break
			case 'any':
				if (when.any)
					children.push({ kind: 'any', children: when.any.map((child) => toNode(child, patterns)) })
				break
			case 'not':
				if (when.not) children.push({ kind: 'not', child: toNode(when.not, patterns) })
				break
		}
	}
	return { kind: 'all', children, implicit: true }
}

export type RangeNode = Extract<Node, { kind: 'range' }>
export type TextNode = Extract<Node, { kind: 'keywords' | 'regex' }>

export function rangeHolds(node: RangeNode, value: number | null): boolean {
	return (
		value !== null &&
		(node.gte === undefined || value >= node.gte) &&
		(node.lte === undefined || value <= node.lte)
	)
}

/** Every distinct regular expression of some rules' trees, for the request log to record outcomes of. */
export function textPatternsOf(nodes: readonly Node[]): TextPattern[] {
	const patterns = new Map<string, TextPattern>()
	const visit = (node: Node) => {
		if (node.kind === 'regex') patterns.set(`${node.field}\u0000${node.source}`, node)
		else if (node.kind === 'not') visit(node.child)
		else if (node.kind === 'all' || node.kind === 'any') node.children.forEach(visit)
	}
	for (const node of nodes) visit(node)
	return [...patterns.values()].map(({ field, source }) => ({ field, source }))
}

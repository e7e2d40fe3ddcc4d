import type { RequestFeatures, RequestText } from './features'
import { PatternCache, type TextField, TextMemo } from './patterns'
import type { RulesDocument, When } from './schema'

/** Where a request goes, and which rule sent it there. */
export interface Decision {
	tier: string
	/** The deciding rule's name, or 'default' when no rule held. */
	rule: string
}

/** A replay that cannot decide because an earlier rule needs text that was not logged. */
export interface Undetermined {
	undetermined: true
	/** The first rule whose outcome depended on the missing text. */
	rule: string
}

export interface RuleExplanation {
	name: string
	outcome: 'matched' | 'failed' | 'disabled'
	/** Why it failed (the first predicate that did not hold) or matched; absent for disabled rules. */
	reason?: string
}

export interface CompiledRules {
	readonly document: RulesDocument
	/** The hot path: first enabled rule whose `when` holds, else defaultTier. Microseconds. */
	classify(features: RequestFeatures, text: RequestText): Decision
	/**
	 * For replaying logged requests, whose text may not have been kept (null). Three-valued (Kleene) logic:
	 * a text predicate on unknown text is unknown; `any` with one true is true, `all` with one false is false,
	 * `not` keeps unknown. An unknown rule before the first rule that surely holds makes the decision
	 * undetermined.
	 */
	replay(features: RequestFeatures, text: RequestText | null): Decision | Undetermined
	/** For "why did this go there": each rule in order up to the winner, with the reason for its outcome. */
	explain(features: RequestFeatures, text: RequestText): { decision: Decision; rules: RuleExplanation[] }
}

type RangeField = 'promptTokens' | 'messages' | 'maxTokens'
type FlagField = 'hasTools' | 'hasImages' | 'jsonMode'

type Node =
	| { kind: 'range'; field: RangeField; gte: number | undefined; lte: number | undefined }
	| { kind: 'flag'; field: FlagField; value: boolean }
	| { kind: 'keywords'; words: readonly string[]; re: RegExp; ascii: RegExp }
	| { kind: 'regex'; predicate: 'matches' | 'system'; field: TextField; re: RegExp }
	/** `implicit`: the predicates of one `when` object, rather than an explicit `all: [...]`. */
	| { kind: 'all'; children: Node[]; implicit: boolean }
	| { kind: 'any'; children: Node[] }
	| { kind: 'not'; child: Node }

type Test = (features: RequestFeatures, text: RequestText) => boolean

/** The text each regex predicate reads. */
const TEXT_OF = { matches: 'lastUserMessage', system: 'system' } as const satisfies Record<string, TextField>

function toNode(when: When, patterns: PatternCache): Node {
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
					children.push({ kind: 'regex', predicate: key, field: TEXT_OF[key], re: patterns.pattern(pattern) })
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

/** Relative cost, so a conjunction tries the numeric checks before running any regex. */
function cost(node: Node): number {
	switch (node.kind) {
		case 'range':
		case 'flag':
			return 0
		case 'keywords':
		case 'regex':
			return 1
		case 'not':
			return cost(node.child)
		default:
			return node.children.reduce((max, child) => Math.max(max, cost(child)), 0)
	}
}

type RangeNode = Extract<Node, { kind: 'range' }>

function rangeHolds(node: RangeNode, value: number | null): boolean {
	return (
		value !== null &&
		(node.gte === undefined || value >= node.gte) &&
		(node.lte === undefined || value <= node.lte)
	)
}

const ALWAYS: Test = () => true
const NEVER: Test = () => false

function rangeTest(field: RangeField, gte: number | undefined, lte: number | undefined): Test {
	// maxTokens is null when the request sets no limit: no range holds for it.
	if (gte !== undefined && lte !== undefined)
		return (f) => {
			const value = f[field]
			return value !== null && value >= gte && value <= lte
		}
	if (gte !== undefined)
		return (f) => {
			const value = f[field]
			return value !== null && value >= gte
		}
	if (lte !== undefined)
		return (f) => {
			const value = f[field]
			return value !== null && value <= lte
		}
	return ALWAYS
}

/** Closures built once per load; evaluation order inside a conjunction or disjunction does not change results. */
function toTest(node: Node, memo: TextMemo): Test {
	switch (node.kind) {
		case 'range':
			return rangeTest(node.field, node.gte, node.lte)
		case 'flag': {
			const { field, value } = node
			return (f) => f[field] === value
		}
		case 'keywords': {
			const unicode = memo.slot(node.re, 'lastUserMessage')
			const ascii = memo.slot(node.ascii, 'lastUserMessage')
			return (_, t) => memo.testKeywords(unicode, ascii, t)
		}
		case 'regex': {
			const slot = memo.slot(node.re, node.field)
			return (_, t) => memo.test(slot, t)
		}
		case 'not': {
			const child = toTest(node.child, memo)
			return (f, t) => !child(f, t)
		}
		case 'all':
		case 'any': {
			const tests = [...node.children].sort((a, b) => cost(a) - cost(b)).map((child) => toTest(child, memo))
			const [first, second] = tests
			const all = node.kind === 'all'
			if (first === undefined) return all ? ALWAYS : NEVER
			if (second === undefined) return first
			if (tests.length === 2)
				return all ? (f, t) => first(f, t) && second(f, t) : (f, t) => first(f, t) || second(f, t)
			return all
				? (f, t) => {
						for (const test of tests) if (!test(f, t)) return false
						return true
					}
				: (f, t) => {
						for (const test of tests) if (test(f, t)) return true
						return false
					}
		}
	}
}

const FALSE = 0
const TRUE = 1
const UNKNOWN = 2
type Truth = typeof FALSE | typeof TRUE | typeof UNKNOWN

/** Kleene evaluation with the text unknown. Not the hot path, so a plain interpreter. */
function truthWithoutText(node: Node, f: RequestFeatures): Truth {
	switch (node.kind) {
		case 'range':
			return rangeHolds(node, f[node.field]) ? TRUE : FALSE
		case 'flag':
			return f[node.field] === node.value ? TRUE : FALSE
		case 'keywords':
		case 'regex':
			return UNKNOWN
		case 'not': {
			const inner = truthWithoutText(node.child, f)
			return inner === UNKNOWN ? UNKNOWN : inner === TRUE ? FALSE : TRUE
		}
		case 'all': {
			let result: Truth = TRUE
			for (const child of node.children) {
				const value = truthWithoutText(child, f)
				if (value === FALSE) return FALSE
				if (value === UNKNOWN) result = UNKNOWN
			}
			return result
		}
		case 'any': {
			let result: Truth = FALSE
			for (const child of node.children) {
				const value = truthWithoutText(child, f)
				if (value === TRUE) return TRUE
				if (value === UNKNOWN) result = UNKNOWN
			}
			return result
		}
	}
}

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

/** Whether `node` holds, and a readable reason for that outcome. */
function why(node: Node, f: RequestFeatures, t: RequestText): { holds: boolean; reason: string } {
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

interface CompiledRule {
	readonly name: string
	readonly enabled: boolean
	readonly node: Node
	readonly test: Test
	readonly decision: Decision
}

/**
 * Compiles a document once per load: regexes built, predicates turned into closures, decisions frozen and
 * shared. Expects a document that passed `validateRules`; a bad regular expression throws here.
 */
export function compileRules(document: RulesDocument): CompiledRules {
	const patterns = new PatternCache()
	const memo = new TextMemo()
	const rules: CompiledRule[] = document.rules.map((rule) => {
		const node = toNode(rule.when, patterns)
		return {
			name: rule.name,
			enabled: rule.enabled !== false,
			node,
			test: toTest(node, memo),
			decision: Object.freeze({ tier: rule.tier, rule: rule.name }),
		}
	})
	const enabled = rules.filter((rule) => rule.enabled)
	const fallback: Decision = Object.freeze({ tier: document.defaultTier, rule: 'default' })

	function classify(features: RequestFeatures, text: RequestText): Decision {
		for (const rule of enabled) if (rule.test(features, text)) return rule.decision
		return fallback
	}

	function replay(features: RequestFeatures, text: RequestText | null): Decision | Undetermined {
		if (text !== null) return classify(features, text)
		for (const rule of enabled) {
			const truth = truthWithoutText(rule.node, features)
			if (truth === TRUE) return rule.decision
			if (truth === UNKNOWN) return { undetermined: true, rule: rule.name }
		}
		return fallback
	}

	function explain(features: RequestFeatures, text: RequestText) {
		const explained: RuleExplanation[] = []
		for (const rule of rules) {
			if (!rule.enabled) {
				explained.push({ name: rule.name, outcome: 'disabled' })
				continue
			}
			const { holds, reason } = why(rule.node, features, text)
			explained.push({ name: rule.name, outcome: holds ? 'matched' : 'failed', reason })
			if (holds) return { decision: rule.decision, rules: explained }
		}
		return { decision: fallback, rules: explained }
	}

	return { document, classify, replay, explain }
}

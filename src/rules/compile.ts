import type { TextDigest, TextPattern } from '../lib/text-digest'
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
	/** Its predicate that could not be answered, on one line: `matches /\d+/`, `keywords "a", "b"`. */
	needs: string
}

/** What the log kept of a request's text: the text itself (LOG_PROMPT_TEXT), its digest, both or neither. */
export interface LoggedText {
	text: RequestText | null
	digest: TextDigest | null
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
	 * For replaying logged requests, from what the log kept of their text. Three-valued (Kleene) logic:
	 * a text predicate neither the digest nor the kept text answers is unknown; `any` with one true is true,
	 * `all` with one false is false, `not` keeps unknown. An unknown rule before the first rule that surely
	 * holds makes the decision undetermined.
	 */
	replay(features: RequestFeatures, logged: LoggedText): Decision | Undetermined
	/** Every distinct regular expression of the document, for the request log to record outcomes of. */
	readonly textPatterns: readonly TextPattern[]
	/** For "why did this go there": each rule in order up to the winner, with the reason for its outcome. */
	explain(features: RequestFeatures, text: RequestText): { decision: Decision; rules: RuleExplanation[] }
}

type RangeField = 'promptTokens' | 'messages' | 'maxTokens'
type FlagField = 'hasTools' | 'hasImages' | 'jsonMode'

type Node =
	| { kind: 'range'; field: RangeField; gte: number | undefined; lte: number | undefined }
	| { kind: 'flag'; field: FlagField; value: boolean }
	| { kind: 'keywords'; words: readonly string[]; re: RegExp; ascii: RegExp }
	| { kind: 'regex'; predicate: 'matches' | 'system'; field: TextField; source: string; re: RegExp }
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
type TextNode = Extract<Node, { kind: 'keywords' | 'regex' }>

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
function truthOfLogged(
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
const describeTextNode = (node: TextNode) =>
	node.kind === 'keywords' ? `keywords ${sample(node.words)}` : `${node.predicate} /${shorten(node.source)}/`

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

function textPatternsOf(rules: readonly CompiledRule[]): TextPattern[] {
	const patterns = new Map<string, TextPattern>()
	const visit = (node: Node) => {
		if (node.kind === 'regex') patterns.set(`${node.field}\u0000${node.source}`, node)
		else if (node.kind === 'not') visit(node.child)
		else if (node.kind === 'all' || node.kind === 'any') node.children.forEach(visit)
	}
	for (const rule of rules) visit(rule.node)
	return [...patterns.values()].map(({ field, source }) => ({ field, source }))
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

	function replay(features: RequestFeatures, logged: LoggedText): Decision | Undetermined {
		if (logged.digest === null && logged.text !== null) return classify(features, logged.text)
		for (const rule of enabled) {
			const unknown: { first?: TextNode } = {}
			const truth = truthOfLogged(rule.node, features, logged, unknown)
			if (truth === TRUE) return rule.decision
			if (truth === UNKNOWN)
				return {
					undetermined: true,
					rule: rule.name,
					needs: unknown.first ? describeTextNode(unknown.first) : '',
				}
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

	return { document, classify, replay, explain, textPatterns: textPatternsOf(rules) }
}

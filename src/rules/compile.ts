import type { TextPattern } from '../lib/text-digest'
import { describeTextNode, why } from './explain'
import type { RequestFeatures, RequestText } from './features'
import { type Node, type RangeField, type TextNode, textPatternsOf, toNode } from './nodes'
import { PatternCache, TextMemo } from './patterns'
import { type LoggedText, TRUE, truthOfLogged, UNKNOWN } from './replay'
import type { RulesDocument } from './schema'

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

type Test = (features: RequestFeatures, text: RequestText) => boolean

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

	return { document, classify, replay, explain, textPatterns: textPatternsOf(rules.map((rule) => rule.node)) }
}

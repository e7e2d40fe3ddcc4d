// The regular expressions of a rules document: keyword lists compiled into one trie-shaped regex each,
// `matches` and `system` patterns, one RegExp per distinct source, and the per-request memo of outcomes.
import type { RequestText } from './features'

export type TextField = 'lastUserMessage' | 'system'

// A letter, digit, combining mark or underscore: the characters a keyword must not touch on either side.
const WORD_CHAR = '[\\p{L}\\p{N}\\p{M}_]'
// The characters that must be escaped outside a class under the `u` flag (escaping others is a syntax error).
const SYNTAX_CHARS = /[\\^$.*+?()[\]{}|/]/g

const escapeRegExp = (text: string) => text.replace(SYNTAX_CHARS, '\\$&')

interface TrieNode {
	end: boolean
	next: Map<string, TrieNode>
}

/** One regex unit per character, and `\s+` for a run of whitespace inside a phrase. */
const unitsOf = (word: string) =>
	word
		.trim()
		.toLowerCase()
		.split(/\s+/u)
		.flatMap((part, i) => [...(i > 0 ? ['\\s+'] : []), ...Array.from(part, escapeRegExp)])

/** The alternatives of a trie as nested groups: `java`, `javascript`, `json` become `j(?:ava(?:script)?|son)`. */
function trieSource(node: TrieNode): string {
	const branches = [...node.next].map(([unit, child]) => unit + trieSource(child))
	if (branches.length === 0) return ''
	const group = branches.length === 1 && !node.end ? (branches[0] ?? '') : `(?:${branches.join('|')})`
	return node.end ? `${branches.length === 1 ? `(?:${branches[0]})` : group}?` : group
}

/**
 * One case-insensitive regex for a rule's keywords: whole words or phrases, Unicode-aware boundaries, and
 * any run of whitespace between the words of a phrase (`step by step` matches `step  by\nstep`). The words
 * are merged into a trie, so the engine rejects most positions after one character instead of trying
 * every word in turn; a rule with hundreds of words stays about as fast as one with a few.
 */
export function keywordsRegExp(words: readonly string[]): RegExp {
	return new RegExp(`(?<!${WORD_CHAR})${keywordsTrie(words)}(?!${WORD_CHAR})`, 'iu')
}

const ASCII_WORD_CHAR = '[A-Za-z0-9_]'

/**
 * The same keywords for text known to be ASCII, where a word character can only be `[A-Za-z0-9_]`: without
 * Unicode property classes and the `u` flag the engine is about three times faster, and the matches are
 * the same.
 */
export function asciiKeywordsRegExp(words: readonly string[]): RegExp {
	return new RegExp(`(?<!${ASCII_WORD_CHAR})${keywordsTrie(words)}(?!${ASCII_WORD_CHAR})`, 'i')
}

function keywordsTrie(words: readonly string[]): string {
	const root: TrieNode = { end: false, next: new Map() }
	for (const word of words) {
		let node = root
		for (const unit of unitsOf(word)) {
			let child = node.next.get(unit)
			if (!child) {
				child = { end: false, next: new Map() }
				node.next.set(unit, child)
			}
			node = child
		}
		node.end = true
	}
	return trieSource(root)
}

/**
 * `matches` and `system` patterns are used exactly as written with the `u` flag only: case-sensitive
 * unless the pattern says otherwise, for example `(?i:prove)`.
 */
export function patternRegExp(pattern: string): RegExp {
	return new RegExp(pattern, 'u')
}

/**
 * One RegExp per distinct pattern in a document, so rules that repeat a pattern (several rules keyed on the
 * same multiple-choice layout, say) share it, and `TextMemo` runs it once per request.
 */
export class PatternCache {
	private readonly compiled = new Map<string, RegExp>()

	keywords(words: readonly string[]): RegExp {
		return this.get(`k\u0000${words.join('\u0000')}`, () => keywordsRegExp(words))
	}

	asciiKeywords(words: readonly string[]): RegExp {
		return this.get(`a\u0000${words.join('\u0000')}`, () => asciiKeywordsRegExp(words))
	}

	pattern(source: string): RegExp {
		return this.get(`p\u0000${source}`, () => patternRegExp(source))
	}

	private get(id: string, build: () => RegExp): RegExp {
		let re = this.compiled.get(id)
		if (!re) {
			re = build()
			this.compiled.set(id, re)
		}
		return re
	}
}

/**
 * Regex outcomes for the request being classified. Classification is synchronous, so one memo per
 * compiled document is enough: it is reset whenever a new request's text comes in.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: the range of ASCII starts at the control characters
const NON_ASCII = /[^\x00-\x7f]/

export class TextMemo {
	private text: RequestText | undefined
	private readonly results = {
		lastUserMessage: new Map<RegExp, boolean>(),
		system: new Map<RegExp, boolean>(),
	}
	private lastUserMessageIsAscii: boolean | undefined

	/** Keywords look at the last user message: the ASCII form of their regex serves when it is plain ASCII. */
	testKeywords(unicode: RegExp, ascii: RegExp, text: RequestText): boolean {
		this.use(text)
		this.lastUserMessageIsAscii ??= !NON_ASCII.test(text.lastUserMessage)
		return this.test(this.lastUserMessageIsAscii ? ascii : unicode, 'lastUserMessage', text)
	}

	test(re: RegExp, field: TextField, text: RequestText): boolean {
		this.use(text)
		const known = this.results[field].get(re)
		if (known !== undefined) return known
		const outcome = re.test(text[field])
		this.results[field].set(re, outcome)
		return outcome
	}

	private use(text: RequestText) {
		if (this.text === text) return
		this.text = text
		this.results.lastUserMessage.clear()
		this.results.system.clear()
		this.lastUserMessageIsAscii = undefined
	}
}

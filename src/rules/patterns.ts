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

// biome-ignore lint/suspicious/noControlCharactersInRegex: the range of ASCII starts at the control characters
const NON_ASCII = /[^\x00-\x7f]/

/** A regex on one text field, with its place in the memo. */
export interface MemoSlot {
	readonly index: number
	readonly re: RegExp
	readonly field: TextField
}

/**
 * Regex outcomes for the request being classified. Classification is synchronous, so one memo per
 * compiled document is enough. Each (regex, field) pair gets a fixed slot when the rules are compiled;
 * an outcome counts only when its stamp is the current request's, so a new request costs one increment
 * instead of clearing maps (this runs on every gateway request).
 */
export class TextMemo {
	private readonly slots: Record<TextField, Map<RegExp, MemoSlot>> = {
		lastUserMessage: new Map(),
		system: new Map(),
	}
	private size = 0
	private outcomes = new Uint8Array(0)
	private stamps = new Uint32Array(0)
	private stamp = 0
	private text: RequestText | undefined
	private lastUserMessageIsAscii: boolean | undefined

	/** The slot of `re` on `field`, the same one for every rule that uses that pair. */
	slot(re: RegExp, field: TextField): MemoSlot {
		const known = this.slots[field].get(re)
		if (known) return known
		const slot = { index: this.size++, re, field }
		this.slots[field].set(re, slot)
		this.outcomes = new Uint8Array(this.size)
		this.stamps = new Uint32Array(this.size)
		return slot
	}

	/** Keywords look at the last user message: the ASCII form of their regex serves when it is plain ASCII. */
	testKeywords(unicode: MemoSlot, ascii: MemoSlot, text: RequestText): boolean {
		this.use(text)
		this.lastUserMessageIsAscii ??= !NON_ASCII.test(text.lastUserMessage)
		return this.outcome(this.lastUserMessageIsAscii ? ascii : unicode, text)
	}

	test(slot: MemoSlot, text: RequestText): boolean {
		this.use(text)
		return this.outcome(slot, text)
	}

	/** The slot's outcome for the current request, running its regex the first time it is asked. */
	private outcome(slot: MemoSlot, text: RequestText): boolean {
		const { index } = slot
		if (this.stamps[index] === this.stamp) return this.outcomes[index] === 1
		const outcome = slot.re.test(text[slot.field])
		this.outcomes[index] = outcome ? 1 : 0
		this.stamps[index] = this.stamp
		return outcome
	}

	private use(text: RequestText) {
		if (this.text === text) return
		this.text = text
		// Stamp 0 marks a slot never tested; after 2^32 requests the count starts again at 1.
		this.stamp = this.stamp === 0xffffffff ? 1 : this.stamp + 1
		if (this.stamp === 1) this.stamps.fill(0)
		this.lastUserMessageIsAscii = undefined
	}
}

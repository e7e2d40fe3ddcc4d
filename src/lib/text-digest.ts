// A keyed digest of a request's text: enough to replay keyword rules and the outcome of the regular
// expressions that were live when the request came, without keeping anything readable. Written by the
// request log's writer (off the request path), read by rule simulation. docs/routing.md, "Simulation
// without prompt text", says what it can and cannot answer and what it reveals.

/** The text a digest is made from, as the gateway hands it to the request log (already cut to TEXT_LIMIT). */
export interface DigestInput {
	lastUserMessage: string
	system: string
	/** Whether either text was longer than TEXT_LIMIT and cut. */
	cut: boolean
}

/** A regular expression of the live rules, and the text it reads. */
export interface TextPattern {
	field: 'lastUserMessage' | 'system'
	source: string
}

/** How much of each text is digested: a keyword later in a longer message is "unknown", never "absent". */
export const TEXT_LIMIT = 32_768
/** The longest keyword, in tokens, that one digest entry answers (`what's the best way` is six). */
export const MAX_GRAM = 6
/** At most 16 KB a row (about 680 tokens of text); a longer message is digested from its start. */
const MAX_ENTRIES = 4096

const VERSION = 1
const HEADER_BYTES = 6
const CUT = 1

// A token is a run of word characters (the ones a keyword must not touch, as in `patterns.ts`) or one
// other character that is not whitespace: `node.js` is three tokens, glued.
const TOKEN = /[\p{L}\p{N}\p{M}_]+|[^\s\p{L}\p{N}\p{M}_]/gu
const WORD_START = /^[\p{L}\p{N}\p{M}_]/u

interface Token {
	text: string
	/** No whitespace between it and the token before. */
	glued: boolean
	word: boolean
}

function tokenize(text: string): Token[] {
	const tokens: Token[] = []
	let end = -1
	for (const match of text.toLowerCase().matchAll(TOKEN)) {
		tokens.push({ text: match[0], glued: match.index === end, word: WORD_START.test(match[0]) })
		end = match.index + match[0].length
	}
	return tokens
}

/** murmur3's 32-bit finaliser: every input bit reaches every output bit. */
function mix(h: number): number {
	h ^= h >>> 16
	h = Math.imul(h, 0x85ebca6b)
	h ^= h >>> 13
	h = Math.imul(h, 0xc2b2ae35)
	return (h ^ (h >>> 16)) >>> 0
}

const GLUED = 0x9e3779b9
const OUTCOME = 0x7f4a7c15
/** Cached token hashes; a team's vocabulary repeats, so most tokens cost a Map lookup. */
const MAX_CACHED_TOKENS = 100_000

interface KeywordEntries {
	phrases: Uint32Array
	longPhrases: number[][]
}

/**
 * Hashes with a key derived from the deployment's encryption key. Each token's hash is an HMAC-SHA256
 * (cut to 32 bits), so without the key nobody can test a guessed word against a digest; a word sequence's
 * hash combines its tokens' hashes.
 */
export class TextDigester {
	private readonly tokenHashes = new Map<string, number>()
	private readonly keywordHashes = new Map<string, number[]>()
	private readonly patterns = new Map<string, RegExp | null>()
	private readonly keywordLists = new WeakMap<readonly string[], KeywordEntries>()
	private readonly patternOutcomes = new WeakMap<TextPattern, { matched: number; unmatched: number }>()
	readonly fingerprint: number

	constructor(private readonly key: Uint8Array) {
		this.fingerprint = this.keyed('\u0002fingerprint')
	}

	/** The digest of a request's text, and the outcome of each pattern on it. */
	digest(input: DigestInput, patterns: readonly TextPattern[]): Uint8Array {
		const entries: number[] = []
		const add = (entry: number) => {
			entries.push(entry)
		}
		let cut = input.cut
		const tokens = tokenize(input.lastUserMessage)
		const hashes = tokens.map((token) => this.keyed(token.text))
		for (let start = 0; start < tokens.length; start++) {
			if (entries.length + MAX_GRAM > MAX_ENTRIES) {
				cut = true
				break
			}
			grams(tokens, hashes, start, MAX_GRAM, add)
		}
		if (!input.cut) {
			for (const pattern of patterns) {
				const matched = this.test(pattern, input)
				if (matched !== null) {
					const entries = this.patternEntries(pattern)
					add(matched ? entries.matched : entries.unmatched)
				}
			}
		}
		const sorted = Uint32Array.from(entries).sort()
		let distinct = 0
		for (let i = 0; i < sorted.length; i++)
			if (i === 0 || sorted[i] !== sorted[i - 1]) sorted[distinct++] = sorted[i] ?? 0
		const bytes = new Uint8Array(HEADER_BYTES + distinct * 4)
		const view = new DataView(bytes.buffer)
		view.setUint8(0, VERSION)
		view.setUint8(1, cut ? CUT : 0)
		view.setUint32(2, this.fingerprint, true)
		for (let i = 0; i < distinct; i++) view.setUint32(HEADER_BYTES + i * 4, sorted[i] ?? 0, true)
		return bytes
	}

	/** A stored digest, or null when it was made with another key or format (it then answers nothing). */
	read(bytes: Uint8Array): TextDigest | null {
		if (bytes.length < HEADER_BYTES || (bytes.length - HEADER_BYTES) % 4 !== 0) return null
		const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
		if (view.getUint8(0) !== VERSION || view.getUint32(2, true) !== this.fingerprint) return null
		const entries = new Uint32Array((bytes.length - HEADER_BYTES) / 4)
		for (let i = 0; i < entries.length; i++) entries[i] = view.getUint32(HEADER_BYTES + i * 4, true)
		return new TextDigest(this, entries, (view.getUint8(1) & CUT) !== 0)
	}

	/**
	 * The entry of a keyword phrase, or of each of its MAX_GRAM-token windows when it is longer. Keyword
	 * edges count as standing free (`c#` is not in `c#x`), which is what the keyword regex requires.
	 */
	keywordEntries(keyword: string): number[] {
		let entries = this.keywordHashes.get(keyword)
		if (!entries) {
			const tokens = tokenize(keyword.trim())
			const hashes = tokens.map((token) => this.keyed(token.text))
			const windows = Math.max(1, tokens.length - MAX_GRAM + 1)
			const length = Math.min(tokens.length, MAX_GRAM)
			const found: number[] = []
			for (let start = 0; start < windows; start++)
				grams(tokens, hashes, start, length, (entry, gramLength) => {
					if (gramLength === length) found.push(entry)
				})
			entries = found
			this.keywordHashes.set(keyword, entries)
		}
		return entries
	}

	/**
	 * A keyword list's entries: one per phrase of at most MAX_GRAM tokens, the windows of each longer one.
	 * Kept per list, so a replay over many rows hashes each list once.
	 */
	keywordList(words: readonly string[]): KeywordEntries {
		let list = this.keywordLists.get(words)
		if (!list) {
			list = { phrases: new Uint32Array(0), longPhrases: [] }
			const phrases: number[] = []
			for (const word of words) {
				const entries = this.keywordEntries(word)
				if (entries.length === 1) phrases.push(entries[0] ?? 0)
				else list.longPhrases.push(entries)
			}
			list.phrases = Uint32Array.from(phrases)
			this.keywordLists.set(words, list)
		}
		return list
	}

	/** The entries that record a pattern's outcome, kept per pattern object. */
	patternEntries(pattern: TextPattern): { matched: number; unmatched: number } {
		let entries = this.patternOutcomes.get(pattern)
		if (!entries) {
			const base = this.keyed(`\u0001${pattern.field}\u0001${pattern.source}`)
			entries = { matched: mix(base ^ OUTCOME), unmatched: mix(base) }
			this.patternOutcomes.set(pattern, entries)
		}
		return entries
	}

	/** Compiled as the rules compile it; a pattern that does not compile (it passed validation) has no outcome. */
	private test(pattern: TextPattern, input: DigestInput): boolean | null {
		let re = this.patterns.get(pattern.source)
		if (re === undefined) {
			try {
				re = new RegExp(pattern.source, 'u')
			} catch {
				re = null
			}
			this.patterns.set(pattern.source, re)
		}
		return re ? re.test(input[pattern.field]) : null
	}

	private keyed(text: string): number {
		let hash = this.tokenHashes.get(text)
		if (hash === undefined) {
			const digest = new Bun.CryptoHasher('sha256', this.key).update(text).digest()
			hash =
				((digest[0] ?? 0) | ((digest[1] ?? 0) << 8) | ((digest[2] ?? 0) << 16) | ((digest[3] ?? 0) << 24)) >>>
				0
			if (this.tokenHashes.size >= MAX_CACHED_TOKENS) this.tokenHashes.clear()
			this.tokenHashes.set(text, hash)
		}
		return hash
	}
}

/**
 * The entries of the sequences of 1 to `maxLength` tokens from `start`, built one token at a time. An
 * entry holds its tokens, which of them are glued to the one before, and whether an edge that is
 * punctuation touches a word outside the sequence (`.` in `asp.net` does, so `.net` is not there). A
 * window of a longer keyword sees the keyword's own tokens around it, as its text would.
 */
function grams(
	tokens: readonly Token[],
	hashes: readonly number[],
	start: number,
	maxLength: number,
	emit: (entry: number, length: number) => void,
) {
	const first = tokens[start]
	if (!first) return
	const touchesLeft = !first.word && first.glued && tokens[start - 1]?.word === true ? 1 : 0
	let h = 0x811c9dc5
	for (let length = 1; length <= maxLength && start + length <= tokens.length; length++) {
		const i = start + length - 1
		const token = tokens[i] as Token
		h = mix(h ^ (hashes[i] ?? 0) ^ (length > 1 && token.glued ? GLUED : 0))
		const after = tokens[i + 1]
		const touchesRight = !token.word && after?.glued === true && after.word ? 2 : 0
		emit(mix(h + Math.imul(length, GLUED) + touchesLeft + touchesRight), length)
	}
}

/** Three-valued: what a digest says about a predicate. */
export type DigestAnswer = 'yes' | 'no' | 'unknown'

export class TextDigest {
	constructor(
		private readonly digester: TextDigester,
		private readonly entries: Uint32Array,
		/** Part of the text was not digested: an absent keyword may be in that part. */
		readonly cut: boolean,
	) {}

	/** Whether any of the keywords is in the last user message, as the keyword regex decides it. */
	keywords(words: readonly string[]): DigestAnswer {
		const { phrases, longPhrases } = this.digester.keywordList(words)
		for (const entry of phrases) if (this.has(entry)) return 'yes'
		// A longer phrase whose every window is there is probably there, but the windows may be apart.
		const unsure = this.cut || longPhrases.some((windows) => windows.every((entry) => this.has(entry)))
		return unsure ? 'unknown' : 'no'
	}

	/** The pattern's outcome on the request, when that pattern was live then. */
	pattern(pattern: TextPattern): DigestAnswer {
		const { matched, unmatched } = this.digester.patternEntries(pattern)
		if (this.has(matched)) return 'yes'
		if (this.has(unmatched)) return 'no'
		return 'unknown'
	}

	/**
	 * A bitmap of the entries' low bits, about 16 bits per entry, built on the first lookup: most probes
	 * (a keyword list is checked word by word) are absent, and one bit test turns them away.
	 */
	private filter: Uint32Array | undefined
	private mask = 0

	private has(entry: number): boolean {
		const filter = this.filter ?? this.buildFilter()
		const bit = entry & this.mask
		if (((filter[bit >>> 5] ?? 0) & (1 << (bit & 31))) === 0) return false
		let low = 0
		let high = this.entries.length - 1
		while (low <= high) {
			const middle = (low + high) >>> 1
			const value = this.entries[middle] ?? 0
			if (value === entry) return true
			if (value < entry) low = middle + 1
			else high = middle - 1
		}
		return false
	}

	private buildFilter(): Uint32Array {
		let bits = 1024
		while (bits < this.entries.length * 16 && bits < 1 << 17) bits *= 2
		this.mask = bits - 1
		const filter = new Uint32Array(bits >>> 5)
		for (const entry of this.entries) {
			const bit = entry & this.mask
			filter[bit >>> 5] = (filter[bit >>> 5] ?? 0) | (1 << (bit & 31))
		}
		this.filter = filter
		return filter
	}
}

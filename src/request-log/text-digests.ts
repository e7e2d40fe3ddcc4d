import { type DigestInput, TextDigester, type TextPattern } from '../lib/text-digest'

/** What a row carries to the writer in place of its digest: the text, and the number of its pattern list. */
export interface DigestRequest {
	input: DigestInput
	patternSet: number
}

/**
 * The live rules' pattern lists, numbered once each: a row names its list by number instead of carrying
 * a few kilobytes of regular expressions to the writer thread.
 */
export class PatternSets {
	private readonly ids = new Map<readonly TextPattern[], number>()

	/** The list's number; `announce` runs the first time a list is seen, before any row uses it. */
	idOf(patterns: readonly TextPattern[], announce: (id: number, patterns: readonly TextPattern[]) => void) {
		let id = this.ids.get(patterns)
		if (id === undefined) {
			id = this.ids.size
			this.ids.set(patterns, id)
			announce(id, patterns)
		}
		return id
	}
}

/** Turns a row's digest request into the stored digest, on whichever thread writes the row. */
export class RowDigester {
	private readonly digester: TextDigester
	private readonly lists = new Map<number, readonly TextPattern[]>()

	constructor(key: Uint8Array) {
		this.digester = new TextDigester(key)
	}

	define(id: number, patterns: readonly TextPattern[]) {
		this.lists.set(id, patterns)
	}

	digest(request: DigestRequest): Uint8Array {
		// An unknown list cannot happen (lists are announced first); no list just records no pattern outcome.
		return this.digester.digest(request.input, this.lists.get(request.patternSet) ?? [])
	}
}

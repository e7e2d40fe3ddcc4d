import { describe, expect, it } from 'bun:test'
import { type DigestInput, TEXT_LIMIT, TextDigester, type TextPattern } from '../../src/lib/text-digest'
import { keywordsRegExp } from '../../src/rules/patterns'

const KEY = new Uint8Array(32).fill(7)
const digester = new TextDigester(KEY)

const input = (lastUserMessage: string, system = ''): DigestInput => ({ lastUserMessage, system, cut: false })
const digestOf = (text: string, patterns: TextPattern[] = []) => {
	const digest = digester.read(digester.digest(input(text), patterns))
	if (!digest) throw new Error('unreadable digest')
	return digest
}

describe('a text digest', () => {
	it('answers a keyword exactly as the keyword regex does', () => {
		const texts = [
			'How do I fix this React.js bug in node.js?',
			'I love c++ and C# but not c++11 or c#x',
			'Explain it step by step,\nstep  by\tstep please',
			'asp.net vs .net; tl;dr: use .NET',
			"What's the best way to learn trade-offs? what s the best way",
			'Ünïcödé wörds: café, naïve, Straße; CAFÉ',
			'javascript java script scripting',
			'p-value p - value p-values',
		]
		const keywords = [
			'react.js',
			'node.js',
			'js',
			'c++',
			'c#',
			'step by step',
			'asp.net',
			'.net',
			'net',
			'tl;dr',
			"what's the best way",
			'trade-offs',
			'café',
			'naïve',
			'java',
			'script',
			'p-value',
			'value',
			'missing',
			'best way to learn trade-offs',
		]
		for (const text of texts) {
			const digest = digestOf(text)
			for (const keyword of keywords) {
				const expected = keywordsRegExp([keyword]).test(text) ? 'yes' : 'no'
				const answer = digest.keywords([keyword])
				// A phrase longer than one entry is never said to be there for sure.
				const allowed =
					keyword === 'best way to learn trade-offs' && expected === 'yes' ? 'unknown' : expected
				expect({ text, keyword, answer }).toEqual({ text, keyword, answer: allowed })
			}
		}
	})

	it('agrees with the keyword regex on random text built from words, punctuation and spaces', () => {
		let seed = 42
		const next = (n: number) => {
			seed = (Math.imul(seed, 1103515245) + 12345) >>> 0
			return seed % n
		}
		const pieces = ['a', 'b', 'ab', 'é', '1', '_', '.', '+', '#', '-', "'", ';', ' ', ' ', '\n', '  ']
		const randomText = (length: number) => Array.from({ length }, () => pieces[next(pieces.length)]).join('')
		for (let round = 0; round < 2000; round++) {
			const text = randomText(12)
			const keyword = randomText(1 + next(4)).trim()
			if (keyword === '') continue
			const digest = digestOf(text)
			const expected = keywordsRegExp([keyword]).test(text) ? 'yes' : 'no'
			expect({ text, keyword, answer: digest.keywords([keyword]) }).toEqual({
				text,
				keyword,
				answer: expected,
			})
		}
	})

	it('says "no" for a long phrase with a window missing', () => {
		expect(digestOf('the best way to learn').keywords(['best way to learn trade-offs now'])).toBe('no')
	})

	it('says "unknown", not "no", when the text was cut', () => {
		const cut = digester.read(digester.digest({ lastUserMessage: 'hello', system: '', cut: true }, []))
		expect(cut?.keywords(['hello'])).toBe('yes')
		expect(cut?.keywords(['elsewhere'])).toBe('unknown')
	})

	it('digests a long message from its start, and says so', () => {
		const words = Array.from({ length: 5000 }, (_, i) => `w${i}`).join(' ')
		const digest = digestOf(words)
		expect(digest.cut).toBe(true)
		expect(digest.keywords(['w1'])).toBe('yes')
		expect(digest.keywords(['w4999'])).toBe('unknown')
	})

	it('records the outcome of each live pattern on its text, and nothing for a pattern it never saw', () => {
		const patterns: TextPattern[] = [
			{ field: 'lastUserMessage', source: '\\d+' },
			{ field: 'lastUserMessage', source: '^never' },
			{ field: 'system', source: '(?i:pirate)' },
		]
		const digest = digester.read(digester.digest(input('I have 3 apples', 'You are a PIRATE'), patterns))
		expect(digest?.pattern({ field: 'lastUserMessage', source: '\\d+' })).toBe('yes')
		expect(digest?.pattern({ field: 'lastUserMessage', source: '^never' })).toBe('no')
		expect(digest?.pattern({ field: 'system', source: '(?i:pirate)' })).toBe('yes')
		expect(digest?.pattern({ field: 'system', source: '\\d+' })).toBe('unknown')
		expect(digest?.pattern({ field: 'lastUserMessage', source: 'apples' })).toBe('unknown')
	})

	it('records no pattern outcome on a cut text, where `$` or a later match could differ', () => {
		const bytes = digester.digest({ lastUserMessage: 'short', system: '', cut: true }, [
			{ field: 'lastUserMessage', source: 't$' },
		])
		expect(digester.read(bytes)?.pattern({ field: 'lastUserMessage', source: 't$' })).toBe('unknown')
		expect(TEXT_LIMIT).toBeGreaterThan(0)
	})

	it('keeps nothing readable, and is unreadable with another key', () => {
		const bytes = digester.digest(input('the secret project codename is bluebird'), [])
		expect(Buffer.from(bytes).toString('latin1')).not.toContain('bluebird')
		expect(new TextDigester(new Uint8Array(32).fill(8)).read(bytes)).toBeNull()
		expect(digester.read(new Uint8Array([1, 2, 3]))).toBeNull()
	})

	it('gives the same word the same entry in every row, and a different one under another key', () => {
		const other = new TextDigester(new Uint8Array(32).fill(9))
		const a = digester.digest(input('bluebird'), [])
		const b = digester.digest(input('bluebird'), [])
		expect(a).toEqual(b)
		expect(other.digest(input('bluebird'), []).subarray(6)).not.toEqual(a.subarray(6))
	})
})

import { describe, expect, it } from 'bun:test'
import { aliasOf } from '../../src/rules/aliases'

describe('aliasOf', () => {
	const document = {
		aliases: {
			'claude-sonnet-5-5': 'auto',
			'claude-*': 'hard',
			'claude-haiku-*': 'simple',
			'claude-haiku-5-5-fast': 'fast',
		},
	}

	it('prefers an exact name, then the longest pattern', () => {
		expect(aliasOf(document, 'claude-sonnet-5-5')).toBe('auto')
		expect(aliasOf(document, 'claude-haiku-5-5-fast')).toBe('fast')
		expect(aliasOf(document, 'claude-haiku-5-5')).toBe('simple')
		expect(aliasOf(document, 'claude-opus-5-1')).toBe('hard')
	})

	it('leaves other names, and documents without aliases, alone', () => {
		expect(aliasOf(document, 'gpt-6-luna')).toBeUndefined()
		expect(aliasOf({}, 'claude-sonnet-5-5')).toBeUndefined()
		expect(aliasOf({ aliases: { toString: 'auto' } }, 'constructor')).toBeUndefined()
	})
})

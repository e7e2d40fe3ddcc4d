import { describe, expect, it } from 'bun:test'
import { formatUsd } from '../../src/views/format'

describe('formatUsd', () => {
	it.each([
		[0, '$0.00'],
		[12.345678, '$12.35'],
		[1, '$1.00'],
		[0.99999, '$1.00'],
		[0.5, '$0.50'],
		[0.0604016, '$0.0604'],
		[0.0004016, '$0.000402'],
		[0.001, '$0.001'],
		[0.00027, '$0.00027'],
		[-0.25, '-$0.25'],
		[0.000000001, '$0.000000001'],
	])('writes %p as %s', (value, text) => {
		expect(formatUsd(value)).toBe(text)
	})
})

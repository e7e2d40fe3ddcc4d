import { describe, expect, it } from 'bun:test'
import { GatewayError } from '../../src/errors'
import { checkJsonDepth } from '../../src/lib/json-body'

/** The error `checkJsonDepth` throws for `text`, or undefined when it takes it. */
function refusal(text: string, maxDepth = 3): GatewayError | undefined {
	try {
		checkJsonDepth(text, maxDepth)
		return undefined
	} catch (error) {
		if (error instanceof GatewayError) return error
		throw error
	}
}

describe('checkJsonDepth', () => {
	it('takes nesting up to the budget and refuses one level more, naming the top-level field', () => {
		expect(refusal('{"a":[[1]]}')).toBeUndefined()
		const error = refusal('{"a":1,"b":[[[1]]]}')
		expect(error?.status).toBe(400)
		expect(error?.message).toBe('The request body nests deeper than 3 levels')
		expect(error?.param).toBe('b')
	})

	it('names no field when the body itself is too deep at its top', () => {
		expect(refusal('[[[[1]]]]', 3)?.param).toBeNull()
	})

	it('skips brackets inside strings, escaped quotes included', () => {
		expect(
			refusal(JSON.stringify({ a: '[[[[{{{{', b: 'say \\"[[[[\\"', c: 'quote " then [[[[' })),
		).toBeUndefined()
	})

	it('ends a string at a quote after an escaped backslash', () => {
		// "\\" is a complete string: the brackets after it are structure and count.
		expect(refusal('{"a":"\\\\","b":[[[1]]]}')?.param).toBe('b')
	})

	it('names the key a string value precedes, not the value', () => {
		expect(refusal('{"model":"auto","messages":[[[1]]]}')?.param).toBe('messages')
	})

	it('leaves an unterminated string for the parser to refuse', () => {
		expect(refusal('{"a":"[[[[[')).toBeUndefined()
	})
})

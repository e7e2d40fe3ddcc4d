import { describe, expect, it } from 'bun:test'
import { expectEscaped, HOSTILE, hostile, scriptsIn } from './hostile'

describe('scriptsIn', () => {
	it('finds a script that a value pasted as it is opened', async () => {
		expect(await scriptsIn(`<td>${HOSTILE}</td>`)).toEqual(['alert(1)'])
	})

	it('finds none inside a quoted attribute', async () => {
		expect(await scriptsIn(`<option value="${HOSTILE}">`)).toEqual([])
	})
})

describe('expectEscaped', () => {
	it('fails on a field shown as it is', async () => {
		await expect(expectEscaped(`<td>${hostile('key')}</td>`, ['key'])).rejects.toThrow()
	})

	it('fails on a field not shown at all', async () => {
		await expect(expectEscaped('<td>key</td>', ['key'])).rejects.toThrow()
	})
})

import { describe, expect, it } from 'bun:test'
import { clientAddress } from '../../src/plugins/client-address'

const request = (forwardedFor?: string | string[]) => {
	const headers = new Headers()
	for (const value of [forwardedFor ?? []].flat()) headers.append('x-forwarded-for', value)
	return new Request('http://localhost/api/auth/login', { headers })
}

describe('clientAddress', () => {
	it.each([
		['no header', undefined, '127.0.0.1'],
		['a forwarded address', '203.0.113.7', '127.0.0.1'],
		['a forwarded chain', '198.51.100.1, 203.0.113.7', '127.0.0.1'],
	])('takes the socket address without TRUST_PROXY, given %s', (_, forwardedFor, expected) => {
		expect(clientAddress(request(forwardedFor), '127.0.0.1', false)).toBe(expected)
	})

	it.each([
		['the only entry', '203.0.113.7', '203.0.113.7'],
		['the right-most entry, which our proxy appended', '198.51.100.1, 203.0.113.7', '203.0.113.7'],
		['the right-most entry of several headers', ['198.51.100.1', '198.51.100.2, 203.0.113.7'], '203.0.113.7'],
		['the entry without spaces around it', '198.51.100.1 ,  203.0.113.7  ', '203.0.113.7'],
		['the socket address without the header', undefined, '10.0.0.1'],
		['the socket address for an empty header', '', '10.0.0.1'],
		['the socket address when the right-most entry is empty', '203.0.113.7, ', '10.0.0.1'],
		['an IPv4 address without its port', '203.0.113.7:51234', '203.0.113.7'],
		['an IPv6 address without brackets and port', '[2001:DB8::7]:443', '2001:db8::7'],
		['an IPv6 address in lower case', '2001:DB8::7', '2001:db8::7'],
	])('with TRUST_PROXY, takes %s', (_, forwardedFor, expected) => {
		expect(clientAddress(request(forwardedFor), '10.0.0.1', true)).toBe(expected)
	})

	it('spells an IPv4 client of a dual-stack socket as plain IPv4', () => {
		expect(clientAddress(request(), '::ffff:127.0.0.1', false)).toBe('127.0.0.1')
	})

	it.each([true, false])('is undefined with neither a socket nor a header (TRUST_PROXY %p)', (trustProxy) => {
		expect(clientAddress(request(), undefined, trustProxy)).toBeUndefined()
	})
})

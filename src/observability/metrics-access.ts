// Who may read `GET /metrics`. With METRICS_TOKEN: whoever sends it as a bearer token. Without: only a
// client on this machine's loopback that reached the server directly. A request that came through a
// proxy says so in its forwarding headers, and a proxy on the same host would otherwise make every client
// on the internet look local.
import { sha256Hex } from '../lib/crypto'

export type MetricsAccess = 'allowed' | 'unauthorized' | 'local-only'

const FORWARDING_HEADERS = ['forwarded', 'x-forwarded-for', 'x-real-ip'] as const

/** 127.0.0.0/8 and ::1, also as an IPv4 client of a dual-stack socket. */
export function isLoopback(address: string | undefined): boolean {
	if (!address) return false
	const host = address.toLowerCase().replace(/^::ffff:(?=\d)/, '')
	return host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host)
}

/** Equal strings of equal length, in a time that depends on the length only. */
function sameText(a: string, b: string): boolean {
	if (a.length !== b.length) return false
	let difference = 0
	for (let i = 0; i < a.length; i++) difference |= a.charCodeAt(i) ^ b.charCodeAt(i)
	return difference === 0
}

/**
 * The check for one configured token (or none). The presented token is hashed before the comparison, so
 * the time it takes says nothing about the configured token, not even its length.
 */
export function metricsGuard(token: string | undefined) {
	const expected = token === undefined ? undefined : sha256Hex(token)
	return function metricsAccess(request: Request, socketAddress: string | undefined): MetricsAccess {
		if (expected === undefined) {
			const forwarded = FORWARDING_HEADERS.some((name) => request.headers.has(name))
			return !forwarded && isLoopback(socketAddress) ? 'allowed' : 'local-only'
		}
		const header = request.headers.get('authorization') ?? ''
		const presented = /^Bearer +(.+)$/i.exec(header)?.[1]?.trim()
		return presented !== undefined && sameText(sha256Hex(presented), expected) ? 'allowed' : 'unauthorized'
	}
}

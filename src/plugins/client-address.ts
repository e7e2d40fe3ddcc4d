/**
 * The address of the client behind a request, for throttles, rate limits and logs. Plain function over
 * web-standard values so every caller (and a test) reads it the same way.
 *
 * With `trustProxy`, the right-most `X-Forwarded-For` entry wins: it is the one our own proxy appended
 * (the address it saw). Entries to its left came in with the request and anyone can write them. Without
 * `trustProxy` the header is ignored, since a client talking to us directly could claim any address.
 */
export function clientAddress(
	request: Request,
	socketAddress: string | undefined,
	trustProxy: boolean,
): string | undefined {
	if (trustProxy) {
		// `Headers.get` joins repeated headers with ", ", so the last header's last entry stays last.
		const forwarded = request.headers.get('x-forwarded-for')?.split(',').at(-1)?.trim()
		if (forwarded) return normalizeAddress(forwarded)
	}
	return socketAddress ? normalizeAddress(socketAddress) : undefined
}

/**
 * One spelling per address, so one client is one key: some proxies append the port (`1.2.3.4:5678`,
 * `[2001:db8::1]:443`), which would make every connection a new client; an IPv4 client of a dual-stack
 * socket shows as `::ffff:1.2.3.4`; IPv6 hex digits come in either case.
 */
function normalizeAddress(address: string): string {
	let host = address.trim().toLowerCase()
	const bracketed = /^\[([^\]]*)\](?::\d+)?$/.exec(host)
	if (bracketed?.[1]) host = bracketed[1]
	else if (/^[\d.]+:\d+$/.test(host)) host = host.slice(0, host.indexOf(':'))
	return host.startsWith('::ffff:') && host.includes('.') ? host.slice('::ffff:'.length) : host
}

/**
 * The floor: the least a Bun HTTP hop can cost. It forwards every request to UPSTREAM_URL on the same path
 * with its method and headers, and streams the answer back as it arrives; Bun's fetch keeps the upstream
 * connections alive. It reads the request body whole first, as any gateway that routes on the body must
 * (and measurably faster than piping the request stream). No parsing, no logging. Prints
 * `READY {"url":…}` and runs until SIGTERM.
 */
const upstream = process.env.UPSTREAM_URL
if (!upstream) throw new Error('UPSTREAM_URL is required')

const server = Bun.serve({
	port: 0,
	hostname: '127.0.0.1',
	idleTimeout: 0,
	async fetch(request) {
		const url = new URL(request.url)
		const headers = new Headers(request.headers)
		headers.delete('host')
		return fetch(upstream + url.pathname + url.search, {
			method: request.method,
			headers,
			body: request.method === 'GET' || request.method === 'HEAD' ? undefined : await request.arrayBuffer(),
			signal: request.signal,
		})
	},
})
console.log(`READY ${JSON.stringify({ url: `http://127.0.0.1:${server.port}` })}`)

process.on('SIGTERM', () => {
	void server.stop(true).then(() => process.exit(0))
})

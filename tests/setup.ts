// Tests run offline: any request to a host other than this machine fails loudly instead of leaking out.
const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]', '::1'])
const realFetch = globalThis.fetch

function guardedFetch(input: string | URL | Request, init?: RequestInit) {
	const url = new URL(input instanceof Request ? input.url : input.toString())
	if (!LOCAL_HOSTS.has(url.hostname)) {
		throw new Error(`tests are offline: refused a request to ${url.origin}`)
	}
	return realFetch(input, init)
}

globalThis.fetch = Object.assign(guardedFetch, realFetch)

for (const name of ['OPENAI_API_KEY', 'ANTHROPIC_API_KEY', 'OPENAI_BASE_URL', 'ANTHROPIC_BASE_URL']) {
	delete process.env[name]
}

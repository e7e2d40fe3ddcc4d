/** @default 256 clients per provider kind */
const MAX_CLIENTS = 256

/**
 * SDK clients are built once per (base URL, key) and reused, so connection pools stay warm. A Map keeps
 * insertion order, which makes dropping the least recently used client cheap when there are too many.
 */
export class ClientCache<T> {
	private readonly clients = new Map<string, T>()

	constructor(
		private readonly create: (baseUrl: string, apiKey: string) => T,
		private readonly max = MAX_CLIENTS,
	) {}

	get(baseUrl: string, apiKey: string): T {
		const id = `${baseUrl}\u0000${apiKey}`
		let client = this.clients.get(id)
		if (client) {
			this.clients.delete(id)
		} else {
			client = this.create(baseUrl, apiKey)
			if (this.clients.size >= this.max) {
				const oldest = this.clients.keys().next().value
				if (oldest !== undefined) this.clients.delete(oldest)
			}
		}
		this.clients.set(id, client)
		return client
	}

	get size() {
		return this.clients.size
	}
}

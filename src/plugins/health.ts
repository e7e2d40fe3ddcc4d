import type { Database } from 'bun:sqlite'
import { Elysia } from 'elysia'

export const healthPlugin = (deps: { sqlite: Database }) => {
	const ping = deps.sqlite.query('SELECT 1 AS ok')
	return new Elysia({ name: 'health' }).get('/healthz', function health({ set }) {
		try {
			ping.get()
			return { status: 'ok' }
		} catch {
			set.status = 503
			return { status: 'unavailable' }
		}
	})
}

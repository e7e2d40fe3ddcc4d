import { Elysia } from 'elysia'
import type { AppDeps } from '../deps'

export const healthPlugin = (deps: Pick<AppDeps, 'sqlite'>) => {
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

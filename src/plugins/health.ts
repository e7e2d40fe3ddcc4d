import { sql } from 'drizzle-orm'
import { Elysia } from 'elysia'
import type { DataStore } from '../../db/client'

/** Up when the database answers: the one thing every request needs. */
export const healthPlugin = (deps: { store: DataStore }) =>
	new Elysia({ name: 'health' }).get('/healthz', async function health({ set }) {
		try {
			await deps.store.db.select({ ok: sql<number>`1` }).from(deps.store.tables.users).limit(1)
			return { status: 'ok' }
		} catch {
			set.status = 503
			return { status: 'unavailable' }
		}
	})

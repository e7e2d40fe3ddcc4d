import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SQL } from 'bun'
import { type DataStore, openPostgres, openSqlite } from '../../db/client'

/**
 * The PostgreSQL server the suite may use (`.ci/run` starts one and sets it). Without it the PostgreSQL
 * half of each backend test does not run, and `bun test` says so once (tests/db/backends.test.ts).
 */
export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL

export interface TestStore extends AsyncDisposable {
	store: DataStore
	/**
	 * The same database as another instance would open it: its own connections on PostgreSQL; on SQLite,
	 * where one process serves a database, the same store.
	 */
	anotherInstance(): Promise<DataStore>
}

/** A fresh SQLite file in a temp folder. */
export function sqliteStore(): TestStore {
	const dir = mkdtempSync(join(tmpdir(), 'switchyard-store-'))
	const store = openSqlite(join(dir, 'switchyard.db'))
	return {
		store,
		anotherInstance: async () => store,
		async [Symbol.asyncDispose]() {
			await store.close()
			rmSync(dir, { recursive: true, force: true })
		},
	}
}

/** A fresh schema on the test PostgreSQL server, dropped afterwards. */
export async function postgresStore(url: string): Promise<TestStore & { schema: string }> {
	const schema = `test_${crypto.randomUUID().replaceAll('-', '')}`
	const admin = new SQL(url, { max: 1 })
	await admin.unsafe(`CREATE SCHEMA ${schema}`)
	const store = await openPostgres(url, { schema, maxConnections: 5 })
	const others: DataStore[] = []
	return {
		store,
		schema,
		async anotherInstance() {
			const other = await openPostgres(url, { schema, maxConnections: 5 })
			others.push(other)
			return other
		},
		async [Symbol.asyncDispose]() {
			await Promise.all([store, ...others].map((each) => each.close()))
			await admin.unsafe(`DROP SCHEMA ${schema} CASCADE`)
			await admin.close()
		},
	}
}

/** The backends a store test runs on: SQLite always, PostgreSQL when the suite has one. */
export const BACKENDS: readonly ('sqlite' | 'postgres')[] = TEST_DATABASE_URL
	? ['sqlite', 'postgres']
	: ['sqlite']

export function openTestStore(backend: 'sqlite' | 'postgres'): Promise<TestStore> {
	if (backend === 'sqlite') return Promise.resolve(sqliteStore())
	if (!TEST_DATABASE_URL) throw new Error('TEST_DATABASE_URL is not set')
	return postgresStore(TEST_DATABASE_URL)
}

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

export type Backend = 'sqlite' | 'postgres'

/**
 * The database the suite's apps run on: `TEST_BACKEND=postgres` (with TEST_DATABASE_URL) runs every test
 * that makes an app on PostgreSQL; `bun run test` runs the suite once on each.
 */
export const SUITE_BACKEND: Backend = process.env.TEST_BACKEND === 'postgres' ? 'postgres' : 'sqlite'
if (SUITE_BACKEND === 'postgres' && !TEST_DATABASE_URL)
	throw new Error('TEST_BACKEND=postgres needs TEST_DATABASE_URL, the test PostgreSQL server')

/** A new, empty schema on the test PostgreSQL server; `drop` removes it and everything in it. */
export async function freshSchema(): Promise<{ url: string; schema: string; drop(): Promise<void> }> {
	if (!TEST_DATABASE_URL) throw new Error('TEST_DATABASE_URL is not set')
	const url = TEST_DATABASE_URL
	const schema = `test_${crypto.randomUUID().replaceAll('-', '')}`
	const admin = new SQL(url, { max: 1 })
	await admin.unsafe(`CREATE SCHEMA ${schema}`)
	return {
		url,
		schema,
		async drop() {
			await admin.unsafe(`DROP SCHEMA ${schema} CASCADE`)
			await admin.close()
		},
	}
}

/** A fresh schema on the test PostgreSQL server, dropped afterwards. */
export async function postgresStore(url: string): Promise<TestStore & { schema: string }> {
	const fresh = await freshSchema()
	const { schema } = fresh
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
			await fresh.drop()
		},
	}
}

/** The backends a store test runs on: SQLite always, PostgreSQL when the suite has one. */
export const BACKENDS: readonly Backend[] = TEST_DATABASE_URL ? ['sqlite', 'postgres'] : ['sqlite']

export function openTestStore(backend: Backend): Promise<TestStore> {
	if (backend === 'sqlite') return Promise.resolve(sqliteStore())
	if (!TEST_DATABASE_URL) throw new Error('TEST_DATABASE_URL is not set')
	return postgresStore(TEST_DATABASE_URL)
}

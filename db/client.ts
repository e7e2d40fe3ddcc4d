import { Database } from 'bun:sqlite'
import { dirname } from 'node:path'
import { SQL } from 'bun'
import { drizzle as drizzlePostgres } from 'drizzle-orm/bun-sql'
import { migrate as migratePostgres } from 'drizzle-orm/bun-sql/migrator'
import { drizzle } from 'drizzle-orm/bun-sqlite'
import { migrate } from 'drizzle-orm/bun-sqlite/migrator'
import { ensureDir } from '../src/lib/files'
import { projectPath } from '../src/paths'
import * as schema from './schema'
import * as schemaPg from './schema-pg'

export type Db = ReturnType<typeof drizzle<typeof schema>>
/** The tables, as services name them: `store.tables.users`. */
export type Tables = typeof schema

export const MIGRATIONS_FOLDER = projectPath('db/migrations')
export const PG_MIGRATIONS_FOLDER = projectPath('db/migrations-pg')

export type Dialect = 'sqlite' | 'postgres'

/**
 * The database, whichever it is. Services build queries with `db` and `tables` and `await` them: on
 * PostgreSQL `db` is drizzle's PostgreSQL database and `tables` its tables, typed as their SQLite twins,
 * whose row types are the same (`tests/db/schema-parity.test.ts`), so one code path serves both. The
 * SQLite-only calls (`.all()`, `.get()`, `.run()`, `.prepare()`) and multi-statement transactions are not
 * used outside `db/` and the SQLite writer: an atomic change is one statement (docs/architecture.md).
 */
export interface DataStore {
	readonly dialect: Dialect
	readonly db: Db
	readonly tables: Tables
	/** The SQLite connection, for the request log's writer and SQLite's own tuning; null on PostgreSQL. */
	readonly sqlite: Database | null
	/** The PostgreSQL pool, for LISTEN/NOTIFY and the request log's batches; null on SQLite. */
	readonly postgres: SQL | null
	close(): Promise<void>
}

export interface DbHandle {
	readonly db: Db
	readonly sqlite: Database
}

/** Opens (creating file and folder) the SQLite database in WAL mode and applies pending migrations. */
export function createDb(path: string): DbHandle {
	if (path !== ':memory:') ensureDir(dirname(path))
	const sqlite = new Database(path, { create: true, strict: true })
	sqlite.run('PRAGMA journal_mode = WAL')
	sqlite.run('PRAGMA synchronous = NORMAL')
	sqlite.run('PRAGMA foreign_keys = ON')
	sqlite.run('PRAGMA busy_timeout = 5000')
	const db = drizzle(sqlite, { schema })
	migrate(db, { migrationsFolder: MIGRATIONS_FOLDER })
	return { db, sqlite }
}

export function openSqlite(path: string): DataStore {
	const { db, sqlite } = createDb(path)
	return {
		dialect: 'sqlite',
		db,
		tables: schema,
		sqlite,
		postgres: null,
		close: async () => sqlite.close(),
	}
}

/** Any number works, as long as nothing else takes it: the lock that lets one instance migrate at a time. */
const MIGRATION_LOCK = 0x5357_4459

export interface PostgresOptions {
	/** The schema to live in (tests give each app its own); its migrations' bookkeeping goes there too. */
	schema?: string
	/** @default 20 connections */
	maxConnections?: number
}

/**
 * Connects to PostgreSQL and applies pending migrations. Instances that start together take turns on an
 * advisory lock, so the second finds the work done instead of racing the first.
 */
export async function openPostgres(url: string, options: PostgresOptions = {}): Promise<DataStore> {
	const postgres = new SQL(url, {
		max: options.maxConnections ?? 20,
		...(options.schema && { connection: { search_path: options.schema } }),
	})
	const lock = await postgres.reserve()
	try {
		await lock`SELECT pg_advisory_lock(${MIGRATION_LOCK})`
		await migratePostgres(drizzlePostgres({ client: lock as unknown as SQL }), {
			migrationsFolder: PG_MIGRATIONS_FOLDER,
			...(options.schema && { migrationsSchema: options.schema }),
		})
	} finally {
		await lock`SELECT pg_advisory_unlock(${MIGRATION_LOCK})`
		lock.release()
	}
	const db = drizzlePostgres({ client: postgres, schema: schemaPg })
	return {
		dialect: 'postgres',
		// Sound for the queries services write (see DataStore): same tables, same row types.
		db: db as unknown as Db,
		tables: schemaPg as unknown as Tables,
		sqlite: null,
		postgres,
		close: () => postgres.close(),
	}
}

/** A unique index refused the write: SQLite says so by code, PostgreSQL by SQLSTATE 23505 (drizzle wraps it). */
export function isUniqueViolation(error: unknown): boolean {
	const found = error as { code?: unknown; errno?: unknown; cause?: unknown } | null
	if (!found || typeof found !== 'object') return false
	return (
		found.code === 'SQLITE_CONSTRAINT_UNIQUE' ||
		found.code === 'SQLITE_CONSTRAINT_PRIMARYKEY' ||
		found.errno === '23505' ||
		isUniqueViolation(found.cause)
	)
}

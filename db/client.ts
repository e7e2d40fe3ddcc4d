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
	/** The PostgreSQL pool (the shared rate limit, the rules' first seed); null on SQLite. */
	readonly postgres: SQL | null
	/**
	 * Two more PostgreSQL connections, for the request log's batches only, without named prepared statements:
	 * a batch's statement text changes with its number of rows, and each connection would keep every one
	 * of them prepared (hundreds of megabytes under varying load, measured by the benchmark). Null on SQLite.
	 */
	readonly postgresBatches: SQL | null
	/**
	 * Tells every instance on this database, this one included, that something on `channel` changed. On
	 * SQLite there is one instance, so it stays in the process; on PostgreSQL it is a NOTIFY.
	 */
	publish(channel: Channel, payload: string): Promise<void>
	/**
	 * Calls `onChange` with each payload published on `channel` by any instance, and with `RESYNC` when
	 * notifications may have been missed (the listening connection dropped and came back): a cache then
	 * forgets everything. Resolves once listening; the returned function stops it.
	 */
	subscribe(channel: Channel, onChange: (payload: string) => void): Promise<() => Promise<void>>
	close(): Promise<void>
}

/** What instances tell each other about. */
export type Channel = 'keys' | 'provider-keys' | 'rules' | 'budgets'

/** The payload a subscriber gets when it may have missed changes: forget everything cached. */
export const RESYNC = '*'

/** Publish and subscribe within one process: SQLite has one instance per database. */
function inProcessChannels(): Pick<DataStore, 'publish' | 'subscribe'> {
	const handlers = new Map<Channel, Set<(payload: string) => void>>()
	return {
		async publish(channel, payload) {
			for (const handler of handlers.get(channel) ?? []) handler(payload)
		},
		async subscribe(channel, onChange) {
			const set = handlers.get(channel) ?? new Set()
			handlers.set(channel, set)
			set.add(onChange)
			return async () => {
				set.delete(onChange)
			}
		},
	}
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
		postgresBatches: null,
		...inProcessChannels(),
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
	const postgresBatches = new SQL(url, {
		max: 2,
		prepare: false,
		...(options.schema && { connection: { search_path: options.schema } }),
	})
	// Channels are per database; schemas sharing one (tests) keep to their own by the prefix.
	const prefix = `switchyard_${options.schema ?? 'public'}_`
	return {
		dialect: 'postgres',
		// Sound for the queries services write (see DataStore): same tables, same row types.
		db: db as unknown as Db,
		tables: schemaPg as unknown as Tables,
		sqlite: null,
		postgres,
		postgresBatches,
		publish: (channel, payload) => postgres.notify(prefix + channel, payload),
		async subscribe(channel, onChange) {
			let listening = false
			const subscription = await postgres.listen(prefix + channel, onChange, () => {
				// Every LISTEN after the first follows a dropped connection: what happened meanwhile is lost.
				if (listening) onChange(RESYNC)
				listening = true
			})
			return () => subscription.unlisten()
		},
		close: async () => {
			await Promise.all([postgres.close(), postgresBatches.close()])
		},
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

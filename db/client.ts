import { Database } from 'bun:sqlite'
import { dirname } from 'node:path'
import { drizzle } from 'drizzle-orm/bun-sqlite'
import { migrate } from 'drizzle-orm/bun-sqlite/migrator'
import { ensureDir } from '../src/lib/files'
import { projectPath } from '../src/paths'
import * as schema from './schema'

export type Db = ReturnType<typeof drizzle<typeof schema>>

export const MIGRATIONS_FOLDER = projectPath('db/migrations')

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

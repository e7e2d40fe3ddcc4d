// drizzle-kit writes PostgreSQL foreign keys as REFERENCES "public"."users": a database that keeps
// Switchyard in another schema (DATABASE_URL with a search_path; the test suite's schema per app) would
// point them at public's tables. Unqualified, they follow the search_path like every other name.
// `bun run db:generate` runs this after drizzle-kit; tests/db/migrations-current.test.ts checks it ran.
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { projectPath } from '../src/paths'

const folder = projectPath('db/migrations-pg')
for (const name of readdirSync(folder).filter((file) => file.endsWith('.sql'))) {
	const path = join(folder, name)
	const sql = await Bun.file(path).text()
	const unqualified = sql.replaceAll('"public".', '')
	if (unqualified !== sql) await Bun.write(path, unqualified)
}

import { describe, expect, it, setDefaultTimeout } from 'bun:test'
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { projectPath } from '../../src/paths'

// drizzle-kit loads the schema and diffs it against the migrations' snapshots: a few seconds each.
setDefaultTimeout(60_000)

/**
 * Runs `drizzle-kit generate` on a copy of the migrations: anything it writes is a migration nobody made.
 * drizzle-kit exits 0 even when it fails, so its own words are the verdict.
 */
function pendingMigrations(dialect: 'sqlite' | 'postgresql', schema: string, folder: string) {
	const work = mkdtempSync(join(tmpdir(), 'switchyard-migrations-'))
	try {
		const out = join(work, 'migrations')
		cpSync(projectPath(folder), out, { recursive: true })
		const before = new Set(readdirSync(out))
		// drizzle-kit finds drizzle-orm from its working folder, and reads `out` relative to it whatever it is given.
		const config = join(work, 'drizzle.config.json')
		writeFileSync(config, JSON.stringify({ dialect, schema, out: relative(projectPath('.'), out) }))
		const run = Bun.spawnSync(['bunx', 'drizzle-kit', 'generate', '--config', config], {
			cwd: projectPath('.'),
			stdout: 'pipe',
			stderr: 'pipe',
		})
		return {
			said: `${run.stdout.toString()}${run.stderr.toString()}`.includes('No schema changes'),
			written: readdirSync(out).filter((name) => !before.has(name)),
		}
	} finally {
		rmSync(work, { recursive: true, force: true })
	}
}

describe('the committed migrations', () => {
	it.each([
		['sqlite', 'db/schema.ts', 'db/migrations'],
		['postgresql', 'db/schema-pg.ts', 'db/migrations-pg'],
	] as const)('of %s match the schema', (dialect, schema, folder) => {
		expect(pendingMigrations(dialect, schema, folder)).toEqual({ said: true, written: [] })
	})

	it('name PostgreSQL tables without a schema, so they follow the search_path', async () => {
		const folder = projectPath('db/migrations-pg')
		const qualified = readdirSync(folder).filter(
			(name) => name.endsWith('.sql') && readFileSync(join(folder, name), 'utf8').includes('"public".'),
		)
		expect(qualified).toEqual([])
	})
})

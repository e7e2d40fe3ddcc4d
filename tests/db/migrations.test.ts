import { Database } from 'bun:sqlite'
import { describe, expect, it } from 'bun:test'
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SQL } from 'bun'
import { drizzle as drizzlePostgres } from 'drizzle-orm/bun-sql'
import { migrate as migratePostgres } from 'drizzle-orm/bun-sql/migrator'
import { drizzle } from 'drizzle-orm/bun-sqlite'
import { migrate } from 'drizzle-orm/bun-sqlite/migrator'
import { MIGRATIONS_FOLDER, PG_MIGRATIONS_FOLDER } from '../../db/client'
import { freshSchema, TEST_DATABASE_URL } from '../helpers/stores'

interface Journal {
	entries: { tag: string }[]
}

/** The migrations folder as it was before the migration `tag`: what an existing database has applied. */
function migrationsBefore(tag: string, dir: string, from = MIGRATIONS_FOLDER): string {
	const folder = join(dir, 'migrations')
	cpSync(from, folder, { recursive: true })
	const journalPath = join(folder, 'meta', '_journal.json')
	const journal = JSON.parse(readFileSync(journalPath, 'utf8')) as Journal
	const upTo = journal.entries.findIndex((entry) => entry.tag === tag)
	writeFileSync(journalPath, JSON.stringify({ ...journal, entries: journal.entries.slice(0, upTo) }))
	return folder
}

describe('migration 0007: savings count routed requests only', () => {
	it('gives explicit requests already logged their own cost as the cost without routing', () => {
		const dir = mkdtempSync(join(tmpdir(), 'switchyard-migration-'))
		try {
			const sqlite = new Database(join(dir, 'old.db'), { create: true, strict: true })
			const db = drizzle(sqlite)
			migrate(db, { migrationsFolder: migrationsBefore('0007_savings_count_routed_requests_only', dir) })
			// As the old code logged them: an explicit call priced at the baseline, and a routed one.
			const insert = sqlite.prepare(
				`INSERT INTO request_log (request_id, created_at, user_id, key_id, tier, status, attempts, cost_usd,
				   baseline_cost_usd, latency_ms) VALUES (?, 0, 1, 1, ?, 200, '[]', ?, ?, 1)`,
			)
			insert.run('req_explicit', null, 0.01, 2.3)
			insert.run('req_routed', 'cheap', 0.01, 0.5)
			const rollup = sqlite.prepare(
				`INSERT INTO usage_daily (day, user_id, key_id, model, provider, tier, requests, errors, cost_usd,
				   baseline_cost_usd, prompt_tokens, completion_tokens, cached_tokens, latency_ms_sum, unpriced, missing_usage)
				 VALUES (1, 1, 1, ?, 'openai', ?, 1, 0, ?, ?, 0, 0, 0, 1, 0, 0)`,
			)
			rollup.run('openai/gpt-4o-mini', '', 0.01, 2.3)
			rollup.run('openai/gpt-4o-mini', 'cheap', 0.01, 0.5)

			migrate(db, { migrationsFolder: MIGRATIONS_FOLDER })

			expect(sqlite.query('SELECT request_id, baseline_cost_usd FROM request_log ORDER BY id').all()).toEqual(
				[
					{ request_id: 'req_explicit', baseline_cost_usd: 0.01 },
					{ request_id: 'req_routed', baseline_cost_usd: 0.5 },
				],
			)
			expect(sqlite.query('SELECT tier, baseline_cost_usd FROM usage_daily ORDER BY tier').all()).toEqual([
				{ tier: '', baseline_cost_usd: 0.01 },
				{ tier: 'cheap', baseline_cost_usd: 0.5 },
			])
			sqlite.close()
		} finally {
			rmSync(dir, { recursive: true, force: true })
		}
	})
})

describe('migrations 0010 and 0011: upstream errors apart from client errors', () => {
	it('counts the upstream failures of rollups written before, from the log rows kept', () => {
		const dir = mkdtempSync(join(tmpdir(), 'switchyard-migration-'))
		try {
			const sqlite = new Database(join(dir, 'old.db'), { create: true, strict: true })
			const db = drizzle(sqlite)
			migrate(db, { migrationsFolder: migrationsBefore('0010_upstream_errors', dir) })
			const day = 20_000
			const insert = sqlite.prepare(
				`INSERT INTO request_log (request_id, created_at, user_id, key_id, model, tier, status, attempts, latency_ms)
				 VALUES (?, ?, 1, 1, 'openai/gpt-4o-mini', 'cheap', ?, '[]', 1)`,
			)
			insert.run('req_ok', day * 86_400_000 + 5, 200)
			insert.run('req_upstream', day * 86_400_000 + 6, 502)
			insert.run('req_client', day * 86_400_000 + 7, 400)
			sqlite.run(
				`INSERT INTO usage_daily (day, user_id, key_id, model, provider, tier, requests, errors, cost_usd,
				   baseline_cost_usd, prompt_tokens, completion_tokens, cached_tokens, latency_ms_sum, unpriced, missing_usage)
				 VALUES (${day}, 1, 1, 'openai/gpt-4o-mini', 'openai', 'cheap', 3, 2, 0, 0, 0, 0, 0, 3, 0, 0)`,
			)

			migrate(db, { migrationsFolder: MIGRATIONS_FOLDER })

			expect(sqlite.query('SELECT errors, upstream_errors FROM usage_daily').all()).toEqual([
				{ errors: 2, upstream_errors: 1 },
			])
			sqlite.close()
		} finally {
			rmSync(dir, { recursive: true, force: true })
		}
	})
})

describe('the migration that adds doors and session pins', () => {
	it('gives the requests already logged on SQLite the door chat and no pin', () => {
		const dir = mkdtempSync(join(tmpdir(), 'switchyard-migration-'))
		try {
			const sqlite = new Database(join(dir, 'old.db'), { create: true, strict: true })
			const db = drizzle(sqlite)
			migrate(db, { migrationsFolder: migrationsBefore('0015_doors_session_pins_stored_responses', dir) })
			sqlite.run(
				`INSERT INTO request_log (request_id, created_at, user_id, key_id, status, attempts, latency_ms)
				 VALUES ('req_old', 0, 1, 1, 200, '[]', 1)`,
			)

			migrate(db, { migrationsFolder: MIGRATIONS_FOLDER })

			expect(sqlite.query('SELECT request_id, door, pin FROM request_log').all()).toEqual([
				{ request_id: 'req_old', door: 'chat', pin: null },
			])
			sqlite.close()
		} finally {
			rmSync(dir, { recursive: true, force: true })
		}
	})

	it.skipIf(!TEST_DATABASE_URL)(
		'gives the requests already logged on PostgreSQL the door chat and no pin',
		async () => {
			const dir = mkdtempSync(join(tmpdir(), 'switchyard-migration-'))
			const fresh = await freshSchema()
			const postgres = new SQL(fresh.url, { max: 1, connection: { search_path: fresh.schema } })
			try {
				const db = drizzlePostgres({ client: postgres })
				const before = migrationsBefore('0004_doors_session_pins_stored_responses', dir, PG_MIGRATIONS_FOLDER)
				await migratePostgres(db, { migrationsFolder: before, migrationsSchema: fresh.schema })
				await postgres`INSERT INTO request_log (request_id, created_at, user_id, key_id, status, attempts, latency_ms)
					VALUES ('req_old', now(), 1, 1, 200, '[]', 1)`

				await migratePostgres(db, { migrationsFolder: PG_MIGRATIONS_FOLDER, migrationsSchema: fresh.schema })

				expect(await postgres`SELECT request_id, door, pin FROM request_log`).toEqual([
					{ request_id: 'req_old', door: 'chat', pin: null },
				])
			} finally {
				await postgres.close()
				await fresh.drop()
				rmSync(dir, { recursive: true, force: true })
			}
		},
	)
})

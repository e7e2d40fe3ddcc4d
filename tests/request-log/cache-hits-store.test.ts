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
import { type DataStore, MIGRATIONS_FOLDER, PG_MIGRATIONS_FOLDER } from '../../db/client'
import type { RequestLogEntry } from '../../src/request-log/log-store'
import { PostgresRequestLog } from '../../src/request-log/postgres-log'
import { RequestLog, type RequestLogWriter } from '../../src/request-log/request-log'
import { type RollupInput, rollupsOf } from '../../src/request-log/rollup'
import { minimalEntry } from '../helpers/log-entries'
import { BACKENDS, freshSchema, openTestStore, TEST_DATABASE_URL } from '../helpers/stores'

const MIGRATION = 'request_log_cache_hits'

/** The writer the server runs on this database: SQLite's writer thread, or PostgreSQL's batches. */
function writerFor(store: DataStore): RequestLogWriter {
	if (store.sqlite) return new RequestLog(store.sqlite, store.sqlite.filename)
	return new PostgresRequestLog(store)
}

const at = new Date('2026-12-01T10:00:00Z')

/** A paid answer, then two answers from the cache (no usage, $0), and a request that failed. */
const entries = (): RequestLogEntry[] => [
	{
		...minimalEntry('req_paid'),
		createdAt: at,
		model: 'openai/gpt-4o-mini',
		promptTokens: 100,
		completionTokens: 20,
		usageReported: true,
		costUsd: 0.25,
		baselineCostUsd: 0.25,
	},
	{
		...minimalEntry('req_hit_1'),
		createdAt: at,
		model: 'openai/gpt-4o-mini',
		cacheHit: true,
		cacheSavedUsd: 0.25,
	},
	{
		...minimalEntry('req_hit_2'),
		createdAt: at,
		model: 'openai/gpt-4o-mini',
		cacheHit: true,
		cacheSavedUsd: 0.125,
	},
	{ ...minimalEntry('req_failed'), createdAt: at, model: 'openai/gpt-4o-mini', status: 502 },
]

describe.each(BACKENDS)('cache hits in the request log on %s', (backend) => {
	it('writes each row’s cache hit and saving, and false and 0 for an entry that names neither', async () => {
		await using test = await openTestStore(backend)
		const log = writerFor(test.store)
		for (const entry of entries()) log.record(entry)
		await log.close()
		const { db, tables } = test.store
		const rows = await db
			.select({
				requestId: tables.requestLog.requestId,
				cacheHit: tables.requestLog.cacheHit,
				cacheSavedUsd: tables.requestLog.cacheSavedUsd,
			})
			.from(tables.requestLog)
			.orderBy(tables.requestLog.id)
		expect(rows).toEqual([
			{ requestId: 'req_paid', cacheHit: false, cacheSavedUsd: 0 },
			{ requestId: 'req_hit_1', cacheHit: true, cacheSavedUsd: 0.25 },
			{ requestId: 'req_hit_2', cacheHit: true, cacheSavedUsd: 0.125 },
			{ requestId: 'req_failed', cacheHit: false, cacheSavedUsd: 0 },
		])
	})

	it('sums cache hits and their savings into the daily rollup, batch after batch', async () => {
		await using test = await openTestStore(backend)
		const log = writerFor(test.store)
		for (const entry of entries()) log.record(entry)
		await log.flush()
		log.record({
			...minimalEntry('req_hit_3'),
			createdAt: at,
			model: 'openai/gpt-4o-mini',
			cacheHit: true,
			cacheSavedUsd: 0.5,
		})
		await log.close()
		const { db, tables } = test.store
		const usage = await db
			.select({
				requests: tables.usageDaily.requests,
				costUsd: tables.usageDaily.costUsd,
				cacheHits: tables.usageDaily.cacheHits,
				cacheSavedUsd: tables.usageDaily.cacheSavedUsd,
				missingUsage: tables.usageDaily.missingUsage,
			})
			.from(tables.usageDaily)
		// A hit has no usage because no upstream was asked: it is not an answer that lost its usage.
		expect(usage).toEqual([
			{ requests: 5, costUsd: 0.25, cacheHits: 3, cacheSavedUsd: 0.875, missingUsage: 0 },
		])
	})

	it('gives rows inserted without the cache fields no hit and no saving', async () => {
		await using test = await openTestStore(backend)
		const { db, tables } = test.store
		const { textDigest: _, ...row } = minimalEntry('req_plain')
		await db.insert(tables.requestLog).values(row)
		expect(
			await db
				.select({ cacheHit: tables.requestLog.cacheHit, cacheSavedUsd: tables.requestLog.cacheSavedUsd })
				.from(tables.requestLog),
		).toEqual([{ cacheHit: false, cacheSavedUsd: 0 }])
	})
})

const input = (fields: Partial<RollupInput>): RollupInput => ({
	createdAtMs: at.getTime(),
	userId: 1,
	keyId: 1,
	model: 'openai/gpt-4o-mini',
	provider: 'openai',
	tier: '',
	status: 200,
	promptTokens: 0,
	completionTokens: 0,
	cachedTokens: 0,
	costUsd: 0,
	baselineCostUsd: 0,
	latencyMs: 1,
	usageReported: false,
	cacheHit: false,
	cacheSavedUsd: 0,
	...fields,
})

describe('rollupsOf', () => {
	it('counts cache hits and their savings per rollup row, and no hit as an answer missing its usage', () => {
		const { usage } = rollupsOf([
			input({ cacheHit: true, cacheSavedUsd: 0.5 }),
			input({ cacheHit: true, cacheSavedUsd: 0.25 }),
			input({ usageReported: false }),
			input({ keyId: 2, cacheHit: true, cacheSavedUsd: 1 }),
		])
		const counters = usage.map(([, , keyId, , , , requests, , , , , , , , , , missing, hits, saved]) => ({
			keyId,
			requests,
			missing,
			hits,
			saved,
		}))
		expect(counters).toEqual([
			{ keyId: 1, requests: 3, missing: 1, hits: 2, saved: 0.75 },
			{ keyId: 2, requests: 1, missing: 0, hits: 1, saved: 1 },
		])
	})
})

interface Journal {
	entries: { tag: string }[]
}

/** The migrations folder as it was before this round's: what a database already in use has applied. */
function migrationsBefore(dir: string, from: string): string {
	const folder = join(dir, 'migrations')
	cpSync(from, folder, { recursive: true })
	const journalPath = join(folder, 'meta', '_journal.json')
	const journal = JSON.parse(readFileSync(journalPath, 'utf8')) as Journal
	const upTo = journal.entries.findIndex((entry) => entry.tag.endsWith(MIGRATION))
	if (upTo < 0) throw new Error(`no migration ${MIGRATION}`)
	writeFileSync(journalPath, JSON.stringify({ ...journal, entries: journal.entries.slice(0, upTo) }))
	return folder
}

describe('the cache-hit migration', () => {
	it('keeps a populated SQLite log and its rollups, as no hit and no saving', () => {
		const dir = mkdtempSync(join(tmpdir(), 'switchyard-migration-'))
		try {
			const sqlite = new Database(join(dir, 'old.db'), { create: true, strict: true })
			const db = drizzle(sqlite)
			migrate(db, { migrationsFolder: migrationsBefore(dir, MIGRATIONS_FOLDER) })
			sqlite.run(
				`INSERT INTO request_log (request_id, created_at, user_id, key_id, status, attempts, cost_usd, latency_ms)
				 VALUES ('req_old', 0, 1, 1, 200, '[]', 0.5, 1)`,
			)
			sqlite.run(
				`INSERT INTO usage_daily (day, user_id, key_id, model, provider, tier, requests, errors, cost_usd,
				   baseline_cost_usd, prompt_tokens, completion_tokens, cached_tokens, latency_ms_sum, unpriced, missing_usage)
				 VALUES (1, 1, 1, '', '', '', 1, 0, 0.5, 0.5, 0, 0, 0, 1, 0, 0)`,
			)

			migrate(db, { migrationsFolder: MIGRATIONS_FOLDER })

			expect(
				sqlite.query('SELECT request_id, cost_usd, cache_hit, cache_saved_usd FROM request_log').all(),
			).toEqual([{ request_id: 'req_old', cost_usd: 0.5, cache_hit: 0, cache_saved_usd: 0 }])
			expect(sqlite.query('SELECT requests, cache_hits, cache_saved_usd FROM usage_daily').all()).toEqual([
				{ requests: 1, cache_hits: 0, cache_saved_usd: 0 },
			])
			sqlite.close()
		} finally {
			rmSync(dir, { recursive: true, force: true })
		}
	})

	it.skipIf(!TEST_DATABASE_URL)(
		'keeps a populated PostgreSQL log and its rollups, as no hit and no saving',
		async () => {
			const dir = mkdtempSync(join(tmpdir(), 'switchyard-migration-'))
			const fresh = await freshSchema()
			const postgres = new SQL(fresh.url, { max: 1, connection: { search_path: fresh.schema } })
			try {
				const db = drizzlePostgres({ client: postgres })
				const before = migrationsBefore(dir, PG_MIGRATIONS_FOLDER)
				await migratePostgres(db, { migrationsFolder: before, migrationsSchema: fresh.schema })
				await postgres`INSERT INTO request_log (request_id, created_at, user_id, key_id, status, attempts, latency_ms)
				VALUES ('req_old', now(), 1, 1, 200, '[]', 1)`
				await postgres`INSERT INTO usage_daily (day, user_id, key_id, model, provider, tier, requests, errors, cost_usd,
				baseline_cost_usd, prompt_tokens, completion_tokens, cached_tokens, latency_ms_sum, unpriced, missing_usage)
				VALUES (1, 1, 1, '', '', '', 1, 0, 0.5, 0.5, 0, 0, 0, 1, 0, 0)`

				await migratePostgres(db, { migrationsFolder: PG_MIGRATIONS_FOLDER, migrationsSchema: fresh.schema })

				expect(await postgres`SELECT request_id, cache_hit, cache_saved_usd FROM request_log`).toEqual([
					{ request_id: 'req_old', cache_hit: false, cache_saved_usd: 0 },
				])
				expect(await postgres`SELECT cache_hits, cache_saved_usd FROM usage_daily`).toEqual([
					{ cache_hits: '0', cache_saved_usd: 0 },
				])
			} finally {
				await postgres.close()
				await fresh.drop()
				rmSync(dir, { recursive: true, force: true })
			}
		},
	)
})

import type { Database, Statement } from 'bun:sqlite'
import type { requestLog } from '../../db/schema'
import type { DigestInput, TextPattern } from '../lib/text-digest'
import { type RollupInput, rollupsOf } from './rollup'
import type { DigestRequest, RowDigester } from './text-digests'

/** A log row as the gateway records it: the text for the digest rides along until the writer digests it. */
export type RequestLogEntry = Omit<typeof requestLog.$inferInsert, 'textDigest'> & {
	textDigest?: { input: DigestInput; patterns: readonly TextPattern[] } | null
}

/** The columns of `request_log` a row fills, in the order of `LogRow`. */
const COLUMNS = [
	'request_id',
	'created_at',
	'user_id',
	'key_id',
	'requested_model',
	'model',
	'upstream_model',
	'provider',
	'tier',
	'rule',
	'rules_revision',
	'stream',
	'status',
	'error_type',
	'error',
	'attempts',
	'prompt_tokens',
	'completion_tokens',
	'cached_tokens',
	'cache_write_tokens',
	'usage_reported',
	'cost_usd',
	'baseline_cost_usd',
	'latency_ms',
	'ttft_ms',
	'features',
	'prompt_text',
	'system_text',
	'text_digest',
	'door',
	'pin',
	'cache_hit',
	'cache_saved_usd',
] as const

const at = (name: (typeof COLUMNS)[number]) => COLUMNS.indexOf(name)
const CREATED_AT = at('created_at')
const USER_ID = at('user_id')
const KEY_ID = at('key_id')
const MODEL = at('model')
const PROVIDER = at('provider')
const TIER = at('tier')
const STATUS = at('status')
const PROMPT_TOKENS = at('prompt_tokens')
const COMPLETION_TOKENS = at('completion_tokens')
const CACHED_TOKENS = at('cached_tokens')
const USAGE_REPORTED = at('usage_reported')
const COST_USD = at('cost_usd')
const BASELINE_COST_USD = at('baseline_cost_usd')
const LATENCY_MS = at('latency_ms')
const CACHE_HIT = at('cache_hit')
const CACHE_SAVED_USD = at('cache_saved_usd')

/**
 * A log row in column order. `attempts` and `features` stay objects until the writer thread turns them
 * into their JSON columns, so the server does not serialise them twice (once here, once in the batch);
 * `text_digest` holds a `DigestRequest` until the writer turns it into the digest.
 */
export type LogRow = (string | number | null | object)[]

const ATTEMPTS = at('attempts')
const FEATURES = at('features')
const TEXT_DIGEST = at('text_digest')

/** `patternSet`: the number of `entry.textDigest.patterns` (`PatternSets`). */
export function toRow(entry: RequestLogEntry, patternSet: number): LogRow {
	return [
		entry.requestId,
		entry.createdAt.getTime(),
		entry.userId,
		entry.keyId,
		entry.requestedModel ?? null,
		entry.model ?? null,
		entry.upstreamModel ?? null,
		entry.provider ?? null,
		entry.tier ?? null,
		entry.rule ?? null,
		entry.rulesRevision ?? null,
		entry.stream ? 1 : 0,
		entry.status,
		entry.errorType ?? null,
		entry.error ?? null,
		entry.attempts,
		entry.promptTokens ?? 0,
		entry.completionTokens ?? 0,
		entry.cachedTokens ?? 0,
		entry.cacheWriteTokens ?? 0,
		entry.usageReported ? 1 : 0,
		entry.costUsd ?? 0,
		entry.baselineCostUsd ?? 0,
		entry.latencyMs,
		entry.ttftMs ?? null,
		entry.features ?? null,
		entry.promptText ?? null,
		entry.systemText ?? null,
		entry.textDigest ? ({ input: entry.textDigest.input, patternSet } satisfies DigestRequest) : null,
		entry.door ?? 'chat',
		entry.pin ?? null,
		entry.cacheHit ? 1 : 0,
		entry.cacheSavedUsd ?? 0,
	]
}

/**
 * What requests settled against one budget's window, summed over a batch: written in the batch's
 * transaction, so a budget's spent and the log rows that cost it reach the disk together (SQLite only;
 * docs/architecture.md, "Budgets").
 */
export type SpendRow = [budgetId: number, windowStartMs: number, micros: number]

/** Adds a settled amount to a budget window's spent, creating the window's row on its first cost. */
export const ADD_SPENT_SQL =
	'INSERT INTO budget_usage (budget_id, window_start, spent_micros, reserved_micros) VALUES (?, ?, ?, 0) ' +
	'ON CONFLICT (budget_id, window_start) DO UPDATE SET spent_micros = spent_micros + excluded.spent_micros'

/** Where settled budget costs go to be written (`RequestLog` in the server). */
export interface SpendLog {
	/** Counts `micros` as spent in the budget's window on disk, soon; never throws. */
	recordSpend(budgetId: number, windowStartMs: number, micros: number): void
	/** Resolves once everything recorded before the call is written. */
	flush(): Promise<void>
}

/** Sums spend entries per budget window into `into`. */
export function addSpend(
	into: Map<string, SpendRow>,
	budgetId: number,
	windowStartMs: number,
	micros: number,
) {
	const key = `${budgetId}:${windowStartMs}`
	const row = into.get(key)
	if (row) row[2] += micros
	else into.set(key, [budgetId, windowStartMs, micros])
}

/** Rows per INSERT statement: one statement per 32 rows binds and steps less often than one per row. */
const ROWS_PER_STATEMENT = 32

const num = (value: LogRow[number] | undefined) => (typeof value === 'number' ? value : 0)

/**
 * Writes log rows and keeps the daily rollups (`usage_daily`, `latency_daily`) current in the same
 * transaction, so the dashboard's totals never disagree with the rows they count.
 */
export class LogStore {
	private readonly insertOne: Statement
	private readonly insertMany: Statement
	private readonly upsertUsage: Statement
	private readonly upsertLatency: Statement
	private readonly addSpent: Statement<unknown, SpendRow>

	/** `digester`: null when digests are not kept (a row's text for the digest is then dropped). */
	constructor(
		private readonly sqlite: Database,
		private readonly digester: RowDigester | null,
	) {
		const values = `(${COLUMNS.map(() => '?').join(', ')})`
		const insert = `INSERT INTO request_log (${COLUMNS.join(', ')}) VALUES `
		this.insertOne = sqlite.prepare(insert + values)
		this.insertMany = sqlite.prepare(insert + Array(ROWS_PER_STATEMENT).fill(values).join(', '))
		this.upsertUsage = sqlite.prepare(
			`INSERT INTO usage_daily (day, user_id, key_id, model, provider, tier, requests, errors, upstream_errors,
			   cost_usd, baseline_cost_usd, prompt_tokens, completion_tokens, cached_tokens, latency_ms_sum, unpriced,
			   missing_usage, cache_hits, cache_saved_usd)
			 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			 ON CONFLICT (day, user_id, key_id, model, tier) DO UPDATE SET
			   requests = requests + excluded.requests,
			   errors = errors + excluded.errors,
			   upstream_errors = upstream_errors + excluded.upstream_errors,
			   cost_usd = cost_usd + excluded.cost_usd,
			   baseline_cost_usd = baseline_cost_usd + excluded.baseline_cost_usd,
			   prompt_tokens = prompt_tokens + excluded.prompt_tokens,
			   completion_tokens = completion_tokens + excluded.completion_tokens,
			   cached_tokens = cached_tokens + excluded.cached_tokens,
			   latency_ms_sum = latency_ms_sum + excluded.latency_ms_sum,
			   unpriced = unpriced + excluded.unpriced,
			   missing_usage = missing_usage + excluded.missing_usage,
			   cache_hits = cache_hits + excluded.cache_hits,
			   cache_saved_usd = cache_saved_usd + excluded.cache_saved_usd`,
		)
		this.upsertLatency = sqlite.prepare(
			`INSERT INTO latency_daily (day, user_id, bucket, count) VALUES (?, ?, ?, ?)
			 ON CONFLICT (day, user_id, bucket) DO UPDATE SET count = count + excluded.count`,
		)
		this.addSpent = sqlite.prepare(ADD_SPENT_SQL)
	}

	/** Writes the rows, their rollups and the budget costs settled with them in one transaction (all or nothing). */
	write(rows: readonly LogRow[], spend: readonly SpendRow[] = []) {
		this.sqlite.transaction(() => {
			let next = 0
			for (; next + ROWS_PER_STATEMENT <= rows.length; next += ROWS_PER_STATEMENT) {
				this.insertMany.run(
					...rows.slice(next, next + ROWS_PER_STATEMENT).flatMap((row) => this.toSqlValues(row)),
				)
			}
			for (; next < rows.length; next++) this.insertOne.run(...this.toSqlValues(rows[next] as LogRow))
			this.writeRollups(rows)
			for (const row of spend) this.addSpent.run(...row)
		})()
	}

	/** The row as SQLite values, with the JSON columns as text and the digest made. */
	private toSqlValues(row: LogRow): (string | number | null | Uint8Array)[] {
		const values = row.slice() as (string | number | null | Uint8Array)[]
		values[ATTEMPTS] = JSON.stringify(row[ATTEMPTS])
		values[FEATURES] = row[FEATURES] === null ? null : JSON.stringify(row[FEATURES])
		const digest = row[TEXT_DIGEST] as DigestRequest | null
		values[TEXT_DIGEST] = digest && this.digester ? this.digester.digest(digest) : null
		return values
	}

	private writeRollups(rows: readonly LogRow[]) {
		const { usage, latency } = rollupsOf(rows.map(rollupInput))
		for (const totals of usage) this.upsertUsage.run(...totals)
		for (const counted of latency) this.upsertLatency.run(...counted)
	}
}

const text = (value: LogRow[number] | undefined) => (typeof value === 'string' ? value : '')

function rollupInput(row: LogRow): RollupInput {
	return {
		createdAtMs: num(row[CREATED_AT]),
		userId: num(row[USER_ID]),
		keyId: num(row[KEY_ID]),
		model: text(row[MODEL]),
		provider: text(row[PROVIDER]),
		tier: text(row[TIER]),
		status: num(row[STATUS]),
		promptTokens: num(row[PROMPT_TOKENS]),
		completionTokens: num(row[COMPLETION_TOKENS]),
		cachedTokens: num(row[CACHED_TOKENS]),
		costUsd: num(row[COST_USD]),
		baselineCostUsd: num(row[BASELINE_COST_USD]),
		latencyMs: num(row[LATENCY_MS]),
		usageReported: Boolean(row[USAGE_REPORTED]),
		cacheHit: Boolean(row[CACHE_HIT]),
		cacheSavedUsd: num(row[CACHE_SAVED_USD]),
	}
}

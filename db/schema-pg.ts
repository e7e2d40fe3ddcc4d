// The same tables as `schema.ts`, for PostgreSQL (DATABASE_URL). Every table has the same name, columns
// and TypeScript row type as its SQLite twin, so services read and write either through one code path;
// `tests/db/schema-parity.test.ts` checks both at compile time and at run time. Comments on what a column
// means live in `schema.ts`.
import { sql } from 'drizzle-orm'
import {
	bigint,
	boolean,
	customType,
	doublePrecision,
	index,
	integer,
	jsonb,
	pgTable,
	primaryKey,
	text,
	timestamp,
	uniqueIndex,
} from 'drizzle-orm/pg-core'
import type {
	AttemptRecord,
	BudgetAlertThreshold,
	BudgetScope,
	BudgetWindow,
	Door,
	KeyScope,
	RevisionSource,
	Role,
} from './schema'

/** `bytea`, read and written as a Buffer like SQLite's blob in buffer mode. */
const bytea = customType<{ data: Buffer; driverData: Buffer | Uint8Array }>({
	dataType: () => 'bytea',
	fromDriver: (value) => (Buffer.isBuffer(value) ? value : Buffer.from(value)),
})

/**
 * JSON kept as its text, as SQLite's text columns in JSON mode keep it: a document comes back with its keys
 * in the order they were written (jsonb would sort them, and the API and the editor would differ between
 * the two databases).
 */
const jsonText = customType<{ data: unknown; driverData: string }>({
	dataType: () => 'text',
	toDriver: (value) => JSON.stringify(value),
	fromDriver: (value) => JSON.parse(value),
})

/** Milliseconds, as SQLite's `timestamp_ms` integers are. */
const instant = (name: string) => timestamp(name, { mode: 'date', precision: 3, withTimezone: true })

const createdAt = () =>
	instant('created_at')
		.notNull()
		.$defaultFn(() => new Date())

const id = () => integer('id').primaryKey().generatedByDefaultAsIdentity()
/** Counts and sums that may outgrow 32 bits (tokens over a day, rows over the log's life). */
const big = (name: string) => bigint(name, { mode: 'number' })

export const users = pgTable('users', {
	id: id(),
	email: text('email').notNull().unique(),
	passwordHash: text('password_hash').notNull(),
	role: text('role').$type<Role>().notNull(),
	active: boolean('active').notNull().default(true),
	createdAt: createdAt(),
})

export const invites = pgTable(
	'invites',
	{
		id: id(),
		tokenHash: text('token_hash').notNull(),
		email: text('email'),
		role: text('role').$type<Role>().notNull(),
		createdBy: integer('created_by')
			.notNull()
			.references(() => users.id, { onDelete: 'cascade' }),
		createdAt: createdAt(),
		expiresAt: instant('expires_at').notNull(),
		usedAt: instant('used_at'),
		usedBy: integer('used_by').references(() => users.id, { onDelete: 'set null' }),
	},
	(table) => [uniqueIndex('invites_token_hash_idx').on(table.tokenHash)],
)

export const sessions = pgTable(
	'sessions',
	{
		id: text('id').primaryKey(),
		userId: integer('user_id')
			.notNull()
			.references(() => users.id, { onDelete: 'cascade' }),
		createdAt: createdAt(),
		expiresAt: instant('expires_at').notNull(),
	},
	(table) => [index('sessions_user_id_idx').on(table.userId)],
)

export const gatewayKeys = pgTable(
	'gateway_keys',
	{
		id: id(),
		userId: integer('user_id')
			.notNull()
			.references(() => users.id, { onDelete: 'cascade' }),
		name: text('name').notNull(),
		prefix: text('prefix').notNull(),
		keyHash: text('key_hash').notNull(),
		rateLimitPerMinute: integer('rate_limit_per_minute'),
		tokensPerMinute: integer('tokens_per_minute'),
		maxConcurrent: integer('max_concurrent'),
		cacheTtlSeconds: integer('cache_ttl_seconds'),
		createdAt: createdAt(),
		lastUsedAt: instant('last_used_at'),
		revokedAt: instant('revoked_at'),
	},
	(table) => [
		uniqueIndex('gateway_keys_key_hash_idx').on(table.keyHash),
		index('gateway_keys_user_id_idx').on(table.userId),
	],
)

export const providerKeys = pgTable(
	'provider_keys',
	{
		id: id(),
		provider: text('provider').notNull(),
		scope: text('scope').$type<KeyScope>().notNull(),
		userId: integer('user_id').references(() => users.id, { onDelete: 'cascade' }),
		secret: bytea('secret').notNull(),
		last4: text('last4').notNull(),
		createdAt: createdAt(),
	},
	(table) => [
		uniqueIndex('provider_keys_user_idx').on(table.userId, table.provider).where(sql`scope = 'user'`),
		uniqueIndex('provider_keys_org_idx').on(table.provider).where(sql`scope = 'org'`),
	],
)

export const requestLog = pgTable(
	'request_log',
	{
		id: big('id').primaryKey().generatedByDefaultAsIdentity(),
		requestId: text('request_id').notNull(),
		createdAt: instant('created_at').notNull(),
		userId: integer('user_id').notNull(),
		keyId: integer('key_id').notNull(),
		requestedModel: text('requested_model'),
		model: text('model'),
		upstreamModel: text('upstream_model'),
		provider: text('provider'),
		tier: text('tier'),
		rule: text('rule'),
		rulesRevision: integer('rules_revision'),
		stream: boolean('stream').notNull().default(false),
		status: integer('status').notNull(),
		errorType: text('error_type'),
		error: text('error'),
		attempts: jsonText('attempts').$type<AttemptRecord[]>().notNull(),
		promptTokens: integer('prompt_tokens').notNull().default(0),
		completionTokens: integer('completion_tokens').notNull().default(0),
		cachedTokens: integer('cached_tokens').notNull().default(0),
		cacheWriteTokens: integer('cache_write_tokens').notNull().default(0),
		usageReported: boolean('usage_reported').notNull().default(false),
		costUsd: doublePrecision('cost_usd').notNull().default(0),
		baselineCostUsd: doublePrecision('baseline_cost_usd').notNull().default(0),
		latencyMs: integer('latency_ms').notNull(),
		ttftMs: integer('ttft_ms'),
		features: jsonText('features').$type<Record<string, unknown>>(),
		promptText: text('prompt_text'),
		systemText: text('system_text'),
		textDigest: bytea('text_digest'),
		door: text('door').$type<Door>().notNull().default('chat'),
		pin: text('pin'),
		cacheHit: boolean('cache_hit').notNull().default(false),
		cacheSavedUsd: doublePrecision('cache_saved_usd').notNull().default(0),
	},
	(table) => [
		index('request_log_user_id_idx').on(table.userId, table.id),
		index('request_log_key_id_idx').on(table.keyId, table.id),
		index('request_log_model_idx').on(table.model, table.id),
	],
)

export const ruleRevisions = pgTable('rule_revisions', {
	id: id(),
	createdAt: createdAt(),
	authorId: integer('author_id'),
	author: text('author').notNull(),
	source: text('source').$type<RevisionSource>().notNull(),
	document: jsonText('document').notNull(),
})

export const usageDaily = pgTable(
	'usage_daily',
	{
		day: integer('day').notNull(),
		userId: integer('user_id').notNull(),
		keyId: integer('key_id').notNull(),
		model: text('model').notNull(),
		provider: text('provider').notNull(),
		tier: text('tier').notNull(),
		requests: big('requests').notNull(),
		errors: big('errors').notNull(),
		upstreamErrors: big('upstream_errors').notNull().default(0),
		costUsd: doublePrecision('cost_usd').notNull(),
		baselineCostUsd: doublePrecision('baseline_cost_usd').notNull(),
		promptTokens: big('prompt_tokens').notNull(),
		completionTokens: big('completion_tokens').notNull(),
		cachedTokens: big('cached_tokens').notNull(),
		latencyMsSum: big('latency_ms_sum').notNull(),
		unpriced: big('unpriced').notNull(),
		missingUsage: big('missing_usage').notNull(),
		cacheHits: big('cache_hits').notNull().default(0),
		cacheSavedUsd: doublePrecision('cache_saved_usd').notNull().default(0),
	},
	(table) => [primaryKey({ columns: [table.day, table.userId, table.keyId, table.model, table.tier] })],
)

export const latencyDaily = pgTable(
	'latency_daily',
	{
		day: integer('day').notNull(),
		userId: integer('user_id').notNull(),
		bucket: integer('bucket').notNull(),
		count: big('count').notNull(),
	},
	(table) => [primaryKey({ columns: [table.day, table.userId, table.bucket] })],
)

/**
 * Each rate-limited gateway key's token bucket, shared by every instance (PostgreSQL only: one SQLite
 * process keeps its buckets in memory, `gateway/rate-limit.ts`). Tokens refill continuously up to the
 * key's per-minute limit; a request takes one in a single conditional upsert.
 */
export const rateLimitBuckets = pgTable('rate_limit_buckets', {
	keyId: integer('key_id').primaryKey(),
	tokens: doublePrecision('tokens').notNull(),
	/** Milliseconds since the epoch, by the clock of the instance that took the last token. */
	updatedAt: big('updated_at').notNull(),
})

/**
 * Each limited gateway key's per-minute buckets and requests in flight, shared by every instance
 * (PostgreSQL only: one SQLite process keeps them in memory, `gateway/key-limits.ts`). One row per key, so
 * a request's admission is one conditional upsert and its completion one update; docs/architecture.md,
 * "Key limits", has the argument.
 */
export const keyLimitState = pgTable('key_limit_state', {
	keyId: integer('key_id').primaryKey(),
	/** Requests left in the bucket at `updated_at`; null when the key had no such limit (a full bucket). */
	requests: doublePrecision('requests'),
	/** Tokens left at `updated_at`, below zero when answers used more than they reserved; null as above. */
	tokens: doublePrecision('tokens'),
	/** Milliseconds since the epoch, by the clock of the instance that last admitted a request. */
	updatedAt: big('updated_at').notNull(),
	/** The requests in flight: `{"<lease id>": <expiry in epoch ms>}`; expired leases count for nothing. */
	leases: jsonb('leases').$type<Record<string, number>>().notNull().default({}),
})

export const instances = pgTable('instances', {
	id: text('id').primaryKey(),
	host: text('host').notNull(),
	pid: integer('pid').notNull(),
	startedAt: instant('started_at').notNull(),
	lastSeenAt: instant('last_seen_at').notNull(),
	rulesRevision: integer('rules_revision'),
	pendingRows: integer('pending_rows').notNull().default(0),
	droppedRows: integer('dropped_rows').notNull().default(0),
})

export const sessionPins = pgTable(
	'session_pins',
	{
		userId: integer('user_id').notNull(),
		sessionKey: text('session_key').notNull(),
		model: text('model').notNull(),
		tier: text('tier'),
		reason: text('reason').notNull(),
		createdAt: instant('created_at').notNull(),
		lastSeenAt: instant('last_seen_at').notNull(),
		expiresAt: instant('expires_at').notNull(),
	},
	(table) => [
		primaryKey({ columns: [table.userId, table.sessionKey] }),
		index('session_pins_expires_at_idx').on(table.expiresAt),
	],
)

export const storedResponses = pgTable(
	'stored_responses',
	{
		id: text('id').primaryKey(),
		userId: integer('user_id').notNull(),
		keyId: integer('key_id').notNull(),
		model: text('model').notNull(),
		input: jsonText('input').$type<unknown[]>().notNull(),
		output: jsonText('output').$type<unknown[]>().notNull(),
		createdAt: instant('created_at').notNull(),
	},
	(table) => [
		index('stored_responses_created_at_idx').on(table.createdAt),
		index('stored_responses_user_id_idx').on(table.userId),
	],
)

export const budgets = pgTable(
	'budgets',
	{
		id: id(),
		scope: text('scope').$type<BudgetScope>().notNull(),
		scopeId: integer('scope_id').notNull(),
		window: text('window').$type<BudgetWindow>().notNull(),
		limitMicros: big('limit_micros').notNull(),
		createdBy: integer('created_by').notNull(),
		createdAt: createdAt(),
	},
	(table) => [uniqueIndex('budgets_scope_idx').on(table.scope, table.scopeId, table.window)],
)

export const budgetUsage = pgTable(
	'budget_usage',
	{
		budgetId: integer('budget_id').notNull(),
		windowStart: instant('window_start').notNull(),
		spentMicros: big('spent_micros').notNull().default(0),
		reservedMicros: big('reserved_micros').notNull().default(0),
	},
	(table) => [primaryKey({ columns: [table.budgetId, table.windowStart] })],
)

export const budgetReservations = pgTable(
	'budget_reservations',
	{
		requestId: text('request_id').primaryKey(),
		amountMicros: big('amount_micros').notNull(),
		createdAt: instant('created_at').notNull(),
		expiresAt: instant('expires_at').notNull(),
	},
	(table) => [index('budget_reservations_expires_at_idx').on(table.expiresAt)],
)

export const budgetHolds = pgTable(
	'budget_holds',
	{
		requestId: text('request_id').notNull(),
		budgetId: integer('budget_id').notNull(),
		windowStart: instant('window_start').notNull(),
		amountMicros: big('amount_micros').notNull(),
		expiresAt: instant('expires_at').notNull(),
	},
	(table) => [
		primaryKey({ columns: [table.requestId, table.budgetId] }),
		index('budget_holds_expires_at_idx').on(table.expiresAt),
	],
)

export const budgetAlerts = pgTable(
	'budget_alerts',
	{
		budgetId: integer('budget_id').notNull(),
		windowStart: instant('window_start').notNull(),
		threshold: integer('threshold').$type<BudgetAlertThreshold>().notNull(),
		createdAt: createdAt(),
		notifiedAt: instant('notified_at'),
		attempts: integer('attempts').notNull().default(0),
		lastError: text('last_error'),
		nextAttemptAt: instant('next_attempt_at'),
	},
	(table) => [primaryKey({ columns: [table.budgetId, table.windowStart, table.threshold] })],
)

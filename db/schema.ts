import { sql } from 'drizzle-orm'
import {
	blob,
	index,
	integer,
	primaryKey,
	real,
	sqliteTable,
	text,
	uniqueIndex,
} from 'drizzle-orm/sqlite-core'

export type Role = 'admin' | 'developer'
export type KeyScope = 'user' | 'org'

/**
 * The API a request came in through, as the request log keeps it: `chat` is `POST /v1/chat/completions`,
 * `messages` Anthropic's `/v1/messages`, `responses` OpenAI's `/v1/responses`, `embeddings` `/v1/embeddings`.
 * The same union as `Door` in `src/observability/gateway-metrics.ts` (checked by tests/db/schema-parity.test.ts),
 * declared here because the log's layers sit below observability.
 */
export const DOORS = ['chat', 'messages', 'responses', 'embeddings'] as const
export type Door = (typeof DOORS)[number]

const createdAt = () =>
	integer('created_at', { mode: 'timestamp_ms' })
		.notNull()
		.$defaultFn(() => new Date())

export const users = sqliteTable('users', {
	id: integer('id').primaryKey({ autoIncrement: true }),
	email: text('email').notNull().unique(),
	passwordHash: text('password_hash').notNull(),
	role: text('role').$type<Role>().notNull(),
	/** A deactivated user can neither log in nor use a gateway key; their data stays. */
	active: integer('active', { mode: 'boolean' }).notNull().default(true),
	createdAt: createdAt(),
})

/** A sign-up link an admin made: its token is shown once, in the link, and stored as its SHA-256 only. */
export const invites = sqliteTable(
	'invites',
	{
		id: integer('id').primaryKey({ autoIncrement: true }),
		tokenHash: text('token_hash').notNull(),
		/** When set, only this address may sign up with the invite. */
		email: text('email'),
		role: text('role').$type<Role>().notNull(),
		createdBy: integer('created_by')
			.notNull()
			.references(() => users.id, { onDelete: 'cascade' }),
		createdAt: createdAt(),
		expiresAt: integer('expires_at', { mode: 'timestamp_ms' }).notNull(),
		usedAt: integer('used_at', { mode: 'timestamp_ms' }),
		usedBy: integer('used_by').references(() => users.id, { onDelete: 'set null' }),
	},
	(table) => [uniqueIndex('invites_token_hash_idx').on(table.tokenHash)],
)

export const sessions = sqliteTable(
	'sessions',
	{
		id: text('id').primaryKey(),
		userId: integer('user_id')
			.notNull()
			.references(() => users.id, { onDelete: 'cascade' }),
		createdAt: createdAt(),
		expiresAt: integer('expires_at', { mode: 'timestamp_ms' }).notNull(),
	},
	(table) => [index('sessions_user_id_idx').on(table.userId)],
)

export const gatewayKeys = sqliteTable(
	'gateway_keys',
	{
		id: integer('id').primaryKey({ autoIncrement: true }),
		userId: integer('user_id')
			.notNull()
			.references(() => users.id, { onDelete: 'cascade' }),
		name: text('name').notNull(),
		prefix: text('prefix').notNull(),
		keyHash: text('key_hash').notNull(),
		/** The key's own limit; null for none. Past it the gateway answers 429 rate_limit_exceeded. */
		rateLimitPerMinute: integer('rate_limit_per_minute'),
		/** Input plus output tokens a minute; null for none. Past it: 429 `tokens_exceeded`. */
		tokensPerMinute: integer('tokens_per_minute'),
		/** Requests in flight at once; null for none. Past it: 429 `concurrency_exceeded`. */
		maxConcurrent: integer('max_concurrent'),
		/** How long the key's exact-match response cache keeps an answer; null: no cache. */
		cacheTtlSeconds: integer('cache_ttl_seconds'),
		createdAt: createdAt(),
		lastUsedAt: integer('last_used_at', { mode: 'timestamp_ms' }),
		revokedAt: integer('revoked_at', { mode: 'timestamp_ms' }),
	},
	(table) => [
		uniqueIndex('gateway_keys_key_hash_idx').on(table.keyHash),
		index('gateway_keys_user_id_idx').on(table.userId),
	],
)

export const providerKeys = sqliteTable(
	'provider_keys',
	{
		id: integer('id').primaryKey({ autoIncrement: true }),
		provider: text('provider').notNull(),
		scope: text('scope').$type<KeyScope>().notNull(),
		/** Null for organisation keys. */
		userId: integer('user_id').references(() => users.id, { onDelete: 'cascade' }),
		/** AES-256-GCM: IV ‖ ciphertext ‖ tag. */
		secret: blob('secret', { mode: 'buffer' }).notNull(),
		last4: text('last4').notNull(),
		createdAt: createdAt(),
	},
	(table) => [
		uniqueIndex('provider_keys_user_idx').on(table.userId, table.provider).where(sql`scope = 'user'`),
		uniqueIndex('provider_keys_org_idx').on(table.provider).where(sql`scope = 'org'`),
	],
)

/** One attempt at one candidate model within a request. */
export interface AttemptRecord {
	model: string
	provider: string
	/** Upstream HTTP status, or 0 when none arrived (time-out, connection failure, abort). */
	status: number
	latencyMs: number
	error?: string
	/** What a failed attempt had already cost: the usage its upstream reported before it broke off. */
	costUsd?: number
}

/**
 * One row per gateway request past authentication. No prompt or completion text, except the opt-in
 * `promptText`/`systemText` excerpts (LOG_PROMPT_TEXT) kept for replaying text rules; `textDigest` is
 * not readable text.
 */
export const requestLog = sqliteTable(
	'request_log',
	{
		id: integer('id').primaryKey({ autoIncrement: true }),
		requestId: text('request_id').notNull(),
		createdAt: integer('created_at', { mode: 'timestamp_ms' }).notNull(),
		userId: integer('user_id').notNull(),
		keyId: integer('key_id').notNull(),
		requestedModel: text('requested_model'),
		/** The catalog model that answered, as `<provider>/<id>`. */
		model: text('model'),
		/** The model id the upstream reported. */
		upstreamModel: text('upstream_model'),
		provider: text('provider'),
		tier: text('tier'),
		rule: text('rule'),
		rulesRevision: integer('rules_revision'),
		stream: integer('stream', { mode: 'boolean' }).notNull().default(false),
		/** The HTTP status returned; 499 when the client went away, 502 for a stream cut by the upstream. */
		status: integer('status').notNull(),
		errorType: text('error_type'),
		error: text('error'),
		attempts: text('attempts', { mode: 'json' }).$type<AttemptRecord[]>().notNull(),
		promptTokens: integer('prompt_tokens').notNull().default(0),
		completionTokens: integer('completion_tokens').notNull().default(0),
		cachedTokens: integer('cached_tokens').notNull().default(0),
		cacheWriteTokens: integer('cache_write_tokens').notNull().default(0),
		/** False when an answer came back without usage (a stream that ended without it). */
		usageReported: integer('usage_reported', { mode: 'boolean' }).notNull().default(false),
		costUsd: real('cost_usd').notNull().default(0),
		baselineCostUsd: real('baseline_cost_usd').notNull().default(0),
		latencyMs: integer('latency_ms').notNull(),
		ttftMs: integer('ttft_ms'),
		features: text('features', { mode: 'json' }).$type<Record<string, unknown>>(),
		promptText: text('prompt_text'),
		systemText: text('system_text'),
		/** A keyed digest of an `auto` request's text (`src/lib/text-digest.ts`) for replaying rules. */
		textDigest: blob('text_digest', { mode: 'buffer' }),
		/** Rows logged before there was more than one door came through `chat`, hence the default. */
		door: text('door').$type<Door>().notNull().default('chat'),
		/**
		 * Why the model came from a session pin rather than from routing, in words the gateway wrote (the
		 * session, the pinned model and tier, when, any escalation); null when no pin applied.
		 */
		pin: text('pin'),
		/** Answered from the response cache: no upstream call, no cost. */
		cacheHit: integer('cache_hit', { mode: 'boolean' }).notNull().default(false),
		/** What a cache hit avoided: the cached answer's usage at its model's prices; 0 for other rows. */
		cacheSavedUsd: real('cache_saved_usd').notNull().default(0),
	},
	// The requests page walks (user, id), (key, id) or (model, id) newest first. Status and tier filters ride
	// on those walks, and time windows on the id order (rows are written in time order): every index here
	// costs each logged request an extra B-tree insert.
	(table) => [
		index('request_log_user_id_idx').on(table.userId, table.id),
		index('request_log_key_id_idx').on(table.keyId, table.id),
		index('request_log_model_idx').on(table.model, table.id),
	],
)

export type RevisionSource = 'initial' | 'api' | 'file' | 'restore'

/** Every version of the routing rules that was ever live, whoever made it. */
export const ruleRevisions = sqliteTable('rule_revisions', {
	/** The revision number. */
	id: integer('id').primaryKey({ autoIncrement: true }),
	createdAt: createdAt(),
	/** Null for the defaults and for hand edits of the file. */
	authorId: integer('author_id'),
	/** The author's email, or `rules file` for a hand edit. */
	author: text('author').notNull(),
	source: text('source').$type<RevisionSource>().notNull(),
	document: text('document', { mode: 'json' }).$type<unknown>().notNull(),
})

/**
 * Daily totals of the request log, kept current in the same transaction as the rows they count, so the
 * dashboard reads thousands of rollup rows instead of millions of log rows. Empty strings stand for "none"
 * (no model answered, no tier) because they are part of the primary key.
 */
export const usageDaily = sqliteTable(
	'usage_daily',
	{
		/** Days since the Unix epoch, UTC. */
		day: integer('day').notNull(),
		userId: integer('user_id').notNull(),
		keyId: integer('key_id').notNull(),
		model: text('model').notNull(),
		provider: text('provider').notNull(),
		tier: text('tier').notNull(),
		requests: integer('requests').notNull(),
		errors: integer('errors').notNull(),
		/** Of the errors, those the upstreams caused (a status of 500 or more); the rest were the caller's. */
		upstreamErrors: integer('upstream_errors').notNull().default(0),
		costUsd: real('cost_usd').notNull(),
		baselineCostUsd: real('baseline_cost_usd').notNull(),
		promptTokens: integer('prompt_tokens').notNull(),
		completionTokens: integer('completion_tokens').notNull(),
		cachedTokens: integer('cached_tokens').notNull(),
		latencyMsSum: integer('latency_ms_sum').notNull(),
		/** Answers with tokens but no cost: a model priced at zero. */
		unpriced: integer('unpriced').notNull(),
		/** Successful answers whose upstream never reported usage. */
		missingUsage: integer('missing_usage').notNull(),
		/** Requests answered from the response cache. */
		cacheHits: integer('cache_hits').notNull().default(0),
		/** What those cache hits avoided spending. */
		cacheSavedUsd: real('cache_saved_usd').notNull().default(0),
	},
	(table) => [primaryKey({ columns: [table.day, table.userId, table.keyId, table.model, table.tier] })],
)

/** Daily latency histograms per user (log-scale buckets), for percentiles without reading the log. */
export const latencyDaily = sqliteTable(
	'latency_daily',
	{
		day: integer('day').notNull(),
		userId: integer('user_id').notNull(),
		bucket: integer('bucket').notNull(),
		count: integer('count').notNull(),
	},
	(table) => [primaryKey({ columns: [table.day, table.userId, table.bucket] })],
)

/**
 * The servers running on this database, each with the rules revision it routes with: one on SQLite,
 * several on PostgreSQL. A server adds itself at start, says it is alive every few seconds and leaves
 * at a clean stop; one that stops saying so was stopped some other way (`src/runtime/instances.ts`).
 */
export const instances = sqliteTable('instances', {
	/** Random, made at start. */
	id: text('id').primaryKey(),
	host: text('host').notNull(),
	pid: integer('pid').notNull(),
	startedAt: integer('started_at', { mode: 'timestamp_ms' }).notNull(),
	lastSeenAt: integer('last_seen_at', { mode: 'timestamp_ms' }).notNull(),
	rulesRevision: integer('rules_revision'),
	/** Its request log's rows not yet written, and rows it gave up on, when last heard from. */
	pendingRows: integer('pending_rows').notNull().default(0),
	droppedRows: integer('dropped_rows').notNull().default(0),
})

/**
 * The model a conversation stays on (SPEC "More front doors", sessions): while a session keeps coming back
 * within its idle time, its later turns go to the pinned model, or escalate to a stronger tier, never a
 * weaker one. Shared by every instance on PostgreSQL; expired rows are pruned daily.
 */
export const sessionPins = sqliteTable(
	'session_pins',
	{
		userId: integer('user_id').notNull(),
		/** A hash the gateway makes of the session's identity (header, client session id or opening turns); ≤ 128 characters. */
		sessionKey: text('session_key').notNull(),
		/** The catalog model, as `<provider>/<id>`. */
		model: text('model').notNull(),
		/** The tier it was routed in; null for a named model. */
		tier: text('tier'),
		/** Why it was pinned, in the gateway's words. */
		reason: text('reason').notNull(),
		/** When the current model was pinned: a replacement (an escalation) starts it again. */
		createdAt: integer('created_at', { mode: 'timestamp_ms' }).notNull(),
		lastSeenAt: integer('last_seen_at', { mode: 'timestamp_ms' }).notNull(),
		expiresAt: integer('expires_at', { mode: 'timestamp_ms' }).notNull(),
	},
	(table) => [
		primaryKey({ columns: [table.userId, table.sessionKey] }),
		index('session_pins_expires_at_idx').on(table.expiresAt),
	],
)

/**
 * Responses API turns kept for `previous_response_id` (`store: true`): a later turn names one and continues
 * from its input and output. Readable only by the user who made them; pruned with the request log
 * (LOG_RETENTION_DAYS).
 */
export const storedResponses = sqliteTable(
	'stored_responses',
	{
		/** The response's id as the caller saw it (`resp_…`). */
		id: text('id').primaryKey(),
		userId: integer('user_id').notNull(),
		keyId: integer('key_id').notNull(),
		/** The catalog model that answered, as `<provider>/<id>`. */
		model: text('model').notNull(),
		/** Every input item of the turn, earlier turns' included, as the Responses API shapes them. */
		input: text('input', { mode: 'json' }).$type<unknown[]>().notNull(),
		/** The turn's output items. */
		output: text('output', { mode: 'json' }).$type<unknown[]>().notNull(),
		createdAt: integer('created_at', { mode: 'timestamp_ms' }).notNull(),
	},
	(table) => [
		index('stored_responses_created_at_idx').on(table.createdAt),
		index('stored_responses_user_id_idx').on(table.userId),
	],
)

export type BudgetScope = 'key' | 'user' | 'org'
export type BudgetWindow = 'day' | 'month' | 'total'

/**
 * Spending limits (SPEC "Spend control"): one per scope and window. Money is in micro-dollars, integers,
 * so sums are exact. `scope_id` is the gateway key's id, the user's id, or 0 for the organisation; it has
 * no foreign key, since it points at one of two tables or at none.
 */
export const budgets = sqliteTable(
	'budgets',
	{
		id: integer('id').primaryKey({ autoIncrement: true }),
		scope: text('scope').$type<BudgetScope>().notNull(),
		scopeId: integer('scope_id').notNull(),
		window: text('window').$type<BudgetWindow>().notNull(),
		limitMicros: integer('limit_micros').notNull(),
		/** The user who set it; kept when that account goes. */
		createdBy: integer('created_by').notNull(),
		createdAt: createdAt(),
	},
	(table) => [uniqueIndex('budgets_scope_idx').on(table.scope, table.scopeId, table.window)],
)

/**
 * What each budget's window has spent and holds reserved, created on demand by the first reservation in
 * the window (an upsert). Reservations add to `reserved_micros` only by a conditional statement that keeps
 * spent + reserved within the limit (`src/budgets/ledger.ts`). No foreign key: a reservation against a
 * budget deleted a moment ago must not fail the request; deleting a budget deletes its rows.
 */
export const budgetUsage = sqliteTable(
	'budget_usage',
	{
		budgetId: integer('budget_id').notNull(),
		/** The UTC day's or month's first instant; the epoch for a total. */
		windowStart: integer('window_start', { mode: 'timestamp_ms' }).notNull(),
		spentMicros: integer('spent_micros').notNull().default(0),
		reservedMicros: integer('reserved_micros').notNull().default(0),
	},
	(table) => [primaryKey({ columns: [table.budgetId, table.windowStart] })],
)

/**
 * A request's reservation, written before any budget counter moves, so a crash at any point leaves a row
 * the sweeper finds; it lives until the request settles or releases it, or until `expires_at` (the
 * request's deadline) has passed and the sweeper releases it.
 */
export const budgetReservations = sqliteTable(
	'budget_reservations',
	{
		requestId: text('request_id').primaryKey(),
		amountMicros: integer('amount_micros').notNull(),
		createdAt: integer('created_at', { mode: 'timestamp_ms' }).notNull(),
		expiresAt: integer('expires_at', { mode: 'timestamp_ms' }).notNull(),
	},
	(table) => [index('budget_reservations_expires_at_idx').on(table.expiresAt)],
)

/**
 * One row per budget counter a reservation actually raised, written just after the raise: settle, release
 * and the sweeper each take a row by deleting it (one statement), so each raise is undone exactly once and
 * nothing that was never raised is ever lowered. Self-contained (amount, deadline), so the sweeper needs
 * no join and finds rows whose reservation row is already gone.
 */
export const budgetHolds = sqliteTable(
	'budget_holds',
	{
		requestId: text('request_id').notNull(),
		budgetId: integer('budget_id').notNull(),
		windowStart: integer('window_start', { mode: 'timestamp_ms' }).notNull(),
		amountMicros: integer('amount_micros').notNull(),
		expiresAt: integer('expires_at', { mode: 'timestamp_ms' }).notNull(),
	},
	(table) => [
		primaryKey({ columns: [table.requestId, table.budgetId] }),
		index('budget_holds_expires_at_idx').on(table.expiresAt),
	],
)

/** The share of a budget's limit an alert is sent at, in percent. */
export type BudgetAlertThreshold = 80 | 100

/**
 * One row per budget, window and threshold crossed: inserted once (the primary key makes a second insert
 * a no-op, so one alert per crossing however many instances see it), then delivered, retried with
 * `attempts` and `last_error` until `notified_at` is set. No foreign key, like `budget_usage`.
 */
export const budgetAlerts = sqliteTable(
	'budget_alerts',
	{
		budgetId: integer('budget_id').notNull(),
		/** The window's first instant, as in `budget_usage`. */
		windowStart: integer('window_start', { mode: 'timestamp_ms' }).notNull(),
		threshold: integer('threshold').$type<BudgetAlertThreshold>().notNull(),
		createdAt: createdAt(),
		/** When delivery succeeded; null while it has not. */
		notifiedAt: integer('notified_at', { mode: 'timestamp_ms' }),
		attempts: integer('attempts').notNull().default(0),
		lastError: text('last_error'),
		/**
		 * When the next attempt may be claimed, set by each claim from the moment it was made: an attempt
		 * in flight holds off the next one on every instance. Null until the first claim.
		 */
		nextAttemptAt: integer('next_attempt_at', { mode: 'timestamp_ms' }),
	},
	(table) => [primaryKey({ columns: [table.budgetId, table.windowStart, table.threshold] })],
)

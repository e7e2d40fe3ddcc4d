import { dirname, resolve } from 'node:path'
import { FormatRegistry, type TSchema, Type } from '@sinclair/typebox'
import { Value } from '@sinclair/typebox/value'

FormatRegistry.Set('http-url', (value) => /^https?:\/\//i.test(value) && URL.canParse(value))
FormatRegistry.Set('email', (value) => /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(value))
FormatRegistry.Set('base64-32', (value) => {
	if (!/^[A-Za-z0-9+/]+={0,2}$/.test(value)) return false
	return Buffer.from(value, 'base64').length === 32
})
FormatRegistry.Set('webhook-secret', (value) => {
	// Standard Webhooks' secret: whsec_ and the base64 of 24 to 64 random bytes.
	const match = /^whsec_([A-Za-z0-9+/]+={0,2})$/.exec(value)
	if (!match?.[1]) return false
	const bytes = Buffer.from(match[1], 'base64').length
	return bytes >= 24 && bytes <= 64
})

const integer = (description: string, minimum: number, maximum: number) =>
	Type.String({ pattern: '^[0-9]+$', description, minimum, maximum })

/** Every environment variable Switchyard reads, as the strings the environment holds. */
const EnvSchema = Type.Object({
	PORT: Type.Optional(integer('must be a port number between 0 and 65535 (0: any free port)', 0, 65535)),
	HOST: Type.Optional(Type.String({ minLength: 1, description: 'must be a host name or address' })),
	DATABASE_PATH: Type.Optional(Type.String({ minLength: 1, description: 'must be a file path' })),
	DATABASE_URL: Type.Optional(
		Type.String({
			pattern: '^postgres(ql)?://',
			description: 'must be a PostgreSQL URL, postgres://user:password@host:5432/database',
		}),
	),
	RULES_PATH: Type.Optional(Type.String({ minLength: 1, description: 'must be a file path' })),
	JWT_SECRET: Type.Optional(Type.String({ minLength: 32, description: 'must be at least 32 characters' })),
	ENCRYPTION_KEY: Type.Optional(
		Type.String({
			format: 'base64-32',
			description: 'must be 32 bytes encoded as base64 (openssl rand -base64 32)',
		}),
	),
	ADMIN_EMAIL: Type.Optional(Type.String({ format: 'email', description: 'must be an email address' })),
	ADMIN_PASSWORD: Type.Optional(Type.String({ minLength: 8, description: 'must be at least 8 characters' })),
	OPENAI_API_KEY: Type.Optional(Type.String({ minLength: 1, description: 'must not be empty' })),
	ANTHROPIC_API_KEY: Type.Optional(Type.String({ minLength: 1, description: 'must not be empty' })),
	OPENAI_BASE_URL: Type.Optional(Type.String({ format: 'http-url', description: 'must be an http(s) URL' })),
	ANTHROPIC_BASE_URL: Type.Optional(
		Type.String({ format: 'http-url', description: 'must be an http(s) URL' }),
	),
	UPSTREAM_TIMEOUT_MS: Type.Optional(integer('must be a number of milliseconds (1 to 600000)', 1, 600_000)),
	UPSTREAM_TOTAL_TIMEOUT_MS: Type.Optional(
		integer('must be a number of milliseconds (1 to 86400000)', 1, 86_400_000),
	),
	UPSTREAM_MAX_ANSWER_BYTES: Type.Optional(
		integer('must be a number of bytes (1024 to 1073741824)', 1024, 1_073_741_824),
	),
	TRUST_PROXY: Type.Optional(
		Type.String({ pattern: '^(true|false|1|0)$', description: 'must be true or false' }),
	),
	CATALOG_PATH: Type.Optional(Type.String({ minLength: 1, description: 'must be a file path' })),
	LOG_RETENTION_DAYS: Type.Optional(integer('must be a number of days (1 to 3650)', 1, 3650)),
	SESSION_IDLE_MINUTES: Type.Optional(integer('must be a number of minutes (0 to 10080)', 0, 10_080)),
	RESPONSE_CACHE_SHARED: Type.Optional(
		Type.String({ pattern: '^(true|false|1|0)$', description: 'must be true or false' }),
	),
	BUDGET_RESERVE_MAX_OUTPUT_TOKENS: Type.Optional(
		integer('must be a number of tokens (1 to 10000000)', 1, 10_000_000),
	),
	BUDGET_WEBHOOK_URL: Type.Optional(
		Type.String({ format: 'http-url', description: 'must be an http(s) URL' }),
	),
	BUDGET_WEBHOOK_SECRET: Type.Optional(
		Type.String({
			format: 'webhook-secret',
			description:
				'must be whsec_ and the base64 of 24 to 64 random bytes (echo whsec_$(openssl rand -base64 32))',
		}),
	),
	LOG_PROMPT_TEXT: Type.Optional(
		Type.String({ pattern: '^(true|false|1|0)$', description: 'must be true or false' }),
	),
	LOG_TEXT_DIGEST: Type.Optional(
		Type.String({ pattern: '^(true|false|1|0)$', description: 'must be true or false' }),
	),
	RUNTIME_TUNING: Type.Optional(Type.String({ pattern: '^(on|off)$', description: 'must be on or off' })),
	SIGNUP: Type.Optional(
		Type.String({ pattern: '^(open|invite|closed)$', description: 'must be open, invite or closed' }),
	),
	METRICS_TOKEN: Type.Optional(
		Type.String({ minLength: 16, description: 'must be at least 16 characters (openssl rand -hex 32)' }),
	),
	OTEL_EXPORTER_OTLP_ENDPOINT: Type.Optional(
		Type.String({ format: 'http-url', description: 'must be an http(s) URL' }),
	),
	OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: Type.Optional(
		Type.String({ format: 'http-url', description: 'must be an http(s) URL' }),
	),
	OTEL_EXPORTER_OTLP_HEADERS: Type.Optional(Type.String()),
	OTEL_EXPORTER_OTLP_TRACES_HEADERS: Type.Optional(Type.String()),
	OTEL_EXPORTER_OTLP_TIMEOUT: Type.Optional(
		integer('must be a number of milliseconds (1 to 600000)', 1, 600_000),
	),
	OTEL_EXPORTER_OTLP_TRACES_TIMEOUT: Type.Optional(
		integer('must be a number of milliseconds (1 to 600000)', 1, 600_000),
	),
	OTEL_SERVICE_NAME: Type.Optional(Type.String({ minLength: 1, description: 'must not be empty' })),
	OTEL_RESOURCE_ATTRIBUTES: Type.Optional(Type.String()),
	OTEL_SDK_DISABLED: Type.Optional(Type.String()),
	OTEL_TRACES_SAMPLER: Type.Optional(
		Type.String({
			pattern: '^(parentbased_)?(always_on|always_off|traceidratio)$',
			description:
				'must be always_on, always_off, traceidratio, parentbased_always_on, parentbased_always_off or parentbased_traceidratio',
		}),
	),
	OTEL_TRACES_SAMPLER_ARG: Type.Optional(
		Type.String({ pattern: '^(0|1|0?\\.[0-9]+|1\\.0*)$', description: 'must be a ratio from 0 to 1' }),
	),
	NODE_ENV: Type.Optional(Type.String()),
})

/** Variables whose value is never repeated in an error message: they hold secrets. */
const SECRET_VARIABLES = new Set([
	'METRICS_TOKEN',
	// A webhook URL often carries its token (user info, query string, or a path like Slack's).
	'BUDGET_WEBHOOK_URL',
	'BUDGET_WEBHOOK_SECRET',
	'OTEL_EXPORTER_OTLP_HEADERS',
	'OTEL_EXPORTER_OTLP_TRACES_HEADERS',
])

type Env = typeof EnvSchema.static

export type SignupPolicy = 'open' | 'invite' | 'closed'

/** Where and how OpenTelemetry traces are sent (OTLP over HTTP), from the SDK's standard variables. */
export interface TracingConfig {
	/**
	 * OTEL_EXPORTER_OTLP_TRACES_ENDPOINT as it is, or OTEL_EXPORTER_OTLP_ENDPOINT with `v1/traces`
	 * appended, as the OpenTelemetry SDKs do.
	 */
	readonly url: string
	/** OTEL_EXPORTER_OTLP_HEADERS, with OTEL_EXPORTER_OTLP_TRACES_HEADERS over it. */
	readonly headers: Readonly<Record<string, string>>
	/** OTEL_SERVICE_NAME, else `service.name` of OTEL_RESOURCE_ATTRIBUTES. @default 'switchyard' */
	readonly serviceName: string
	/** OTEL_RESOURCE_ATTRIBUTES. */
	readonly resourceAttributes: Readonly<Record<string, string>>
	/**
	 * OTEL_EXPORTER_OTLP_TRACES_TIMEOUT, else OTEL_EXPORTER_OTLP_TIMEOUT: how long one export may take,
	 * retries included. @default 10000 ms, the SDK's
	 */
	readonly timeoutMs: number
	/**
	 * OTEL_TRACES_SAMPLER and OTEL_TRACES_SAMPLER_ARG: which requests are traced. `parentBased`: a request
	 * whose caller sent a `traceparent` follows the caller's decision. @default parentbased_always_on
	 */
	readonly sampler: {
		readonly root: 'always_on' | 'always_off' | 'traceidratio'
		readonly parentBased: boolean
		/** For traceidratio: the share of requests traced. @default 1 */
		readonly ratio: number
	}
}

export interface Config {
	readonly port: number
	readonly host: string
	readonly databasePath: string
	/**
	 * DATABASE_URL: PostgreSQL for several instances, in place of the SQLite file at `databasePath`
	 * (which then holds nothing; the data folder still keeps development secrets).
	 */
	readonly databaseUrl: string | undefined
	/** The folder of `databasePath`; development secrets are kept here. */
	readonly dataDir: string
	readonly rulesPath: string
	/** Unset in development: `resolveSecrets` then generates one and keeps it in `dataDir`. */
	readonly jwtSecret: string | undefined
	/** Base64 of 32 bytes; same policy as `jwtSecret`. */
	readonly encryptionKey: string | undefined
	readonly admin: { email: string; password: string } | undefined
	/** Organisation-wide provider keys from the environment, by environment variable name. */
	readonly envKeys: Readonly<Record<string, string>>
	readonly openaiBaseUrl: string
	readonly anthropicBaseUrl: string
	/** Time to the first byte (the answer's headers) of an upstream attempt. */
	readonly upstreamTimeoutMs: number
	/** Time to the end of an upstream answer, stream included. */
	readonly upstreamTotalTimeoutMs: number
	/** The most an upstream answer (or one streamed event) may weigh before the attempt fails. */
	readonly upstreamMaxAnswerBytes: number
	/** Take the client address and scheme from `X-Forwarded-For` / `X-Forwarded-Proto` (behind a proxy). */
	readonly trustProxy: boolean
	readonly catalogPath: string | undefined
	readonly logRetentionDays: number
	/**
	 * SESSION_IDLE_MINUTES: how long a conversation stays pinned to the model that served it after its last
	 * turn; 0 turns session pins off.
	 */
	readonly sessionIdleMs: number
	/**
	 * BUDGET_RESERVE_MAX_OUTPUT_TOKENS: the output a request without `max_tokens` reserves against its budgets
	 * at most; null (the default) reserves the model's maximum output, so concurrent requests can never
	 * together exceed a budget.
	 */
	readonly budgetReserveMaxOutputTokens: number | null
	/**
	 * RESPONSE_CACHE_SHARED: cached answers serve identical requests of every user (the organisation's
	 * prompts are not secret from each other); by default each user's answers serve only that user.
	 */
	readonly responseCacheShared: boolean
	/**
	 * BUDGET_WEBHOOK_URL and BUDGET_WEBHOOK_SECRET: where each budget alert (80 % and 100 % of a limit) is
	 * POSTed as JSON, and the key its `webhook-signature` is made with (none: unsigned). Undefined: alerts
	 * are only shown in the dashboard.
	 */
	readonly budgetWebhook: { readonly url: string; readonly secret: string | undefined } | undefined
	readonly logPromptText: boolean
	/**
	 * LOG_TEXT_DIGEST: keep a keyed digest of each `auto` request's words and of its live patterns'
	 * outcomes, so simulation replays keyword and pattern rules without readable text. @default true
	 */
	readonly logTextDigest: boolean
	/**
	 * RUNTIME_TUNING: thread priorities, SQLite checkpointing and page cache, JavaScriptCore options
	 * (`src/runtime/tuning.ts`); off runs the server on Bun's, SQLite's and Linux's plain defaults.
	 * @default true
	 */
	readonly runtimeTuning: boolean
	/** Who may create an account: anyone, holders of an admin's invite link, or nobody. @default 'open' */
	readonly signup: SignupPolicy
	/**
	 * METRICS_TOKEN: `GET /metrics` then needs `Authorization: Bearer <it>`; without it, only clients on
	 * this machine's loopback, reaching the server directly, may read the metrics.
	 */
	readonly metricsToken: string | undefined
	/** Set when an OTLP endpoint is (and OTEL_SDK_DISABLED is not true); unset, no tracing code is loaded. */
	readonly tracing: TracingConfig | undefined
	readonly production: boolean
}

export class ConfigError extends Error {
	constructor(readonly problems: string[]) {
		super(problems.join('\n'))
		this.name = 'ConfigError'
	}
}

function describeProblem(env: Record<string, string | undefined>, path: string): string {
	const name = path.slice(1)
	const schema = (EnvSchema.properties as Record<string, TSchema>)[name]
	const rule = schema?.description ?? 'is invalid'
	if (SECRET_VARIABLES.has(name)) return `${name} ${rule}`
	return `${name} ${rule} (got ${JSON.stringify(env[name])})`
}

/**
 * `key1=value1,key2=value2` with percent-encoded values: the format of OTEL_EXPORTER_OTLP_HEADERS and
 * OTEL_RESOURCE_ATTRIBUTES (the W3C Baggage list). Returns null when an entry is not a pair.
 */
export function parseKeyValueList(text: string | undefined): Record<string, string> | null {
	const pairs: Record<string, string> = {}
	for (const entry of (text ?? '').split(',')) {
		if (entry.trim() === '') continue
		const separator = entry.indexOf('=')
		if (separator <= 0) return null
		const key = entry.slice(0, separator).trim()
		const value = entry.slice(separator + 1).trim()
		if (!key || !value) return null
		try {
			pairs[decodeURIComponent(key)] = decodeURIComponent(value)
		} catch {
			return null
		}
	}
	return pairs
}

const KEY_VALUE_RULE = 'must be a comma-separated list of key=value pairs, values percent-encoded'

/** The trace export settings, or why they are wrong; undefined when tracing is off. */
function tracingConfig(env: Env, problems: string[]): TracingConfig | undefined {
	const lists: Record<string, Record<string, string>> = {}
	for (const name of [
		'OTEL_EXPORTER_OTLP_HEADERS',
		'OTEL_EXPORTER_OTLP_TRACES_HEADERS',
		'OTEL_RESOURCE_ATTRIBUTES',
	] as const) {
		const parsed = parseKeyValueList(env[name])
		if (parsed) lists[name] = parsed
		else problems.push(`${name} ${KEY_VALUE_RULE}`)
	}
	const disabled = env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true'
	const sampler = env.OTEL_TRACES_SAMPLER ?? ''
	const base = env.OTEL_EXPORTER_OTLP_ENDPOINT
	const url =
		env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? (base && `${base.endsWith('/') ? base : `${base}/`}v1/traces`)
	if (!url || disabled) return undefined
	const resourceAttributes = lists.OTEL_RESOURCE_ATTRIBUTES ?? {}
	return {
		url,
		headers: { ...lists.OTEL_EXPORTER_OTLP_HEADERS, ...lists.OTEL_EXPORTER_OTLP_TRACES_HEADERS },
		serviceName: env.OTEL_SERVICE_NAME ?? resourceAttributes['service.name'] ?? 'switchyard',
		resourceAttributes,
		timeoutMs: Number(env.OTEL_EXPORTER_OTLP_TRACES_TIMEOUT ?? env.OTEL_EXPORTER_OTLP_TIMEOUT ?? 10_000),
		sampler: {
			root: (sampler.replace('parentbased_', '') || 'always_on') as TracingConfig['sampler']['root'],
			parentBased: sampler === '' || sampler.startsWith('parentbased_'),
			ratio: Number(env.OTEL_TRACES_SAMPLER_ARG ?? 1),
		},
	}
}

function validateRanges(env: Env): string[] {
	const problems: string[] = []
	for (const [name, schema] of Object.entries(EnvSchema.properties) as [keyof Env, TSchema][]) {
		const raw = env[name]
		if (raw === undefined || schema.minimum === undefined) continue
		const value = Number(raw)
		if (value < schema.minimum || value > schema.maximum) {
			problems.push(`${name} ${schema.description} (got ${JSON.stringify(raw)})`)
		}
	}
	return problems
}

/** Environment variables set to the empty string count as unset, as `docker compose` env files produce them. */
function presentOnly(env: Record<string, string | undefined>): Record<string, string> {
	const present: Record<string, string> = {}
	for (const name of Object.keys(EnvSchema.properties)) {
		const value = env[name]
		if (value !== undefined && value !== '') present[name] = value
	}
	return present
}

/** Reads and validates the environment once; throws `ConfigError` listing one line per bad variable. */
export function loadConfig(rawEnv: Record<string, string | undefined>): Config {
	const env = presentOnly(rawEnv)
	const problems = [...new Set([...Value.Errors(EnvSchema, env)].map((e) => describeProblem(env, e.path)))]
	if (problems.length === 0) problems.push(...validateRanges(env as Env))
	const valid = env as Env
	const production = valid.NODE_ENV === 'production'
	if (production) {
		if (!valid.JWT_SECRET) problems.push('JWT_SECRET is required when NODE_ENV=production')
		if (!valid.ENCRYPTION_KEY) problems.push('ENCRYPTION_KEY is required when NODE_ENV=production')
	}
	if (Boolean(valid.ADMIN_EMAIL) !== Boolean(valid.ADMIN_PASSWORD)) {
		problems.push(
			valid.ADMIN_EMAIL
				? 'ADMIN_PASSWORD must be set together with ADMIN_EMAIL'
				: 'ADMIN_EMAIL must be set together with ADMIN_PASSWORD',
		)
	}
	if (valid.BUDGET_WEBHOOK_SECRET && !valid.BUDGET_WEBHOOK_URL)
		problems.push('BUDGET_WEBHOOK_SECRET is set but BUDGET_WEBHOOK_URL is not')
	const tracing = tracingConfig(valid, problems)
	if (problems.length > 0) throw new ConfigError(problems)

	const databasePath = resolve(valid.DATABASE_PATH ?? './data/switchyard.db')
	const envKeys: Record<string, string> = {}
	for (const [name, value] of Object.entries(rawEnv)) {
		if (name.endsWith('_API_KEY') && value) envKeys[name] = value
	}
	return Object.freeze({
		port: Number(valid.PORT ?? 3000),
		host: valid.HOST ?? '0.0.0.0',
		databasePath,
		databaseUrl: valid.DATABASE_URL,
		dataDir: dirname(databasePath),
		rulesPath: resolve(valid.RULES_PATH ?? './data/rules.json'),
		jwtSecret: valid.JWT_SECRET,
		encryptionKey: valid.ENCRYPTION_KEY,
		admin:
			valid.ADMIN_EMAIL && valid.ADMIN_PASSWORD
				? { email: valid.ADMIN_EMAIL.toLowerCase(), password: valid.ADMIN_PASSWORD }
				: undefined,
		envKeys: Object.freeze(envKeys),
		openaiBaseUrl: (valid.OPENAI_BASE_URL ?? 'https://api.openai.com/v1').replace(/\/+$/, ''),
		anthropicBaseUrl: (valid.ANTHROPIC_BASE_URL ?? 'https://api.anthropic.com').replace(/\/+$/, ''),
		upstreamTimeoutMs: Number(valid.UPSTREAM_TIMEOUT_MS ?? 60_000),
		upstreamTotalTimeoutMs: Number(valid.UPSTREAM_TOTAL_TIMEOUT_MS ?? 600_000),
		upstreamMaxAnswerBytes: Number(valid.UPSTREAM_MAX_ANSWER_BYTES ?? 32 * 1024 * 1024),
		trustProxy: valid.TRUST_PROXY === 'true' || valid.TRUST_PROXY === '1',
		catalogPath: valid.CATALOG_PATH ? resolve(valid.CATALOG_PATH) : undefined,
		logRetentionDays: Number(valid.LOG_RETENTION_DAYS ?? 90),
		sessionIdleMs: Number(valid.SESSION_IDLE_MINUTES ?? 60) * 60_000,
		responseCacheShared: valid.RESPONSE_CACHE_SHARED === 'true' || valid.RESPONSE_CACHE_SHARED === '1',
		budgetReserveMaxOutputTokens:
			valid.BUDGET_RESERVE_MAX_OUTPUT_TOKENS === undefined
				? null
				: Number(valid.BUDGET_RESERVE_MAX_OUTPUT_TOKENS),
		budgetWebhook: valid.BUDGET_WEBHOOK_URL
			? Object.freeze({ url: valid.BUDGET_WEBHOOK_URL, secret: valid.BUDGET_WEBHOOK_SECRET })
			: undefined,
		logPromptText: valid.LOG_PROMPT_TEXT === 'true' || valid.LOG_PROMPT_TEXT === '1',
		logTextDigest: valid.LOG_TEXT_DIGEST !== 'false' && valid.LOG_TEXT_DIGEST !== '0',
		runtimeTuning: valid.RUNTIME_TUNING !== 'off',
		signup: (valid.SIGNUP ?? 'open') as SignupPolicy,
		metricsToken: valid.METRICS_TOKEN,
		tracing,
		production,
	})
}

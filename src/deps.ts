import type { Database } from 'bun:sqlite'
import { type DataStore, openPostgres, openSqlite, type PostgresOptions } from '../db/client'
import { LoggedRequests } from './analytics/logged-requests'
import { UsageReports } from './analytics/usage-reports'
import { Accounts, argon2idHasher } from './auth/accounts'
import { Invites } from './auth/invites'
import { LoginThrottle } from './auth/login-throttle'
import { SessionStore } from './auth/sessions'
import { BudgetAlerts } from './budgets/alerts'
import { BudgetLedger } from './budgets/ledger'
import type { Config } from './config'
import { Deadlines } from './gateway/deadlines'
import type { KeyLimits } from './gateway/key-limits'
import { ResponseCache } from './gateway/response-cache'
import { SessionPins } from './gateway/session-pins'
import { OpeningPins } from './gateway/sessions'
import { createKeyLimits } from './gateway/shared-key-limits'
import { StoredResponses } from './gateway/stored-responses'
import { GatewayKeyStore } from './keys/gateway-keys'
import { ProviderKeyVault } from './keys/provider-keys'
import { TextDigester } from './lib/text-digest'
import { GatewayMetrics } from './observability/gateway-metrics'
import { type GatewayTracer, startTracing } from './observability/tracing'
import { type Catalog, type Clock, loadCatalog } from './providers/catalog'
import {
	createNativeApis,
	createProviderAdapters,
	type NativeApis,
	type ProviderAdapters,
} from './providers/index'
import { PostgresRequestLog } from './request-log/postgres-log'
import { RequestLog, type RequestLogWriter } from './request-log/request-log'
import { LogRetention } from './request-log/retention'
import { RulesStore } from './rules/store'
import { RulesWorkbench } from './rules/workbench'
import { InstanceRegistry } from './runtime/instances'
import { RunMarker } from './runtime/run-marker'
import { runtimeTuning, tuneServingConnection } from './runtime/tuning'
import { resolveSecrets, type Secrets } from './secrets'

/** Everything the plugins need, built once in `src/index.ts` (or by a test) and passed in. */
export interface AppDeps {
	readonly config: Config
	readonly secrets: Secrets
	/** The database: services moved to it serve SQLite and PostgreSQL alike (docs/architecture.md). */
	readonly store: DataStore
	/** The SQLite connection (its runtime tuning, tests of it); null on PostgreSQL. */
	readonly sqlite: Database | null
	readonly catalog: Catalog
	readonly accounts: Accounts
	readonly invites: Invites
	readonly sessions: SessionStore
	readonly gatewayKeys: GatewayKeyStore
	readonly providerKeys: ProviderKeyVault
	readonly adapters: ProviderAdapters
	readonly natives: NativeApis
	readonly budgets: BudgetLedger
	readonly budgetAlerts: BudgetAlerts
	readonly responseCache: ResponseCache
	readonly requestLog: RequestLogWriter
	/** Per-key request limits: in memory on SQLite (one process), in the database on PostgreSQL. */
	readonly keyLimits: KeyLimits
	readonly deadlines: Deadlines
	/** The model each conversation stays on, shared by every instance on the database. */
	readonly sessionPins: SessionPins
	readonly openingPins: OpeningPins
	/** Responses API turns kept for `previous_response_id`. */
	readonly storedResponses: StoredResponses
	readonly rules: RulesStore
	readonly workbench: RulesWorkbench
	readonly analytics: UsageReports
	readonly loggedRequests: LoggedRequests
	readonly retention: LogRetention
	/** Says this run is running; found at the next start, it means this run did not stop cleanly. */
	readonly runMarker: RunMarker
	/** The servers on this database and the rules revision each runs. */
	readonly instances: InstanceRegistry
	/** What `GET /metrics` serves. */
	readonly metrics: GatewayMetrics
	/** OpenTelemetry traces, or null when no OTLP endpoint is configured (no SDK is loaded then). */
	readonly tracer: GatewayTracer | null
}

export interface DepsOptions {
	/** argon2id cost; tests lower it, production keeps Bun's defaults. */
	passwordCost?: { memoryCost?: number; timeCost?: number }
	/** The day against which models' retirement dates are read; tests pin it. @default the real date */
	clock?: Clock
	/** With DATABASE_URL: the PostgreSQL schema and pool size (tests give each app its own, small). */
	postgres?: PostgresOptions
}

/** Opens the database (applying migrations), loads the catalog and secrets, and creates the admin if configured. */
export async function createDeps(config: Config, options: DepsOptions = {}): Promise<AppDeps> {
	const catalog = loadCatalog(config, options.clock)
	const secrets = await resolveSecrets(config)
	const store = config.databaseUrl
		? await openPostgres(config.databaseUrl, options.postgres)
		: openSqlite(config.databasePath)
	const { sqlite } = store
	const invites = new Invites(store)
	const accounts = new Accounts(
		store,
		argon2idHasher(options.passwordCost),
		new LoginThrottle(),
		Boolean(config.admin),
		invites,
		config.signup,
	)
	if (config.admin) await accounts.ensureAdmin(config.admin)
	const rules = await RulesStore.open(store, catalog, config.rulesPath)
	const tuning = runtimeTuning(config)
	const textDigestKey = config.logTextDigest ? secrets.textDigestKey : undefined
	const sqliteLog = sqlite
		? new RequestLog(sqlite, config.databasePath, { writerTuning: tuning.logWriter, textDigestKey })
		: undefined
	const requestLog: RequestLogWriter = sqliteLog ?? new PostgresRequestLog(store, { textDigestKey })
	if (sqlite) tuneServingConnection(sqlite, tuning)
	const providerKeys = await ProviderKeyVault.open(store, secrets.encryptionKey, catalog, config.envKeys)
	const answerLimits = { maxAnswerBytes: config.upstreamMaxAnswerBytes }
	const adapters = createProviderAdapters(answerLimits)
	// On SQLite a settled cost is written with its request's log row, by the log's writer thread.
	const budgets = await BudgetLedger.open(store, { spendLog: sqliteLog })
	budgets.startSweeping()
	const budgetAlerts = new BudgetAlerts(store, budgets, { webhook: config.budgetWebhook })
	budgetAlerts.start()
	const metrics = new GatewayMetrics({
		catalog,
		requestLog,
		rulesRevision: () => rules.current().revision,
		budgets: async () => budgets.statuses(await budgets.list()),
	})
	const tracer = await startTracing(config.tracing, catalog)
	const instances = new InstanceRegistry(store, () => rules.current().revision, requestLog)
	await instances.start()
	rules.onChange(() => {
		instances.stamp().catch((error) => console.error('instances: could not record the rules revision', error))
	})
	const sessionPins = new SessionPins(store)
	const storedResponses = new StoredResponses(store)
	// Last, so a start that fails before serving anything leaves the previous run's marker as it was.
	const runMarker = RunMarker.open(config.dataDir)
	return {
		config,
		secrets,
		store,
		sqlite,
		catalog,
		accounts,
		invites,
		sessions: new SessionStore(store),
		gatewayKeys: await GatewayKeyStore.open(store),
		providerKeys,
		adapters,
		natives: createNativeApis(answerLimits),
		budgets,
		budgetAlerts,
		responseCache: new ResponseCache(),
		requestLog,
		// A slot outlives no request: two total deadlines and a margin, then a crashed instance's slot is free.
		keyLimits: createKeyLimits(store, { leaseMs: 2 * config.upstreamTotalTimeoutMs + 60_000 }),
		deadlines: new Deadlines(),
		sessionPins,
		openingPins: new OpeningPins(),
		storedResponses,
		rules,
		workbench: new RulesWorkbench({
			rules,
			catalog,
			providerKeys,
			adapters,
			requestLog,
			store,
			textDigester: new TextDigester(secrets.textDigestKey),
		}),
		analytics: new UsageReports(store, catalog),
		loggedRequests: new LoggedRequests(store),
		retention: new LogRetention(store, config.logRetentionDays, [
			{ name: 'expired session pins', prune: (now) => sessionPins.prune(now) },
			{ name: 'stored responses', prune: (_, cutoff) => storedResponses.prune(cutoff) },
		]),
		runMarker,
		instances,
		metrics,
		tracer,
	}
}

/** Writes everything still in memory (request log rows, key last-use times) and closes the database. */
export async function closeDeps(deps: AppDeps) {
	await deps.rules.close()
	deps.retention.stop()
	await deps.budgetAlerts.stop()
	await deps.budgets.close()
	// Both bounded: the log's last rows, and the last spans (a collector that is down gets 5 s).
	await Promise.all([deps.requestLog.close(), deps.tracer?.shutdown()])
	await deps.gatewayKeys.flushLastUsed(true)
	await Promise.all([deps.gatewayKeys.close(), deps.providerKeys.close(), deps.instances.stop()])
	await deps.store.close()
	// Only now is every answered request in the log.
	deps.runMarker.close()
}

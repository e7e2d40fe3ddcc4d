import { ConfigError, loadConfig } from './config'
import { ensureJscSettings, runtimeTuning, tuneThreads } from './runtime/tuning'

/** In-flight requests get this long to finish after SIGTERM; docker compose waits 30 s before SIGKILL. */
const DRAIN_TIMEOUT_MS = 25_000
/** What the start says about sign-up, so that an open dashboard is a choice and not a surprise. */
const SIGNUP_AT_START = {
	open: 'Sign-up: open (SIGNUP=open): anyone who reaches the dashboard can create an account',
	invite: 'Sign-up: by invitation (SIGNUP=invite): only with an invite link an admin made',
	closed: 'Sign-up: closed (SIGNUP=closed): only the first account, the admin, can sign up',
} as const

/** How often coalesced key last-use times are written. */
const LAST_USED_FLUSH_MS = 30_000

/**
 * Boots: environment → JavaScriptCore settings → dependencies (database, migrations, secrets, catalog,
 * rules) → thread policies → app → listen. Runtime tuning: `src/runtime/tuning.ts`.
 */
async function main() {
	const config = loadConfig(process.env)
	const tuning = runtimeTuning(config)
	// It may start this program again with JavaScriptCore's settings, which only a new process reads; the
	// server's modules are loaded after it, so that such a restart does not load them twice.
	ensureJscSettings(tuning)
	const [{ createApp }, { closeDeps, createDeps }, { describeUncleanStop }] = await Promise.all([
		import('./app'),
		import('./deps'),
		import('./runtime/run-marker'),
	])
	const deps = await createDeps(config)
	const { uncleanStop } = deps.runMarker
	if (uncleanStop) console.error(describeUncleanStop(uncleanStop))
	await tuneThreads(tuning)
	// Before listening: registered after, a SIGTERM just after the "listening" line killed the server outright
	// (exit 143, no log written) in about half of the tries on Bun 1.4.5.
	process.on('SIGTERM', () => void shutdown('SIGTERM'))
	process.on('SIGINT', () => void shutdown('SIGINT'))
	// Above every route's own limit (4 MiB for /v1): a safety net that refuses absurd bodies before any route.
	const app = createApp(deps).listen({
		port: config.port,
		hostname: config.host,
		maxRequestBodySize: 8 * 1024 * 1024,
	})
	deps.rules.watch()
	deps.retention.start()
	const lastUsedTimer = setInterval(() => {
		deps.gatewayKeys.flushLastUsed().catch((error) => console.error('could not write keys’ last use', error))
	}, LAST_USED_FLUSH_MS)
	const shown = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host
	console.log(`Switchyard is listening: dashboard at http://${shown}:${app.server?.port ?? config.port}`)
	console.log(SIGNUP_AT_START[config.signup])
	console.log(
		config.metricsToken
			? 'Metrics: GET /metrics, with METRICS_TOKEN as a bearer token'
			: 'Metrics: GET /metrics answers only this machine (loopback); set METRICS_TOKEN to scrape it from elsewhere',
	)
	if (config.tracing) console.log(`Traces: OpenTelemetry spans sent over OTLP/HTTP to ${config.tracing.url}`)

	let stopping = false
	async function shutdown(signal: string) {
		if (stopping) return
		stopping = true
		console.log(`${signal}: no new requests; finishing those in flight, then writing the log`)
		clearInterval(lastUsedTimer)
		const server = app.server
		if (server) {
			const drained = server.stop(false).then(() => true)
			const timedOut = new Promise<false>((resolve) => setTimeout(resolve, DRAIN_TIMEOUT_MS, false).unref())
			if (!(await Promise.race([drained, timedOut]))) await server.stop(true)
		}
		const pending = deps.requestLog.pending
		await closeDeps(deps)
		console.log(`Stopped; wrote the last ${pending} request log rows`)
		process.exit(0)
	}
}

/** Says why the start failed, as one line per problem when it is the configuration's. */
async function reportStartFailure(error: unknown) {
	const configurationError = (message: string) => {
		for (const problem of message.split('\n')) console.error(`Configuration error: ${problem}`)
	}
	if (error instanceof ConfigError) return configurationError(error.message)
	// Loaded by then, unless the start failed before the server's modules were.
	const [{ CatalogError }, { describeError, RulesValidationError }] = await Promise.all([
		import('./providers/catalog'),
		import('./rules/store'),
	])
	if (error instanceof CatalogError) {
		configurationError(error.message)
	} else if (error instanceof RulesValidationError) {
		console.error(`Configuration error: the rules file is invalid (RULES_PATH):`)
		for (const problem of error.errors) console.error(`  ${describeError(problem)}`)
	} else {
		console.error('Switchyard could not start:', error)
	}
}

main().catch(async (error: unknown) => {
	await reportStartFailure(error).catch(() => console.error('Switchyard could not start:', error))
	process.exit(1)
})

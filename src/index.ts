import { createApp } from './app'
import { ConfigError, loadConfig } from './config'
import { createDeps } from './deps'
import { CatalogError } from './providers/catalog'

/** Boots: environment → dependencies (database, migrations, secrets, catalog) → app → listen. */
async function main() {
	const config = loadConfig(process.env)
	const deps = await createDeps(config)
	const app = createApp(deps).listen({ port: config.port, hostname: config.host })
	const shown = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host
	console.log(`Switchyard is listening: dashboard at http://${shown}:${config.port}`)

	let stopping = false
	async function shutdown(signal: string) {
		if (stopping) return
		stopping = true
		console.log(`${signal} received: finishing requests in flight, then stopping`)
		await app.server?.stop(false)
		deps.gatewayKeys.flushLastUsed(true)
		deps.sqlite.close()
		process.exit(0)
	}
	process.on('SIGTERM', () => void shutdown('SIGTERM'))
	process.on('SIGINT', () => void shutdown('SIGINT'))
}

main().catch((error: unknown) => {
	if (error instanceof ConfigError || error instanceof CatalogError) {
		for (const problem of error.message.split('\n')) console.error(`Configuration error: ${problem}`)
	} else {
		console.error('Switchyard could not start:', error)
	}
	process.exit(1)
})

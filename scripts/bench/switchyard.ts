/**
 * Switchyard as a user runs it, for the benchmark: the bundle that `bun start` and the Docker image build
 * (`scripts/build.ts`, which `bun run build` runs) and run, in production mode with a fresh data folder,
 * so the SQLite file is created and migrated and the shipped default rules are copied; request logging
 * on, LOG_RETENTION_DAYS at its default. An admin from ADMIN_EMAIL logs in through the JSON API and
 * creates the gateway key the load uses. After SIGTERM (which writes the buffered log), the `request_log`
 * rows are counted in the database file. With `databaseUrl`, the instance runs on PostgreSQL instead
 * (DATABASE_URL; the rules file then seeds the empty database), and the caller counts the rows once every
 * instance on that database has stopped.
 */
import { Database } from 'bun:sqlite'
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { buildServer } from '../build'
import { baseEnv, type Child, collect, exitWithin, spawnPinned, waitForLine } from './processes'

const ADMIN = { email: 'bench@example.com', password: 'benchmark password' }
/** SIGTERM drains requests for up to 25 s (src/index.ts); past this the process is killed. */
const STOP_TIMEOUT_MS = 40_000

export interface Switchyard {
	child: Child
	origin: string
	/** The gateway key (`sy_…`). */
	key: string
	databasePath: string
	dataDir: string
	/** PostgreSQL's URL when the instance runs on it; undefined on SQLite. */
	databaseUrl: string | undefined
	/** The server's stdout and stderr, kept (the last 200 chunks) to show what it said about its log writes. */
	output: string[]
}

export interface Stopped {
	exitCode: number | null
	stopMs: number
	/** Lines of the server's stderr about errors, failed or dropped log writes: empty when all went well. */
	complaints: string[]
}

export interface SwitchyardLog extends Stopped {
	rows: number
	rowsByStatus: Record<string, number>
	/** The SQLite file and its WAL after the stop. */
	databaseBytes: number
}

export interface StartOptions {
	root: string
	cpu: number
	upstreamUrl: string
	/** Extra flags for `bun` before the script, e.g. `--cpu-prof`. @default [] */
	bunFlags?: string[]
	/** Run on PostgreSQL (DATABASE_URL) instead of a SQLite file. */
	databaseUrl?: string
	/** Skip creating a gateway key (a second instance on the same database uses the first one's). */
	noKey?: boolean
	/** Give the key a budget and every key limit, far above the load (`--spend-control`). */
	spendControl?: boolean
}

let built: Promise<string> | undefined
/** Builds the bundle once per benchmark, so instances started together never race on dist/. */
function bundle(): Promise<string> {
	built ??= buildServer()
	return built
}

export async function startSwitchyard(options: StartOptions) {
	const dataDir = mkdtempSync(join(tmpdir(), 'switchyard-bench-'))
	const databasePath = join(dataDir, 'switchyard.db')
	const env = {
		...baseEnv(),
		NODE_ENV: 'production',
		PORT: '0',
		HOST: '127.0.0.1',
		DATABASE_PATH: databasePath,
		RULES_PATH: join(dataDir, 'rules.json'),
		JWT_SECRET: randomBase64(48),
		ENCRYPTION_KEY: randomBase64(32),
		ADMIN_EMAIL: ADMIN.email,
		ADMIN_PASSWORD: ADMIN.password,
		OPENAI_API_KEY: 'sk-openai-test',
		ANTHROPIC_API_KEY: 'sk-ant-test',
		OPENAI_BASE_URL: `${options.upstreamUrl}/v1`,
		ANTHROPIC_BASE_URL: options.upstreamUrl,
		...(options.databaseUrl && { DATABASE_URL: options.databaseUrl }),
		...startScriptDefaults(options.root),
	}
	const argv = ['bun', '--no-env-file', ...(options.bunFlags ?? []), await bundle()]
	const child = spawnPinned(options.cpu, argv, env, options.root)
	const log: string[] = []
	collect(child.stderr, log)
	try {
		const match = await waitForLine(child.stdout, /dashboard at (http:\/\/\S+)/, 30_000, log)
		const origin = match[1] ?? ''
		const key = options.noKey
			? ''
			: await createGatewayKey(origin, ADMIN, 'benchmark', options.spendControl ?? false)
		return {
			child,
			origin,
			key,
			databasePath,
			dataDir,
			databaseUrl: options.databaseUrl,
			output: log,
		} satisfies Switchyard
	} catch (error) {
		child.kill('SIGKILL')
		rmSync(dataDir, { recursive: true, force: true })
		throw error
	}
}

/**
 * A budget and limits no benchmark reaches: every request then reserves and settles its cost, takes and
 * gives back its tokens and holds a slot, which is what spend control costs.
 */
const SPEND_CONTROL = {
	budgets: [{ window: 'total', usd: 1_000_000 }],
	rpm: 1_000_000,
	tpm: 1_000_000_000,
	concurrency: 1000,
}

/**
 * Logs `admin` in through the JSON API and creates a gateway key (`sy_…`) named `name`, with a budget and
 * every limit when `spendControl` is set.
 */
export async function createGatewayKey(
	origin: string,
	admin: { email: string; password: string },
	name: string,
	spendControl = false,
): Promise<string> {
	const login = await fetch(`${origin}/api/auth/login`, {
		method: 'POST',
		headers: { 'content-type': 'application/json' },
		body: JSON.stringify(admin),
	})
	if (!login.ok) throw new Error(`admin login failed: ${login.status} ${await login.text()}`)
	const { token } = (await login.json()) as { token: string }
	const created = await fetch(`${origin}/api/keys`, {
		method: 'POST',
		headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
		body: JSON.stringify({ name }),
	})
	if (!created.ok)
		throw new Error(`creating the gateway key failed: ${created.status} ${await created.text()}`)
	const { id, key } = (await created.json()) as { id: number; key: string }
	if (spendControl) {
		const limited = await fetch(`${origin}/api/keys/${id}`, {
			method: 'PATCH',
			headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
			body: JSON.stringify(SPEND_CONTROL),
		})
		if (!limited.ok)
			throw new Error(`limiting the gateway key failed: ${limited.status} ${await limited.text()}`)
	}
	return key
}

/** What a server's stderr says that the benchmark must show: errors, failed or dropped log writes. */
const COMPLAINT = /error|fail|dropp|could not|deadlock|timeout|refused/i

/** SIGTERM, wait for the exit, remove the data folder; the rows are the caller's to count (PostgreSQL). */
export async function stopInstance(switchyard: Switchyard): Promise<Stopped> {
	const started = performance.now()
	switchyard.child.kill('SIGTERM')
	const exitCode = await exitWithin(switchyard.child, STOP_TIMEOUT_MS)
	const stopMs = performance.now() - started
	// Let the stderr reader take the last chunks.
	await Bun.sleep(50)
	if (switchyard.databaseUrl !== undefined) rmSync(switchyard.dataDir, { recursive: true, force: true })
	const complaints = switchyard.output
		.join('')
		.split('\n')
		.filter((line) => COMPLAINT.test(line))
		.slice(0, 20)
	return { exitCode, stopMs, complaints }
}

/** SIGTERM, wait for the exit, count the log rows in the database file, remove the data folder. */
export async function stopSwitchyard(switchyard: Switchyard): Promise<SwitchyardLog> {
	const stopped = await stopInstance(switchyard)
	try {
		const size = (path: string) => {
			try {
				return statSync(path).size
			} catch {
				return 0
			}
		}
		const databaseBytes = size(switchyard.databasePath) + size(`${switchyard.databasePath}-wal`)
		const db = new Database(switchyard.databasePath, { readonly: true })
		const counts = db
			.query('SELECT status, count(*) AS n FROM request_log GROUP BY status ORDER BY status')
			.all() as { status: number; n: number }[]
		db.close()
		const rowsByStatus: Record<string, number> = {}
		for (const { status, n } of counts) rowsByStatus[status] = n
		const rows = counts.reduce((sum, { n }) => sum + n, 0)
		return { ...stopped, rows, rowsByStatus, databaseBytes }
	} finally {
		rmSync(switchyard.dataDir, { recursive: true, force: true })
	}
}

/**
 * The variables `bun start` sets for the server (`NAME=${NAME:-default}` in package.json's start script),
 * so the benchmark runs it as `bun start` does without going through `bun run`, which would read a
 * developer's `.env`. There are none now: the server applies its runtime tuning, JavaScriptCore's options
 * included, itself (src/runtime/tuning.ts), as it does in the Docker image.
 */
export function startScriptDefaults(root: string): Record<string, string> {
	const start = (
		JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: { start: string } }
	).scripts.start
	const defaults: Record<string, string> = {}
	for (const [, name = '', value = ''] of start.matchAll(/\b([A-Z][A-Za-z0-9_]*)=\$\{\1:-([^}]*)\}/g))
		defaults[name] = value
	return defaults
}

function randomBase64(bytes: number): string {
	return Buffer.from(crypto.getRandomValues(new Uint8Array(bytes))).toString('base64')
}

/**
 * `bun run bench`: Switchyard against a bare Bun proxy (the floor) and against calling the fake upstream
 * directly, on this machine's loopback. See docs/performance.md for what each figure means.
 *
 *   bun run bench                 5 rounds, about 7 minutes
 *   bun run bench --quick         1 short round, under a minute (CI runs this to prove the benchmark works)
 *   bun run bench --rounds 3      another number of rounds
 *   bun run bench --soak [min]    Switchyard alone at 1,000 req/s for 10 minutes (or min), VmRSS every 10 s
 *   bun run bench --json          the full results as JSON on stdout instead of the table
 *   bun run bench --profile       also a CPU profile of Switchyard (bun --cpu-prof) in bench/results/;
 *                                 the profiler slows Switchyard, so compare figures of unprofiled runs only
 *   bun run bench --postgres URL  also Switchyard on PostgreSQL, one instance and two behind round robin,
 *                                 each on a fresh database created through URL and dropped after (or set
 *                                 BENCH_DATABASE_URL); without it, no PostgreSQL is needed
 *
 * Progress goes to stderr; the full results are also written to bench/results/<timestamp>.json. The exit
 * status is 1 when a request went unlogged or the benchmark itself failed; a missed performance target is
 * reported, never an error.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { availableParallelism, release } from 'node:os'
import { join, resolve } from 'node:path'
import { type Context, runOpenLoop, runWrk } from './measure'
import {
	checkServer,
	countLogRows,
	createDatabase,
	dropDatabase,
	isLocal,
	type PostgresLogRows,
	redacted,
} from './postgres'
import {
	allowedCpus,
	baseEnv,
	type Child,
	collect,
	exitWithin,
	type Memory,
	readMemory,
	resetPeakMemory,
	spawnPinned,
	waitForLine,
} from './processes'
import {
	DEPLOYMENTS,
	type Deployment,
	errorsOf,
	type LogCheck,
	type Measured,
	type MemoryFigures,
	RATES,
	type RoundData,
	renderPostgresCost,
	renderTable,
	type ServerMemory,
	type Summary,
	summarize,
	type Verdict,
	verdicts,
	viewOf,
} from './report'
import { loadFor, SCENARIO_NAMES, type ScenarioName } from './scenarios'
import { median, slope } from './stats'
import { type Stopped, type Switchyard, startSwitchyard, stopInstance, stopSwitchyard } from './switchyard'

const ROOT = resolve(import.meta.dir, '../..')
/** The full run must end within 10 minutes: rounds that would not fit are skipped (unless --rounds). */
const BUDGET_MS = 9.5 * 60_000
/** After start-up, before the idle reading: lets start-up garbage (argon2id's 64 MiB) be returned. */
const SETTLE_MS = 2000
/** Soak: one open-loop window per VmRSS sample. */
const SOAK_WINDOW_MS = 10_000
const SOAK_RATE = 1000
/** Soak samples before this (or the first fifth of a shorter soak) are warm-up, left out of the slope. */
const SOAK_WARMUP_MS = 60_000

interface Plan {
	rounds: number
	/** wrk counts whole seconds. */
	throughputSeconds: number
	latencyMs: number
	ttfbMs: number
	/** Streams per second for the TTFB probes: light load, so the figure is the path's own delay. */
	ttfbRate: number
	warmupSeconds: number
	drainMs: number
}

const FULL: Plan = {
	rounds: 5,
	throughputSeconds: 4,
	latencyMs: 4000,
	ttfbMs: 2000,
	ttfbRate: 200,
	warmupSeconds: 2,
	drainMs: 3000,
}
const QUICK: Plan = {
	rounds: 1,
	throughputSeconds: 1,
	latencyMs: 1000,
	ttfbMs: 500,
	ttfbRate: 200,
	warmupSeconds: 1,
	drainMs: 2000,
}

interface Options {
	quick: boolean
	profile: boolean
	soakMinutes: number | undefined
	rounds: number | undefined
	json: boolean
	/** PostgreSQL's URL: also run Switchyard on it (a fresh database per deployment). */
	postgres: string | undefined
	/** The benchmark key has a budget and every key limit, far above the load: what spend control costs. */
	spendControl: boolean
}

function parseOptions(argv: string[]): Options {
	const options: Options = {
		quick: false,
		profile: false,
		soakMinutes: undefined,
		rounds: undefined,
		json: false,
		postgres: process.env.BENCH_DATABASE_URL || undefined,
		spendControl: false,
	}
	for (let i = 0; i < argv.length; i++) {
		const arg = argv[i]
		const next = argv[i + 1]
		if (arg === '--quick') options.quick = true
		else if (arg === '--json') options.json = true
		else if (arg === '--profile') options.profile = true
		else if (arg === '--spend-control') options.spendControl = true
		else if (arg === '--soak') {
			options.soakMinutes = 10
			if (next !== undefined && /^\d+(\.\d+)?$/.test(next)) {
				options.soakMinutes = Number(next)
				i++
			}
		} else if (arg === '--rounds' && next !== undefined && /^[1-9]\d*$/.test(next)) {
			options.rounds = Number(next)
			i++
		} else if (arg === '--postgres') {
			if (next === undefined || !/^postgres(ql)?:\/\//.test(next))
				fail('--postgres needs a PostgreSQL URL, postgres://user:password@host:5432/database', 2)
			options.postgres = next
			i++
		} else {
			fail(
				`unknown option ${arg}: use --quick, --soak [minutes], --rounds N, --json, --profile, --spend-control, ` +
					'--postgres postgres://user:password@host:5432/database',
				2,
			)
		}
	}
	if (options.postgres !== undefined && !/^postgres(ql)?:\/\//.test(options.postgres))
		fail('BENCH_DATABASE_URL must be a PostgreSQL URL, postgres://user:password@host:5432/database', 2)
	if (options.postgres !== undefined && options.soakMinutes !== undefined)
		fail('--soak runs Switchyard on SQLite only: leave out --postgres (and BENCH_DATABASE_URL)', 2)
	return options
}

function fail(message: string, code = 1): never {
	console.error(`bench: ${message}`)
	process.exit(code)
}

const progress = (message: string) => console.error(`[bench ${elapsed()}] ${message}`)
const startedAt = performance.now()
const elapsed = () => {
	const seconds = Math.round((performance.now() - startedAt) / 1000)
	return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, '0')}`
}

/** One way of running Switchyard (SQLite, or PostgreSQL with one or two instances) and its processes. */
interface Deployed {
	deployment: Deployment
	instances: Switchyard[]
	/** The gateway key (`sy_…`) of this deployment's database. */
	key: string
	/** PostgreSQL: the database made for this run, dropped after it. */
	database?: { name: string; url: string }
}

interface Servers {
	upstream: { child: Child; url: string }
	floor: { child: Child; url: string }
	/** SQLite first, then PostgreSQL's when asked. */
	deployed: Deployed[]
	/** PostgreSQL's URL (the one given), and whether its processes' CPU can be read here. */
	postgres?: { url: string; version: string; local: boolean }
}

const children = new Set<Child>()
/** Switchyard instances while they run: stopAll stops them (and removes their data folders). */
const running = new Set<Switchyard>()
/** PostgreSQL databases made by this run, dropped by stopAll: their names, through the given URL. */
const databases = new Map<string, string>()

async function startReady(cpu: number, script: string, env: Record<string, string>) {
	const child = spawnPinned(cpu, ['bun', '--no-env-file', join(import.meta.dir, script)], {
		...baseEnv(),
		NODE_ENV: 'production',
		...env,
	})
	children.add(child)
	const log: string[] = []
	collect(child.stderr, log)
	const match = await waitForLine(child.stdout, /READY (.+)\n/, 15_000, log)
	const { url } = JSON.parse(match[1] ?? '') as { url: string }
	return { child, url }
}

/**
 * SHA-256 over the server's sources (src/, db/), so a result file says which code it measured: the
 * benchmark never asks git.
 */
function sourceDigest(): string {
	const hash = new Bun.CryptoHasher('sha256')
	const files = [...new Bun.Glob('{src,db}/**/*').scanSync({ cwd: ROOT, onlyFiles: true })].sort()
	for (const file of files) {
		hash.update(`${file}\0`)
		hash.update(readFileSync(join(ROOT, file)))
	}
	return hash.digest('hex').slice(0, 16)
}

function machine() {
	const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8')
	return {
		nproc: availableParallelism(),
		cpuModel: /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1] ?? 'unknown',
		bun: Bun.version,
		kernel: release(),
	}
}

async function main() {
	const options = parseOptions(process.argv.slice(2))
	const missing = ['taskset', 'wrk'].filter((command) => Bun.which(command) === null)
	if (missing.length > 0) {
		fail(
			`${missing.join(' and ')} not found. The benchmark pins processes with taskset (util-linux) and ` +
				'measures throughput with wrk: apt-get install -y wrk util-linux',
			2,
		)
	}
	let postgres: Servers['postgres']
	if (options.postgres !== undefined) {
		const version = await checkServer(options.postgres).catch((error: unknown) =>
			fail(
				`PostgreSQL at ${redacted(options.postgres ?? '')}: ${error instanceof Error ? error.message : error}`,
				2,
			),
		)
		postgres = { url: options.postgres, version, local: isLocal(options.postgres) }
	}
	const cpus = allowedCpus()
	const serverCpu = cpus[0] ?? 0
	const loadCpu = cpus[1] ?? serverCpu
	if (cpus.length < 2) {
		progress(
			`WARNING: only CPU ${serverCpu} is available: the server and the load share it; figures are not comparable`,
		)
	}
	// The orchestrator itself stays off the server's core.
	Bun.spawnSync(['taskset', '-a', '-p', '-c', String(loadCpu), String(process.pid)])

	const plan = options.quick ? { ...QUICK } : { ...FULL }
	if (options.rounds !== undefined) plan.rounds = options.rounds
	progress(
		`${options.soakMinutes !== undefined ? `soak, ${options.soakMinutes} min` : options.quick ? 'quick' : 'full'} run; ` +
			`server under test on CPU ${serverCpu}, load generators and fake upstream on CPU ${loadCpu}`,
	)
	if (postgres) {
		progress(
			`with PostgreSQL ${postgres.version} at ${redacted(postgres.url)}: one instance and two, on the server's CPU ` +
				`${serverCpu}; PostgreSQL itself runs where the system puts it` +
				(postgres.local ? '' : ' (a remote server: its CPU is not measured)') +
				(options.rounds === undefined && !options.quick
					? '; rounds take longer, so fewer fit in the 10 minutes'
					: ''),
		)
	}

	const digest = sourceDigest()
	const host = machine()
	const resultsDir = join(ROOT, 'bench/results')
	mkdirSync(resultsDir, { recursive: true })
	const profileFlags = options.profile ? ['--cpu-prof', '--cpu-prof-md', `--cpu-prof-dir=${resultsDir}`] : []

	let outcome: Report & { ok: boolean }
	try {
		const servers = await startServers(serverCpu, loadCpu, profileFlags, postgres, options.spendControl)
		await Bun.sleep(SETTLE_MS)
		const idle: Idle = {
			floor: readMemory(servers.floor.child.pid),
			deployed: new Map(
				servers.deployed.map((d) => [d.deployment, d.instances.map((i) => readMemory(i.child.pid))]),
			),
		}
		const pids = [
			servers.floor.child.pid,
			...servers.deployed.flatMap((d) => d.instances.map((i) => i.child.pid)),
		]
		const peakReset = pids.every((pid) => resetPeakMemory(pid))
		if (!peakReset) progress('could not reset VmHWM (/proc/<pid>/clear_refs): peaks include start-up')
		progress(
			`started: upstream ${servers.upstream.url}, floor ${servers.floor.url}, ` +
				servers.deployed
					.map((d) => `${DEPLOYMENTS[d.deployment].short} ${d.instances.map((i) => i.origin).join(' and ')}`)
					.join(', '),
		)

		if (options.soakMinutes !== undefined) {
			const soak = await runSoak(servers, loadCpu, options.soakMinutes, plan.drainMs)
			const ended = await finish(servers, idle, peakReset, { switchyard: soak.sent })
			const sqlite = ended.get('switchyard')
			if (!sqlite) throw new Error('Switchyard on SQLite did not report')
			outcome = { ...soak.report(sqlite.memory, sqlite.log), ok: sqlite.log.pass }
		} else {
			const run = await runRounds(servers, loadCpu, plan, options.rounds !== undefined)
			const ended = await finish(servers, idle, peakReset, run.sent)
			outcome = report(run, ended, plan, servers)
		}
	} finally {
		await stopAll()
	}

	const when = new Date()
	const header =
		`Switchyard benchmark, ${when.toISOString().slice(0, 16).replace('T', ' ')} UTC: ${host.nproc} cores ` +
		`(${host.cpuModel}), Bun ${host.bun}, run time ${elapsed()}; server on CPU ${serverCpu}, ` +
		`load and fake upstream on CPU ${loadCpu}; sources ${digest}` +
		(options.soakMinutes === undefined ? '; medians over rounds' : '') +
		(postgres ? `; PostgreSQL ${postgres.version}, ${postgres.local ? 'local' : 'remote'}` : '')
	const document = {
		date: when.toISOString(),
		mode: options.soakMinutes !== undefined ? 'soak' : options.quick ? 'quick' : 'full',
		profiled: options.profile,
		machine: host,
		sourceDigest: digest,
		pinning: { serverCpu, loadCpu },
		runTimeMs: performance.now() - startedAt,
		...outcome.json,
	}
	const file = join(
		resultsDir,
		`${when
			.toISOString()
			.replaceAll(':', '-')
			.replace(/\.\d+Z$/, 'Z')}.json`,
	)
	writeFileSync(file, `${JSON.stringify(document, null, '\t')}\n`)
	if (options.json) console.log(JSON.stringify(document, null, '\t'))
	else console.log(`${header}\n${outcome.table}\n\nFull results: ${file.slice(ROOT.length + 1)}`)
	process.exit(outcome.ok ? 0 : 1)
}

/** The tables and JSON of a run of rounds: SQLite's as always, then PostgreSQL's when it ran. */
function report(
	run: Awaited<ReturnType<typeof runRounds>>,
	ended: Map<Deployment, Ended>,
	plan: Plan,
	servers: Servers,
): Report & { ok: boolean } {
	const results = new Map<Deployment, { summary: Summary; verdicts: Verdict[] }>()
	for (const [deployment, { memory, log }] of ended) {
		const summary = summarize(viewOf(run.data, deployment), run.rounds, memory, log)
		results.set(deployment, { summary, verdicts: verdicts(summary) })
	}
	const sqlite = results.get('switchyard')
	if (!sqlite) throw new Error('Switchyard on SQLite did not report')
	const withPostgres = results.size > 1
	const tables = [...results].map(([deployment, { summary, verdicts }]) =>
		renderTable(summary, verdicts, withPostgres ? DEPLOYMENTS[deployment].title : undefined),
	)
	if (withPostgres) {
		const summaries = Object.fromEntries([...results].map(([d, r]) => [d, r.summary]))
		tables.push(renderPostgresCost(run.data, summaries))
		const foreign = [...results.values()].map((r) => r.summary.foreignCpuPct)
		tables.push(
			'',
			`Other work on the machine, over every measurement: median ${median(foreign).toFixed(1)} % of a core`,
		)
	}
	const postgresJson = withPostgres && {
		postgres: {
			server: servers.postgres && { url: redacted(servers.postgres.url), version: servers.postgres.version },
			deployments: Object.fromEntries(
				[...results]
					.filter(([d]) => d !== 'switchyard')
					.map(([d, r]) => [d, { title: DEPLOYMENTS[d].title, ...r }]),
			),
		},
	}
	return {
		table: tables.join('\n'),
		json: {
			plan: { ...plan, rounds: run.rounds },
			summary: sqlite.summary,
			verdicts: sqlite.verdicts,
			...postgresJson,
			samples: run.data,
		},
		ok: [...results.values()].every((r) => r.summary.log.pass),
	}
}

async function startServers(
	serverCpu: number,
	loadCpu: number,
	bunFlags: string[],
	postgres: Servers['postgres'],
	spendControl: boolean,
): Promise<Servers> {
	const upstream = await startReady(loadCpu, 'upstream.ts', {})
	const floor = await startReady(serverCpu, 'floor-proxy.ts', { UPSTREAM_URL: upstream.url })
	const start = async (databaseUrl?: string, noKey?: boolean) => {
		const instance = await startSwitchyard({
			root: ROOT,
			cpu: serverCpu,
			upstreamUrl: upstream.url,
			bunFlags,
			...(databaseUrl && { databaseUrl }),
			noKey,
			spendControl,
		})
		children.add(instance.child)
		running.add(instance)
		return instance
	}
	const sqlite = await start()
	const deployed: Deployed[] = [{ deployment: 'switchyard', instances: [sqlite], key: sqlite.key }]
	if (postgres) {
		const stamp = `${new Date().toISOString().replace(/\D/g, '').slice(0, 14)}_${process.pid}`
		for (const deployment of ['pg1', 'pg2'] as const) {
			const name = `switchyard_bench_${stamp}_${deployment}`
			databases.set(name, postgres.url)
			const url = await createDatabase(postgres.url, name)
			progress(`created database ${name} for ${DEPLOYMENTS[deployment].short}`)
			// Instances on one database start together, as a deploy starts them: they take turns migrating.
			const instances = await Promise.all(
				Array.from({ length: DEPLOYMENTS[deployment].instances }, (_, i) => start(url, i > 0)),
			)
			deployed.push({ deployment, instances, key: instances[0]?.key ?? '', database: { name, url } })
		}
	}
	return { upstream, floor, deployed, postgres }
}

/** A finished run, printed as `table` or written as `json`. */
interface Report {
	table: string
	json: Record<string, unknown>
}

/** Memory once started and settled: the floor's, and each deployment's instances'. */
interface Idle {
	floor: Memory
	deployed: Map<Deployment, Memory[]>
}

interface Ended {
	memory: MemoryFigures
	log: LogCheck
}

/**
 * Reads the memory figures, stops every deployment (SIGTERM, which writes the log; on PostgreSQL every
 * instance of the database, together), and counts its rows: in the SQLite file, or in the PostgreSQL
 * database, which is dropped after. A deployment passes when every request sent to it left a row and
 * every instance exited with status 0.
 */
async function finish(
	servers: Servers,
	idle: Idle,
	peakReset: boolean,
	sent: Partial<Record<Deployment, number>>,
): Promise<Map<Deployment, Ended>> {
	const figures = (at: Memory | undefined, end: Memory): ServerMemory => ({
		idleMiB: at?.rssMiB ?? Number.NaN,
		startupPeakMiB: at?.hwmMiB ?? Number.NaN,
		peakMiB: end.hwmMiB,
		afterMiB: end.rssMiB,
	})
	const floor = figures(idle.floor, readMemory(servers.floor.child.pid))
	const ended = new Map<Deployment, Ended>()
	for (const deployed of servers.deployed) {
		const { deployment, instances } = deployed
		const at = idle.deployed.get(deployment) ?? []
		const each = instances.map((instance, i) => figures(at[i], readMemory(instance.child.pid)))
		const highest = each.reduce((a, b) => (b.peakMiB > a.peakMiB ? b : a))
		const memory: MemoryFigures = {
			floor,
			switchyard: highest,
			...(each.length > 1 && { instances: each }),
			peakReset,
		}
		progress(`stopping ${DEPLOYMENTS[deployment].short} (SIGTERM) and counting its request_log rows`)
		for (const instance of instances) {
			running.delete(instance)
			children.delete(instance.child)
		}
		const started = performance.now()
		let stopped: Stopped[]
		let rows: { rows: number; rowsByStatus: Record<string, number>; databaseBytes: number }
		if (deployed.database) {
			stopped = await Promise.all(instances.map(stopInstance))
			const counted: PostgresLogRows = await countLogRows(deployed.database.url)
			rows = counted
			await dropDatabase(servers.postgres?.url ?? '', deployed.database.name)
			databases.delete(deployed.database.name)
		} else {
			const [instance] = instances
			if (!instance) throw new Error('no instance')
			const result = await stopSwitchyard(instance)
			stopped = [result]
			rows = result
		}
		const exitCodes = stopped.map((s) => s.exitCode)
		const requests = sent[deployment] ?? 0
		const log: LogCheck = {
			sent: requests,
			rows: rows.rows,
			rowsByStatus: rows.rowsByStatus,
			exitCode: exitCodes.find((code) => code !== 0) ?? 0,
			exitCodes,
			complaints: stopped.flatMap((s) => s.complaints),
			databaseBytes: rows.databaseBytes,
			pass: exitCodes.every((code) => code === 0) && rows.rows === requests,
		}
		progress(
			`${DEPLOYMENTS[deployment].short} stopped in ${Math.round(performance.now() - started)} ms; ` +
				`${rows.rows} rows for ${requests} requests sent`,
		)
		ended.set(deployment, { memory, log })
	}
	return ended
}

async function stopAll() {
	for (const instance of running) {
		running.delete(instance)
		children.delete(instance.child)
		await stopSwitchyard(instance).catch(() => {})
	}
	for (const child of children) {
		child.kill('SIGTERM')
		await exitWithin(child, 5000)
	}
	children.clear()
	for (const [name, url] of databases) {
		databases.delete(name)
		await dropDatabase(url, name).catch((error: unknown) =>
			progress(`could not drop database ${name}: ${error instanceof Error ? error.message : error}`),
		)
	}
}

function emptyData(): RoundData<Measured> {
	const perScenario = <T>(make: () => T) =>
		Object.fromEntries(SCENARIO_NAMES.map((name) => [name, make()])) as Record<ScenarioName, T>
	return {
		throughput: perScenario(() => ({})),
		latency: perScenario(() => ({ 1000: {}, 5000: {} })),
		ttfb: perScenario(() => ({})),
	}
}

function deployedOf(servers: Servers, deployment: Deployment): Deployed {
	const found = servers.deployed.find((d) => d.deployment === deployment)
	if (!found) throw new Error(`${deployment} is not running`)
	return found
}

function pidsOf(servers: Servers, target: Measured): number[] {
	if (target === 'direct') return []
	if (target === 'floor') return [servers.floor.child.pid]
	return deployedOf(servers, target).instances.map((instance) => instance.child.pid)
}

function contextFor(servers: Servers, loadCpu: number, target: Measured): Context {
	const targets = pidsOf(servers, target)
	const servers_ = [
		servers.floor.child.pid,
		...servers.deployed.flatMap((d) => d.instances.map((instance) => instance.child.pid)),
	]
	return {
		loadCpu,
		pids: {
			targets,
			upstream: servers.upstream.child.pid,
			others: [...servers_.filter((pid) => !targets.includes(pid)), process.pid],
		},
		postgresDatabases: servers.postgres?.local
			? servers.deployed.flatMap((d) => (d.database ? [d.database.name] : []))
			: undefined,
		onPostgres: target === 'pg1' || target === 'pg2',
	}
}

function originsOf(servers: Servers, target: Measured): string[] {
	if (target === 'direct') return [servers.upstream.url]
	if (target === 'floor') return [servers.floor.url]
	return deployedOf(servers, target).instances.map((instance) => instance.origin)
}

/** What `target` is sent in `scenario`: a deployment gets the gateway request with its own key. */
function loadOf(servers: Servers, scenario: ScenarioName, target: Measured, stream: boolean) {
	if (target === 'direct' || target === 'floor') return loadFor(scenario, target, '', stream)
	return loadFor(scenario, 'switchyard', deployedOf(servers, target).key, stream)
}

/** The rounds: every measurement of a round runs each target back to back (floor, Switchyard, …). */
async function runRounds(servers: Servers, loadCpu: number, plan: Plan, roundsGiven: boolean) {
	const data = emptyData()
	const deployments = servers.deployed.map((d) => d.deployment)
	const proxies: Measured[] = ['floor', ...deployments]
	const everything: Measured[] = ['direct', ...proxies]
	const sent: Partial<Record<Deployment, number>> = {}
	const push = <T>(bucket: Partial<Record<Measured, T[]>>, target: Measured, sample: T) => {
		const list = bucket[target] ?? []
		list.push(sample)
		bucket[target] = list
	}
	const count = (target: Measured, n: number) => {
		if (target !== 'direct' && target !== 'floor') sent[target] = (sent[target] ?? 0) + n
	}
	const label = (target: Measured) =>
		target === 'direct' || target === 'floor'
			? target
			: target === 'switchyard'
				? 'Switchyard'
				: DEPLOYMENTS[target].short

	progress(`warm-up: ${plan.warmupSeconds} s of wrk and a few streams per server and scenario`)
	for (const scenario of SCENARIO_NAMES) {
		for (const target of proxies) {
			const context = contextFor(servers, loadCpu, target)
			const origins = originsOf(servers, target)
			const wrk = await runWrk(context, origins, loadOf(servers, scenario, target, false), plan.warmupSeconds)
			count(target, wrk.sent)
			const streams = await runOpenLoop(
				context,
				origins,
				loadOf(servers, scenario, target, true),
				100,
				500,
				plan.drainMs,
			)
			count(target, streams.sent)
		}
	}

	const roundStarted: number[] = []
	let rounds = 0
	for (let round = 1; round <= plan.rounds; round++) {
		const now = performance.now()
		const longest =
			roundStarted.length > 0 ? Math.max(...roundStarted.map((t, i) => (roundStarted[i + 1] ?? now) - t)) : 0
		// Stopping the servers and counting their rows takes a few seconds more per deployment.
		const closing = 10_000 + 5000 * servers.deployed.length
		if (!roundsGiven && longest > 0 && now - startedAt + longest + closing > BUDGET_MS) {
			progress(`skipping rounds ${round}–${plan.rounds}: they would not end within 10 minutes`)
			break
		}
		roundStarted.push(now)
		progress(`round ${round}/${plan.rounds}`)
		for (const scenario of SCENARIO_NAMES) {
			for (const target of proxies) {
				const sample = await runWrk(
					contextFor(servers, loadCpu, target),
					originsOf(servers, target),
					loadOf(servers, scenario, target, false),
					plan.throughputSeconds,
				)
				count(target, sample.sent)
				push(data.throughput[scenario], target, sample)
				progress(`  ${scenario} throughput ${label(target)}: ${Math.round(sample.requestsPerSecond)} req/s`)
			}
		}
		for (const scenario of SCENARIO_NAMES) {
			for (const rate of RATES) {
				for (const target of everything) {
					const sample = await runOpenLoop(
						contextFor(servers, loadCpu, target),
						originsOf(servers, target),
						loadOf(servers, scenario, target, false),
						rate,
						plan.latencyMs,
						plan.drainMs,
					)
					count(target, sample.sent)
					push(data.latency[scenario][rate], target, sample)
					progress(
						`  ${scenario} ${rate}/s ${label(target)}: p50 ${sample.latencyMs?.p50.toFixed(2)} ms, ` +
							`p99 ${sample.latencyMs?.p99.toFixed(2)} ms, ${sample.ok}/${sample.scheduled} ok`,
					)
				}
			}
		}
		for (const scenario of SCENARIO_NAMES) {
			for (const target of everything) {
				const sample = await runOpenLoop(
					contextFor(servers, loadCpu, target),
					originsOf(servers, target),
					loadOf(servers, scenario, target, true),
					plan.ttfbRate,
					plan.ttfbMs,
					plan.drainMs,
				)
				count(target, sample.sent)
				push(data.ttfb[scenario], target, sample)
				progress(`  ${scenario} streaming ${label(target)}: TTFB p50 ${sample.ttfbMs?.p50.toFixed(2)} ms`)
			}
		}
		rounds = round
	}
	return { data, sent, rounds }
}

/** Switchyard alone at 1,000 req/s; VmRSS after every 10-second window. */
async function runSoak(servers: Servers, loadCpu: number, minutes: number, drainMs: number) {
	const sqlite = deployedOf(servers, 'switchyard')
	const origins = originsOf(servers, 'switchyard')
	const key = sqlite.key
	const context = contextFor(servers, loadCpu, 'switchyard')
	const load = loadFor('openai', 'switchyard', key, false)
	const windows = Math.max(1, Math.round((minutes * 60_000) / SOAK_WINDOW_MS))
	const curve: {
		atSeconds: number
		rssMiB: number
		hwmMiB: number
		p50Ms: number
		p99Ms: number
		maxMs: number
		errors: number
		sent: number
		/** The generator's own lateness, and other work on the machine: is a spike Switchyard's? */
		lagP99Ms: number
		foreignCpuPct: number
	}[] = []
	let sent = 0
	const started = performance.now()
	for (let window = 0; window < windows; window++) {
		const sample = await runOpenLoop(context, origins, load, SOAK_RATE, SOAK_WINDOW_MS, drainMs)
		sent += sample.sent
		const memory = readMemory(sqlite.instances[0]?.child.pid ?? 0)
		const errors = errorsOf(sample)
		const point = {
			atSeconds: Math.round((performance.now() - started) / 1000),
			rssMiB: memory.rssMiB,
			hwmMiB: memory.hwmMiB,
			p50Ms: sample.latencyMs?.p50 ?? Number.NaN,
			p99Ms: sample.latencyMs?.p99 ?? Number.NaN,
			maxMs: sample.latencyMs?.max ?? Number.NaN,
			errors,
			sent: sample.sent,
			lagP99Ms: sample.sendLagMs?.p99 ?? Number.NaN,
			foreignCpuPct: sample.cpu.foreignPct,
		}
		curve.push(point)
		progress(
			`  ${point.atSeconds} s: VmRSS ${point.rssMiB.toFixed(1)} MiB, p50 ${point.p50Ms.toFixed(2)} ms, ` +
				`p99 ${point.p99Ms.toFixed(2)} ms, ${errors} errors`,
		)
	}
	const warmupMs = Math.min(SOAK_WARMUP_MS, (minutes * 60_000) / 5)
	const fitted = curve.filter((p) => p.atSeconds * 1000 > warmupMs)
	const slopeMiBPerMin = slope(fitted.map((p) => ({ x: p.atSeconds / 60, y: p.rssMiB })))
	const spanMin = fitted.length > 1 ? ((fitted.at(-1)?.atSeconds ?? 0) - (fitted[0]?.atSeconds ?? 0)) / 60 : 0
	const growthMiB = slopeMiBPerMin * spanMin
	const errors = curve.reduce((sum, p) => sum + p.errors, 0)
	return {
		sent,
		report(memory: MemoryFigures, log: LogCheck): Report {
			const list: Verdict[] = [
				{
					name: `VmRSS growth after ${Math.round(warmupMs / 1000)} s of warm-up (fitted slope × ${spanMin.toFixed(1)} min)`,
					value: Number.isFinite(growthMiB)
						? `${growthMiB >= 0 ? '+' : ''}${growthMiB.toFixed(1)} MiB (${slopeMiBPerMin.toFixed(2)} MiB/min)`
						: 'too short to fit',
					target: '< 5 MiB',
					ok: growthMiB < 5,
				},
				{ name: 'errors at 1,000 req/s', value: String(errors), target: '0', ok: errors === 0 },
				{
					name: 'request_log rows = requests sent',
					value: `${log.rows} / ${log.sent}`,
					target: 'equal',
					ok: log.pass,
				},
			]
			const lines = [
				'',
				'Soak: Switchyard at 1,000 req/s, VmRSS every 10 s',
				'    t (s)  VmRSS (MiB)  p50 (ms)  p99 (ms)  max (ms)  errors  other work',
			]
			const low = Math.min(...curve.map((p) => p.rssMiB))
			const high = Math.max(...curve.map((p) => p.rssMiB))
			for (const p of curve) {
				const bar = '#'.repeat(high > low ? 1 + Math.round(((p.rssMiB - low) / (high - low)) * 40) : 1)
				lines.push(
					`${String(p.atSeconds).padStart(9)}${p.rssMiB.toFixed(1).padStart(13)}${p.p50Ms.toFixed(2).padStart(10)}` +
						`${p.p99Ms.toFixed(2).padStart(10)}${p.maxMs.toFixed(1).padStart(10)}${String(p.errors).padStart(8)}` +
						`${`${Math.round(p.foreignCpuPct)} %`.padStart(12)}  ${bar}`,
				)
			}
			lines.push(
				'',
				`Idle VmRSS ${memory.switchyard.idleMiB.toFixed(1)} MiB; peak VmHWM ${memory.switchyard.peakMiB.toFixed(1)} MiB ` +
					`under load, ${memory.switchyard.startupPeakMiB.toFixed(1)} MiB at start-up`,
				'',
				'Targets',
			)
			for (const v of list)
				lines.push(`  ${v.ok ? 'ok  ' : 'MISS'}  ${v.name}: ${v.value} (target ${v.target})`)
			lines.push(
				'',
				`Request log: ${log.sent} requests sent, ${log.rows} rows after SIGTERM: ${log.pass ? 'PASS' : 'FAIL'}`,
			)
			return {
				table: lines.join('\n'),
				json: {
					soak: { rate: SOAK_RATE, windowMs: SOAK_WINDOW_MS, curve, slopeMiBPerMin, growthMiB },
					memory,
					log,
					verdicts: list,
				},
			}
		},
	}
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
	process.on(signal, () => {
		void stopAll().then(() => process.exit(130))
	})
}

main().catch(async (error: unknown) => {
	console.error('bench: failed:', error instanceof Error ? error.message : error)
	await stopAll()
	process.exit(1)
})

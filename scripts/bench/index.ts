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
	errorsOf,
	type LogCheck,
	type MemoryFigures,
	RATES,
	type RoundData,
	renderTable,
	summarize,
	type Verdict,
	verdicts,
} from './report'
import { loadFor, SCENARIO_NAMES, type ScenarioName, TARGETS, type TargetName } from './scenarios'
import { slope } from './stats'
import { type Switchyard, startSwitchyard, stopSwitchyard } from './switchyard'

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
}

function parseOptions(argv: string[]): Options {
	const options: Options = {
		quick: false,
		profile: false,
		soakMinutes: undefined,
		rounds: undefined,
		json: false,
	}
	for (let i = 0; i < argv.length; i++) {
		const arg = argv[i]
		const next = argv[i + 1]
		if (arg === '--quick') options.quick = true
		else if (arg === '--json') options.json = true
		else if (arg === '--profile') options.profile = true
		else if (arg === '--soak') {
			options.soakMinutes = 10
			if (next !== undefined && /^\d+(\.\d+)?$/.test(next)) {
				options.soakMinutes = Number(next)
				i++
			}
		} else if (arg === '--rounds' && next !== undefined && /^[1-9]\d*$/.test(next)) {
			options.rounds = Number(next)
			i++
		} else {
			fail(`unknown option ${arg}: use --quick, --soak [minutes], --rounds N, --json, --profile`, 2)
		}
	}
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

interface Servers {
	upstream: { child: Child; url: string }
	floor: { child: Child; url: string }
	switchyard: Switchyard
}

const children = new Set<Child>()
/** Switchyard while it runs: stopAll stops it with stopSwitchyard, which also removes its data folder. */
let running: Switchyard | undefined

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

	const digest = sourceDigest()
	const host = machine()
	const resultsDir = join(ROOT, 'bench/results')
	mkdirSync(resultsDir, { recursive: true })
	const profileFlags = options.profile ? ['--cpu-prof', '--cpu-prof-md', `--cpu-prof-dir=${resultsDir}`] : []
	const servers = await startServers(serverCpu, loadCpu, profileFlags)
	await Bun.sleep(SETTLE_MS)
	const idle = {
		floor: readMemory(servers.floor.child.pid),
		switchyard: readMemory(servers.switchyard.child.pid),
	}
	const peakReset = resetPeakMemory(servers.floor.child.pid) && resetPeakMemory(servers.switchyard.child.pid)
	if (!peakReset) progress('could not reset VmHWM (/proc/<pid>/clear_refs): peaks include start-up')
	progress(
		`started: upstream ${servers.upstream.url}, floor ${servers.floor.url}, Switchyard ${servers.switchyard.origin}`,
	)

	let outcome: Report & { ok: boolean }
	try {
		if (options.soakMinutes !== undefined) {
			const soak = await runSoak(servers, loadCpu, options.soakMinutes, plan.drainMs)
			outcome = await finish(servers, idle, peakReset, soak.sent, soak.report)
		} else {
			const run = await runRounds(servers, loadCpu, plan, options.rounds !== undefined)
			outcome = await finish(servers, idle, peakReset, run.sent, (memory, log) => {
				const summary = summarize(run.data, run.rounds, memory, log)
				const list = verdicts(summary)
				return {
					table: renderTable(summary, list),
					json: { plan: { ...plan, rounds: run.rounds }, summary, verdicts: list, samples: run.data },
				}
			})
		}
	} finally {
		await stopAll()
	}

	const when = new Date()
	const header =
		`Switchyard benchmark, ${when.toISOString().slice(0, 16).replace('T', ' ')} UTC: ${host.nproc} cores ` +
		`(${host.cpuModel}), Bun ${host.bun}, run time ${elapsed()}; server on CPU ${serverCpu}, ` +
		`load and fake upstream on CPU ${loadCpu}; sources ${digest}` +
		(options.soakMinutes === undefined ? '; medians over rounds' : '')
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

async function startServers(serverCpu: number, loadCpu: number, bunFlags: string[]): Promise<Servers> {
	const upstream = await startReady(loadCpu, 'upstream.ts', {})
	const floor = await startReady(serverCpu, 'floor-proxy.ts', { UPSTREAM_URL: upstream.url })
	const switchyard = await startSwitchyard({
		root: ROOT,
		cpu: serverCpu,
		upstreamUrl: upstream.url,
		bunFlags,
	})
	children.add(switchyard.child)
	running = switchyard
	return { upstream, floor, switchyard }
}

/** A finished run, printed as `table` or written as `json`. */
interface Report {
	table: string
	json: Record<string, unknown>
}

/**
 * Stops Switchyard (SIGTERM, which writes the log), counts its rows, and reads the memory figures first.
 * The run passes when every request sent left a row.
 */
async function finish(
	servers: Servers,
	idle: { floor: Memory; switchyard: Memory },
	peakReset: boolean,
	sent: number,
	report: (memory: MemoryFigures, log: LogCheck) => Report,
) {
	const after = {
		floor: readMemory(servers.floor.child.pid),
		switchyard: readMemory(servers.switchyard.child.pid),
	}
	const figures = (at: Memory, end: Memory) => ({
		idleMiB: at.rssMiB,
		startupPeakMiB: at.hwmMiB,
		peakMiB: end.hwmMiB,
		afterMiB: end.rssMiB,
	})
	const memory: MemoryFigures = {
		floor: figures(idle.floor, after.floor),
		switchyard: figures(idle.switchyard, after.switchyard),
		peakReset,
	}
	progress('stopping Switchyard (SIGTERM) and counting its request_log rows')
	running = undefined
	children.delete(servers.switchyard.child)
	const stopped = await stopSwitchyard(servers.switchyard)
	const log: LogCheck = {
		sent,
		rows: stopped.rows,
		rowsByStatus: stopped.rowsByStatus,
		exitCode: stopped.exitCode,
		pass: stopped.exitCode === 0 && stopped.rows === sent,
	}
	progress(
		`Switchyard stopped in ${Math.round(stopped.stopMs)} ms; ${stopped.rows} rows for ${sent} requests sent`,
	)
	return { ...report(memory, log), ok: log.pass }
}

async function stopAll() {
	if (running) {
		const switchyard = running
		running = undefined
		children.delete(switchyard.child)
		await stopSwitchyard(switchyard).catch(() => {})
	}
	for (const child of children) {
		child.kill('SIGTERM')
		await exitWithin(child, 5000)
	}
	children.clear()
}

function emptyData(): RoundData {
	const perScenario = <T>(make: () => T) =>
		Object.fromEntries(SCENARIO_NAMES.map((name) => [name, make()])) as Record<ScenarioName, T>
	return {
		throughput: perScenario(() => ({})),
		latency: perScenario(() => ({ 1000: {}, 5000: {} })),
		ttfb: perScenario(() => ({})),
	}
}

function contextFor(servers: Servers, loadCpu: number, target: TargetName): Context {
	const pids = {
		floor: servers.floor.child.pid,
		switchyard: servers.switchyard.child.pid,
	}
	const others = [pids.floor, pids.switchyard, process.pid].filter(
		(pid) => target === 'direct' || pid !== pids[target],
	)
	return {
		loadCpu,
		pids: {
			target: target === 'direct' ? undefined : pids[target],
			upstream: servers.upstream.child.pid,
			others,
		},
	}
}

function originOf(servers: Servers, target: TargetName): string {
	if (target === 'direct') return servers.upstream.url
	if (target === 'floor') return servers.floor.url
	return servers.switchyard.origin
}

/** The rounds: every measurement of a round runs each target back to back (floor, Switchyard, …). */
async function runRounds(servers: Servers, loadCpu: number, plan: Plan, roundsGiven: boolean) {
	const key = servers.switchyard.key
	const data = emptyData()
	let sent = 0
	const push = <T>(bucket: Partial<Record<TargetName, T[]>>, target: TargetName, sample: T) => {
		const list = bucket[target] ?? []
		list.push(sample)
		bucket[target] = list
	}
	const count = (target: TargetName, n: number) => {
		if (target === 'switchyard') sent += n
	}

	progress(`warm-up: ${plan.warmupSeconds} s of wrk and a few streams per server and scenario`)
	for (const scenario of SCENARIO_NAMES) {
		for (const target of ['floor', 'switchyard'] as const) {
			const context = contextFor(servers, loadCpu, target)
			const origin = originOf(servers, target)
			const wrk = await runWrk(context, origin, loadFor(scenario, target, key, false), plan.warmupSeconds)
			count(target, wrk.sent)
			const streams = await runOpenLoop(
				context,
				origin,
				loadFor(scenario, target, key, true),
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
		if (!roundsGiven && longest > 0 && now - startedAt + longest + 15_000 > BUDGET_MS) {
			progress(`skipping rounds ${round}–${plan.rounds}: they would not end within 10 minutes`)
			break
		}
		roundStarted.push(now)
		progress(`round ${round}/${plan.rounds}`)
		for (const scenario of SCENARIO_NAMES) {
			for (const target of ['floor', 'switchyard'] as const) {
				const sample = await runWrk(
					contextFor(servers, loadCpu, target),
					originOf(servers, target),
					loadFor(scenario, target, key, false),
					plan.throughputSeconds,
				)
				count(target, sample.sent)
				push(data.throughput[scenario], target, sample)
				progress(`  ${scenario} throughput ${target}: ${Math.round(sample.requestsPerSecond)} req/s`)
			}
		}
		for (const scenario of SCENARIO_NAMES) {
			for (const rate of RATES) {
				for (const target of TARGETS) {
					const sample = await runOpenLoop(
						contextFor(servers, loadCpu, target),
						originOf(servers, target),
						loadFor(scenario, target, key, false),
						rate,
						plan.latencyMs,
						plan.drainMs,
					)
					count(target, sample.sent)
					push(data.latency[scenario][rate], target, sample)
					progress(
						`  ${scenario} ${rate}/s ${target}: p50 ${sample.latencyMs?.p50.toFixed(2)} ms, ` +
							`p99 ${sample.latencyMs?.p99.toFixed(2)} ms, ${sample.ok}/${sample.scheduled} ok`,
					)
				}
			}
		}
		for (const scenario of SCENARIO_NAMES) {
			for (const target of TARGETS) {
				const sample = await runOpenLoop(
					contextFor(servers, loadCpu, target),
					originOf(servers, target),
					loadFor(scenario, target, key, true),
					plan.ttfbRate,
					plan.ttfbMs,
					plan.drainMs,
				)
				count(target, sample.sent)
				push(data.ttfb[scenario], target, sample)
				progress(`  ${scenario} streaming ${target}: TTFB p50 ${sample.ttfbMs?.p50.toFixed(2)} ms`)
			}
		}
		rounds = round
	}
	return { data, sent, rounds }
}

/** Switchyard alone at 1,000 req/s; VmRSS after every 10-second window. */
async function runSoak(servers: Servers, loadCpu: number, minutes: number, drainMs: number) {
	const key = servers.switchyard.key
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
		const sample = await runOpenLoop(
			context,
			servers.switchyard.origin,
			load,
			SOAK_RATE,
			SOAK_WINDOW_MS,
			drainMs,
		)
		sent += sample.sent
		const memory = readMemory(servers.switchyard.child.pid)
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

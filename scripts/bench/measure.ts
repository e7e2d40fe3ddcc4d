/**
 * One measurement = one load-generator process on the load core (wrk for closed-loop throughput, the
 * open-loop generator for fixed rates), bounded in time, plus the CPU the target and the upstream spent
 * meanwhile and how busy the machine was with anything else (a shared machine drifts; rounds absorb it).
 */
import { join } from 'node:path'
import type { OpenLoopResult, OpenLoopSpec } from './open-loop'
import { type PostgresCpu, postgresCpu, postgresCpuSpent } from './postgres'
import {
	baseEnv,
	type Child,
	coreBusyMs,
	cpuMs,
	exitWithin,
	type Memory,
	readMemory,
	spawnPinned,
	waitForLine,
} from './processes'
import type { Load } from './scenarios'

const HERE = import.meta.dir
/** Closed-loop concurrency of the throughput test. */
export const CONNECTIONS = 32

export interface CpuUse {
	wallMs: number
	/** CPU time of the server under test (all its threads; every instance of it) during the measurement. */
	targetMs: number
	upstreamMs: number
	generatorMs: number
	/**
	 * CPU time of the PostgreSQL server, when the benchmark runs Switchyard on a local one: its connections
	 * to the benchmark's databases (`backendsMs`), and its own processes (`backgroundMs`: WAL writer,
	 * checkpointer, background writer, autovacuum, postmaster), which serve the server's other databases too.
	 */
	postgres: { backendsMs: number; backgroundMs: number } | undefined
	/**
	 * Busy time of all cores that none of the benchmark's processes account for, in % of one core: other
	 * work on a shared machine. Near 0 on a quiet one.
	 */
	foreignPct: number
	/** Each target process's memory right after the measurement (VmHWM: the peak so far). */
	targetMemory: Memory[]
}

export interface ThroughputSample {
	requestsPerSecond: number
	/** Answers wrk read in full. */
	requests: number
	/** Requests wrk wrote, answered or not: what the server received. */
	sent: number
	errors: number
	errorDetail: Record<string, number>
	/** Closed-loop latency, for reference only (it hides queueing: see the open-loop figures). */
	latencyP50Ms: number
	latencyP99Ms: number
	cpuUsPerRequest: number
	/** PostgreSQL's CPU per request sent (µs), when measured (see CpuUse.postgres). */
	postgresUsPerRequest: { backends: number; background: number } | undefined
	cpu: CpuUse
}

export interface OpenLoopSample extends OpenLoopResult {
	cpuUsPerRequest: number
	postgresUsPerRequest: { backends: number; background: number } | undefined
	cpu: CpuUse
}

export interface Context {
	loadCpu: number
	/** The long-lived processes: the target's (none for direct, two for two instances), the others, the upstream. */
	pids: { targets: number[]; upstream: number; others: number[] }
	/** The benchmark's PostgreSQL databases, on a local server whose processes' CPU is read; none without. */
	postgresDatabases: string[] | undefined
	/** The target runs on PostgreSQL: its samples report PostgreSQL's CPU per request. */
	onPostgres: boolean
}

interface Snapshot {
	at: number
	cores: number[]
	target: number
	upstream: number
	others: number
	postgres: PostgresCpu | undefined
}

function snapshot(context: Context): Snapshot {
	const { targets, upstream, others } = context.pids
	return {
		at: performance.now(),
		cores: coreBusyMs(),
		target: targets.reduce((sum, pid) => sum + cpuMs(pid), 0),
		upstream: cpuMs(upstream),
		others: others.reduce((sum, pid) => sum + cpuMs(pid), 0),
		postgres: context.postgresDatabases && postgresCpu(context.postgresDatabases),
	}
}

function perRequest(context: Context, cpu: CpuUse, sent: number) {
	const us = (ms: number) => (ms * 1000) / Math.max(1, sent)
	return {
		cpuUsPerRequest: us(cpu.targetMs),
		postgresUsPerRequest:
			context.onPostgres && cpu.postgres
				? { backends: us(cpu.postgres.backendsMs), background: us(cpu.postgres.backgroundMs) }
				: undefined,
	}
}

function cpuUse(context: Context, before: Snapshot, after: Snapshot, generator: Child): CpuUse {
	const wallMs = after.at - before.at
	const busy = after.cores.reduce((sum, ms, core) => sum + ms - (before.cores[core] ?? 0), 0)
	const generatorMs = Number(generator.resourceUsage()?.cpuTime.total ?? 0n) / 1000
	const targetMs = after.target - before.target
	const upstreamMs = after.upstream - before.upstream
	const postgres = before.postgres && after.postgres && postgresCpuSpent(before.postgres, after.postgres)
	const ours =
		targetMs +
		upstreamMs +
		generatorMs +
		(after.others - before.others) +
		(postgres ? postgres.backendsMs + postgres.backgroundMs : 0)
	return {
		wallMs,
		targetMs,
		upstreamMs,
		generatorMs,
		postgres,
		foreignPct: Math.max(0, ((busy - ours) / wallMs) * 100),
		targetMemory: context.pids.targets.map(readMemory),
	}
}

/** A generator that overran its time (or died) is killed before the error goes on. */
const killed = (child: Child) => (error: unknown) => {
	child.kill('SIGKILL')
	throw error
}

/**
 * Closed loop: wrk with CONNECTIONS keep-alive connections for `seconds` (wrk counts whole seconds). With
 * several origins (instances on 127.0.0.1), wrk runs one thread per origin, each with its share of the
 * connections (wrk.lua points each thread at its own port): round robin by connection, as a load balancer
 * that spreads connections does.
 */
export async function runWrk(context: Context, origins: string[], load: Load, seconds: number) {
	const ports = origins.map((origin) => new URL(origin).port)
	const env = {
		...baseEnv(),
		BENCH_BODY: load.body,
		BENCH_HEADERS: Object.entries(load.headers)
			.map(([name, value]) => `${name}: ${value}`)
			.join('\n'),
		...(origins.length > 1 && { BENCH_PORTS: ports.join(',') }),
	}
	const argv = [
		'wrk',
		`-t${origins.length}`,
		`-c${CONNECTIONS}`,
		`-d${seconds}s`,
		'--timeout',
		'5s',
		'-s',
		join(HERE, 'wrk.lua'),
		(origins[0] ?? '') + load.path,
	]
	const before = snapshot(context)
	const child = spawnPinned(context.loadCpu, argv, env)
	const log: string[] = []
	const line = await waitForLine(child.stdout, /WRK_JSON (.+)\n/, (seconds + 20) * 1000, log).catch(
		killed(child),
	)
	await exitWithin(child, 5000)
	const after = snapshot(context)
	const summary = JSON.parse(line[1] ?? '') as {
		requests: number
		sent: number
		durationUs: number
		errors: Record<string, number>
		latencyUs: { p50: number; p99: number }
	}
	const cpu = cpuUse(context, before, after, child)
	return {
		requestsPerSecond: summary.requests / (summary.durationUs / 1e6),
		requests: summary.requests,
		sent: summary.sent,
		errors: Object.values(summary.errors).reduce((sum, n) => sum + n, 0),
		errorDetail: summary.errors,
		latencyP50Ms: summary.latencyUs.p50 / 1000,
		latencyP99Ms: summary.latencyUs.p99 / 1000,
		...perRequest(context, cpu, summary.sent),
		cpu,
	} satisfies ThroughputSample
}

/**
 * Open loop: `rate` requests per second for `durationMs`, timed from their scheduled send times. With
 * several origins, the requests go to them in turn (round robin by request).
 */
export async function runOpenLoop(
	context: Context,
	origins: string[],
	load: Load,
	rate: number,
	durationMs: number,
	drainMs: number,
): Promise<OpenLoopSample> {
	const spec: OpenLoopSpec = { origins, ...load, rate, durationMs, drainMs }
	const argv = ['bun', '--no-env-file', join(HERE, 'open-loop.ts'), JSON.stringify(spec)]
	const before = snapshot(context)
	const child = spawnPinned(context.loadCpu, argv, baseEnv())
	const log: string[] = []
	const line = await waitForLine(child.stdout, /RESULT (.+)\n/, durationMs + drainMs + 20_000, log).catch(
		killed(child),
	)
	await exitWithin(child, 5000)
	const after = snapshot(context)
	const result = JSON.parse(line[1] ?? '') as OpenLoopResult
	const cpu = cpuUse(context, before, after, child)
	return { ...result, ...perRequest(context, cpu, result.sent), cpu }
}

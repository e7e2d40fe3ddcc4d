// Runtime tuning: every setting by which the server departs from Bun's, JavaScriptCore's, SQLite's and
// Linux's defaults to spend less CPU or memory, in one place and behind one switch (RUNTIME_TUNING, on by
// default). None changes what the server answers or writes, only what that costs; with the switch off it
// runs on plain defaults. Each note says why a setting exists and names the part of docs/performance.md
// that measured it; its table "Why each runtime setting exists" has the figures.
//
// Settings that make the server correct stay where they are: WAL, foreign keys, `synchronous = NORMAL`
// and the busy timeout of each connection (`db/client.ts`, `src/request-log/log-worker.ts`). The upstream
// client is no setting: every call goes through `fetch`, which never sends a request twice
// (`src/providers/upstream-http.ts`); only the policy of the thread that sends it is tuned here.
import type { Database } from 'bun:sqlite'
import type { Config } from '../config'
import {
	batchThreadsNamed,
	HTTP_CLIENT_THREAD,
	idleCurrentThread,
	startHttpClientThread,
	type ThreadSwitch,
	warnIfFailed,
} from './threads'

/** What the request log's writer thread changes from the defaults (`src/request-log/log-worker.ts`). */
export interface LogWriterTuning {
	/** The thread switches itself to SCHED_IDLE. */
	readonly idleThread: boolean
	/** The thread gets Bun's small heap (`smol`). */
	readonly smolHeap: boolean
	/** The page cache of its connection, in KiB; undefined keeps SQLite's default (2,000 KiB). */
	readonly cacheKib: number | undefined
	/** It checkpoints the WAL on this timer; undefined leaves checkpoints to SQLite. */
	readonly checkpointMs: number | undefined
}

export interface RuntimeTuning {
	/** JavaScriptCore options, read from the environment as the process starts (`ensureJscSettings`). */
	readonly jscEnv: Readonly<Record<string, string>>
	/** Bun's HTTP client thread, which sends every upstream call, runs as SCHED_BATCH (`tuneThreads`). */
	readonly batchHttpClientThread: boolean
	/** `wal_autocheckpoint` of the serving connection; undefined keeps SQLite's default (1,000 pages). */
	readonly servingWalAutocheckpoint: number | undefined
	readonly logWriter: LogWriterTuning
}

/** RUNTIME_TUNING=on (the default). Each note ends with the part of docs/performance.md that measured it. */
export const TUNED_RUNTIME: RuntimeTuning = Object.freeze({
	jscEnv: Object.freeze({
		// Heap growth sized as for a 512 MiB machine, not by the host's RAM: a far lower peak ("Peak memory").
		BUN_JSC_forceRAMSize: '536870912',
		// The FTL tier's compilations cost memory at peak and bought no throughput ("Peak memory").
		BUN_JSC_useFTLJIT: 'false',
		// The heap grows to 1.7× what survived a collection, not 2×: less memory at peak ("Peak memory").
		BUN_JSC_smallHeapGrowthFactor: '1.7',
	}),
	// Woken, it preempted the event loop; batch, it runs when the loop waits ("Bun's HTTP client thread").
	batchHttpClientThread: true,
	// The log writer runs the checkpoints and their fsyncs, not the event loop ("p50 and p99 at 5,000 req/s").
	servingWalAutocheckpoint: 0,
	logWriter: Object.freeze({
		// Only CPU time nothing else wants: its writes never delay a request ("The log writer thread").
		idleThread: true,
		// Less memory at peak for the writer's heap, for about the same CPU ("Where the time goes").
		smolHeap: true,
		// Appending rows never reads old pages: more cache holds pages never reused ("Peak memory").
		cacheKib: 256,
		// Folds in the serving connection's writes too, as it checkpoints none ("p50 and p99 at 5,000 req/s").
		checkpointMs: 5000,
	}),
})

/** RUNTIME_TUNING=off: Bun's, JavaScriptCore's, SQLite's and Linux's defaults. */
export const PLAIN_RUNTIME: RuntimeTuning = Object.freeze({
	jscEnv: Object.freeze({}),
	batchHttpClientThread: false,
	servingWalAutocheckpoint: undefined,
	logWriter: Object.freeze({
		idleThread: false,
		smolHeap: false,
		cacheKib: undefined,
		checkpointMs: undefined,
	}),
})

export function runtimeTuning(config: Pick<Config, 'runtimeTuning'>): RuntimeTuning {
	return config.runtimeTuning ? TUNED_RUNTIME : PLAIN_RUNTIME
}

type Execve = (file: string, args: readonly string[], env: Record<string, string>) => never

/**
 * JavaScriptCore reads its options from the environment once, as Bun starts: nothing set later reaches
 * it, and a launcher that set them (`bun start`, the Dockerfile) would be a second copy of the settings
 * that RUNTIME_TUNING could not turn off. So when a name of `tuning.jscEnv` is missing from the environment,
 * the server replaces itself with `execve` (the same process id, program, arguments and Bun flags) with the
 * setting added, before it opens anything; the new process finds every name set and goes on. A value
 * already in the environment wins. Where `execve` is missing or fails, it says so and runs without.
 */
export function ensureJscSettings(
	tuning: RuntimeTuning,
	env: Record<string, string | undefined> = process.env,
	execve: Execve | null = (process.execve as Execve | undefined) ?? null,
) {
	const missing = Object.keys(tuning.jscEnv).filter((name) => env[name] === undefined)
	if (missing.length === 0) return
	const next: Record<string, string> = {}
	for (const [name, value] of Object.entries(env)) if (value !== undefined) next[name] = value
	for (const name of missing) next[name] = tuning.jscEnv[name] as string
	try {
		if (!execve) throw new Error('this runtime has no process.execve')
		execve(process.execPath, [process.argv0, ...process.execArgv, ...process.argv.slice(1)], next)
	} catch (error) {
		const reason = error instanceof Error ? error.message : String(error)
		console.warn(`runtime tuning: could not restart with ${missing.join(', ')} (${reason}); running without`)
	}
}

/**
 * Switches Bun's HTTP client thread to SCHED_BATCH, starting it first, so that it is batch before the
 * first upstream call. Called once at boot; says on stderr when `chrt` is missing or refused.
 */
export async function tuneThreads(tuning: RuntimeTuning, chrt = 'chrt'): Promise<ThreadSwitch | 'off'> {
	if (!tuning.batchHttpClientThread) return 'off'
	await startHttpClientThread()
	const outcome = batchThreadsNamed(HTTP_CLIENT_THREAD, chrt)
	warnIfFailed(
		outcome,
		"upstream calls: could not switch Bun's HTTP client thread to SCHED_BATCH",
		'each call costs more CPU',
	)
	return outcome
}

/** The serving connection's tuning (`createDeps`). */
export function tuneServingConnection(sqlite: Database, tuning: RuntimeTuning) {
	if (tuning.servingWalAutocheckpoint !== undefined) {
		sqlite.run(`PRAGMA wal_autocheckpoint = ${tuning.servingWalAutocheckpoint}`)
	}
}

/** On the log writer's own thread, as it starts: its scheduling policy. */
export function tuneLogWriterThread(writer: LogWriterTuning): Promise<ThreadSwitch | 'off'> {
	if (!writer.idleThread) return Promise.resolve('off')
	const outcome = idleCurrentThread()
	warnIfFailed(
		outcome,
		'request log: could not switch the log writer thread to SCHED_IDLE',
		'its writes can delay requests',
	)
	return outcome
}

/** The log writer's connection: its page cache, and its checkpoint timer (to clear at close), if any. */
export function tuneLogWriterConnection(
	sqlite: Database,
	writer: LogWriterTuning,
): ReturnType<typeof setInterval> | undefined {
	if (writer.cacheKib !== undefined) sqlite.run(`PRAGMA cache_size = -${writer.cacheKib}`)
	if (writer.checkpointMs === undefined) return undefined
	return setInterval(() => sqlite.run('PRAGMA wal_checkpoint(PASSIVE)'), writer.checkpointMs)
}

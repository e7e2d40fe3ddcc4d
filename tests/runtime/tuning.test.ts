import type { Database } from 'bun:sqlite'
import { describe, expect, it, spyOn } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createDb } from '../../db/client'
import { ConfigError, loadConfig } from '../../src/config'
import { closeDeps, createDeps } from '../../src/deps'
import { RequestLog } from '../../src/request-log/request-log'
import {
	ensureJscSettings,
	type LogWriterTuning,
	PLAIN_RUNTIME,
	runtimeTuning,
	TUNED_RUNTIME,
	tuneLogWriterConnection,
	tuneServingConnection,
	tuneThreads,
} from '../../src/runtime/tuning'
import { TEST_PASSWORD_COST } from '../helpers/app'
import { minimalEntry } from '../helpers/log-entries'
import {
	HTTP_CLIENT_THREAD,
	JSC_SETTINGS,
	policies,
	SCHED_BATCH,
	SCHED_IDLE,
	SCHED_OTHER,
	threadPolicy,
	threadsNamed,
	WORKER_THREAD,
} from '../helpers/threads'
import { until } from '../helpers/until'

const randomBase64 = (bytes: number) =>
	Buffer.from(crypto.getRandomValues(new Uint8Array(bytes))).toString('base64')

/** A fresh folder, removed at disposal. */
function tempFolder() {
	const path = mkdtempSync(join(tmpdir(), 'switchyard-tuning-'))
	return { path, [Symbol.dispose]: () => rmSync(path, { recursive: true, force: true }) }
}

/** A migrated database file in WAL mode, as the server opens it. */
function openDatabase(dir: string) {
	const path = join(dir, 'switchyard.db')
	return { path, sqlite: createDb(path).sqlite }
}

const pragma = (sqlite: Database, name: string) =>
	Object.values(sqlite.query(`PRAGMA ${name}`).get() as Record<string, number>)[0]

describe('runtimeTuning', () => {
	it('is on unless RUNTIME_TUNING is off', () => {
		expect(runtimeTuning(loadConfig({}))).toBe(TUNED_RUNTIME)
		expect(runtimeTuning(loadConfig({ RUNTIME_TUNING: 'on' }))).toBe(TUNED_RUNTIME)
		expect(runtimeTuning(loadConfig({ RUNTIME_TUNING: 'off' }))).toBe(PLAIN_RUNTIME)
	})

	it('refuses a RUNTIME_TUNING other than on or off', () => {
		expect(() => loadConfig({ RUNTIME_TUNING: 'false' })).toThrow(
			new ConfigError(['RUNTIME_TUNING must be on or off (got "false")']),
		)
	})

	it('sets every setting when on, and none when off', () => {
		expect(TUNED_RUNTIME).toEqual({
			jscEnv: JSC_SETTINGS,
			batchHttpClientThread: true,
			servingWalAutocheckpoint: 0,
			logWriter: { idleThread: true, smolHeap: true, cacheKib: 256, checkpointMs: 5000 },
		})
		expect(PLAIN_RUNTIME).toEqual({
			jscEnv: {},
			batchHttpClientThread: false,
			servingWalAutocheckpoint: undefined,
			logWriter: { idleThread: false, smolHeap: false, cacheKib: undefined, checkpointMs: undefined },
		})
	})
})

describe('ensureJscSettings', () => {
	/** An `execve` that records its call instead of replacing the test process. */
	function recordingExecve() {
		const calls: { file: string; args: readonly string[]; env: Record<string, string> }[] = []
		const execve = (file: string, args: readonly string[], env: Record<string, string>) => {
			calls.push({ file, args, env })
			return undefined as never
		}
		return { calls, execve }
	}

	it('starts the program again with the settings missing from the environment, keeping values set', () => {
		const { calls, execve } = recordingExecve()
		ensureJscSettings(TUNED_RUNTIME, { PATH: '/bin', BUN_JSC_useFTLJIT: 'true', UNSET: undefined }, execve)
		expect(calls).toEqual([
			{
				file: process.execPath,
				args: [process.argv0, ...process.execArgv, ...process.argv.slice(1)],
				env: { ...JSC_SETTINGS, PATH: '/bin', BUN_JSC_useFTLJIT: 'true' },
			},
		])
	})

	it('goes on when every setting is in the environment', () => {
		const { calls, execve } = recordingExecve()
		ensureJscSettings(TUNED_RUNTIME, { PATH: '/bin', ...JSC_SETTINGS }, execve)
		expect(calls).toEqual([])
	})

	it('adds no setting when tuning is off', () => {
		const { calls, execve } = recordingExecve()
		ensureJscSettings(PLAIN_RUNTIME, { PATH: '/bin' }, execve)
		expect(calls).toEqual([])
	})

	it('says so and goes on when the program cannot be started again', () => {
		using warn = spyOn(console, 'warn').mockImplementation(() => {})
		const failing = () => {
			throw new Error('execve failed')
		}
		ensureJscSettings(TUNED_RUNTIME, {}, failing)
		ensureJscSettings(TUNED_RUNTIME, {}, null)
		const names = Object.keys(JSC_SETTINGS).join(', ')
		expect(warn.mock.calls.map(([message]) => message)).toEqual([
			`runtime tuning: could not restart with ${names} (execve failed); running without`,
			`runtime tuning: could not restart with ${names} (this runtime has no process.execve); running without`,
		])
	})
})

describe('SQLite tuning', () => {
	it("leaves the serving connection's checkpoints to the writer when on, to SQLite when off", async () => {
		for (const [setting, expected] of [
			['on', 0],
			['off', 1000],
		] as const) {
			using dir = tempFolder()
			const config = loadConfig({
				DATABASE_PATH: join(dir.path, 'switchyard.db'),
				RULES_PATH: join(dir.path, 'rules.json'),
				JWT_SECRET: randomBase64(48),
				ENCRYPTION_KEY: randomBase64(32),
				RUNTIME_TUNING: setting,
			})
			const deps = await createDeps(config, { passwordCost: TEST_PASSWORD_COST })
			try {
				// The config has no DATABASE_URL: this is SQLite's own tuning, on either suite.
				expect(pragma(deps.sqlite as Database, 'wal_autocheckpoint')).toBe(expected)
			} finally {
				await closeDeps(deps)
			}
		}
	})

	it("sets the log writer's page cache and checkpoint timer only when on", () => {
		using dir = tempFolder()
		const { sqlite } = openDatabase(dir.path)
		try {
			const defaultCache = pragma(sqlite, 'cache_size')
			expect(tuneLogWriterConnection(sqlite, PLAIN_RUNTIME.logWriter)).toBeUndefined()
			expect(pragma(sqlite, 'cache_size')).toBe(defaultCache)
			const checkpoints = tuneLogWriterConnection(sqlite, TUNED_RUNTIME.logWriter)
			clearInterval(checkpoints)
			expect(checkpoints).toBeDefined()
			expect(pragma(sqlite, 'cache_size')).toBe(-256)
		} finally {
			sqlite.close()
		}
	})

	it('sets nothing on the serving connection when off', () => {
		using dir = tempFolder()
		const { sqlite } = openDatabase(dir.path)
		try {
			tuneServingConnection(sqlite, PLAIN_RUNTIME)
			expect(pragma(sqlite, 'wal_autocheckpoint')).toBe(1000)
			tuneServingConnection(sqlite, TUNED_RUNTIME)
			expect(pragma(sqlite, 'wal_autocheckpoint')).toBe(0)
		} finally {
			sqlite.close()
		}
	})
})

describe.if(process.platform === 'linux')('thread tuning', () => {
	/** Starts a request log with `tuning` and returns its writer thread's id, once the writer is open. */
	async function startWriter(dir: string, tuning: LogWriterTuning) {
		const { path, sqlite } = openDatabase(dir)
		const before = new Set(threadsNamed(WORKER_THREAD))
		const log = new RequestLog(sqlite, path, { writerTuning: tuning })
		log.record(minimalEntry('req_1'))
		await log.flush()
		const [tid] = threadsNamed(WORKER_THREAD).filter((tid) => !before.has(tid))
		if (tid === undefined) throw new Error('no new writer thread')
		return {
			tid,
			async [Symbol.asyncDispose]() {
				await log.close()
				sqlite.close()
			},
		}
	}

	it('runs the log writer thread as SCHED_IDLE only when on', async () => {
		using dir = tempFolder()
		await using plain = await startWriter(join(dir.path, 'plain'), PLAIN_RUNTIME.logWriter)
		await using tuned = await startWriter(join(dir.path, 'tuned'), TUNED_RUNTIME.logWriter)
		await until(() => threadPolicy(tuned.tid) === SCHED_IDLE, 3000)
		expect(threadPolicy(plain.tid)).toBe(SCHED_OTHER)
	})

	it("switches Bun's HTTP client thread to SCHED_BATCH only when on", async () => {
		expect(await tuneThreads(PLAIN_RUNTIME)).toBe('off')
		const tids = threadsNamed(HTTP_CLIENT_THREAD)
		for (const tid of tids) Bun.spawnSync(['chrt', '--other', '--pid', '0', String(tid)])
		expect(await tuneThreads(PLAIN_RUNTIME)).toBe('off')
		expect(policies(HTTP_CLIENT_THREAD)).toEqual(tids.map(() => SCHED_OTHER))
		expect(await tuneThreads(TUNED_RUNTIME)).toBe('switched')
		expect(policies(HTTP_CLIENT_THREAD)).toEqual([SCHED_BATCH])
	})
})

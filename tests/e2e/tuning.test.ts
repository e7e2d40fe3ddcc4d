// Runtime tuning as the server applies it to itself, in its own process.
import { describe, expect, it } from 'bun:test'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { startFakeUpstream } from '../helpers/fake-upstream'
import { startServerProcess } from '../helpers/server-process'
import {
	HTTP_CLIENT_THREAD,
	JSC_SETTINGS,
	policies,
	SCHED_BATCH,
	SCHED_IDLE,
	SCHED_OTHER,
	WORKER_THREAD,
} from '../helpers/threads'
import { until } from '../helpers/until'

const ENTRY = join(import.meta.dir, '../../src/index.ts')

/** The environment a process started with, from `/proc`. */
function environmentOf(pid: number): Record<string, string> {
	const entries = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').filter(Boolean)
	return Object.fromEntries(
		entries.map((entry) => [entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1)]),
	)
}

const jscSettingsOf = (env: Record<string, string>) =>
	Object.fromEntries(Object.entries(env).filter(([name]) => name.startsWith('BUN_JSC_')))

describe.if(process.platform === 'linux')('the server process', () => {
	/** The server with `setting`, after one upstream call (which starts Bun's HTTP client thread if needed). */
	async function startServer(setting: 'on' | 'off') {
		const upstream = await startFakeUpstream()
		const server = await startServerProcess(ENTRY, {
			OPENAI_API_KEY: 'sk-openai-test',
			OPENAI_BASE_URL: upstream.openaiBaseUrl,
			RUNTIME_TUNING: setting,
		})
		const answer = await fetch(`${server.origin}/v1/chat/completions`, {
			method: 'POST',
			headers: { authorization: `Bearer ${await server.createKey()}`, 'content-type': 'application/json' },
			body: JSON.stringify({ model: 'auto', messages: [{ role: 'user', content: 'Hello, how are you?' }] }),
		})
		expect(answer.status).toBe(200)
		return {
			pid: server.child.pid,
			async [Symbol.asyncDispose]() {
				await server[Symbol.asyncDispose]()
				await upstream[Symbol.asyncDispose]()
			},
		}
	}

	it('runs with the JavaScriptCore settings and tuned threads by default', async () => {
		await using server = await startServer('on')
		expect(jscSettingsOf(environmentOf(server.pid))).toEqual(JSC_SETTINGS)
		expect(policies(HTTP_CLIENT_THREAD, server.pid)).toEqual([SCHED_BATCH])
		await until(() => policies(WORKER_THREAD, server.pid).includes(SCHED_IDLE), 3000)
	})

	it('runs on plain defaults with RUNTIME_TUNING=off', async () => {
		await using server = await startServer('off')
		expect(jscSettingsOf(environmentOf(server.pid))).toEqual({})
		expect(policies(HTTP_CLIENT_THREAD, server.pid)).toEqual([SCHED_OTHER])
		expect(policies(WORKER_THREAD, server.pid)).toEqual([SCHED_OTHER])
	})
})

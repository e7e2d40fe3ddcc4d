import { describe, expect, test } from 'bun:test'
import {
	batchThreadsNamed,
	currentThreadId,
	HTTP_CLIENT_THREAD,
	SCHED_BATCH,
	SCHED_IDLE,
	setThreadPolicy,
	threadPolicy,
	threadsNamed,
} from '../../src/runtime/threads'

const THREADS_MODULE = Bun.resolveSync('../../src/runtime/threads', import.meta.dir)

import { startFakeUpstream } from '../helpers/fake-upstream'

const SCHED_OTHER = 0

/** Makes sure this process's HTTP client thread exists: Bun starts it with the first `fetch`. */
async function startHttpClientThread() {
	await using upstream = await startFakeUpstream()
	await (await fetch(`${upstream.openaiBaseUrl}/models`)).text()
	const tids = threadsNamed(HTTP_CLIENT_THREAD)
	expect(tids.length).toBeGreaterThan(0)
	return tids
}

describe.if(process.platform === 'linux')('thread scheduling', () => {
	test("switches Bun's HTTP client thread to SCHED_BATCH", async () => {
		const tids = await startHttpClientThread()
		for (const tid of tids) Bun.spawnSync(['chrt', '--other', '--pid', '0', String(tid)])
		expect(tids.map((tid) => threadPolicy(tid))).toEqual(tids.map(() => SCHED_OTHER))

		expect(await batchThreadsNamed(HTTP_CLIENT_THREAD)).toBe('switched')
		expect(tids.map((tid) => threadPolicy(tid))).toEqual(tids.map(() => SCHED_BATCH))
	})

	test("starts Bun's HTTP client thread without an upstream call", () => {
		const imports = 'HTTP_CLIENT_THREAD, startHttpClientThread, threadsNamed'
		const script = `import { ${imports} } from ${JSON.stringify(THREADS_MODULE)}
			const before = threadsNamed(HTTP_CLIENT_THREAD).length
			await startHttpClientThread()
			console.log(JSON.stringify([before, threadsNamed(HTTP_CLIENT_THREAD).length]))`
		const child = Bun.spawnSync([process.execPath, '--no-env-file', '-e', script])
		expect(JSON.parse(child.stdout.toString())).toEqual([0, 1])
	})

	test('finds no thread under a name no thread has', async () => {
		expect(threadsNamed('no such thread')).toEqual([])
		expect(await batchThreadsNamed('no such thread')).toBe('no-thread')
	})

	test('reports a failure, without throwing, when chrt cannot be run', async () => {
		await startHttpClientThread()
		expect(await batchThreadsNamed(HTTP_CLIENT_THREAD, '/nonexistent/chrt')).toBe('failed')
		expect(await batchThreadsNamed(HTTP_CLIENT_THREAD, 'false')).toBe('failed')
	})

	test("knows a worker's own thread, and switches it to SCHED_IDLE", async () => {
		expect(currentThreadId()).toBe(process.pid)
		const worker = new Worker(
			URL.createObjectURL(
				new Blob([
					`import { currentThreadId } from ${JSON.stringify(THREADS_MODULE)}
					postMessage(currentThreadId())
					setInterval(() => {}, 60_000) // alive until terminated`,
				]),
			),
		)
		try {
			const tid = await new Promise<number>((resolve) => {
				worker.onmessage = (event) => resolve(event.data)
			})
			expect(tid).not.toBe(process.pid)
			expect(threadPolicy(tid)).toBe(SCHED_OTHER)
			expect(await setThreadPolicy([tid], 'idle')).toBe(true)
			expect(threadPolicy(tid)).toBe(SCHED_IDLE)
			expect(await setThreadPolicy([tid], 'idle', '/nonexistent/chrt')).toBe(false)
		} finally {
			worker.terminate()
		}
	})

	test('has no policy for a thread that does not exist', () => {
		expect(threadPolicy(0)).toBeNull()
	})
})

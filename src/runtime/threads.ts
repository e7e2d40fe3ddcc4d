// Switching the server's own helper threads to another Linux scheduling policy, with `chrt` from
// util-linux (in every Debian image; no privileges needed). Which threads, which policy and why:
// `tuning.ts`. Linux only: elsewhere there is no thread to find and nothing happens.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs'

export const HTTP_CLIENT_THREAD = 'HTTP Client'
/** Linux's numbers for the SCHED_BATCH and SCHED_IDLE policies (`sched.h`). */
export const SCHED_BATCH = 3
export const SCHED_IDLE = 5

export type Policy = 'batch' | 'idle'

type Pid = number | 'self'

/** The ids of the threads named `name` in process `pid`; none where there is no `/proc` (not Linux). */
export function threadsNamed(name: string, pid: Pid = 'self'): number[] {
	let tids: string[]
	try {
		tids = readdirSync(`/proc/${pid}/task`)
	} catch {
		return []
	}
	return tids.filter((tid) => readTaskFile(pid, tid, 'comm')?.trimEnd() === name).map(Number)
}

/** A thread's scheduling policy (the 41st field of its `stat`), or null when the thread is gone. */
export function threadPolicy(tid: number, pid: Pid = 'self'): number | null {
	const stat = readTaskFile(pid, String(tid), 'stat')
	if (stat === undefined) return null
	// The name in parentheses may hold spaces ("HTTP Client"): count the fields after it.
	const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
	return Number(fields[41 - 3])
}

function readTaskFile(pid: Pid, tid: string, file: string): string | undefined {
	try {
		return readFileSync(`/proc/${pid}/task/${tid}/${file}`, 'utf8')
	} catch {
		return undefined
	}
}

/** The id of the calling thread, a worker's included; null where there is no `/proc` (not Linux). */
export function currentThreadId(): number | null {
	try {
		return Number(readlinkSync('/proc/thread-self').split('/').pop())
	} catch {
		return null
	}
}

/** Switches threads of this process to `policy` with `chrt`; false when `chrt` is missing or refused. */
export async function setThreadPolicy(
	tids: readonly number[],
	policy: Policy,
	chrt = 'chrt',
): Promise<boolean> {
	try {
		const exits = await Promise.all(
			tids.map(
				(tid) =>
					Bun.spawn([chrt, `--${policy}`, '--pid', '0', String(tid)], {
						stdin: 'ignore',
						stdout: 'ignore',
						stderr: 'ignore',
					}).exited,
			),
		)
		return exits.every((code) => code === 0)
	} catch {
		return false
	}
}

export type ThreadSwitch = 'switched' | 'no-thread' | 'failed'

/** `setThreadPolicy`, with `no-thread` when there is nothing to switch (not Linux, or not started yet). */
async function switchThreads(tids: readonly number[], policy: Policy, chrt: string): Promise<ThreadSwitch> {
	if (tids.length === 0) return 'no-thread'
	return (await setThreadPolicy(tids, policy, chrt)) ? 'switched' : 'failed'
}

/**
 * Switches this process's threads named `name` to SCHED_BATCH. Bun's HTTP client thread starts with the
 * first `fetch`: start it first (`startHttpClientThread`). `no-thread` when there is no such thread (yet,
 * or not on Linux); `failed` when `chrt` is missing or refused.
 */
export function batchThreadsNamed(name: string, chrt = 'chrt'): Promise<ThreadSwitch> {
	return switchThreads(threadsNamed(name), 'batch', chrt)
}

/**
 * Starts Bun's HTTP client thread now rather than with the first upstream call, by one request to a
 * throwaway server on the loopback interface, so that its policy is set before it sends anything.
 */
export async function startHttpClientThread(): Promise<void> {
	using server = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: () => new Response() })
	try {
		await (await fetch(server.url)).arrayBuffer()
	} catch {
		// No loopback interface: the thread starts with the first upstream call, under the normal policy.
	}
}

/** Switches the calling thread (a worker's, say) to SCHED_IDLE. */
export function idleCurrentThread(): Promise<ThreadSwitch> {
	const tid = currentThreadId()
	return switchThreads(tid === null ? [] : [tid], 'idle', 'chrt')
}

/**
 * Says on stderr that a switch failed: `failure` as the caller's log lines put it, `cost` what running
 * under the normal policy costs. Nothing is said where there was no thread to switch.
 */
export function warnIfFailed(outcome: Promise<ThreadSwitch>, failure: string, cost: string) {
	void outcome.then((result) => {
		if (result === 'failed') console.warn(`${failure} (is \`chrt\` from util-linux installed?); ${cost}`)
	})
}

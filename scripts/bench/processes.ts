/**
 * Child processes of the benchmark, pinned to a core with `taskset`, and what Linux tells about them:
 * memory from /proc/<pid>/status, CPU time from /proc/<pid>/stat and per-core busy time from /proc/stat.
 */

import { readFileSync, writeFileSync } from 'node:fs'
import type { Subprocess } from 'bun'

export type Child = Subprocess<'ignore', 'pipe', 'pipe'>

/** Environment shared by every child: no `.env` file is read (`--no-env-file`), nothing else leaks in. */
export function baseEnv(): Record<string, string> {
	return { PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp' }
}

/** Starts `argv` pinned to `cpu` (taskset execs it, so the pid is the program's own). */
export function spawnPinned(cpu: number, argv: string[], env: Record<string, string>, cwd?: string): Child {
	return Bun.spawn(['taskset', '-c', String(cpu), ...argv], {
		env,
		cwd,
		stdin: 'ignore',
		stdout: 'pipe',
		stderr: 'pipe',
	})
}

/**
 * Reads `stream` until a line matches `pattern`, within `timeoutMs`; returns the match. The rest of the
 * stream keeps being read (and kept in `log`) so the child never blocks on a full pipe.
 */
export async function waitForLine(
	stream: ReadableStream<Uint8Array>,
	pattern: RegExp,
	timeoutMs: number,
	log: string[],
): Promise<RegExpExecArray> {
	const reader = stream.getReader()
	const decoder = new TextDecoder()
	let text = ''
	let timer: ReturnType<typeof setTimeout> | undefined
	const timeout = new Promise<never>((_, reject) => {
		timer = setTimeout(
			() => reject(new Error(`no line matching ${pattern} within ${timeoutMs} ms`)),
			timeoutMs,
		)
	})
	const found = (async () => {
		for (;;) {
			const { value, done } = await reader.read()
			if (done) throw new Error(`the process ended before printing ${pattern}:\n${log.join('')}${text}`)
			text += decoder.decode(value, { stream: true })
			const match = pattern.exec(text)
			if (match) return match
		}
	})()
	try {
		const match = await Promise.race([found, timeout])
		log.push(text)
		void drain(reader, decoder, log)
		return match
	} finally {
		clearTimeout(timer)
	}
}

async function drain(reader: ReadableStreamDefaultReader<Uint8Array>, decoder: TextDecoder, log: string[]) {
	try {
		for (;;) {
			const { value, done } = await reader.read()
			if (done) return
			log.push(decoder.decode(value, { stream: true }))
			if (log.length > 200) log.splice(0, log.length - 200)
		}
	} catch {
		// The process is gone.
	}
}

/** Keeps reading a child's stream into `log` (stderr), so a chatty child never blocks. */
export function collect(stream: ReadableStream<Uint8Array>, log: string[]) {
	void drain(stream.getReader(), new TextDecoder(), log)
}

/** Resolves with the exit code, or kills the process with SIGKILL after `timeoutMs` and resolves null. */
export async function exitWithin(child: Subprocess, timeoutMs: number): Promise<number | null> {
	let timer: ReturnType<typeof setTimeout> | undefined
	const late = new Promise<null>((resolve) => {
		timer = setTimeout(() => resolve(null), timeoutMs)
	})
	const code = await Promise.race([child.exited, late])
	clearTimeout(timer)
	if (code === null) {
		child.kill('SIGKILL')
		await child.exited
	}
	return code
}

export interface Memory {
	/** VmRSS: resident now, in MiB. */
	rssMiB: number
	/** VmHWM: the highest resident size so far, in MiB. */
	hwmMiB: number
}

export function readMemory(pid: number): Memory {
	const status = readFileSync(`/proc/${pid}/status`, 'utf8')
	const kib = (name: string) =>
		Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN)
	return { rssMiB: kib('VmRSS') / 1024, hwmMiB: kib('VmHWM') / 1024 }
}

/**
 * Resets VmHWM to the current VmRSS (`clear_refs` 5, Linux ≥ 4.0), so the next reading is the peak of
 * what follows, not of start-up. False when the kernel or the permissions refuse.
 */
export function resetPeakMemory(pid: number): boolean {
	try {
		writeFileSync(`/proc/${pid}/clear_refs`, '5')
		return true
	} catch {
		return false
	}
}

let clockTicks: number | undefined

function ticksPerSecond(): number {
	if (clockTicks === undefined) {
		const out = Bun.spawnSync(['getconf', 'CLK_TCK']).stdout.toString().trim()
		clockTicks = Number(out) || 100
	}
	return clockTicks
}

/** User + system CPU time of a process (all its threads), in ms. */
export function cpuMs(pid: number): number {
	const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
	const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
	// After the command name: state is field 3 of stat(5), utime field 14 and stime field 15.
	const ticks = Number(fields[11]) + Number(fields[12])
	return (ticks * 1000) / ticksPerSecond()
}

/**
 * Busy time of each core since boot (user, nice, system, irq, softirq; not idle, iowait or steal), in ms.
 * The processes' own times (/proc/<pid>/stat) include most of the softirq work of their loopback traffic.
 */
export function coreBusyMs(): number[] {
	const busy: number[] = []
	for (const line of readFileSync('/proc/stat', 'utf8').split('\n')) {
		const match = /^cpu(\d+) (.*)$/.exec(line)
		if (!match) continue
		const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0] = (match[2] ?? '').split(' ').map(Number)
		const ticks = user + nice + system + irq + softirq
		busy[Number(match[1])] = (ticks * 1000) / ticksPerSecond()
	}
	return busy
}

/** The CPUs this process may run on (its affinity list), e.g. [0, 1]. */
export function allowedCpus(): number[] {
	const status = readFileSync('/proc/self/status', 'utf8')
	const list = /^Cpus_allowed_list:\s+(.+)$/m.exec(status)?.[1] ?? '0'
	const cpus: number[] = []
	for (const part of list.split(',')) {
		const [from, to] = part.split('-').map(Number)
		if (from === undefined || Number.isNaN(from)) continue
		for (let cpu = from; cpu <= (to ?? from); cpu++) cpus.push(cpu)
	}
	return cpus
}

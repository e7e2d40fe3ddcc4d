import { dlopen, FFIType } from 'bun:ffi'

/**
 * Nice 10: about a tenth of a shared core against a busy event loop, twice what the log writer needs at
 * saturation, and short enough time slices that a request waiting behind it waits well under a
 * millisecond. (At 19 the writer starved under saturation and its backlog grew without bound.)
 */
const WRITER_NICE = 10

/**
 * Lowers the calling thread's scheduling priority (Linux, through libc). The log writer's work can wait
 * a few milliseconds; a request must not, even when both threads share one core. Elsewhere (no libc, no
 * per-thread priorities) it does nothing: the writer then simply competes as an equal.
 */
export function lowerThreadPriority(): boolean {
	if (process.platform !== 'linux') return false
	try {
		const libc = dlopen('libc.so.6', {
			setpriority: { args: [FFIType.i32, FFIType.u32, FFIType.i32], returns: FFIType.i32 },
			gettid: { args: [], returns: FFIType.i32 },
		})
		// PRIO_PROCESS (0) with a thread id applies to that thread alone on Linux.
		const done = libc.symbols.setpriority(0, libc.symbols.gettid(), WRITER_NICE) === 0
		libc.close()
		return done
	} catch {
		return false
	}
}

import { threadPolicy, threadsNamed } from '../../src/runtime/threads'

export {
	HTTP_CLIENT_THREAD,
	SCHED_BATCH,
	SCHED_IDLE,
	threadPolicy,
	threadsNamed,
} from '../../src/runtime/threads'

/** Linux's normal scheduling policy. */
export const SCHED_OTHER = 0
/** Bun names every worker thread so. */
export const WORKER_THREAD = 'Worker'

/** The JavaScriptCore settings a tuned server runs with, written out. */
export const JSC_SETTINGS = {
	BUN_JSC_forceRAMSize: '536870912',
	BUN_JSC_useFTLJIT: 'false',
	BUN_JSC_smallHeapGrowthFactor: '1.7',
}

/** The scheduling policy of each thread with this name, in this process or another. */
export const policies = (name: string, pid: number | 'self' = 'self') =>
	threadsNamed(name, pid).map((tid) => threadPolicy(tid, pid))

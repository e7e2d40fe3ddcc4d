import { join } from 'node:path'
import { fileExists, readText, removeFile, writeFileAtomic } from '../lib/files'

/** A run that ended without a clean shutdown, as the next start found it. */
export interface UncleanStop {
	/** When that run started (ISO 8601); null when its marker could not be read. */
	startedAt: string | null
	/** Its process id; null when its marker could not be read. */
	pid: number | null
	/** When this run found the marker (ISO 8601): that run had stopped by then. */
	noticedAt: string
}

export const RUN_MARKER_FILE = 'running.json'

/**
 * `running.json` in the data folder: written at start, removed at the very end of a clean shutdown, once the
 * request log is written. Still there at the next start, it means the last run was killed (SIGKILL, out of
 * memory, power loss) with log rows in memory and requests in flight; how many, nothing records.
 */
export class RunMarker {
	private constructor(
		readonly path: string,
		private readonly content: string,
		/** The last run, when it stopped without a clean shutdown. */
		readonly uncleanStop: UncleanStop | null,
	) {}

	/** Reads what the last run left, then marks this run as running. */
	static open(dataDir: string, now = new Date(), pid = process.pid): RunMarker {
		const path = join(dataDir, RUN_MARKER_FILE)
		const uncleanStop = fileExists(path) ? readMarker(path, now) : null
		const content = `${JSON.stringify({ startedAt: now.toISOString(), pid }, null, '\t')}\n`
		writeFileAtomic(path, content)
		return new RunMarker(path, content, uncleanStop)
	}

	/** The run stopped cleanly. A marker that is no longer ours belongs to another start and stays. */
	close() {
		if (fileExists(this.path) && readText(this.path) === this.content) removeFile(this.path)
	}
}

function readMarker(path: string, now: Date): UncleanStop {
	const noticedAt = now.toISOString()
	try {
		const { startedAt, pid } = JSON.parse(readText(path)) as { startedAt?: unknown; pid?: unknown }
		const started = typeof startedAt === 'string' ? new Date(startedAt) : null
		return {
			startedAt: started && !Number.isNaN(started.getTime()) ? started.toISOString() : null,
			pid: Number.isSafeInteger(pid) && (pid as number) > 0 ? (pid as number) : null,
			noticedAt,
		}
	} catch {
		// Unreadable or half-written: the run still did not stop cleanly.
		return { startedAt: null, pid: null, noticedAt }
	}
}

/** The one line the server prints at start after an unclean stop. */
export function describeUncleanStop(stop: UncleanStop): string {
	const which =
		stop.startedAt === null
			? 'The last run'
			: `The last run (started ${stop.startedAt}${stop.pid === null ? '' : `, pid ${stop.pid}`})`
	return `${which} stopped without a clean shutdown: requests it answered in its last moments, and those in flight, may have no request log row; how many is not known.`
}

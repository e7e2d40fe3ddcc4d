/** @default 50 ms: how late a time-out or a client's departure may be noticed */
const SWEEP_INTERVAL_MS = 50

/** One upstream attempt under watch: aborted when it times out before its first byte, or when the client leaves. */
export class Attempt {
	readonly controller = new AbortController()
	timedOut = false

	constructor(
		readonly expiresAt: number,
		readonly clientSignal: AbortSignal,
		private readonly owner: Deadlines,
	) {}

	get signal(): AbortSignal {
		return this.controller.signal
	}

	/** The first byte arrived (or the attempt ended): stop watching it. */
	settle() {
		this.owner.forget(this)
	}

	abort() {
		this.controller.abort()
	}
}

/**
 * Time-outs to first byte (UPSTREAM_TIMEOUT_MS) for every attempt in flight, checked by one shared timer
 * instead of a timer and an abort listener per request: on the hot path an attempt costs one
 * AbortController and a set insertion. The same sweep aborts attempts whose client has gone away.
 */
export class Deadlines {
	private readonly watched = new Set<Attempt>()
	private timer: ReturnType<typeof setInterval> | undefined

	constructor(private readonly intervalMs = SWEEP_INTERVAL_MS) {}

	watch(timeoutMs: number, clientSignal: AbortSignal): Attempt {
		const attempt = new Attempt(performance.now() + timeoutMs, clientSignal, this)
		if (clientSignal.aborted) {
			attempt.abort()
			return attempt
		}
		this.watched.add(attempt)
		if (!this.timer) {
			this.timer = setInterval(() => this.sweep(), this.intervalMs)
			this.timer.unref?.()
		}
		return attempt
	}

	forget(attempt: Attempt) {
		this.watched.delete(attempt)
	}

	/** Aborts what expired or lost its client; stops the timer when nothing is left to watch. */
	sweep(now = performance.now()) {
		for (const attempt of this.watched) {
			const expired = now >= attempt.expiresAt
			if (!expired && !attempt.clientSignal.aborted) continue
			attempt.timedOut = expired && !attempt.clientSignal.aborted
			this.watched.delete(attempt)
			attempt.abort()
		}
		if (this.watched.size === 0 && this.timer) {
			clearInterval(this.timer)
			this.timer = undefined
		}
	}
}

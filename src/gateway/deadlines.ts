/** @default 50 ms: how late a time-out or a client's departure may be noticed */
const SWEEP_INTERVAL_MS = 50

/**
 * One upstream attempt under watch, from the request until its answer ends. It is aborted when no answer
 * began within the first-byte limit, when the whole answer outlives the total limit, or when the client
 * leaves.
 */
export class Attempt {
	readonly controller = new AbortController()
	/** Which limit ended the attempt, if one did. */
	timedOut: 'first-byte' | 'total' | undefined
	/** The upstream began a successful answer: what it generates is billed, so it is never sent again. */
	answering = false
	expiresAt: number

	constructor(
		private readonly startedAt: number,
		firstByteMs: number,
		private readonly totalMs: number,
		readonly clientSignal: AbortSignal,
		private readonly owner: Deadlines,
	) {
		this.expiresAt = startedAt + firstByteMs
	}

	get signal(): AbortSignal {
		return this.controller.signal
	}

	/** The answer's headers came with a 2xx status: from now on only the total limit applies. */
	began() {
		this.answering = true
		this.expiresAt = this.startedAt + this.totalMs
	}

	/** The attempt ended (answered, failed or handed back): stop watching it. */
	settle() {
		this.owner.forget(this)
	}

	abort() {
		this.controller.abort()
	}
}

/**
 * The time limits of every attempt in flight, checked by one shared timer instead of a timer and an abort
 * listener per request: on the hot path an attempt costs one AbortController and a set insertion. The
 * same sweep aborts attempts whose client has gone away.
 */
export class Deadlines {
	private readonly watched = new Set<Attempt>()
	private timer: ReturnType<typeof setInterval> | undefined

	constructor(private readonly intervalMs = SWEEP_INTERVAL_MS) {}

	/**
	 * Watches a new attempt: `firstByteMs` to the answer's headers (UPSTREAM_TIMEOUT_MS), `totalMs` to its
	 * end, stream included (UPSTREAM_TOTAL_TIMEOUT_MS), both from now.
	 */
	watch(firstByteMs: number, totalMs: number, clientSignal: AbortSignal): Attempt {
		const attempt = new Attempt(performance.now(), firstByteMs, totalMs, clientSignal, this)
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
			if (expired && !attempt.clientSignal.aborted) {
				attempt.timedOut = attempt.answering ? 'total' : 'first-byte'
			}
			this.watched.delete(attempt)
			attempt.abort()
		}
		if (this.watched.size === 0 && this.timer) {
			clearInterval(this.timer)
			this.timer = undefined
		}
	}
}

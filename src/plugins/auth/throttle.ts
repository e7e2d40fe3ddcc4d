/** @default 10 failures */
const DEFAULT_LIMIT = 10
/** @default 15 minutes */
const DEFAULT_WINDOW_MS = 15 * 60_000
const SWEEP_THRESHOLD = 10_000

/**
 * Counts failed logins per key (an email, a client address) in a sliding window. Once a key has
 * `limit` failures inside the window, every attempt on it is refused until the oldest one ages out,
 * so a correct guess after the limit is refused too.
 */
export class LoginThrottle {
	private readonly failures = new Map<string, number[]>()

	constructor(
		private readonly limit = DEFAULT_LIMIT,
		private readonly windowMs = DEFAULT_WINDOW_MS,
		private readonly now: () => number = Date.now,
	) {}

	/** Seconds until the most constrained key may try again; 0 when none is blocked. */
	retryAfterSeconds(keys: string[]): number {
		const now = this.now()
		let waitMs = 0
		for (const key of keys) {
			const recent = this.recent(key, now)
			if (recent.length >= this.limit) {
				const oldest = recent[recent.length - this.limit] ?? now
				waitMs = Math.max(waitMs, oldest + this.windowMs - now)
			}
		}
		return waitMs > 0 ? Math.ceil(waitMs / 1000) : 0
	}

	recordFailure(keys: string[]) {
		const now = this.now()
		if (this.failures.size > SWEEP_THRESHOLD) this.sweep(now)
		for (const key of keys) {
			const recent = this.recent(key, now)
			recent.push(now)
			this.failures.set(key, recent)
		}
	}

	reset(key: string) {
		this.failures.delete(key)
	}

	private recent(key: string, now: number): number[] {
		const all = this.failures.get(key)
		if (!all) return []
		const cutoff = now - this.windowMs
		const firstRecent = all.findIndex((at) => at > cutoff)
		return firstRecent === -1 ? [] : firstRecent === 0 ? all : all.slice(firstRecent)
	}

	private sweep(now: number) {
		for (const key of this.failures.keys()) {
			if (this.recent(key, now).length === 0) this.failures.delete(key)
		}
	}
}

/** @default 10 failures */
const DEFAULT_LIMIT = 10
/** @default 15 minutes */
const DEFAULT_WINDOW_MS = 15 * 60_000
const SWEEP_THRESHOLD = 10_000

/**
 * Failed logins per account (the normalised email) and per client address, in a sliding window. The two
 * counts refuse differently, so that failures from an address (an office NAT, a proxy, an attacker on the
 * same network) can never lock a correct password holder out:
 * - an account with `limit` failures refuses every attempt on it, the right password included, until its
 *   oldest failure ages out: that is what stops guessing one account's password;
 * - an address with `limit` failures has its wrong passwords refused, but a right password from it still
 *   signs in. The password is checked first to tell the two apart.
 */
export class LoginThrottle {
	/** Failure times per key, oldest first: the newest `limit` decide when a key frees; no more are kept. */
	private readonly failures = new Map<string, number[]>()

	constructor(
		private readonly limit = DEFAULT_LIMIT,
		private readonly windowMs = DEFAULT_WINDOW_MS,
		private readonly now: () => number = Date.now,
	) {}

	/** Seconds before `account` may be tried again, 0 when it may. */
	accountRetryAfter(account: string): number {
		return this.retryAfter(accountKey(account), this.now())
	}

	/**
	 * Counts a wrong password against its account and its address. Returns the seconds for `Retry-After`
	 * when the attempt is refused (its account or address had reached the limit before it), 0 when it is
	 * an ordinary wrong password.
	 */
	recordFailure(account: string, address: string): number {
		const now = this.now()
		if (this.failures.size > SWEEP_THRESHOLD) this.sweep(now)
		const keys = [accountKey(account), addressKey(address)]
		const refused = keys.some((key) => this.retryAfter(key, now) > 0)
		for (const key of keys) this.failures.set(key, [...this.recent(key, now), now].slice(-this.limit))
		return refused ? Math.max(...keys.map((key) => this.retryAfter(key, now))) : 0
	}

	/**
	 * A right password clears its account's failures. The address keeps its count: on a shared address, one
	 * user signing in must not reset the count of someone guessing from there.
	 */
	recordSuccess(account: string) {
		this.failures.delete(accountKey(account))
	}

	private retryAfter(key: string, now: number): number {
		const recent = this.recent(key, now)
		if (recent.length < this.limit) return 0
		const oldest = recent[recent.length - this.limit] ?? now
		return Math.ceil((oldest + this.windowMs - now) / 1000)
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

const accountKey = (account: string) => `account:${account}`
const addressKey = (address: string) => `address:${address}`

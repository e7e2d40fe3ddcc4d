/**
 * Per-key request limits as token buckets: a key limited to N requests per minute holds up to N tokens,
 * refilled continuously, so short bursts pass and a sustained excess is refused. In memory: one process
 * serves the gateway.
 */
export class KeyRateLimiter {
	private readonly buckets = new Map<number, { tokens: number; updatedAt: number }>()

	/** Takes one request for `keyId`; returns 0 when allowed, else the seconds until the next token. */
	take(keyId: number, perMinute: number, now = performance.now()): number {
		const refillPerMs = perMinute / 60_000
		const bucket = this.buckets.get(keyId) ?? { tokens: perMinute, updatedAt: now }
		bucket.tokens = Math.min(perMinute, bucket.tokens + (now - bucket.updatedAt) * refillPerMs)
		bucket.updatedAt = now
		this.buckets.set(keyId, bucket)
		if (bucket.tokens >= 1) {
			bucket.tokens -= 1
			return 0
		}
		return Math.max(1, Math.ceil((1 - bucket.tokens) / refillPerMs / 1000))
	}
}

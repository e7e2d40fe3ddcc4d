import type { SQL } from 'bun'

/**
 * Per-key request limits as token buckets: a key limited to N requests per minute holds up to N tokens,
 * refilled continuously, so short bursts pass and a sustained excess is refused. In memory: one process
 * serves the gateway; with PostgreSQL, `SharedKeyRateLimiter` keeps the same buckets in the database.
 */
export class KeyRateLimiter implements RateLimiter {
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

/** A key's token bucket, wherever it is kept: 0 when the request may go, else seconds until a token. */
export interface RateLimiter {
	take(keyId: number, perMinute: number): number | Promise<number>
}

/**
 * The same token buckets on PostgreSQL, shared by every instance, so N instances allow a key its limit
 * and not N times it. Taking a token is one conditional upsert: the refill since the last take and the
 * take itself happen in one statement, so concurrent requests on any instances cannot take the same token.
 * A refused request takes nothing (a second query then reads when the next token comes). Each instance
 * stamps time with its own clock; a clock behind the last stamp refills nothing rather than going back.
 */
export class SharedKeyRateLimiter implements RateLimiter {
	constructor(
		private readonly postgres: SQL,
		private readonly clock: () => number = Date.now,
	) {}

	async take(keyId: number, perMinute: number): Promise<number> {
		const now = this.clock()
		const refillPerMs = perMinute / 60_000
		const sql = this.postgres
		const refilled = sql`LEAST(${perMinute}::float8, rate_limit_buckets.tokens + GREATEST(0, ${now}::bigint - rate_limit_buckets.updated_at) * ${refillPerMs}::float8)`
		const taken = await sql`
			INSERT INTO rate_limit_buckets (key_id, tokens, updated_at) VALUES (${keyId}, ${perMinute - 1}, ${now})
			ON CONFLICT (key_id) DO UPDATE
				SET tokens = ${refilled} - 1, updated_at = GREATEST(rate_limit_buckets.updated_at, ${now}::bigint)
				WHERE ${refilled} >= 1
			RETURNING key_id`
		if (taken.length > 0) return 0
		const [bucket] = await sql`SELECT tokens, updated_at FROM rate_limit_buckets WHERE key_id = ${keyId}`
		const tokens = Math.min(
			perMinute,
			Number(bucket?.tokens ?? 0) + Math.max(0, now - Number(bucket?.updated_at ?? now)) * refillPerMs,
		)
		return Math.max(1, Math.ceil((1 - tokens) / refillPerMs / 1000))
	}
}

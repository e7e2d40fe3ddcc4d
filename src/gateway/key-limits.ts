// A gateway key's own limits (SPEC "Spend control"): requests per minute, tokens per minute (input plus
// output, reserved before the upstream call and settled with the real count, like money) and requests in
// flight, in one call on the hot path, with the `x-ratelimit-*` headers OpenAI sends. In memory on SQLite
// (one process, here); on PostgreSQL one row per key shared by every instance (`shared-key-limits.ts`).
// docs/architecture.md, "Key limits".
import type { Principal } from '../keys/gateway-keys'

/** What the limits read of a principal. */
export type LimitedPrincipal = Pick<
	Principal,
	'keyId' | 'rateLimitPerMinute' | 'tokensPerMinute' | 'maxConcurrent'
>

/** Where one per-minute bucket stands: what its three `x-ratelimit-*` headers report. */
export interface BucketState {
	/** The key's limit per minute. */
	limit: number
	/** Whole units a request could take now, never below 0. */
	remaining: number
	/** Milliseconds until the bucket is full again: OpenAI's "resets to its initial state". */
	resetMs: number
}

/** A request admitted under its key's limits, until `settle` or `release`. */
export interface Grant {
	readonly keyId: number
	/** Tokens taken from the key's per-minute bucket at admission; 0 without a token limit. */
	readonly reservedTokens: number
	/** The token limit the reservation was taken under; null for none. */
	readonly tokensPerMinute: number | null
	/** The slot this request holds among the key's requests in flight; null without a concurrency limit. */
	readonly lease: string | null
	/** The buckets just after admission; null for a limit the key does not have. */
	readonly requests: BucketState | null
	readonly tokens: BucketState | null
	/** Set by the first `settle` or `release`: every later call does nothing. */
	done: boolean
}

export type LimitCode = 'rate_limit_exceeded' | 'tokens_exceeded' | 'concurrency_exceeded'

export type Taken =
	| { ok: true; grant: Grant }
	| {
			ok: false
			code: LimitCode
			/** Whole seconds, at least 1: when the request would fit, were nothing else to take first. */
			retryAfterSeconds: number
			message: string
			/** The `x-ratelimit-*` headers and `retry-after`, for the 429. */
			headers: Record<string, string>
	  }

/**
 * The limits on the hot path. `take` returns synchronously when it can (a key without limits, or memory),
 * so a caller that awaits only a promise keeps the no-limit path free of awaits:
 * `const t = limits.take(p, n, now); const taken = t instanceof Promise ? await t : t`.
 */
export type Refusal = Extract<Taken, { ok: false }>

export interface KeyLimits {
	/**
	 * Admits a request under its key's limits, or refuses it, taking nothing. `estimateTokens` is its worst
	 * case (prompt estimate plus `max_tokens`, or the model's maximum output), only read with a token limit.
	 */
	take(principal: LimitedPrincipal, estimateTokens: number, now?: number): Taken | Promise<Taken>
	/**
	 * The request ended, with `actualTokens` input plus output (0 when nothing was billed): the difference to
	 * what it reserved is given back or taken (the bucket may go below zero: the next requests wait), and its
	 * slot is freed. Idempotent; never throws (on PostgreSQL a failure is logged and the slot expires).
	 */
	settle(grant: Grant, actualTokens: number, now?: number): void | Promise<void>
	/** The request ended without using tokens: `settle(grant, 0)`. */
	release(grant: Grant, now?: number): void | Promise<void>
	/** The `x-ratelimit-*` headers of an admitted request; none for a key without limits. */
	headers(grant: Grant): Readonly<Record<string, string>>
}

export interface KeyLimitsOptions {
	/**
	 * How long a slot among a key's requests in flight outlives a request that never gave it back (a crashed
	 * instance): longer than any request may run, UPSTREAM_TOTAL_TIMEOUT_MS and its fallbacks.
	 */
	leaseMs: number
}

export const MS_PER_MINUTE = 60_000
/** A double's error on a level that should be whole: 4.9999999999 is 5 tokens. */
const EPSILON = 1e-6
const NO_HEADERS: Readonly<Record<string, string>> = Object.freeze({})
const NO_GRANT: Grant = {
	keyId: 0,
	reservedTokens: 0,
	tokensPerMinute: null,
	lease: null,
	requests: null,
	tokens: null,
	done: true,
}
/** A key without limits: the same object every time, allocated once. */
export const UNLIMITED: Taken = Object.freeze({ ok: true, grant: NO_GRANT }) as Taken

/**
 * OpenAI's reset format (https://platform.openai.com/docs/guides/rate-limits#rate-limits-in-headers shows
 * `1s` and `6m0s`; answers carry `12ms`, `8.64s`): Go's duration notation, to the millisecond.
 */
export function formatReset(ms: number): string {
	const total = Math.max(0, Math.ceil(ms - EPSILON))
	if (total === 0) return '0s'
	if (total < 1000) return `${total}ms`
	const hours = Math.floor(total / 3_600_000)
	const minutes = Math.floor((total % 3_600_000) / MS_PER_MINUTE)
	const millis = total % MS_PER_MINUTE
	const seconds = millis % 1000 === 0 ? String(millis / 1000) : (millis / 1000).toFixed(3).replace(/0+$/, '')
	if (hours > 0) return `${hours}h${minutes}m${seconds}s`
	if (minutes > 0) return `${minutes}m${seconds}s`
	return `${seconds}s`
}

/**
 * The `x-ratelimit-*` headers OpenAI sends, for the buckets a key has: `-requests` with a requests limit,
 * `-tokens` with a token limit, none for a key with neither (there is no limit to report, and an invented
 * one would make clients throttle themselves for nothing). Pure: the same states give the same record.
 */
export function rateLimitHeaders(
	requests: BucketState | null,
	tokens: BucketState | null,
): Readonly<Record<string, string>> {
	if (!requests && !tokens) return NO_HEADERS
	const headers: Record<string, string> = {}
	if (requests) {
		headers['x-ratelimit-limit-requests'] = String(requests.limit)
		headers['x-ratelimit-remaining-requests'] = String(requests.remaining)
		headers['x-ratelimit-reset-requests'] = formatReset(requests.resetMs)
	}
	if (tokens) {
		headers['x-ratelimit-limit-tokens'] = String(tokens.limit)
		headers['x-ratelimit-remaining-tokens'] = String(tokens.remaining)
		headers['x-ratelimit-reset-tokens'] = formatReset(tokens.resetMs)
	}
	return headers
}

export const hasLimits = (principal: LimitedPrincipal) =>
	Boolean(principal.rateLimitPerMinute || principal.tokensPerMinute || principal.maxConcurrent)

/** A bucket's level after `elapsedMs` of refill at `limit` a minute; a null level is a full bucket. */
function refilled(level: number | null, limit: number, elapsedMs: number): number {
	if (level === null) return limit
	return Math.min(limit, level + (Math.max(0, elapsedMs) * limit) / MS_PER_MINUTE)
}

export function bucketState(limit: number, level: number): BucketState {
	return {
		limit,
		remaining: Math.max(0, Math.floor(level + EPSILON)),
		resetMs: Math.max(0, ((limit - level) * MS_PER_MINUTE) / limit),
	}
}

/** Milliseconds until a bucket at `level` holds `need`. */
const waitMs = (limit: number, level: number, need: number) =>
	Math.max(0, ((need - level) * MS_PER_MINUTE) / limit)

/**
 * What a request takes from its key's token bucket: its worst case, but never more than a whole minute's
 * limit, so a request larger than the limit waits for a full bucket rather than never passing (its
 * settlement then takes the rest, and the bucket goes below zero).
 */
export function reservationOf(tokensPerMinute: number | null, estimateTokens: number): number {
	if (!tokensPerMinute) return 0
	if (!Number.isFinite(estimateTokens)) return tokensPerMinute
	return Math.min(tokensPerMinute, Math.max(0, Math.ceil(estimateTokens)))
}

/** Where a key stood when a request was refused. */
export interface Refused {
	requests: number | null
	tokens: number | null
	inFlight: number
}

/** The refusal for the first limit that does not fit, or null when every limit fits (a race: try again). */
export function refusal(principal: LimitedPrincipal, reservation: number, at: Refused): Taken | null {
	const { rateLimitPerMinute: rpm, tokensPerMinute: tpm, maxConcurrent: max } = principal
	const requests = rpm && at.requests !== null ? bucketState(rpm, at.requests) : null
	const tokens = tpm && at.tokens !== null ? bucketState(tpm, at.tokens) : null
	const refuse = (code: LimitCode, wait: number, message: string): Taken => {
		const retryAfterSeconds = Math.max(1, Math.ceil(wait / 1000 - EPSILON))
		return {
			ok: false,
			code,
			retryAfterSeconds,
			message,
			headers: { ...rateLimitHeaders(requests, tokens), 'retry-after': String(retryAfterSeconds) },
		}
	}
	if (rpm && at.requests !== null && at.requests < 1 - EPSILON) {
		const wait = waitMs(rpm, at.requests, 1)
		return refuse(
			'rate_limit_exceeded',
			wait,
			`Rate limit reached for this key on requests per min (RPM): Limit ${rpm}. Please try again in ${formatReset(wait)}.`,
		)
	}
	if (tpm && at.tokens !== null && at.tokens < reservation - EPSILON) {
		const wait = waitMs(tpm, at.tokens, reservation)
		return refuse(
			'tokens_exceeded',
			wait,
			`Rate limit reached for this key on tokens per min (TPM): Limit ${tpm}, Remaining ${Math.max(0, Math.floor(at.tokens + EPSILON))}, Requested ${reservation}. Please try again in ${formatReset(wait)}.`,
		)
	}
	if (max && at.inFlight >= max) {
		return refuse(
			'concurrency_exceeded',
			1000,
			`Too many requests in flight for this key: Limit ${max} at once. Please try again when one has finished.`,
		)
	}
	return null
}

/** A refusal when every limit seemed to fit on reading but the take kept losing races. */
export const CONTENDED: Refusal = {
	ok: false,
	code: 'concurrency_exceeded',
	retryAfterSeconds: 1,
	message: "Too many requests at once for this key's limits. Please try again in 1s.",
	headers: { 'retry-after': '1' },
}

interface MemoryState {
	requests: number | null
	tokens: number | null
	updatedAt: number
	inFlight: number
}

/**
 * The limits in this process's memory (SQLite: one process serves the gateway). Everything is synchronous,
 * so each take sees every earlier one; a restart forgets the buckets (they start full) and the requests in
 * flight (which died with the process).
 */
export class MemoryKeyLimits implements KeyLimits {
	private readonly states = new Map<number, MemoryState>()

	take(principal: LimitedPrincipal, estimateTokens: number, now = Date.now()): Taken {
		if (!hasLimits(principal)) return UNLIMITED
		const { keyId, rateLimitPerMinute: rpm, tokensPerMinute: tpm, maxConcurrent: max } = principal
		let state = this.states.get(keyId)
		if (!state) {
			state = { requests: null, tokens: null, updatedAt: now, inFlight: 0 }
			this.states.set(keyId, state)
		}
		const elapsed = now - state.updatedAt
		const requests = rpm ? refilled(state.requests, rpm, elapsed) : null
		const tokens = tpm ? refilled(state.tokens, tpm, elapsed) : null
		const reservation = reservationOf(tpm, estimateTokens)
		const refused = refusal(principal, reservation, { requests, tokens, inFlight: max ? state.inFlight : 0 })
		if (refused) return refused
		state.requests = requests === null ? null : requests - 1
		state.tokens = tokens === null ? null : tokens - reservation
		state.updatedAt = Math.max(state.updatedAt, now)
		if (max) state.inFlight++
		return {
			ok: true,
			grant: {
				keyId,
				reservedTokens: reservation,
				tokensPerMinute: tpm || null,
				lease: max ? 'memory' : null,
				requests: rpm && state.requests !== null ? bucketState(rpm, state.requests) : null,
				tokens: tpm && state.tokens !== null ? bucketState(tpm, state.tokens) : null,
				done: false,
			},
		}
	}

	settle(grant: Grant, actualTokens: number, now = Date.now()): void {
		if (grant.done) return
		grant.done = true
		const state = this.states.get(grant.keyId)
		if (!state) return
		if (grant.lease !== null) state.inFlight = Math.max(0, state.inFlight - 1)
		const tpm = grant.tokensPerMinute
		if (tpm === null || state.tokens === null) return
		const elapsed = Math.max(0, now - state.updatedAt)
		const level = Math.min(
			tpm,
			refilled(state.tokens, tpm, elapsed) + grant.reservedTokens - used(actualTokens),
		)
		// Stored as of `updatedAt`, which the requests bucket shares: the level less the refill since then.
		state.tokens = level - (elapsed * tpm) / MS_PER_MINUTE
	}

	release(grant: Grant, now = Date.now()): void {
		this.settle(grant, 0, now)
	}

	headers(grant: Grant): Readonly<Record<string, string>> {
		return rateLimitHeaders(grant.requests, grant.tokens)
	}
}

/** Real tokens as a count: what cannot be read counts as none. */
export const used = (tokens: number) => (Number.isFinite(tokens) && tokens > 0 ? Math.ceil(tokens) : 0)

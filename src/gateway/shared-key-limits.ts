// A gateway key's own limits on PostgreSQL, shared by every instance (docs/architecture.md, "Key
// limits"), and the choice between them and the in-memory ones of SQLite.
import type { SQL } from 'bun'
import type { DataStore } from '../../db/client'
import { BatchQueue, type Deferred } from '../lib/batch-queue'
import { randomBase64Url } from '../lib/crypto'
import {
	bucketState,
	CONTENDED,
	type Grant,
	hasLimits,
	type KeyLimits,
	type KeyLimitsOptions,
	type LimitedPrincipal,
	MemoryKeyLimits,
	MS_PER_MINUTE,
	type Refused,
	rateLimitHeaders,
	refusal,
	reservationOf,
	type Taken,
	UNLIMITED,
	used,
} from './key-limits'

/** Opens the limits of the store's database: shared on PostgreSQL, in memory on SQLite. */
export function createKeyLimits(store: Pick<DataStore, 'postgres'>, options: KeyLimitsOptions): KeyLimits {
	return store.postgres ? new SharedKeyLimits(store.postgres, options) : new MemoryKeyLimits()
}

interface QueuedTake extends Deferred<Taken> {
	principal: LimitedPrincipal
	reservation: number
	now: number
}

interface QueuedCompletion extends Deferred<void> {
	grant: Grant
	tpm: number | null
	actual: number
	now: number
}

/** Takes and completions that may share a statement: the same key under the same limits. */
const takeGroup = ({ principal: p }: QueuedTake) =>
	`${p.keyId}:${p.rateLimitPerMinute}:${p.tokensPerMinute}:${p.maxConcurrent}`
const completionGroup = ({ grant, tpm }: QueuedCompletion) => `${grant.keyId}:${tpm}`

/**
 * The limits on PostgreSQL, shared by every instance: one `key_limit_state` row per key holds both
 * buckets (levels as of `updated_at`) and the requests in flight as leases that expire. Admission is one
 * conditional upsert (refill, check all three limits, take); completion one update (adjust the tokens,
 * drop the lease). The row lock of `ON CONFLICT DO UPDATE` serialises both on the key's row across
 * instances, and its condition is checked on the latest version, so no two requests can take the same
 * token or slot. A refusal takes nothing and reads the row once more to say which limit and for how long.
 *
 * Batched under load, like the budgets (`BatchQueue`): the admissions of one key that arrive while the
 * previous batch is in the database take their requests, tokens and slots together in one upsert when all
 * of them fit (each alone otherwise, as without batching), and their completions give back in one update.
 * Every request on the key's one row had cost PostgreSQL 1.5 ms of CPU at saturation.
 */
export class SharedKeyLimits implements KeyLimits {
	/** Lease ids: this instance's random prefix and a counter, unique across instances without a UUID each. */
	private readonly instance = randomBase64Url(9)
	private leases = 0
	private readonly takes = new BatchQueue<QueuedTake>((batch) => this.takeBatch(batch))
	private readonly completions = new BatchQueue<QueuedCompletion>((batch) => this.completeBatch(batch))

	constructor(
		private readonly postgres: SQL,
		private readonly options: KeyLimitsOptions,
	) {}

	take(principal: LimitedPrincipal, estimateTokens: number, now = Date.now()): Taken | Promise<Taken> {
		if (!hasLimits(principal)) return UNLIMITED
		const reservation = reservationOf(principal.tokensPerMinute, estimateTokens)
		return new Promise((resolve, reject) => this.takes.add({ principal, reservation, now, resolve, reject }))
	}

	private async takeBatch(batch: QueuedTake[]) {
		await Promise.all(
			[...Map.groupBy(batch, takeGroup).values()].map(async (group) => {
				if (group.length > 1 && (await this.takeTogether(group))) return
				await Promise.all(
					group.map(async (item) =>
						item.resolve(await this.takeShared(item.principal, item.reservation, item.now)),
					),
				)
			}),
		)
	}

	/** Admits every request of one key in one statement, or none (false): then each tries alone. */
	private async takeTogether(group: QueuedTake[]): Promise<boolean> {
		const [first] = group
		if (!first) return true
		const { principal } = first
		const { rateLimitPerMinute: rpm, tokensPerMinute: tpm, maxConcurrent: max } = principal
		const count = group.length
		const total = group.reduce((sum, item) => sum + item.reservation, 0)
		// A key's first row is inserted unconditionally: only ask for what an empty bucket holds.
		if ((rpm && count > rpm) || (tpm && total > tpm) || (max && count > max)) return false
		const now = Math.max(...group.map((item) => item.now))
		const leases = max ? group.map(() => `${this.instance}.${++this.leases}`) : null
		const [row] = await this.admit(principal, total, count, leases, now)
		if (!row) return false
		// Each request's headers as if they had come one after another: the later ones' takes not yet made.
		let later = total
		for (const [k, item] of group.entries()) {
			later -= item.reservation
			item.resolve({
				ok: true,
				grant: {
					keyId: principal.keyId,
					reservedTokens: item.reservation,
					tokensPerMinute: tpm || null,
					lease: leases?.[k] ?? null,
					requests:
						rpm && row.requests !== null ? bucketState(rpm, Number(row.requests) + count - 1 - k) : null,
					tokens: tpm && row.tokens !== null ? bucketState(tpm, Number(row.tokens) + later) : null,
					done: false,
				},
			})
		}
		return true
	}

	private async takeShared(principal: LimitedPrincipal, reservation: number, now: number): Promise<Taken> {
		const { keyId, rateLimitPerMinute: rpm, tokensPerMinute: tpm, maxConcurrent: max } = principal
		const lease = max ? `${this.instance}.${++this.leases}` : null
		// A refusal whose re-read finds room lost a race to a settle: once more, then refuse.
		for (let attempt = 0; attempt < 3; attempt++) {
			const [row] = await this.admit(principal, reservation, 1, lease ? [lease] : null, now)
			if (row) {
				const requests = rpm && row.requests !== null ? bucketState(rpm, Number(row.requests)) : null
				const tokens = tpm && row.tokens !== null ? bucketState(tpm, Number(row.tokens)) : null
				return {
					ok: true,
					grant: {
						keyId,
						reservedTokens: reservation,
						tokensPerMinute: tpm || null,
						lease,
						requests,
						tokens,
						done: false,
					},
				}
			}
			const refused = refusal(principal, reservation, await this.read(principal, now))
			if (refused) return refused
		}
		return { ...CONTENDED, headers: { ...CONTENDED.headers } }
	}

	/**
	 * The one statement of an admission of `count` requests holding `reservation` tokens together: the
	 * updated levels, or no row when a limit refused.
	 */
	private admit(
		principal: LimitedPrincipal,
		reservation: number,
		count: number,
		leases: string[] | null,
		now: number,
	): Promise<{ requests: number | null; tokens: number | null }[]> {
		const { keyId, rateLimitPerMinute: rpm, tokensPerMinute: tpm, maxConcurrent: max } = principal
		const sql = this.postgres
		const requests = rpm ? this.level('requests', rpm, now) : null
		const tokens = tpm ? this.level('tokens', tpm, now) : null
		const expiresAt = now + this.options.leaseMs
		const newLeases = leases
			? sql`${JSON.stringify(Object.fromEntries(leases.map((lease) => [lease, expiresAt])))}::text::jsonb`
			: null
		return sql`
			INSERT INTO key_limit_state (key_id, requests, tokens, updated_at, leases)
			VALUES (
				${keyId}, ${rpm ? rpm - count : null}::float8, ${tpm ? tpm - reservation : null}::float8,
				${now}::bigint, ${newLeases ?? sql`'{}'::jsonb`}
			)
			ON CONFLICT (key_id) DO UPDATE SET
				requests = ${requests ? sql`${requests} - ${count}` : sql`NULL`},
				tokens = ${tokens ? sql`${tokens} - ${reservation}::float8` : sql`NULL`},
				updated_at = GREATEST(key_limit_state.updated_at, ${now}::bigint),
				leases = ${newLeases ? sql`${this.liveLeases(now)} || ${newLeases}` : sql`key_limit_state.leases`}
				WHERE ${requests ? sql`${requests} >= ${count}` : sql`TRUE`}
					AND ${tokens ? sql`${tokens} >= ${reservation}::float8` : sql`TRUE`}
					AND ${max ? sql`${this.inFlight(now)} + ${count} <= ${max}` : sql`TRUE`}
			RETURNING requests, tokens`
	}

	/** Where the key stands now, for a refusal's reason, headers and wait. */
	private async read(principal: LimitedPrincipal, now: number): Promise<Refused> {
		const { keyId, rateLimitPerMinute: rpm, tokensPerMinute: tpm } = principal
		const sql = this.postgres
		const [row] = await sql`
			SELECT
				${rpm ? this.level('requests', rpm, now) : sql`NULL::float8`} AS requests,
				${tpm ? this.level('tokens', tpm, now) : sql`NULL::float8`} AS tokens,
				${this.inFlight(now)} AS in_flight
			FROM key_limit_state WHERE key_id = ${keyId}`
		return {
			requests: rpm ? Number(row?.requests ?? rpm) : null,
			tokens: tpm ? Number(row?.tokens ?? tpm) : null,
			inFlight: Number(row?.in_flight ?? 0),
		}
	}

	/** A bucket's level at `now`: its stored level plus the refill since `updated_at`, at most its limit. */
	private level(column: 'requests' | 'tokens', limit: number, now: number) {
		const sql = this.postgres
		const stored = column === 'requests' ? sql`key_limit_state.requests` : sql`key_limit_state.tokens`
		return sql`LEAST(${limit}::float8, COALESCE(${stored}, ${limit}::float8) + GREATEST(0, ${now}::bigint - key_limit_state.updated_at) * ${limit / MS_PER_MINUTE}::float8)`
	}

	private inFlight(now: number) {
		return this
			.postgres`(SELECT count(*) FROM jsonb_each(key_limit_state.leases) AS lease WHERE (lease.value)::bigint > ${now}::bigint)`
	}

	/** The leases that have not expired: every admission drops the expired ones, so none needs a sweeper. */
	private liveLeases(now: number) {
		return this
			.postgres`COALESCE((SELECT jsonb_object_agg(lease.key, lease.value) FROM jsonb_each(key_limit_state.leases) AS lease WHERE (lease.value)::bigint > ${now}::bigint), '{}'::jsonb)`
	}

	settle(grant: Grant, actualTokens: number, now = Date.now()): Promise<void> | undefined {
		if (grant.done) return
		grant.done = true
		const tpm = grant.tokensPerMinute
		if (tpm === null && grant.lease === null) return
		return new Promise<void>((resolve, reject) =>
			this.completions.add({ grant, tpm, actual: used(actualTokens), now, resolve, reject }),
		).catch((error) => {
			console.error(`key limits: could not settle key ${grant.keyId}'s request`, error)
		})
	}

	release(grant: Grant, now = Date.now()): Promise<void> | undefined {
		return this.settle(grant, 0, now)
	}

	headers(grant: Grant): Readonly<Record<string, string>> {
		return rateLimitHeaders(grant.requests, grant.tokens)
	}

	private async completeBatch(batch: QueuedCompletion[]) {
		await Promise.all([...Map.groupBy(batch, completionGroup).values()].map((group) => this.complete(group)))
		for (const item of batch) item.resolve()
	}

	/**
	 * One update for a key's completed requests: the token level becomes what it is now plus the difference
	 * (at most the limit, below zero when the answers used more than reserved), stored as of the row's
	 * `updated_at` (the level less the refill since then) so the requests bucket sharing that instant is left
	 * as it is; and their leases go.
	 */
	private async complete(group: QueuedCompletion[]) {
		const [first] = group
		if (!first) return
		const { grant, tpm } = first
		const now = Math.max(...group.map((item) => item.now))
		const difference = group.reduce((sum, item) => sum + item.grant.reservedTokens - item.actual, 0)
		const leases = group.flatMap((item) => (item.grant.lease === null ? [] : [item.grant.lease]))
		const sql = this.postgres
		const elapsed = sql`GREATEST(0, ${now}::bigint - key_limit_state.updated_at)`
		const tokens =
			tpm === null
				? sql`key_limit_state.tokens`
				: sql`CASE WHEN key_limit_state.tokens IS NULL THEN NULL ELSE LEAST(${tpm}::float8, ${this.level('tokens', tpm, now)} + ${difference}::float8) - ${elapsed} * ${tpm / MS_PER_MINUTE}::float8 END`
		const remaining =
			leases.length === 0
				? sql`key_limit_state.leases`
				: sql`key_limit_state.leases - ARRAY(SELECT jsonb_array_elements_text(${JSON.stringify(leases)}::text::jsonb))`
		await sql`UPDATE key_limit_state SET tokens = ${tokens}, leases = ${remaining} WHERE key_id = ${grant.keyId}`
	}
}

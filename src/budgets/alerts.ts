import { and, desc, eq, gt, gte, inArray, isNull, lt, sql } from 'drizzle-orm'
import type { DataStore } from '../../db/client'
import type { BudgetAlertThreshold, BudgetScope, BudgetWindow } from '../../db/schema'
import { loggable } from '../lib/redact'
import type { Budget, BudgetLedger } from './ledger'
import { type BudgetAlertEvent, BudgetWebhook, WEBHOOK_TIMEOUT_MS } from './webhook'
import { microsToUsd, windowKey, windowReset, windowStart } from './windows'

export const ALERT_THRESHOLDS: readonly BudgetAlertThreshold[] = [80, 100]
/** After a failed delivery, the wait before the next attempt; after the last, the alert is given up. */
export const RETRY_DELAYS_MS: readonly number[] = [1_000, 5_000, 30_000, 120_000, 600_000]
/** The first attempt and one per retry. */
export const MAX_ATTEMPTS = RETRY_DELAYS_MS.length + 1
/** An alert not delivered by then is not sent any more (a webhook set up today does not get last month's). */
export const MAX_DELIVERY_AGE_MS = 24 * 60 * 60_000
/** How often the delivery loop looks for alerts other instances recorded, or a restart left undelivered. */
export const DELIVERY_POLL_MS = 10_000
/**
 * The least time between two reads of the budgets' statuses: under load, the requests settled meanwhile are
 * checked together in the next read, so an alert comes at most this late and a request pays no query.
 */
export const CHECK_INTERVAL_MS = 1000
/** Undelivered alerts one delivery pass takes on; the next pass takes the rest. */
const DELIVERY_BATCH = 20
/** Budgets and windows remembered; past it the memory starts again (it only saves queries). */
const MAX_REMEMBERED = 10_000
const DEFAULT_LIST_LIMIT = 50
const MAX_LIST_LIMIT = 500

/** Where an alert's webhook delivery stands. */
export type AlertDelivery = 'delivered' | 'pending' | 'failed' | 'off'

/** An alert as the dashboard and `GET /api/budget-alerts` show it. Money in micro-dollars. */
export interface BudgetAlertEntry {
	budgetId: number
	scope: BudgetScope
	scopeId: number
	window: BudgetWindow
	/** The budget's limit now. */
	limitMicros: number
	/** What the alert's window has spent so far: its final spend once the window is over. */
	spentMicros: number
	threshold: BudgetAlertThreshold
	windowStart: Date
	/** When the window starts afresh; null for a total. */
	resetsAt: Date | null
	/** When the budget was first seen past the threshold. */
	createdAt: Date
	/** When the webhook took it; null until then. */
	notifiedAt: Date | null
	/** Delivery attempts made. */
	attempts: number
	/** Why the last attempt failed, with no URL or secret in it; null when none failed or it was delivered. */
	lastError: string | null
	/** `off`: no webhook is configured (on this instance). `failed`: given up after its last attempt. */
	delivery: AlertDelivery
}

export interface AlertListOptions {
	/** Only alerts created at or after this instant. */
	since?: Date
	/** @default 50, at most 500 */
	limit?: number
	/** Only these budgets' alerts (a developer's: their keys' and their own); all when absent. */
	budgetIds?: readonly number[]
}

export interface BudgetAlertsOptions {
	/** BUDGET_WEBHOOK_URL and BUDGET_WEBHOOK_SECRET; undefined: alerts are recorded, never POSTed. */
	webhook?: { url: string; secret?: string | undefined } | undefined
	/** @default 5 s */
	timeoutMs?: number
	/** @default Date.now */
	now?: () => number
	/** @default the global fetch */
	fetch?: (url: string, init: RequestInit) => Promise<Response>
	/** @default CHECK_INTERVAL_MS */
	checkIntervalMs?: number
}

/**
 * The thresholds `spentMicros` has reached against `limitMicros`, exactly (integers, no float at the edge).
 * Nothing for a window that has spent nothing: a limit of 0 refuses every request, it is not "spent".
 */
export function thresholdsReached(spentMicros: number, limitMicros: number): BudgetAlertThreshold[] {
	if (spentMicros <= 0) return []
	return ALERT_THRESHOLDS.filter(
		(threshold) => BigInt(spentMicros) * 100n >= BigInt(threshold) * BigInt(limitMicros),
	)
}

/**
 * How long after its alert was recorded attempt `attempt` (0 for the first) is due. Each wait counts the
 * previous attempt's whole timeout before its retry delay, so an attempt made on time has ended, answered
 * or timed out, before the next one is due.
 */
export function attemptDueAfter(attempt: number, timeoutMs = WEBHOOK_TIMEOUT_MS): number {
	let due = 0
	for (const delay of RETRY_DELAYS_MS.slice(0, attempt)) due += timeoutMs + delay
	return due
}

/** The alert's id, the same on every attempt: the webhook's `webhook-id`. */
export const alertId = (budgetId: number, windowStart: Date, threshold: BudgetAlertThreshold) =>
	`budget-${budgetId}-${windowStart.getTime()}-${threshold}`

interface PendingAlert {
	budgetId: number
	windowStart: Date
	threshold: BudgetAlertThreshold
	createdAt: Date
	attempts: number
	nextAttemptAt: Date | null
	scope: BudgetScope
	scopeId: number
	window: BudgetWindow
	limitMicros: number
	spentMicros: number | null
}

/**
 * Alerts when a budget's window has spent 80 % and 100 % of its limit (issue 22), on either database and
 * across any number of instances.
 *
 * - **One alert per budget, window and threshold.** `check` inserts each crossing with one
 *   `INSERT … ON CONFLICT DO NOTHING RETURNING` on the table's primary key: however many requests and
 *   instances see the crossing at once, one insert creates the row and the others change nothing.
 * - **Cheap after each request.** `check` never throws and never waits for the webhook. It only queues the
 *   budgets: one read of their statuses takes everything queued, at most once a second (CHECK_INTERVAL_MS),
 *   so an instance reads once a second at most, whatever the request rate. A budget whose window already
 *   has its 100 % alert is not even queued (that memory is refreshed by each read).
 * - **Delivery that survives restarts** (when a webhook is configured): the state is in the row
 *   (`attempts`, `last_error`, `notified_at`), so any instance resumes what another left. An attempt is
 *   claimed by one conditional `UPDATE … SET attempts = attempts + 1 WHERE attempts = <seen> AND
 *   notified_at IS NULL`: of the instances that read the same row, exactly one updates it, and only that
 *   one sends; the others' updates match nothing (see `claim`).
 */
export class BudgetAlerts {
	private readonly webhook: BudgetWebhook | undefined
	private readonly timeoutMs: number
	private readonly now: () => number
	/** The highest threshold known to be recorded, per budget and window. */
	private readonly recorded = new Map<string, BudgetAlertThreshold>()
	private readonly queued = new Map<number, Budget>()
	private queuedNow = 0
	private readonly checkIntervalMs: number
	/** The read that will take what is queued now; undefined when nothing is queued. */
	private nextRead: Promise<void> | undefined
	private reading: Promise<void> = Promise.resolve()
	/** When the last read started, on the monotonic clock. */
	private lastReadAt = Number.NEGATIVE_INFINITY
	/** Ends the wait for the next read early (at `stop`). */
	private hurry: (() => void) | undefined
	private stopping = false
	private delivering: Promise<unknown> = Promise.resolve()
	private timer: ReturnType<typeof setTimeout> | undefined
	private running = false
	/** When the next known attempt is due, from the last delivery pass. */
	private nextDue = Number.POSITIVE_INFINITY

	constructor(
		private readonly store: DataStore,
		private readonly ledger: BudgetLedger,
		options: BudgetAlertsOptions = {},
	) {
		this.timeoutMs = options.timeoutMs ?? WEBHOOK_TIMEOUT_MS
		this.now = options.now ?? Date.now
		this.checkIntervalMs = options.checkIntervalMs ?? CHECK_INTERVAL_MS
		this.webhook = options.webhook
			? new BudgetWebhook({ ...options.webhook, timeoutMs: this.timeoutMs, fetch: options.fetch })
			: undefined
	}

	/**
	 * Records an alert for each of `budgets` whose window has spent 80 % or 100 % of its limit and has no
	 * alert for that threshold yet; sends new alerts to the webhook in the background. Call it after a
	 * request's spend is settled, without awaiting it: it never rejects (failures are logged). Resolves
	 * after the read that takes these budgets, at most CHECK_INTERVAL_MS after the previous read.
	 */
	check(budgets: readonly Budget[], now = this.now()): Promise<void> {
		for (const budget of budgets) {
			const key = windowKey(budget.id, windowStart(budget.window, now))
			if (this.recorded.get(key) !== 100) this.queued.set(budget.id, budget)
		}
		if (this.queued.size === 0) return this.nextRead ?? this.reading
		this.queuedNow = Math.max(this.queuedNow, now)
		this.nextRead ??= this.readQueued()
		return this.nextRead
	}

	/** Recent alerts, newest first, with their budget (alerts of a deleted budget are left out). */
	async list(options: AlertListOptions = {}): Promise<BudgetAlertEntry[]> {
		if (options.budgetIds?.length === 0) return []
		const limit = Math.min(Math.max(1, Math.floor(options.limit ?? DEFAULT_LIST_LIMIT)), MAX_LIST_LIMIT)
		const { budgetAlerts: alerts } = this.store.tables
		const rows = await this.selectWithBudgets(
			and(
				options.since ? gte(alerts.createdAt, options.since) : undefined,
				options.budgetIds ? inArray(alerts.budgetId, [...options.budgetIds]) : undefined,
			),
		)
			.orderBy(desc(alerts.createdAt), desc(alerts.threshold))
			.limit(limit)
		const now = this.now()
		return rows.map((row) => ({
			budgetId: row.budgetId,
			scope: row.scope,
			scopeId: row.scopeId,
			window: row.window,
			limitMicros: row.limitMicros,
			spentMicros: row.spentMicros ?? 0,
			threshold: row.threshold,
			windowStart: row.windowStart,
			resetsAt: windowReset(row.window, row.windowStart.getTime()),
			createdAt: row.createdAt,
			notifiedAt: row.notifiedAt,
			attempts: row.attempts,
			lastError: row.notifiedAt ? null : row.lastError,
			delivery: this.deliveryOf(row, now),
		}))
	}

	/**
	 * One delivery pass: sends every undelivered alert whose next attempt is due by `now`, each claimed
	 * first so that no other instance sends it meanwhile. Resolves to the number delivered. Passes on one
	 * instance run one after another. Nothing to do without a webhook.
	 */
	deliverPending(now?: number): Promise<number> {
		const pass = this.delivering.then(() => this.deliverDue(now ?? this.now()))
		this.delivering = pass.catch(() => 0)
		return pass
	}

	/** Delivers in the background: at once, then whenever an attempt is due or every 10 s. Without a webhook, nothing. */
	start() {
		if (!this.webhook || this.running) return
		this.running = true
		this.wake(0)
	}

	/**
	 * Stops the loop; checks what is queued at once and waits for that, and for a delivery in flight (at most
	 * the 5 s timeout).
	 */
	async stop() {
		this.running = false
		this.stopping = true
		if (this.timer) clearTimeout(this.timer)
		this.timer = undefined
		this.hurry?.()
		await Promise.all([this.nextRead, this.reading, this.delivering])
	}

	/**
	 * Once the previous read has ended and CHECK_INTERVAL_MS has passed since it started, reads the statuses
	 * of everything queued by then, in one query.
	 */
	private async readQueued() {
		await this.reading
		const wait = this.lastReadAt + this.checkIntervalMs - performance.now()
		if (wait > 0 && !this.stopping)
			await new Promise<void>((resolve) => {
				const timer = setTimeout(resolve, wait)
				timer.unref?.()
				this.hurry = () => {
					clearTimeout(timer)
					resolve()
				}
			})
		// The caller has assigned `nextRead` by now: at least one await came before this line.
		this.hurry = undefined
		this.nextRead = undefined
		const budgets = [...this.queued.values()]
		const now = this.queuedNow
		this.queued.clear()
		this.queuedNow = 0
		this.lastReadAt = performance.now()
		this.reading = this.record(budgets, now).catch((error) => {
			console.error(`budgets: could not check budget alerts: ${loggable(error)}`)
		})
		await this.reading
	}

	private async record(budgets: readonly Budget[], now: number) {
		const statuses = await this.ledger.statuses(budgets, now)
		const crossings: {
			budgetId: number
			windowStart: Date
			threshold: BudgetAlertThreshold
			createdAt: Date
		}[] = []
		const highest = new Map<string, BudgetAlertThreshold>()
		for (const status of statuses) {
			const key = windowKey(status.budget.id, status.windowStart)
			const known = this.recorded.get(key) ?? 0
			for (const threshold of thresholdsReached(status.spentMicros, status.limitMicros)) {
				highest.set(key, threshold)
				if (threshold > known)
					crossings.push({
						budgetId: status.budget.id,
						windowStart: status.windowStart,
						threshold,
						createdAt: new Date(now),
					})
			}
		}
		if (crossings.length === 0) return
		const { db, tables } = this.store
		const { budgetAlerts: alerts } = tables
		const created = await db
			.insert(alerts)
			.values(crossings)
			.onConflictDoNothing()
			.returning({ budgetId: alerts.budgetId, threshold: alerts.threshold })
		// Inserted now or before, by this instance or another: either way the rows exist.
		if (this.recorded.size >= MAX_REMEMBERED) this.recorded.clear()
		for (const [key, threshold] of highest) this.recorded.set(key, threshold)
		for (const alert of created) {
			const status = statuses.find((each) => each.budget.id === alert.budgetId)
			if (!status) continue
			const { budget } = status
			console.warn(
				`budgets: the ${budget.window} budget of ${budget.scope} ${budget.scopeId} has passed ${alert.threshold} % ` +
					`of its limit (spent $${microsToUsd(status.spentMicros)} of $${microsToUsd(status.limitMicros)})`,
			)
		}
		if (created.length > 0 && this.webhook)
			this.deliverPending().catch((error) =>
				console.error(`budgets: could not deliver budget alerts: ${loggable(error)}`),
			)
	}

	private async deliverDue(now: number): Promise<number> {
		if (!this.webhook) return 0
		const { budgetAlerts: alerts } = this.store.tables
		const pending = await this.selectWithBudgets(
			and(
				isNull(alerts.notifiedAt),
				lt(alerts.attempts, MAX_ATTEMPTS),
				gt(alerts.createdAt, new Date(now - MAX_DELIVERY_AGE_MS)),
			),
		)
			.orderBy(alerts.createdAt)
			.limit(DELIVERY_BATCH)
		let nextDue = Number.POSITIVE_INFINITY
		const due: PendingAlert[] = []
		for (const row of pending) {
			const at = (row.nextAttemptAt ?? row.createdAt).getTime()
			if (at <= now) due.push(row)
			else nextDue = Math.min(nextDue, at)
		}
		const results = await Promise.all(due.map((alert) => this.attempt(alert, now)))
		for (const result of results)
			if (result.retryAt !== undefined) nextDue = Math.min(nextDue, result.retryAt)
		// A full batch may hide more rows behind it: look again soon.
		this.nextDue = pending.length === DELIVERY_BATCH ? now : nextDue
		return results.filter((result) => result.delivered).length
	}

	/** Claims the alert's next attempt and, if this instance got it, sends it and records the outcome. */
	private async attempt(alert: PendingAlert, now: number): Promise<{ delivered: boolean; retryAt?: number }> {
		const webhook = this.webhook
		if (!webhook || !(await this.claim(alert, now))) return { delivered: false }
		const { db, tables } = this.store
		const { budgetAlerts: alerts } = tables
		const made = alert.attempts + 1
		const outcome = await webhook.deliver(
			alertId(alert.budgetId, alert.windowStart, alert.threshold),
			toEvent(alert),
			now,
		)
		const row = this.whereAlert(alert)
		if (outcome.ok) {
			await db
				.update(alerts)
				.set({ notifiedAt: new Date(now), lastError: null })
				.where(row)
			return { delivered: true }
		}
		await db.update(alerts).set({ lastError: outcome.error }).where(row)
		const name = `the ${alert.threshold} % alert of ${alert.scope} ${alert.scopeId}'s ${alert.window} budget`
		if (made >= MAX_ATTEMPTS) {
			console.error(
				`budgets: gave up sending ${name} to ${webhook.target} after ${made} attempts: ${outcome.error}`,
			)
			return { delivered: false }
		}
		const retryAt = now + this.gapAfter(made)
		console.warn(
			`budgets: could not send ${name} to ${webhook.target} (attempt ${made} of ${MAX_ATTEMPTS}): ${outcome.error}; ` +
				`next attempt in ${Math.round((retryAt - now) / 1000)} s`,
		)
		return { delivered: false, retryAt }
	}

	/**
	 * Takes the alert's next attempt for this instance: one conditional UPDATE that counts the attempt only
	 * if the row is still undelivered and still has the attempt count this instance read. Instances that
	 * read the same row race on the update; the database applies them one at a time (SQLite runs one
	 * statement at a time; PostgreSQL re-checks the WHERE on the row's latest version after the first
	 * updater commits), so the first matches and the rest find `attempts` moved and update nothing. Only
	 * the instance whose update returned the row sends that attempt.
	 *
	 * The claim also sets `next_attempt_at`: the next attempt is due a whole timeout and the retry delay
	 * after this claim, whenever it is made, so an attempt in flight holds off the next on every instance.
	 * On time, that is the schedule of `attemptDueAfter`; an attempt claimed late (a backlog after every
	 * instance was down) moves the rest of the schedule with it rather than overlapping the next one.
	 */
	private async claim(alert: PendingAlert, now: number): Promise<boolean> {
		const { db, tables } = this.store
		const { budgetAlerts: alerts } = tables
		const claimed = await db
			.update(alerts)
			.set({
				attempts: sql`${alerts.attempts} + 1`,
				nextAttemptAt: new Date(now + this.gapAfter(alert.attempts + 1)),
			})
			.where(and(this.whereAlert(alert), isNull(alerts.notifiedAt), eq(alerts.attempts, alert.attempts)))
			.returning({ attempts: alerts.attempts })
		return claimed.length > 0
	}

	private whereAlert(alert: { budgetId: number; windowStart: Date; threshold: BudgetAlertThreshold }) {
		const { budgetAlerts: alerts } = this.store.tables
		return and(
			eq(alerts.budgetId, alert.budgetId),
			eq(alerts.windowStart, alert.windowStart),
			eq(alerts.threshold, alert.threshold),
		)
	}

	/** From the claim of attempt `made` (1 for the first) until the next may be claimed. */
	private gapAfter(made: number) {
		return attemptDueAfter(made, this.timeoutMs) - attemptDueAfter(made - 1, this.timeoutMs)
	}

	private selectWithBudgets(where: ReturnType<typeof and>) {
		const { db, tables } = this.store
		const { budgetAlerts: alerts, budgets, budgetUsage: usage } = tables
		return db
			.select({
				budgetId: alerts.budgetId,
				windowStart: alerts.windowStart,
				threshold: alerts.threshold,
				createdAt: alerts.createdAt,
				notifiedAt: alerts.notifiedAt,
				attempts: alerts.attempts,
				nextAttemptAt: alerts.nextAttemptAt,
				lastError: alerts.lastError,
				scope: budgets.scope,
				scopeId: budgets.scopeId,
				window: budgets.window,
				limitMicros: budgets.limitMicros,
				spentMicros: usage.spentMicros,
			})
			.from(alerts)
			.innerJoin(budgets, eq(budgets.id, alerts.budgetId))
			.leftJoin(usage, and(eq(usage.budgetId, alerts.budgetId), eq(usage.windowStart, alerts.windowStart)))
			.where(where)
	}

	private deliveryOf(row: { notifiedAt: Date | null; attempts: number; createdAt: Date }, now: number) {
		if (row.notifiedAt) return 'delivered'
		if (!this.webhook) return 'off'
		if (row.attempts >= MAX_ATTEMPTS || row.createdAt.getTime() <= now - MAX_DELIVERY_AGE_MS) return 'failed'
		return 'pending'
	}

	private wake(delayMs: number) {
		if (!this.running) return
		if (this.timer) clearTimeout(this.timer)
		this.timer = setTimeout(() => {
			this.timer = undefined
			this.deliverPending()
				.catch((error) => console.error(`budgets: could not deliver budget alerts: ${loggable(error)}`))
				.finally(() => {
					const wait = Math.min(DELIVERY_POLL_MS, Math.max(0, this.nextDue - this.now()))
					this.wake(wait)
				})
		}, delayMs)
		this.timer.unref?.()
	}
}

function toEvent(alert: PendingAlert): BudgetAlertEvent {
	const resetsAt = windowReset(alert.window, alert.windowStart.getTime())
	return {
		type: 'budget.threshold',
		threshold: alert.threshold,
		budget: {
			id: alert.budgetId,
			scope: alert.scope,
			scopeId: alert.scopeId,
			window: alert.window,
			limitUsd: microsToUsd(alert.limitMicros),
		},
		spentUsd: microsToUsd(alert.spentMicros ?? 0),
		windowStart: alert.windowStart.toISOString(),
		resetsAt: resetsAt ? resetsAt.toISOString() : null,
		createdAt: alert.createdAt.toISOString(),
	}
}

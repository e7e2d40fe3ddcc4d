import { and, asc, eq, notInArray, or } from 'drizzle-orm'
import { type DataStore, isUniqueViolation } from '../../db/client'
import type { BudgetScope, BudgetWindow } from '../../db/schema'
import { badRequest, GatewayError, notFound } from '../errors'
import type { SpendLog } from '../request-log/log-store'
import { LocalSpendBook } from './local-spend-book'
import { SharedSpendBook } from './shared-spend-book'
import type { Pending, SpendBook } from './spend-book'
import { BUDGET_WINDOWS, windowReset, windowStart } from './windows'

export const BUDGET_SCOPES: readonly BudgetScope[] = ['key', 'user', 'org']
/** The scope id of the organisation's budgets. */
export const ORG_SCOPE_ID = 0
/** $1,000,000,000: far above any real budget, far below where a double stops counting micro-dollars exactly. */
export const MAX_LIMIT_MICROS = 1_000_000_000_000_000
/** How often the owner of the ledger sweeps reservations whose request outlived its deadline. */
export const SWEEP_INTERVAL_MS = 30_000
/** Cached principals; past it the cache starts again rather than grow without bound. */
const MAX_CACHED_PRINCIPALS = 10_000

export interface Budget {
	id: number
	scope: BudgetScope
	/** The gateway key's id, the user's id, or 0 for the organisation. */
	scopeId: number
	window: BudgetWindow
	limitMicros: number
	createdBy: number
	createdAt: Date
}

/** Whose budgets apply to a request: its gateway key's, its user's, and the organisation's. */
export interface BudgetPrincipal {
	keyId: number
	userId: number
}

export type ReserveResult =
	| { ok: true }
	| {
			ok: false
			/** The budget that refused (the first in key, user, organisation order, then day, month, total). */
			budget: Budget
			limitMicros: number
			/** What a request could still reserve in the budget's window when it refused. */
			remainingMicros: number
			/** When the window starts afresh; null for a total. */
			resetsAt: Date | null
	  }

export interface BudgetStatus {
	budget: Budget
	windowStart: Date
	/** Null for a total. */
	resetsAt: Date | null
	limitMicros: number
	/** Settled: the real cost of the requests that finished in this window. */
	spentMicros: number
	/** Held by requests in flight. */
	reservedMicros: number
	/** What a new request can reserve: limit − spent − reserved, never below 0. */
	remainingMicros: number
	/** Spent as a percentage of the limit (over 100 when real costs exceeded their reservations); 100 for a limit of 0. */
	percentSpent: number
}

export interface NewBudget {
	scope: BudgetScope
	/** The key's or user's id; 0 (or absent) for the organisation. */
	scopeId?: number
	window: BudgetWindow
	limitMicros: number
	/** The user setting it. */
	createdBy: number
}

export interface LedgerOptions {
	/**
	 * SQLite: where settled costs are written, the request log in the server (they then reach the disk with
	 * the rows of their requests); each cost in a transaction of its own when absent. The first ledger opened
	 * on a connection decides. Unused on PostgreSQL, where each settle writes its own statements.
	 */
	spendLog?: SpendLog
}

export interface BudgetFilter {
	scope?: BudgetScope
	scopeId?: number
}

/** What a sweep released. */
export interface SweepResult {
	/** Reservation rows past their deadline, deleted. */
	reservations: number
	/** Budget counters those (or earlier crashed) requests had raised, lowered again. */
	holds: number
}

const ADMITTED: ReserveResult = Object.freeze({ ok: true })

const SCOPE_ORDER: Record<BudgetScope, number> = { key: 0, user: 1, org: 2 }
const WINDOW_ORDER: Record<BudgetWindow, number> = { day: 0, month: 1, total: 2 }
const byScopeAndWindow = (a: Budget, b: Budget) =>
	SCOPE_ORDER[a.scope] - SCOPE_ORDER[b.scope] ||
	a.scopeId - b.scopeId ||
	WINDOW_ORDER[a.window] - WINDOW_ORDER[b.window]

/** What a new request can reserve in a window: limit − spent − reserved, never below 0. */
const remaining = (budget: Budget, spentMicros: number, reservedMicros: number) =>
	Math.max(0, budget.limitMicros - spentMicros - reservedMicros)

function checkAmount(name: string, micros: number, minimum: number) {
	if (!Number.isSafeInteger(micros) || micros < minimum)
		throw new RangeError(`${name} is a whole number of micro-dollars of at least ${minimum}`)
}

function checkScope(scope: unknown, param: string): BudgetScope {
	if (!BUDGET_SCOPES.includes(scope as BudgetScope))
		throw badRequest(`A budget's scope is one of ${BUDGET_SCOPES.join(', ')}`, param)
	return scope as BudgetScope
}

function checkWindow(window: unknown, param: string): BudgetWindow {
	if (!BUDGET_WINDOWS.includes(window as BudgetWindow))
		throw badRequest(`A budget's window is one of ${BUDGET_WINDOWS.join(', ')}`, param)
	return window as BudgetWindow
}

function checkLimit(limitMicros: unknown, param: string): number {
	if (
		typeof limitMicros !== 'number' ||
		!Number.isSafeInteger(limitMicros) ||
		limitMicros < 0 ||
		limitMicros > MAX_LIMIT_MICROS
	)
		throw badRequest(
			`A budget's limit is a whole number of micro-dollars from 0 to ${MAX_LIMIT_MICROS} ($1,000,000,000)`,
			param,
		)
	return limitMicros
}

/**
 * Budgets and what is spent and reserved against them (SPEC "Spend control", issue 22), on either database
 * (docs/architecture.md, "Budgets", has the whole argument).
 *
 * - **Admission** (`reserve`) raises each applicable budget's `reserved` by the request's worst-case cost,
 *   refusing when spent + reserved + amount would pass the limit, so concurrent requests can never together
 *   reserve more than a limit: at every moment spent + reserved ≤ limit for each window, as long as each
 *   request's cost stays within what it reserved.
 * - **Completion** (`settle`) turns the reservation into the real cost; **failure** (`release`) gives it
 *   back; a request that outlives its deadline is given back by the sweeper (`sweep`, every 30 s).
 * - **Where the counters live** is the one thing that differs between the databases, behind `SpendBook`:
 *   on SQLite one process owns the file, so the counters live in memory, a restart starts from no
 *   reservation, and what is spent is written with the request log's rows (`LocalSpendBook`); on
 *   PostgreSQL any number of instances share them in rows changed by single statements, batched under
 *   load, with a sweeper for a crashed instance's (`SharedSpendBook`).
 */
export class BudgetLedger {
	private readonly cache = new Map<string, Budget[]>()
	/** Bumped by every change: a lookup that raced a change does not cache what it read before it. */
	private generation = 0
	private unsubscribe: (() => Promise<void>) | undefined
	private timer: ReturnType<typeof setInterval> | undefined
	private sweeping: Promise<SweepResult> | undefined

	private constructor(
		private readonly store: DataStore,
		private readonly book: SpendBook,
	) {}

	/**
	 * A ledger whose cache follows budget changes made on any instance (the `budgets` channel). On SQLite the
	 * first ledger opened on a connection gives back everything a previous run had reserved: no request of
	 * that run can still be in flight.
	 */
	static async open(store: DataStore, options: LedgerOptions = {}): Promise<BudgetLedger> {
		const book = store.sqlite ? LocalSpendBook.of(store.sqlite, options.spendLog) : new SharedSpendBook(store)
		const ledger = new BudgetLedger(store, book)
		ledger.unsubscribe = await store.subscribe('budgets', () => ledger.forget())
		return ledger
	}

	/** Resolves once every cost settled before the call is on disk. */
	flush(): Promise<void> {
		return this.book.flush()
	}

	/**
	 * Stops sweeping and listening. On SQLite, costs settled and not yet written are written when the
	 * request log closes, after this.
	 */
	async close() {
		this.stop()
		await this.unsubscribe?.()
	}

	/**
	 * The budgets that apply to a request: its key's, its user's and the organisation's, in the order
	 * `reserve` checks them. From memory after the first request of a key; any change on any instance
	 * empties the cache.
	 */
	async applicable(principal: BudgetPrincipal): Promise<Budget[]> {
		const cacheKey = `${principal.keyId}:${principal.userId}`
		const cached = this.cache.get(cacheKey)
		if (cached) return cached
		const generation = this.generation
		const { budgets } = this.store.tables
		const found = await this.select(
			or(
				and(eq(budgets.scope, 'key'), eq(budgets.scopeId, principal.keyId)),
				and(eq(budgets.scope, 'user'), eq(budgets.scopeId, principal.userId)),
				and(eq(budgets.scope, 'org'), eq(budgets.scopeId, ORG_SCOPE_ID)),
			),
		)
		if (generation === this.generation) {
			if (this.cache.size >= MAX_CACHED_PRINCIPALS) this.cache.clear()
			this.cache.set(cacheKey, found)
		}
		return found
	}

	/**
	 * Reserves `amountMicros` against every budget given, in the window `now` falls in, or against none.
	 * Refused when any of them cannot fit it: what this request had reserved on the others is given back
	 * before this returns. A request reserves once; `expiresAt` is its total deadline, after which the
	 * sweeper gives the reservation back if nothing else did.
	 */
	async reserve(
		requestId: string,
		budgets: readonly Budget[],
		amountMicros: number,
		now: number,
		expiresAt: number,
	): Promise<ReserveResult> {
		checkAmount('A reservation', amountMicros, 1)
		if (expiresAt <= now) throw new RangeError('A reservation expires after it is made')
		if (budgets.length === 0) return ADMITTED
		const ordered = [...budgets].sort(byScopeAndWindow)
		const starts = ordered.map((budget) => windowStart(budget.window, now))
		const refused = await this.book.reserve(requestId, ordered, starts, amountMicros, now, expiresAt)
		const budget = ordered[refused]
		if (!budget) return ADMITTED
		const [usage] = await this.book.usage([budget], [starts[refused] ?? new Date(0)])
		return {
			ok: false,
			budget,
			limitMicros: budget.limitMicros,
			remainingMicros: remaining(budget, usage?.spentMicros ?? 0, usage?.reservedMicros ?? 0),
			resetsAt: windowReset(budget.window, now),
		}
	}

	/**
	 * The request finished: each budget it reserved against counts its real cost (which may be more or less
	 * than it reserved) and no longer holds the reservation, in the window the reservation was made in. Does
	 * nothing for a request already settled, released or swept.
	 */
	async settle(requestId: string, costMicros: number): Promise<void> {
		checkAmount('A cost', costMicros, 0)
		await this.book.settle(requestId, costMicros)
	}

	/** The request failed or was abandoned: what it reserved is given back. Does nothing the second time. */
	async release(requestId: string): Promise<void> {
		await this.book.settle(requestId, 0)
	}

	/**
	 * Gives back every reservation whose deadline has passed by `now`: a crashed instance's, or a request's
	 * that ran past its deadline (a settle after that finds nothing to settle). Every instance may sweep at
	 * any time; each hold is given back once, by whoever takes it.
	 */
	sweep(now = Date.now()): Promise<SweepResult> {
		this.sweeping ??= this.book.sweep(now).finally(() => {
			this.sweeping = undefined
		})
		return this.sweeping
	}

	/** Sweeps every `intervalMs` until `stop()`. */
	startSweeping(intervalMs = SWEEP_INTERVAL_MS) {
		this.stop()
		this.timer = setInterval(() => {
			this.sweep().catch((error) => console.error('budgets: could not sweep reservations', error))
		}, intervalMs)
		this.timer.unref?.()
	}

	stop() {
		if (this.timer) clearInterval(this.timer)
		this.timer = undefined
	}

	/** Where a budget stands in the window `now` falls in. */
	async status(budget: Budget, now = Date.now()): Promise<BudgetStatus> {
		const [status] = await this.statuses([budget], now)
		if (!status) throw new Error('a status per budget')
		return status
	}

	/** Where each budget stands in the window `now` falls in (in one query on PostgreSQL). */
	async statuses(budgets: readonly Budget[], now = Date.now()): Promise<BudgetStatus[]> {
		if (budgets.length === 0) return []
		const starts = budgets.map((budget) => windowStart(budget.window, now))
		const usage = await this.book.usage(budgets, starts)
		return budgets.map((budget, i) => {
			const spentMicros = usage[i]?.spentMicros ?? 0
			const reservedMicros = usage[i]?.reservedMicros ?? 0
			return {
				budget,
				windowStart: starts[i] ?? new Date(0),
				resetsAt: windowReset(budget.window, now),
				limitMicros: budget.limitMicros,
				spentMicros,
				reservedMicros,
				remainingMicros: remaining(budget, spentMicros, reservedMicros),
				percentSpent: budget.limitMicros > 0 ? (spentMicros / budget.limitMicros) * 100 : 100,
			}
		})
	}

	/** What requests in flight hold: reservations, and the budget counters they raised (tests, diagnostics). */
	pending(): Promise<Pending> {
		return this.book.pending()
	}

	/** Adds a budget; 400 with the faulty field as `param`, 409 when the scope already has one for that window. */
	async create(input: NewBudget): Promise<Budget> {
		const scope = checkScope(input.scope, 'scope')
		const scopeId = await this.checkScopeId(scope, input.scopeId, 'scopeId')
		const window = checkWindow(input.window, 'window')
		const limitMicros = checkLimit(input.limitMicros, 'limitMicros')
		const { db, tables } = this.store
		const { budgets } = tables
		let created: { id: number } | undefined
		try {
			;[created] = await db
				.insert(budgets)
				.values({ scope, scopeId, window, limitMicros, createdBy: input.createdBy })
				.returning({ id: budgets.id })
		} catch (error) {
			if (!isUniqueViolation(error)) throw error
			throw new GatewayError(
				409,
				'invalid_request_error',
				`There is already a ${window} budget for this ${scope}`,
				{
					param: 'window',
					code: 'budget_exists',
				},
			)
		}
		if (!created) throw new Error('the new budget was not returned')
		await this.changed()
		return this.get(created.id)
	}

	/**
	 * Sets a scope's budgets to exactly `entries` (one per window): the windows listed get their limit, the
	 * others are deleted. Nothing changes when an entry is invalid; its `param` is `<param>[i].<field>`.
	 */
	async replace(
		scope: BudgetScope,
		scopeId: number,
		entries: readonly { window: BudgetWindow; limitMicros: number }[],
		createdBy: number,
		param = 'budgets',
	): Promise<Budget[]> {
		const checkedScope = checkScope(scope, 'scope')
		const checkedId = await this.checkScopeId(checkedScope, scopeId, 'scopeId')
		const seen = new Set<BudgetWindow>()
		const wanted = entries.map((entry, i) => {
			const window = checkWindow(entry.window, `${param}[${i}].window`)
			if (seen.has(window))
				throw badRequest(`Only one ${window} budget per ${scope}`, `${param}[${i}].window`)
			seen.add(window)
			return { window, limitMicros: checkLimit(entry.limitMicros, `${param}[${i}].limitMicros`) }
		})
		const { db, tables } = this.store
		const { budgets } = tables
		const ofScope = and(eq(budgets.scope, checkedScope), eq(budgets.scopeId, checkedId))
		for (const { window, limitMicros } of wanted) {
			await db
				.insert(budgets)
				.values({ scope: checkedScope, scopeId: checkedId, window, limitMicros, createdBy })
				.onConflictDoUpdate({
					target: [budgets.scope, budgets.scopeId, budgets.window],
					set: { limitMicros },
				})
		}
		const dropped = await db
			.delete(budgets)
			.where(and(ofScope, wanted.length ? notInArray(budgets.window, [...seen]) : undefined))
			.returning({ id: budgets.id })
		for (const { id } of dropped) await this.deleteUsage(id)
		await this.changed()
		return this.select(ofScope)
	}

	/** Budgets by scope (and scope id), ordered by scope, scope id and window. */
	list(filter: BudgetFilter = {}): Promise<Budget[]> {
		const { budgets } = this.store.tables
		return this.select(
			and(
				filter.scope === undefined ? undefined : eq(budgets.scope, checkScope(filter.scope, 'scope')),
				filter.scopeId === undefined ? undefined : eq(budgets.scopeId, filter.scopeId),
			),
		)
	}

	/** Changes a budget's limit; what is spent and reserved in its windows stays. */
	async update(id: number, limitMicros: number): Promise<Budget> {
		const limit = checkLimit(limitMicros, 'limitMicros')
		const { db, tables } = this.store
		const { budgets } = tables
		const updated = await db
			.update(budgets)
			.set({ limitMicros: limit })
			.where(eq(budgets.id, id))
			.returning({ id: budgets.id })
		if (updated.length === 0) throw notFound('No such budget')
		await this.changed()
		return this.get(id)
	}

	/** Deletes a budget and its windows' counters; requests in flight settle against nothing. */
	async delete(id: number): Promise<void> {
		const { db, tables } = this.store
		const { budgets } = tables
		const deleted = await db.delete(budgets).where(eq(budgets.id, id)).returning({ id: budgets.id })
		if (deleted.length === 0) throw notFound('No such budget')
		await this.deleteUsage(id)
		await this.changed()
	}

	private async checkScopeId(
		scope: BudgetScope,
		scopeId: number | undefined,
		param: string,
	): Promise<number> {
		if (scope === 'org') {
			if (scopeId !== undefined && scopeId !== ORG_SCOPE_ID)
				throw badRequest(`The organisation's budgets have scope id ${ORG_SCOPE_ID}`, param)
			return ORG_SCOPE_ID
		}
		if (typeof scopeId !== 'number' || !Number.isSafeInteger(scopeId) || scopeId < 1)
			throw badRequest(`A ${scope} budget names its ${scope} by id`, param)
		const { db, tables } = this.store
		const { gatewayKeys, users } = tables
		const found =
			scope === 'key'
				? await db.select({ id: gatewayKeys.id }).from(gatewayKeys).where(eq(gatewayKeys.id, scopeId))
				: await db.select({ id: users.id }).from(users).where(eq(users.id, scopeId))
		if (found.length === 0) throw badRequest(`No such ${scope}`, param)
		return scopeId
	}

	private async get(id: number): Promise<Budget> {
		const [budget] = await this.select(eq(this.store.tables.budgets.id, id))
		if (!budget) throw notFound('No such budget')
		return budget
	}

	private async select(where: ReturnType<typeof and>): Promise<Budget[]> {
		const { db, tables } = this.store
		const { budgets } = tables
		const rows = await db
			.select({
				id: budgets.id,
				scope: budgets.scope,
				scopeId: budgets.scopeId,
				window: budgets.window,
				limitMicros: budgets.limitMicros,
				createdBy: budgets.createdBy,
				createdAt: budgets.createdAt,
			})
			.from(budgets)
			.where(where)
			.orderBy(asc(budgets.id))
		return rows.sort(byScopeAndWindow)
	}

	private async deleteUsage(budgetId: number) {
		this.book.forget(budgetId)
		// Costs settled before the forget and not yet written would bring the rows back after the delete.
		await this.book.flush()
		const { db, tables } = this.store
		await db.delete(tables.budgetUsage).where(eq(tables.budgetUsage.budgetId, budgetId))
	}

	/** Every instance, this one first, forgets the budgets it cached. */
	private async changed() {
		this.forget()
		await this.store.publish('budgets', '*')
	}

	private forget() {
		this.generation++
		this.cache.clear()
	}
}

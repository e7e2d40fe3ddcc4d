// Budgets as the dashboard and its JSON API show them: in dollars, with where each stands in its current
// window. The money itself is the ledger's (src/budgets/ledger.ts), in micro-dollars.

import type { BudgetAlertThreshold, BudgetScope, BudgetWindow } from '../../db/schema'
import { badRequest } from '../errors'
import type { GatewayKeyView } from '../keys/gateway-keys'
import type { AlertDelivery, BudgetAlertEntry, BudgetAlerts } from './alerts'
import type { Budget, BudgetLedger, BudgetStatus } from './ledger'
import { MAX_LIMIT_MICROS, ORG_SCOPE_ID } from './ledger'
import { microsToUsd, usdToMicros } from './windows'

/** A budget and where it stands in the window now falls in (`GET /api/budgets`). */
export interface BudgetView {
	scope: BudgetScope
	/** The gateway key's id, the user's id, or 0 for the organisation. */
	id: number
	window: BudgetWindow
	usd: number
	spentUsd: number
	/** Held by requests in flight. */
	reservedUsd: number
	/** What a new request could still reserve. */
	remainingUsd: number
	/** Spent as a percentage of the limit (100 for a limit of 0; past 100 when real costs beat their reservations). */
	percentSpent: number
	/** When the window starts afresh; null for a total. */
	resetsAt: Date | null
}

/** A budget as a `PATCH /api/keys/:id` answer lists it: its scope is the key's. */
export type KeyBudgetView = Omit<BudgetView, 'scope' | 'id' | 'remainingUsd' | 'percentSpent'>

/** A gateway key with its limits, as `PATCH /api/keys/:id` answers. */
export interface KeyWithLimits extends GatewayKeyView {
	/** Requests per minute, null for none (the same as `rateLimitPerMinute`). */
	rpm: number | null
	budgets: KeyBudgetView[]
}

/** A budget as a request or a form gives it: a window and a limit in dollars. */
export interface BudgetEntry {
	window: BudgetWindow
	usd: number
}

const MAX_USD = microsToUsd(MAX_LIMIT_MICROS)

export function toBudgetView(status: BudgetStatus): BudgetView {
	return {
		scope: status.budget.scope,
		id: status.budget.scopeId,
		window: status.budget.window,
		usd: microsToUsd(status.limitMicros),
		spentUsd: microsToUsd(status.spentMicros),
		reservedUsd: microsToUsd(status.reservedMicros),
		remainingUsd: microsToUsd(status.remainingMicros),
		percentSpent: Math.round(status.percentSpent * 100) / 100,
		resetsAt: status.resetsAt,
	}
}

export const toKeyBudgetView = ({
	window,
	usd,
	spentUsd,
	reservedUsd,
	resetsAt,
}: BudgetView): KeyBudgetView => ({
	window,
	usd,
	spentUsd,
	reservedUsd,
	resetsAt,
})

/**
 * Dollars to the ledger's micro-dollars, refusing what would not be kept exactly: a negative amount, more
 * than six decimals, or more than the ledger's ceiling. `param` names the list (`budgets`, or `''` for a body
 * that is the list itself), and each problem is reported at `<param>[i].usd`.
 */
export function toLedgerEntries(
	entries: readonly BudgetEntry[],
	param: string,
): { window: BudgetWindow; limitMicros: number }[] {
	const seen = new Set<BudgetWindow>()
	return entries.map((entry, i) => {
		if (seen.has(entry.window))
			throw badRequest(`Only one ${entry.window} budget per scope`, `${param}[${i}].window`)
		seen.add(entry.window)
		const usd = entry.usd
		const at = `${param}[${i}].usd`
		if (typeof usd !== 'number' || !Number.isFinite(usd) || usd < 0 || usd > MAX_USD)
			throw badRequest(`A budget is a number of dollars from 0 to ${MAX_USD}`, at)
		const limitMicros = usdToMicros(usd)
		// Exactly the number given when it has at most six decimals: a micro-dollar is the ledger's unit.
		if (microsToUsd(limitMicros) !== usd)
			throw badRequest('A budget has at most 6 decimals (a micro-dollar)', at)
		return { window: entry.window, limitMicros }
	})
}

/** Where each budget stands now, in one query. */
export async function budgetViews(ledger: BudgetLedger, budgets: readonly Budget[], now = Date.now()) {
	return (await ledger.statuses(budgets, now)).map(toBudgetView)
}

/** Whose budgets a caller sees: a user's (with their keys' ids), or everyone's for `null`. */
export type BudgetOwner = { userId: number; keyIds: readonly number[] } | null

/** Everyone's budgets, or those that concern one user: their keys', their own, and the organisation's. */
export async function visibleLedgerBudgets(ledger: BudgetLedger, owner: BudgetOwner): Promise<Budget[]> {
	const all = await ledger.list()
	if (owner === null) return all
	const keyIds = new Set(owner.keyIds)
	return all.filter(
		(budget) =>
			(budget.scope === 'key' && keyIds.has(budget.scopeId)) ||
			(budget.scope === 'user' && budget.scopeId === owner.userId) ||
			(budget.scope === 'org' && budget.scopeId === ORG_SCOPE_ID),
	)
}

/** `visibleLedgerBudgets`, with where each stands now (`GET /api/budgets`). */
export async function visibleBudgets(
	ledger: BudgetLedger,
	owner: BudgetOwner,
	now = Date.now(),
): Promise<BudgetView[]> {
	return budgetViews(ledger, await visibleLedgerBudgets(ledger, owner), now)
}

/** A budget alert as `GET /api/budget-alerts` answers it: money in dollars, as every budget figure. */
export interface BudgetAlertView {
	/** The budget's own id (the webhook's `budget.id`). */
	budgetId: number
	scope: BudgetScope
	/** The gateway key's id, the user's id, or 0 for the organisation. */
	scopeId: number
	window: BudgetWindow
	/** 80 or 100: the share of the limit the window had spent. */
	threshold: BudgetAlertThreshold
	/** The budget's limit now. */
	limitUsd: number
	/** What the alert's window has spent so far (its final spend once the window is over). */
	spentUsd: number
	windowStart: Date
	resetsAt: Date | null
	/** When the budget was first seen past the threshold. */
	createdAt: Date
	notifiedAt: Date | null
	attempts: number
	lastError: string | null
	/** The webhook's delivery: `off` when no webhook is configured. */
	delivery: AlertDelivery
}

export function toAlertView(alert: BudgetAlertEntry): BudgetAlertView {
	return {
		budgetId: alert.budgetId,
		scope: alert.scope,
		scopeId: alert.scopeId,
		window: alert.window,
		threshold: alert.threshold,
		limitUsd: microsToUsd(alert.limitMicros),
		spentUsd: microsToUsd(alert.spentMicros),
		windowStart: alert.windowStart,
		resetsAt: alert.resetsAt,
		createdAt: alert.createdAt,
		notifiedAt: alert.notifiedAt,
		attempts: alert.attempts,
		lastError: alert.lastError,
		delivery: alert.delivery,
	}
}

/** Recent alerts, newest first, of the budgets `owner` sees (`visibleLedgerBudgets`): everyone's for `null`. */
export async function visibleAlerts(
	ledger: BudgetLedger,
	alerts: Pick<BudgetAlerts, 'list'>,
	owner: BudgetOwner,
	options: { since?: Date; limit?: number } = {},
): Promise<BudgetAlertView[]> {
	const budgetIds = owner === null ? undefined : (await visibleLedgerBudgets(ledger, owner)).map((b) => b.id)
	return (await alerts.list({ ...options, budgetIds })).map(toAlertView)
}

/** A scope's budgets set to exactly `entries`, answered as views. */
export async function replaceBudgets(
	ledger: BudgetLedger,
	scope: BudgetScope,
	scopeId: number,
	entries: readonly BudgetEntry[],
	createdBy: number,
	param: string,
): Promise<BudgetView[]> {
	const replaced = await ledger.replace(scope, scopeId, toLedgerEntries(entries, param), createdBy, param)
	return budgetViews(ledger, replaced)
}

/** The budgets of each of these scope ids, by id, with where they stand now. */
export async function budgetsBy(
	ledger: BudgetLedger,
	scope: BudgetScope,
	ids: readonly number[],
	now = Date.now(),
): Promise<Map<number, BudgetView[]>> {
	const wanted = new Set(ids)
	const budgets = (await ledger.list({ scope })).filter((budget) => wanted.has(budget.scopeId))
	const byId = new Map<number, BudgetView[]>()
	for (const view of await budgetViews(ledger, budgets, now)) {
		const list = byId.get(view.id) ?? []
		list.push(view)
		byId.set(view.id, list)
	}
	return byId
}

export function withLimits(key: GatewayKeyView, budgets: readonly BudgetView[]): KeyWithLimits {
	return { ...key, rpm: key.rateLimitPerMinute, budgets: budgets.map(toKeyBudgetView) }
}

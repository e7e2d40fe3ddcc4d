/** Formatting for views: every value that reaches HTML as text goes through one of these or `safe`. */

import type { BreakdownBy } from '../analytics/scope'
import type { BreakdownRow } from '../analytics/usage-reports'

export function formatDateTime(value: Date | string | number | null | undefined): string {
	if (value === null || value === undefined) return '—'
	const date = value instanceof Date ? value : new Date(value)
	if (Number.isNaN(date.getTime())) return '—'
	return `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`
}

/**
 * One rule for money: cents from a dollar up ($12.35); below it three significant digits, at least to the
 * cent, without zeros past the cents ($0.0604, $0.000402, $0.50, $0.001 and not $0.001000); $0.00 for nothing.
 */
export function formatUsd(value: number): string {
	if (value === 0) return '$0.00'
	const abs = Math.abs(value)
	const rounded = Number(abs.toPrecision(3))
	const text =
		rounded >= 1
			? abs.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })
			: rounded.toFixed(9).replace(/(\.\d\d\d*?)0+$/, '$1')
	return `${value < 0 ? '-' : ''}$${text}`
}

export function formatInteger(value: number): string {
	return Math.round(value).toLocaleString('en-US')
}

export function formatPercent(ratio: number): string {
	return `${(ratio * 100).toFixed(1)}%`
}

export function formatMs(value: number): string {
	return value >= 1000 ? `${(value / 1000).toFixed(2)} s` : `${Math.round(value)} ms`
}

/**
 * What an absent tier or model means, in the words of every view that shows one: the overview's
 * breakdowns, the request list and detail, and the requests page's filters.
 */
export const ROUTE_WORDS = {
	/** No tier: the caller named the model, so nothing was routed. */
	explicit: 'explicit',
	/** No rule, tier or model: refused before a route was chosen (a bad body, an unknown model, a limit). */
	beforeRouting: 'failed before routing',
	modelBeforeRouting: 'no model (failed before routing)',
	/** A tier or a named model was chosen, and no model answered: every attempt failed, or none could be made. */
	unanswered: 'no model answered',
	providerUnanswered: 'no provider (no model answered)',
	/** The daily totals keep no rule, so their rows with no tier and no answer hold both kinds of failure. */
	untieredUnanswered: 'failed before routing, or named model failed',
} as const

/** A logged request's route, as the request log keeps it. */
interface LoggedRoute {
	tier: string | null
	model: string | null
	rule: string | null
}

/** No tier and no rule means no route was ever chosen; a model without a tier was named by the caller. */
const failedBeforeRouting = (request: LoggedRoute) =>
	request.tier === null && request.rule === null && request.model === null

export function tierLabel(request: LoggedRoute): string {
	if (request.tier !== null) return request.tier
	return failedBeforeRouting(request) ? ROUTE_WORDS.beforeRouting : ROUTE_WORDS.explicit
}

/** The model that answered, or why none did. */
export function modelLabel(request: LoggedRoute): string {
	if (request.model !== null) return request.model
	return failedBeforeRouting(request) ? ROUTE_WORDS.modelBeforeRouting : ROUTE_WORDS.unanswered
}

/** A breakdown row's name; the rollups behind it know tier and model, not the rule. */
export function breakdownLabel(by: BreakdownBy, row: Pick<BreakdownRow, 'key' | 'answered'>): string {
	if (row.key !== null) return row.key
	if (by === 'tier') return row.answered ? ROUTE_WORDS.explicit : ROUTE_WORDS.untieredUnanswered
	if (by === 'provider') return ROUTE_WORDS.providerUnanswered
	return ROUTE_WORDS.unanswered
}

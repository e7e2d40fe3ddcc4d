// Spend admission: before any upstream call, a request reserves its worst-case cost against every budget
// that applies (its key's, its user's, the organisation's) in the ledger's atomic statements; its one log
// row settles the reservation with the real cost, whatever the outcome. See README, "Budgets".
import type { BudgetAlerts } from '../budgets/alerts'
import type { BudgetLedger } from '../budgets/ledger'
import { MICROS_PER_USD, microsToUsd } from '../budgets/windows'
import type { Config } from '../config'
import { GatewayError } from '../errors'
import { loggable } from '../lib/redact'
import type { CatalogModel } from '../providers/catalog'
import { costUsd } from '../providers/pricing'
import type { RequestFeatures } from '../rules/features'
import type { Exchange } from './exchange'

export interface AdmissionDeps {
	config: Pick<Config, 'upstreamTotalTimeoutMs' | 'budgetReserveMaxOutputTokens'>
	budgets: Pick<BudgetLedger, 'applicable' | 'reserve' | 'settle'>
	budgetAlerts: Pick<BudgetAlerts, 'check'>
}

/** A sweeper never releases a reservation whose request may still settle it: a margin past its deadline. */
const SETTLE_MARGIN_MS = 60_000

/** Money in micro-dollars, rounded up: a budget never counts less than was spent. */
export const microsOf = (usd: number) => Math.ceil(usd * MICROS_PER_USD - 1e-6)

/** The output a request may produce on a model: its `max_tokens`, or the model's maximum (capped when set). */
export const worstCaseOutputTokens = (
	model: CatalogModel,
	features: Pick<RequestFeatures, 'maxTokens'>,
	outputCap: number | null,
) => features.maxTokens ?? Math.min(model.maxOutputTokens, outputCap ?? Number.POSITIVE_INFINITY)

/**
 * The most this request can cost on any of its candidates: its estimated prompt, and its `max_tokens`, or
 * else the model's maximum output (capped by BUDGET_RESERVE_MAX_OUTPUT_TOKENS when set).
 */
export function worstCaseUsd(
	candidates: readonly CatalogModel[],
	features: Pick<RequestFeatures, 'promptTokens' | 'maxTokens'>,
	outputCap: number | null,
): number {
	let worst = 0
	for (const model of candidates) {
		const usage = {
			promptTokens: features.promptTokens,
			completionTokens: worstCaseOutputTokens(model, features, outputCap),
			cachedTokens: 0,
			cacheWriteTokens: 0,
			cacheWrite1hTokens: 0,
			reasoningTokens: 0,
		}
		worst = Math.max(worst, costUsd(model, usage))
	}
	return worst
}

/** The most tokens (input and output) this request can use on any of its candidates: what a TPM limit reserves. */
export function worstCaseTokens(
	candidates: readonly CatalogModel[],
	features: Pick<RequestFeatures, 'promptTokens' | 'maxTokens'>,
	outputCap: number | null,
): number {
	let worst = 0
	for (const model of candidates)
		worst = Math.max(worst, features.promptTokens + worstCaseOutputTokens(model, features, outputCap))
	return worst
}

const WINDOW_NAMES = { day: 'daily', month: 'monthly', total: 'total' } as const

const usd = (micros: number) => `$${microsToUsd(micros).toFixed(4)}`

/**
 * Reserves the request's worst case against its budgets, or refuses it: 429 `budget_exceeded` with what
 * is left, when the window resets, and `x-should-retry: false` (an SDK must not retry a budget that will not
 * refill for hours). A request whose principal has no budget costs no database work.
 */
export async function admit(
	deps: AdmissionDeps,
	exchange: Exchange,
	candidates: readonly CatalogModel[],
	features: RequestFeatures,
): Promise<void> {
	const budgets = await deps.budgets.applicable(exchange.principal)
	if (budgets.length === 0) return
	const amount = Math.max(
		1,
		microsOf(worstCaseUsd(candidates, features, deps.config.budgetReserveMaxOutputTokens)),
	)
	const now = Date.now()
	const deadline =
		now + deps.config.upstreamTotalTimeoutMs * Math.max(1, candidates.length) + SETTLE_MARGIN_MS
	const result = await deps.budgets.reserve(exchange.requestId, budgets, amount, now, deadline)
	if (result.ok) {
		exchange.reserved = { budgets, micros: amount }
		return
	}
	const { budget, limitMicros, remainingMicros, resetsAt } = result
	const whose = budget.scope === 'org' ? "the organisation's" : `this ${budget.scope}'s`
	const window = WINDOW_NAMES[budget.window]
	const resets = resetsAt ? `; it resets at ${resetsAt.toISOString()}` : ''
	throw new GatewayError(
		429,
		'rate_limit_error',
		`Budget exceeded: ${whose} ${window} budget is ${usd(limitMicros)}, ${usd(remainingMicros)} is left and this request may cost up to ${usd(amount)}${resets}`,
		{
			code: 'budget_exceeded',
			headers: {
				'x-should-retry': 'false',
				...(resetsAt && { 'retry-after': String(Math.max(1, Math.ceil((resetsAt.getTime() - now) / 1000))) }),
			},
		},
	)
}

/**
 * The request's reservation becomes its real cost (0 for a failure that billed nothing); an answer whose
 * cost is not known (`unpriced`: no usage reported) keeps its whole reservation as spent, never $0. A cost
 * then checks the budgets for their 80 % and 100 % alerts. Never awaited.
 */
export function settleSpend(
	deps: Pick<AdmissionDeps, 'budgets' | 'budgetAlerts'>,
	exchange: Exchange,
	cost: number,
	unpriced: boolean,
) {
	const reserved = exchange.reserved
	if (!reserved) return
	const micros = unpriced ? reserved.micros : microsOf(cost)
	deps.budgets
		.settle(exchange.requestId, micros)
		.then(() => {
			// Not returned: the check resolves with a read that may be a second away, and nothing waits for it.
			if (micros > 0) void deps.budgetAlerts.check(reserved.budgets)
		})
		.catch((error) => {
			console.error(`[${exchange.requestId}] could not settle the budget reservation: ${loggable(error)}`)
		})
}

import type { BudgetWindow } from '../../../db/schema'
import type { BudgetView } from '../../budgets/budget-views'
import { formatDateTime, formatUsd } from '../format'

export const WINDOW_LABELS: Record<BudgetWindow, string> = {
	day: 'Today (UTC)',
	month: 'This month (UTC)',
	total: 'Total',
}

export const WINDOW_ADJECTIVES: Record<BudgetWindow, string> = {
	day: 'daily',
	month: 'monthly',
	total: 'total',
}

/** A part of the limit as a bar width in percent, within 0–100; a limit of 0 is full (spent) from the start. */
function share(part: number, whole: number): number {
	if (whole <= 0) return 100
	return Math.round(Math.min(100, Math.max(0, (part / whole) * 100)) * 100) / 100
}

/** Past 80 % a budget is near its end, at 100 % it refuses requests: the bar's colour says which. */
function level(budget: BudgetView): 'ok' | 'near' | 'over' {
	if (budget.percentSpent >= 100 || budget.usd <= 0) return 'over'
	return budget.percentSpent >= 80 ? 'near' : 'ok'
}

/**
 * What a budget has spent in its current window against its limit, and what requests in flight hold
 * reserved, drawn after the spent part in its own colour. `label` (user data, such as a key's name) is
 * escaped here; without it the window names the bar.
 */
export function BudgetBar({ budget, label }: { budget: BudgetView; label?: string }) {
	const name = label ?? WINDOW_LABELS[budget.window]
	const spent = share(budget.spentUsd, budget.usd)
	const reserved = budget.usd > 0 ? Math.min(100 - spent, share(budget.reservedUsd, budget.usd)) : 0
	const figures = `${formatUsd(budget.spentUsd)} of ${formatUsd(budget.usd)}`
	const held = budget.reservedUsd > 0 ? `${formatUsd(budget.reservedUsd)} reserved in flight · ` : ''
	const resets = budget.resetsAt ? `resets ${formatDateTime(budget.resetsAt)}` : 'never resets'
	const refuses = budget.usd > 0 ? '' : 'refuses every request · '
	return (
		<div class={`budget budget-${level(budget)}`} data-window={budget.window}>
			<div class="budget-head">
				<span class="budget-label" safe>
					{name}
				</span>
				<span class="budget-figures" safe>
					{figures}
				</span>
			</div>
			{/* The figures above say it in words; the bar only draws them. */}
			<div class="budget-bar" aria-hidden="true">
				<span class="budget-spent" style={`width: ${spent}%`} />
				<span class="budget-reserved" style={`width: ${reserved}%`} />
			</div>
			<div class="budget-detail" safe>
				{`${refuses}${held}${resets}`}
			</div>
		</div>
	)
}

/** The value a budget form's field starts with: the window's limit, or empty for none. */
const limitOf = (budgets: readonly BudgetView[], window: BudgetWindow) => {
	const found = budgets.find((budget) => budget.window === window)
	return found ? String(found.usd) : ''
}

/** One dollar field per window, filled with the current limits; an empty field means no budget. */
export function BudgetFields({ budgets }: { budgets: readonly BudgetView[] }) {
	return (
		<>
			{(['day', 'month', 'total'] as const).map((window) => (
				<label>
					<span
						safe
					>{`${WINDOW_ADJECTIVES[window][0]?.toUpperCase()}${WINDOW_ADJECTIVES[window].slice(1)}, USD`}</span>
					<input
						name={window}
						type="number"
						min="0"
						step="0.000001"
						inputmode="decimal"
						value={limitOf(budgets, window)}
						placeholder="none"
					/>
				</label>
			))}
		</>
	)
}

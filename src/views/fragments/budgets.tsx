import type { BudgetAlertView, BudgetView } from '../../budgets/budget-views'
import { BudgetBar, BudgetFields, WINDOW_ADJECTIVES } from '../components/budget-bar'
import { ErrorBanner } from '../components/error-banner'
import { formatDateTime, formatInteger, formatUsd } from '../format'

/** The overview's budget card, which loads itself after the page (it is the budgets plugin's to answer). */
export const BUDGET_STATUS_ID = 'budget-status'
const ORG_SECTION_ID = 'org-budgets'

/** A budget with what it belongs to, in words (a key's name, "You", "Organisation"). */
export interface LabelledBudget {
	label: string
	budget: BudgetView
}

export interface BudgetGroup {
	title: string
	budgets: LabelledBudget[]
}

/** An alert with what its budget belongs to, in words (a key's name, "You", a user's email, "Organisation"). */
export interface LabelledAlert {
	owner: string
	alert: BudgetAlertView
}

/** The window an alert is about: the day or the month it crossed in, which may be over by now. */
function alertWindow(alert: BudgetAlertView): string {
	const start = alert.windowStart.toISOString()
	if (alert.window === 'day') return `daily budget of ${start.slice(0, 10)}`
	if (alert.window === 'month') return `monthly budget of ${start.slice(0, 7)}`
	return `${WINDOW_ADJECTIVES[alert.window]} budget`
}

/** Where the alert's webhook delivery stands, in words. */
function deliveryWords(alert: BudgetAlertView): string {
	const attempts = `${formatInteger(alert.attempts)} ${alert.attempts === 1 ? 'attempt' : 'attempts'}`
	if (alert.delivery === 'delivered') return `webhook delivered ${formatDateTime(alert.notifiedAt)}`
	if (alert.delivery === 'failed') return `webhook failed after ${attempts}`
	if (alert.delivery === 'pending') return `webhook pending (${attempts} so far)`
	return 'no webhook configured'
}

/** One alert: which threshold, which budget, when, and whether the webhook took it (and why not). */
function AlertItem({ owner, alert }: LabelledAlert) {
	return (
		<li class={`budget-alert budget-alert-${alert.threshold}`} data-threshold={alert.threshold}>
			<div class="budget-alert-head">
				<span class="budget-alert-threshold">{alert.threshold} %</span>
				<span class="budget-alert-budget" safe>
					{`${owner} · ${alertWindow(alert)}`}
				</span>
			</div>
			<div class="budget-alert-detail" safe>
				{`${formatUsd(alert.spentUsd)} of ${formatUsd(alert.limitUsd)} · ${formatDateTime(alert.createdAt)}`}
			</div>
			<div class={`budget-alert-delivery delivery-${alert.delivery}`} safe>
				{deliveryWords(alert)}
			</div>
			{alert.lastError ? (
				<div class="budget-alert-error" safe>
					{`Last error: ${alert.lastError}`}
				</div>
			) : (
				''
			)}
		</li>
	)
}

/** The budgets' recent alerts at 80 % and 100 %, newest first. */
function RecentAlerts({ alerts }: { alerts: LabelledAlert[] }) {
	return (
		<div class="budget-alerts">
			<h3>Recent alerts</h3>
			{alerts.length === 0 ? (
				<p class="hint">No budget has passed 80 % of its limit in the last 30 days.</p>
			) : (
				<ul class="budget-alert-list">
					{alerts.map((alert) => (
						<AlertItem owner={alert.owner} alert={alert.alert} />
					))}
				</ul>
			)}
		</div>
	)
}

/**
 * Where the caller's budgets stand, drawn as bars: their keys', their own and the organisation's, and for
 * an admin also the budgets closest to their limit across everyone; then the recent alerts (an admin's:
 * everyone's).
 */
export function BudgetStatusCard({
	groups,
	alerts = [],
}: {
	groups: BudgetGroup[]
	alerts?: LabelledAlert[]
}) {
	const shown = groups.filter((group) => group.budgets.length > 0)
	return (
		<section class="card" id={BUDGET_STATUS_ID}>
			<h2>Budgets</h2>
			{shown.length === 0 ? (
				<p class="empty">
					No budget applies to your requests. Set one on a key on the <a href="/keys">Keys</a> page.
				</p>
			) : (
				<div class="budget-groups">
					{shown.map((group) => (
						<div class="budget-group">
							<h3 safe>{group.title}</h3>
							{group.budgets.map(({ label, budget }) => (
								<BudgetBar budget={budget} label={label} />
							))}
						</div>
					))}
				</div>
			)}
			{shown.length > 0 || alerts.length > 0 ? <RecentAlerts alerts={alerts} /> : ''}
		</section>
	)
}

/** Stands in for the budget card until htmx loads it; without JavaScript it links to where budgets are. */
export function BudgetStatusPlaceholder() {
	return (
		<section
			class="card"
			id={BUDGET_STATUS_ID}
			hx-get="/budgets/status"
			hx-trigger="load"
			hx-swap="outerHTML"
		>
			<h2>Budgets</h2>
			<p class="hint">
				Each key's budgets are on the <a href="/keys">Keys</a> page.
			</p>
		</section>
	)
}

/** The organisation's budgets, which every request counts against, and the admin's form to set them. */
export function OrgBudgetsSection({ budgets, error }: { budgets: BudgetView[]; error?: string }) {
	return (
		<section class="card" id={ORG_SECTION_ID}>
			<h2>Organisation budgets</h2>
			<p class="hint">
				Every request by anyone counts against these, besides its key's and its user's budgets. Leave a field
				empty for no budget in that window.
			</p>
			{budgets.length === 0 ? <p class="empty">No organisation budget.</p> : ''}
			<div class="budget-list">
				{budgets.map((budget) => (
					<BudgetBar budget={budget} />
				))}
			</div>
			<form
				class="inline-form"
				method="post"
				action="/org/budgets"
				hx-post="/org/budgets"
				hx-target={`#${ORG_SECTION_ID}`}
				hx-swap="outerHTML"
			>
				<BudgetFields budgets={budgets} />
				<button type="submit" class="primary">
					Save organisation budgets
				</button>
			</form>
			{error ? <ErrorBanner message={error} /> : ''}
		</section>
	)
}

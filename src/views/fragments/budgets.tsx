import type { BudgetView } from '../../plugins/budgets/service'
import { BudgetBar, BudgetFields } from '../components/budget-bar'
import { ErrorBanner } from '../components/error-banner'

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

/**
 * Where the caller's budgets stand, drawn as bars: their keys', their own and the organisation's, and for
 * an admin also the budgets closest to their limit across everyone.
 */
export function BudgetStatusCard({ groups }: { groups: BudgetGroup[] }) {
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

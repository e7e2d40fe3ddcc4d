import { Elysia } from 'elysia'
import { scopeFor } from '../../analytics/scope'
import type { Accounts, PublicUser } from '../../auth/accounts'
import type { BudgetLedger } from '../../budgets/ledger'
import { ORG_SCOPE_ID } from '../../budgets/ledger'
import type { GatewayKeyStore } from '../../keys/gateway-keys'
import { WINDOW_LABELS } from '../../views/components/budget-bar'
import { type BudgetGroup, BudgetStatusCard, type LabelledBudget } from '../../views/fragments/budgets'
import { type SessionDeps, sessionPlugin } from '../session'
import { BudgetsModel } from './model'
import { type BudgetView, replaceBudgets, visibleBudgets } from './service'

export interface BudgetsDeps extends SessionDeps {
	budgets: BudgetLedger
	gatewayKeys: Pick<GatewayKeyStore, 'list'>
	accounts: Pick<Accounts, 'list'>
}

/** How many of everyone's budgets an admin's overview card lists, closest to their limit first. */
const MOST_SPENT = 5

/**
 * Budgets across scopes: `GET /api/budgets` (what the caller may see), the organisation's budgets, and the
 * overview's budget card. A key's budgets are set through `PATCH /api/keys/:id`, a user's through
 * `PUT /api/users/:id/budgets`.
 */
export const budgetsPlugin = (deps: BudgetsDeps) => {
	const { budgets, gatewayKeys } = deps

	/** The caller's own: their keys', theirs and the organisation's; everyone's for `null`. */
	async function visibleTo(userId: number | null) {
		if (userId === null) return visibleBudgets(budgets, null)
		const keys = await gatewayKeys.list(userId)
		return visibleBudgets(budgets, { userId, keyIds: keys.map((key) => key.id) })
	}

	/** Each budget named for the card: its key's name (and owner, across users), "You", a user, or "Organisation". */
	async function labeller(user: PublicUser, everyone: boolean) {
		const keys = new Map((await gatewayKeys.list(everyone ? null : user.id)).map((key) => [key.id, key]))
		const emails = everyone
			? new Map((await deps.accounts.list()).map((each) => [each.id, each.email]))
			: null
		return (budget: BudgetView): LabelledBudget => {
			const window = WINDOW_LABELS[budget.window]
			const key = keys.get(budget.id)
			let owner = 'Organisation'
			if (budget.scope === 'key')
				owner = key
					? `Key ${key.name}${everyone && key.ownerEmail !== user.email ? ` (${key.ownerEmail})` : ''}`
					: `Key #${budget.id}`
			else if (budget.scope === 'user')
				owner = budget.id === user.id ? 'You' : (emails?.get(budget.id) ?? `User #${budget.id}`)
			return { label: `${owner} · ${window}`, budget }
		}
	}

	async function statusGroups(user: PublicUser): Promise<BudgetGroup[]> {
		const own = await visibleTo(user.id)
		const label = await labeller(user, user.role === 'admin')
		const groups: BudgetGroup[] = [{ title: 'Your requests count against', budgets: own.map(label) }]
		if (user.role !== 'admin') return groups
		const shown = new Set(own.map((budget) => `${budget.scope}:${budget.id}:${budget.window}`))
		const others = (await visibleTo(null))
			.filter((budget) => budget.id !== ORG_SCOPE_ID || budget.scope !== 'org')
			.filter((budget) => !shown.has(`${budget.scope}:${budget.id}:${budget.window}`))
			.sort((a, b) => b.percentSpent - a.percentSpent)
			.slice(0, MOST_SPENT)
		groups.push({ title: 'Closest to their limit, across everyone', budgets: others.map(label) })
		return groups
	}

	return new Elysia({ name: 'budgets' })
		.use(sessionPlugin(deps))
		.get('/api/budgets', ({ auth, query }) => visibleTo(scopeFor(auth.user, query.scope).userId), {
			session: 'user',
			query: BudgetsModel.listScope,
		})
		.put(
			'/api/org/budgets',
			({ auth, body }) => replaceBudgets(budgets, 'org', ORG_SCOPE_ID, body, auth.user.id, ''),
			{ session: 'admin', body: BudgetsModel.entries },
		)
		.get('/budgets/status', async ({ auth }) => BudgetStatusCard({ groups: await statusGroups(auth.user) }), {
			session: 'user',
		})
}

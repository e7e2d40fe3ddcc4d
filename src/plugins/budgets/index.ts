import { Elysia } from 'elysia'
import type { BudgetScope } from '../../../db/schema'
import { scopeFor } from '../../analytics/scope'
import type { Accounts, PublicUser } from '../../auth/accounts'
import type { BudgetAlerts } from '../../budgets/alerts'
import {
	type BudgetOwner,
	type BudgetView,
	replaceBudgets,
	visibleAlerts,
	visibleBudgets,
} from '../../budgets/budget-views'
import type { BudgetLedger } from '../../budgets/ledger'
import { ORG_SCOPE_ID } from '../../budgets/ledger'
import { badRequest } from '../../errors'
import type { GatewayKeyStore } from '../../keys/gateway-keys'
import { WINDOW_LABELS } from '../../views/components/budget-bar'
import {
	type BudgetGroup,
	BudgetStatusCard,
	type LabelledAlert,
	type LabelledBudget,
} from '../../views/fragments/budgets'
import { BudgetsModel } from '../budget-model'
import { type SessionDeps, sessionPlugin } from '../session'

export interface BudgetsDeps extends SessionDeps {
	budgets: BudgetLedger
	budgetAlerts: Pick<BudgetAlerts, 'list'>
	gatewayKeys: Pick<GatewayKeyStore, 'list'>
	accounts: Pick<Accounts, 'list'>
}

/** How many of everyone's budgets an admin's overview card lists, closest to their limit first. */
const MOST_SPENT = 5
/** How many alerts the overview's card lists, newest first, and how far back it looks. */
const RECENT_ALERTS = 5
const RECENT_ALERTS_MS = 30 * 24 * 60 * 60_000

/**
 * Budgets across scopes: `GET /api/budgets` (what the caller may see), the organisation's budgets, and the
 * overview's budget card. A key's budgets are set through `PATCH /api/keys/:id`, a user's through
 * `PUT /api/users/:id/budgets`.
 */
export const budgetsPlugin = (deps: BudgetsDeps) => {
	const { budgets, gatewayKeys } = deps

	/** Whose budgets `userId` sees: their keys', theirs and the organisation's; everyone's for `null`. */
	async function ownerOf(userId: number | null): Promise<BudgetOwner> {
		if (userId === null) return null
		const keys = await gatewayKeys.list(userId)
		return { userId, keyIds: keys.map((key) => key.id) }
	}

	async function visibleTo(userId: number | null) {
		return visibleBudgets(budgets, await ownerOf(userId))
	}

	/** Names what a budget belongs to: its key's name (and owner, across users), "You", a user, or "Organisation". */
	async function namer(user: PublicUser, everyone: boolean) {
		const keys = new Map((await gatewayKeys.list(everyone ? null : user.id)).map((key) => [key.id, key]))
		const emails = everyone
			? new Map((await deps.accounts.list()).map((each) => [each.id, each.email]))
			: null
		return (scope: BudgetScope, id: number): string => {
			const key = keys.get(id)
			if (scope === 'key')
				return key
					? `Key ${key.name}${everyone && key.ownerEmail !== user.email ? ` (${key.ownerEmail})` : ''}`
					: `Key #${id}`
			if (scope === 'user') return id === user.id ? 'You' : (emails?.get(id) ?? `User #${id}`)
			return 'Organisation'
		}
	}

	/** The card's budgets and its recent alerts: an admin's alerts are everyone's, a developer's their own. */
	async function statusCard(user: PublicUser) {
		const everyone = user.role === 'admin'
		const name = await namer(user, everyone)
		const [groups, alerts] = await Promise.all([
			statusGroups(user, (budget) => ({
				label: `${name(budget.scope, budget.id)} · ${WINDOW_LABELS[budget.window]}`,
				budget,
			})),
			visibleAlerts(budgets, deps.budgetAlerts, await ownerOf(everyone ? null : user.id), {
				since: new Date(Date.now() - RECENT_ALERTS_MS),
				limit: RECENT_ALERTS,
			}),
		])
		const labelled: LabelledAlert[] = alerts.map((alert) => ({
			owner: name(alert.scope, alert.scopeId),
			alert,
		}))
		return BudgetStatusCard({ groups, alerts: labelled })
	}

	async function statusGroups(
		user: PublicUser,
		label: (budget: BudgetView) => LabelledBudget,
	): Promise<BudgetGroup[]> {
		const own = await visibleTo(user.id)
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
		.get(
			'/api/budget-alerts',
			async ({ auth, query }) => {
				// An admin sees everyone's alerts unless asking for their own (`scope=mine`); `scope=all` is 403
				// for a developer, as everywhere.
				const everyone =
					query.scope === undefined
						? auth.user.role === 'admin'
						: scopeFor(auth.user, query.scope).userId === null
				let since: Date | undefined
				if (query.since !== undefined) {
					since = new Date(query.since)
					if (Number.isNaN(since.getTime()))
						throw badRequest('since must be an ISO 8601 date or date and time', 'since')
				}
				const owner = await ownerOf(everyone ? null : auth.user.id)
				return visibleAlerts(budgets, deps.budgetAlerts, owner, { since, limit: query.limit })
			},
			{ session: 'user', query: BudgetsModel.alerts },
		)
		.get('/budgets/status', ({ auth }) => statusCard(auth.user), { session: 'user' })
}

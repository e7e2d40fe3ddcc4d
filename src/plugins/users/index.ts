import { Elysia } from 'elysia'
import { windowOf } from '../../analytics/scope'
import type { UsageReports } from '../../analytics/usage-reports'
import type { Accounts, PublicUser } from '../../auth/accounts'
import type { Invites } from '../../auth/invites'
import type { SessionStore } from '../../auth/sessions'
import { type BudgetEntry, budgetsBy, budgetViews, replaceBudgets } from '../../budgets/budget-views'
import { type BudgetLedger, ORG_SCOPE_ID } from '../../budgets/ledger'
import { BUDGET_WINDOWS } from '../../budgets/windows'
import type { Config } from '../../config'
import { notFound } from '../../errors'
import type { GatewayKeyStore } from '../../keys/gateway-keys'
import type { RequestLog } from '../../request-log/request-log'
import { OrgBudgetsSection } from '../../views/fragments/budgets'
import { type CreatedInvite, UsersSection } from '../../views/fragments/users'
import { UsersPage } from '../../views/pages/users'
import { BudgetsModel } from '../budget-model'
import { formSuccess, fragmentOrPage, readForm, submitForm } from '../forms'
import { arrivedOverHttps } from '../request-info'
import { type SessionDeps, sessionPlugin } from '../session'
import { UsersModel } from './model'

export interface UsersDeps extends SessionDeps {
	accounts: Accounts
	invites: Invites
	sessions: SessionStore
	gatewayKeys: Pick<GatewayKeyStore, 'forgetUser'>
	analytics: Pick<UsageReports, 'spendByUser'>
	requestLog: Pick<RequestLog, 'flush'>
	config: Pick<Config, 'trustProxy'>
	budgets: BudgetLedger
}

/** A budget form's fields (empty for none) as the budgets they set. */
function formEntries(form: typeof BudgetsModel.form.static): BudgetEntry[] {
	const entries: BudgetEntry[] = []
	for (const window of BUDGET_WINDOWS) {
		const usd = form[window]
		if (usd !== undefined) entries.push({ window, usd })
	}
	return entries
}

/** The address people reach this dashboard by, as this request did: for links sent to them. */
function publicOrigin(request: Request, trustProxy: boolean): string {
	const scheme = arrivedOverHttps(request, trustProxy) ? 'https' : 'http'
	return `${scheme}://${new URL(request.url).host}`
}

/** The admin's people management: the users with their spend, role and access, and sign-up invites. */
export const usersPlugin = (deps: UsersDeps) => {
	const { accounts, invites, sessions, gatewayKeys, budgets } = deps

	async function usersWithSpend() {
		await deps.requestLog.flush()
		const spend = await deps.analytics.spendByUser(windowOf(30))
		return (await accounts.list()).map((user) => ({ ...user, spentUsd30d: spend.get(user.id) ?? 0 }))
	}

	/** A role or access change takes effect at once: sessions end, and cached key lookups are dropped. */
	async function updateUser(
		adminId: number,
		userId: number,
		change: { role?: 'admin' | 'developer'; active?: boolean },
	) {
		const updated = await accounts.update(adminId, userId, change)
		if (change.active === false) await sessions.deleteAllOf(userId)
		await gatewayKeys.forgetUser(userId)
		return updated
	}

	const orgBudgets = async () => budgetViews(budgets, await budgets.list({ scope: 'org' }))

	/** A user's budgets, set by an admin: 404 for no such user, 400 with `<param>[i].usd` for a bad amount. */
	async function setUserBudgets(adminId: number, userId: number, entries: BudgetEntry[], param: string) {
		if (!(await accounts.list()).some((user) => user.id === userId)) throw notFound('No such user')
		return replaceBudgets(budgets, 'user', userId, entries, adminId, param)
	}

	async function section(
		request: Request,
		admin: PublicUser,
		shown: { invite?: CreatedInvite; error?: string; budgetsError?: { userId: number; message: string } },
	) {
		const users = await usersWithSpend()
		const userBudgets = await budgetsBy(
			budgets,
			'user',
			users.map((user) => user.id),
		)
		return fragmentOrPage(
			request,
			() => UsersSection({ users, budgets: userBudgets, selfId: admin.id, ...shown }),
			async () =>
				UsersPage({ user: admin, users, budgets: userBudgets, orgBudgets: await orgBudgets(), ...shown }),
		)
	}

	async function createInvite(
		request: Request,
		adminId: number,
		body: { email?: string; role?: 'developer' | 'admin' },
	) {
		const { token, expiresAt } = await invites.create(adminId, body)
		const url = `${publicOrigin(request, deps.config.trustProxy)}/signup?invite=${token}`
		return { url, expiresAt, email: body.email ?? null, role: body.role ?? 'developer' }
	}

	return (
		new Elysia({ name: 'users' })
			.use(sessionPlugin(deps))
			.get('/api/users', () => usersWithSpend(), { session: 'admin' })
			.patch('/api/users/:id', ({ auth, params, body }) => updateUser(auth.user.id, params.id, body), {
				session: 'admin',
				params: UsersModel.idParam,
				body: UsersModel.update,
			})
			.put(
				'/api/users/:id/budgets',
				({ auth, params, body }) => setUserBudgets(auth.user.id, params.id, body, ''),
				{ session: 'admin', params: UsersModel.idParam, body: BudgetsModel.entries },
			)
			.post(
				'/api/invites',
				({ auth, body, request, set }) => {
					set.status = 201
					return createInvite(request, auth.user.id, body)
				},
				{ session: 'admin', body: UsersModel.invite },
			)
			// Dashboard page and the fragment its forms swap
			.get('/users', async ({ auth, request }) => section(request, auth.user, {}), { session: 'admin' })
			.post(
				'/invites',
				({ auth, body, request, set }) =>
					submitForm(
						set,
						async () =>
							section(request, auth.user, {
								invite: await createInvite(request, auth.user.id, readForm(UsersModel.invite, body)),
							}),
						(error) => section(request, auth.user, { error: error.message }),
					),
				{ session: 'admin' },
			)
			.post(
				'/users/:id',
				({ auth, params, body, request, set }) =>
					submitForm(
						set,
						async () => {
							await updateUser(auth.user.id, params.id, readForm(UsersModel.update, body))
							return section(request, auth.user, {})
						},
						(error) => section(request, auth.user, { error: error.message }),
					),
				{ session: 'admin', params: UsersModel.idParam },
			)
			.post(
				'/users/:id/budgets',
				({ auth, params, body, request, set }) =>
					submitForm(
						set,
						async () => {
							const entries = formEntries(readForm(BudgetsModel.form, body))
							await setUserBudgets(auth.user.id, params.id, entries, 'budgets')
							return section(request, auth.user, {})
						},
						(error) =>
							section(request, auth.user, { budgetsError: { userId: params.id, message: error.message } }),
					),
				{ session: 'admin', params: UsersModel.idParam },
			)
			.post(
				'/org/budgets',
				({ auth, body, request, set }) =>
					submitForm(
						set,
						async () => {
							const entries = formEntries(readForm(BudgetsModel.form, body))
							await replaceBudgets(budgets, 'org', ORG_SCOPE_ID, entries, auth.user.id, 'budgets')
							return formSuccess(
								request,
								set,
								async () => OrgBudgetsSection({ budgets: await orgBudgets() }),
								'/users',
							)
						},
						async (error) =>
							fragmentOrPage(
								request,
								async () => OrgBudgetsSection({ budgets: await orgBudgets(), error: error.message }),
								async () => {
									const users = await usersWithSpend()
									return UsersPage({
										user: auth.user,
										users,
										budgets: await budgetsBy(
											budgets,
											'user',
											users.map((user) => user.id),
										),
										orgBudgets: await orgBudgets(),
										orgError: error.message,
									})
								},
							),
					),
				{ session: 'admin' },
			)
	)
}

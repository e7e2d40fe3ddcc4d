import type { BudgetView } from '../../budgets/budget-views'
import { OrgBudgetsSection } from '../fragments/budgets'
import { UsersSection } from '../fragments/users'
import { Layout, type ViewUser } from '../layout'

export function UsersPage(
	props: { user: ViewUser; orgBudgets: BudgetView[]; orgError?: string } & Omit<
		Parameters<typeof UsersSection>[0],
		'selfId'
	>,
) {
	const { user, orgBudgets, orgError, ...section } = props
	return (
		<Layout title="Users" user={user} active="users">
			<OrgBudgetsSection budgets={orgBudgets} error={orgError} />
			<UsersSection {...section} selfId={user.id} />
		</Layout>
	)
}

import { UsersSection } from '../fragments/users'
import { Layout, type ViewUser } from '../layout'

export function UsersPage(props: { user: ViewUser } & Omit<Parameters<typeof UsersSection>[0], 'selfId'>) {
	const { user, ...section } = props
	return (
		<Layout title="Users" user={user} active="users">
			<UsersSection {...section} selfId={user.id} />
		</Layout>
	)
}

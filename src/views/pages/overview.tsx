import { OverviewPanel, type OverviewProps } from '../fragments/overview'
import { Layout, type ViewUser } from '../layout'

export function OverviewPage({ user, ...props }: OverviewProps & { user: ViewUser }) {
	return (
		<Layout title="Overview" user={user} active="overview">
			<OverviewPanel {...props} />
		</Layout>
	)
}

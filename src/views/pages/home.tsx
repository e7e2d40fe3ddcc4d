import { QuickStart } from '../components/quick-start'
import { Layout, type ViewUser } from '../layout'

export function HomePage({ user, baseUrl, hasKeys }: { user: ViewUser; baseUrl: string; hasKeys: boolean }) {
	return (
		<Layout title="Overview" user={user} active="overview">
			<QuickStart baseUrl={baseUrl} hasKeys={hasKeys} />
		</Layout>
	)
}

import { ErrorBanner } from '../components/error-banner'
import { Layout, type ViewUser } from '../layout'

export function ErrorPage({ status, message, user }: { status: number; message: string; user?: ViewUser }) {
	return (
		<Layout title={`Error ${status}`} user={user}>
			<section class="card">
				<ErrorBanner message={message} />
				<p>
					<a href="/">Back to the dashboard</a>
				</p>
			</section>
		</Layout>
	)
}

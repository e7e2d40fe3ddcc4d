import type { RequestDetail, RequestListItem } from '../../analytics/logged-requests'
import { QuickStart } from '../components/quick-start'
import {
	RequestDetailSlot,
	RequestDetailView,
	RequestFiltersForm,
	type RequestQuery,
	RequestsList,
} from '../fragments/requests'
import { Layout, type ViewUser } from '../layout'

interface RequestsPageProps {
	user: ViewUser
	query: RequestQuery
	requests: RequestListItem[]
	pageSize: number
	options: Parameters<typeof RequestFiltersForm>[0]['options']
	/** No request was ever logged for this scope: show how to send one instead of an empty table. */
	neverUsed: boolean
	baseUrl: string
	hasKeys: boolean
	readyProviders: string[]
}

export function RequestsPage(props: RequestsPageProps) {
	return (
		<Layout title="Requests" user={props.user} active="requests">
			{props.neverUsed ? (
				<>
					<p class="empty card">No requests yet. They appear here as soon as an app sends one.</p>
					<QuickStart baseUrl={props.baseUrl} hasKeys={props.hasKeys} readyProviders={props.readyProviders} />
				</>
			) : (
				<>
					<section class="card">
						<RequestFiltersForm
							query={props.query}
							options={props.options}
							isAdmin={props.user.role === 'admin'}
						/>
						<RequestsList requests={props.requests} query={props.query} pageSize={props.pageSize} />
					</section>
					<RequestDetailSlot />
				</>
			)}
		</Layout>
	)
}

export function RequestDetailPage({ user, request }: { user: ViewUser; request: RequestDetail }) {
	return (
		<Layout title="Request" user={user} active="requests">
			<p>
				<a href="/requests">← All requests</a>
			</p>
			<RequestDetailView request={request} />
		</Layout>
	)
}

import { Elysia, t } from 'elysia'
import type { LoggedRequests } from '../../analytics/logged-requests'
import { scopeFor, windowOf } from '../../analytics/scope'
import type { UsageReports } from '../../analytics/usage-reports'
import type { PublicUser } from '../../auth/accounts'
import { badRequest } from '../../errors'
import type { GatewayKeyStore } from '../../keys/gateway-keys'
import type { ProviderKeyVault } from '../../keys/provider-keys'
import type { RequestLog } from '../../request-log/request-log'
import type { LiveRules } from '../../rules/store'
import type { RunMarker } from '../../runtime/run-marker'
import { type CostTrend, OverviewPanel } from '../../views/fragments/overview'
import { RequestDetailView, RequestRows, RequestsList } from '../../views/fragments/requests'
import { OverviewPage } from '../../views/pages/overview'
import { RequestDetailPage, RequestsPage } from '../../views/pages/requests'
import { fragmentOrPage } from '../forms'
import { type SessionDeps, sessionPlugin } from '../session'
import { AnalyticsModel, DEFAULT_DAYS, DEFAULT_PAGE, scope, toFilters, toRequestQuery } from './model'

export interface AnalyticsDeps extends SessionDeps {
	analytics: UsageReports
	loggedRequests: LoggedRequests
	requestLog: Pick<RequestLog, 'flush'>
	gatewayKeys: Pick<GatewayKeyStore, 'list'>
	runMarker: Pick<RunMarker, 'uncleanStop'>
	rules: LiveRules
	providerKeys: Pick<ProviderKeyVault, 'reachableProviders'>
}

/** Spend, savings and the request log: the JSON API, the overview and the Requests pages. */
export const analyticsPlugin = (deps: AnalyticsDeps) => {
	const { analytics, loggedRequests, requestLog } = deps
	/** Reads see every answered request: rows still buffered are written first (a no-op when none are). */
	async function fresh<Answer>(read: () => Promise<Answer>): Promise<Answer> {
		await requestLog.flush()
		return read()
	}
	const hasKeys = async (user: PublicUser) =>
		(await deps.gatewayKeys.list(user.id)).some((key) => !key.revokedAt)
	/** The providers a newcomer can already reach, with their own keys or the organisation's, by name. */
	const readyProviders = async (user: PublicUser) =>
		(await deps.providerKeys.reachableProviders(user.id)).map((provider) => provider.name)
	const baseUrl = (request: Request) => `${new URL(request.url).origin}/v1`
	/** An unclean stop is about the server, not anyone's requests: an operations fact, for admins. */
	const uncleanStopFor = (user: PublicUser) => (user.role === 'admin' ? deps.runMarker.uncleanStop : null)

	async function overviewProps(
		user: PublicUser,
		query: { days?: number; scope?: 'mine' | 'all' },
		request: Request,
	) {
		const scope = scopeFor(user, query.scope)
		const now = Date.now()
		const window = windowOf(query.days ?? DEFAULT_DAYS, now)
		await requestLog.flush()
		// One day drawn by the day would be a single point: it is drawn by the hour.
		const trend = async (): Promise<CostTrend> =>
			window.days === 1
				? { unit: 'hour', rows: await analytics.hourly(scope, window.lastDay, now) }
				: { unit: 'day', rows: await analytics.breakdown(scope, 'day', window) }
		// Independent reads: on PostgreSQL their round trips overlap.
		const [overview, costTrend, byModel, byTier, integrity, keys, providers] = await Promise.all([
			analytics.overview(scope, window),
			trend(),
			analytics.breakdown(scope, 'model', window),
			analytics.breakdown(scope, 'tier', window),
			analytics.integrity(scope, window, uncleanStopFor(user)),
			hasKeys(user),
			readyProviders(user),
		])
		return {
			days: window.days,
			everyone: scope.userId === null,
			isAdmin: user.role === 'admin',
			overview,
			trend: costTrend,
			byModel,
			byTier,
			integrity,
			reference: deps.rules.current().reference?.qualifiedId ?? null,
			baseUrl: baseUrl(request),
			hasKeys: keys,
			readyProviders: providers,
		}
	}

	return (
		new Elysia({ name: 'analytics' })
			.use(sessionPlugin(deps))
			// JSON API
			.get(
				'/api/analytics/overview',
				({ auth, query }) =>
					fresh(() =>
						analytics.overview(scopeFor(auth.user, query.scope), windowOf(query.days ?? DEFAULT_DAYS)),
					),
				{ session: 'user', query: AnalyticsModel.window },
			)
			.get(
				'/api/analytics/breakdown',
				async ({ auth, query }) => ({
					by: query.by,
					rows: await fresh(() =>
						analytics.breakdown(
							scopeFor(auth.user, query.scope),
							query.by,
							windowOf(query.days ?? DEFAULT_DAYS),
						),
					),
				}),
				{ session: 'user', query: AnalyticsModel.breakdown },
			)
			.get(
				'/api/analytics/integrity',
				({ auth, query }) =>
					fresh(() =>
						analytics.integrity(
							scopeFor(auth.user, query.scope),
							windowOf(query.days ?? DEFAULT_DAYS),
							uncleanStopFor(auth.user),
						),
					),
				{ session: 'user', query: AnalyticsModel.window },
			)
			.get(
				'/api/requests',
				async ({ auth, query, set }) => {
					const limit = query.limit ?? DEFAULT_PAGE
					const rows = await fresh(() =>
						loggedRequests.requests(scopeFor(auth.user, query.scope), toFilters(query), limit, query.before),
					)
					const last = rows.at(-1)
					if (last && rows.length === limit) set.headers['x-next-before'] = String(last.id)
					return rows
				},
				{ session: 'user', query: AnalyticsModel.requests },
			)
			.get(
				'/api/requests/:id',
				({ auth, params, query }) =>
					fresh(() => loggedRequests.request(scopeFor(auth.user, query.scope), params.id)),
				{ session: 'user', params: AnalyticsModel.id, query: t.Object({ scope }) },
			)
			// Dashboard pages; the same URL answers htmx with its fragment
			.get(
				'/',
				async ({ auth, query, request, set }) => {
					set.headers.vary = 'HX-Request'
					const props = await overviewProps(auth.user, query, request)
					return fragmentOrPage(
						request,
						() => OverviewPanel(props),
						() => OverviewPage({ user: auth.user, ...props }),
					)
				},
				{ session: 'user', query: AnalyticsModel.window },
			)
			.get(
				'/requests',
				async ({ auth, query, request, set }) => {
					set.headers.vary = 'HX-Request'
					const scope = scopeFor(auth.user, query.scope)
					const requestQuery = toRequestQuery(query)
					const requests = await fresh(() =>
						loggedRequests.requests(scope, toFilters(query), DEFAULT_PAGE, query.before),
					)
					return fragmentOrPage(
						request,
						() => RequestsList({ requests, query: requestQuery, pageSize: DEFAULT_PAGE }),
						async () => {
							const options = await analytics.filterOptions(scope)
							return RequestsPage({
								user: auth.user,
								query: requestQuery,
								requests,
								pageSize: DEFAULT_PAGE,
								options,
								neverUsed: options.keys.length === 0,
								baseUrl: baseUrl(request),
								hasKeys: await hasKeys(auth.user),
								readyProviders: await readyProviders(auth.user),
							})
						},
					)
				},
				{ session: 'user', query: AnalyticsModel.requests },
			)
			.get(
				'/requests/rows',
				async ({ auth, query }) => {
					if (query.before === undefined) throw badRequest('before is required', 'before')
					const requests = await fresh(() =>
						loggedRequests.requests(
							scopeFor(auth.user, query.scope),
							toFilters(query),
							DEFAULT_PAGE,
							query.before,
						),
					)
					return RequestRows({ requests, query: toRequestQuery(query), pageSize: DEFAULT_PAGE })
				},
				{ session: 'user', query: AnalyticsModel.requests },
			)
			.get(
				'/requests/:id',
				async ({ auth, params, request }) => {
					// An admin may open anyone's request; a developer only their own.
					const detail = await fresh(() =>
						loggedRequests.request({ userId: auth.user.role === 'admin' ? null : auth.user.id }, params.id),
					)
					return fragmentOrPage(
						request,
						() => RequestDetailView({ request: detail }),
						() => RequestDetailPage({ user: auth.user, request: detail }),
					)
				},
				{ session: 'user', params: AnalyticsModel.id },
			)
	)
}

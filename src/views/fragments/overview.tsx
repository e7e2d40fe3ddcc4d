import { escapeHtml } from '@kitajs/html'
import type { BreakdownBy } from '../../analytics/scope'
import type { BreakdownRow, Integrity, Overview } from '../../analytics/usage-reports'
import type { UncleanStop } from '../../runtime/run-marker'
import { QuickStart } from '../components/quick-start'
import { breakdownLabel, formatDateTime, formatInteger, formatMs, formatPercent, formatUsd } from '../format'
import { BudgetStatusPlaceholder } from './budgets'

/** The region the period switch re-renders. */
const OVERVIEW_ID = 'overview'

export const PERIODS = [
	{ days: 1, label: 'Today' },
	{ days: 7, label: '7 days' },
	{ days: 30, label: '30 days' },
] as const

export interface OverviewProps {
	days: number
	/** Everyone's data (admins) rather than one's own. */
	everyone: boolean
	isAdmin: boolean
	overview: Overview
	trend: CostTrend
	byModel: BreakdownRow[]
	byTier: BreakdownRow[]
	integrity: Integrity
	/** The model routed requests' savings are priced against (`referenceModel`), null when the rules have none. */
	reference: string | null
	baseUrl: string
	hasKeys: boolean
	readyProviders: string[]
}

/**
 * The chart's points: a day's hours (`hour`, rows keyed by each hour's ISO time, up to the current one) for
 * a one-day period, where a daily series would be a single point; days otherwise (rows keyed `YYYY-MM-DD`).
 */
export interface CostTrend {
	unit: 'hour' | 'day'
	rows: BreakdownRow[]
}

const overviewUrl = (days: number, everyone: boolean) => `/?days=${days}${everyone ? '&scope=all' : ''}`

function PeriodSwitch({ days, everyone, isAdmin }: Pick<OverviewProps, 'days' | 'everyone' | 'isAdmin'>) {
	const link = (href: string, label: string, active: boolean) => (
		<a
			href={href}
			class={active ? 'segment active' : 'segment'}
			hx-get={href}
			hx-target={`#${OVERVIEW_ID}`}
			hx-swap="outerHTML"
			hx-push-url="true"
			aria-current={active ? 'true' : 'false'}
			safe
		>
			{label}
		</a>
	)
	return (
		<div class="toolbar">
			<nav class="segmented" aria-label="Period">
				{PERIODS.map((period) =>
					link(overviewUrl(period.days, everyone), period.label, period.days === days),
				)}
			</nav>
			{isAdmin ? (
				<nav class="segmented" aria-label="Whose requests">
					{link(overviewUrl(days, false), 'Mine', !everyone)}
					{link(overviewUrl(days, true), 'Everyone', everyone)}
				</nav>
			) : (
				''
			)}
			<span class="hint">UTC days</span>
		</div>
	)
}

interface CardProps {
	id: string
	label: string
	value: string
	detail?: string
	/** What the figure counts, in one line: shown on hover and read by screen readers. */
	definition: string
}

function Card({ label, value, detail, id, definition }: CardProps) {
	return (
		<div class="metric" id={`metric-${id}`} title={escapeHtml(definition)}>
			<div class="metric-label" safe>
				{label}
			</div>
			<div class="metric-value" safe>
				{value}
			</div>
			{detail ? (
				<div class="metric-detail" safe>
					{detail}
				</div>
			) : (
				''
			)}
			<div class="visually-hidden" safe>
				{definition}
			</div>
		</div>
	)
}

function Cards({ overview, reference }: { overview: Overview; reference: string | null }) {
	const savingsShare = overview.baselineCostUsd > 0 ? overview.savingsUsd / overview.baselineCostUsd : 0
	const against = reference ?? 'no reference model'
	return (
		<div class="metrics">
			<Card
				id="requests"
				label="Requests"
				value={formatInteger(overview.requests)}
				definition="Every request to the gateway in this period, routed (auto) or to a named model, answered or not."
			/>
			<Card
				id="spend"
				label="Spend"
				value={formatUsd(overview.costUsd)}
				definition="What the providers charge for these requests' tokens, at the catalog's prices."
			/>
			<Card
				id="savings"
				label="Savings"
				value={formatUsd(overview.savingsUsd)}
				detail={`${formatPercent(savingsShare)} of ${formatUsd(overview.baselineCostUsd)} without routing · vs ${against}`}
				definition={`Routed (auto) requests only: what their tokens would have cost at ${against} minus what they cost. Requests to a named model never count as savings.`}
			/>
			<Card
				id="cache"
				label="Cache hit rate"
				value={formatPercent(overview.cacheHitRate)}
				detail={`${formatInteger(overview.cacheHits)} ${overview.cacheHits === 1 ? 'hit' : 'hits'} · saved ${formatUsd(overview.cacheSavingsUsd)}`}
				definition="Requests answered from the response cache (keys or requests with a cache TTL), as a share of all requests, and what their answers would have cost had a provider been asked again. A hit costs $0; its saving is apart from routing's."
			/>
			<Card
				id="tokens"
				label="Tokens"
				value={formatInteger(overview.promptTokens + overview.completionTokens)}
				detail={`${formatInteger(overview.promptTokens)} in · ${formatInteger(overview.completionTokens)} out`}
				definition="Prompt (in) and completion (out) tokens, as the providers reported them."
			/>
			<Card
				id="latency"
				label="Avg latency"
				value={formatMs(overview.avgLatencyMs)}
				detail={`p95 ${formatMs(overview.p95LatencyMs)}`}
				definition="From a request's arrival to its answer's last byte; 95 % of requests took at most the p95."
			/>
			<Card
				id="errors"
				label="Error rate"
				value={formatPercent(overview.requests > 0 ? overview.errors / overview.requests : 0)}
				detail={`${formatInteger(overview.upstreamErrors)} upstream · ${formatInteger(overview.errors - overview.upstreamErrors)} client`}
				definition="Requests that ended without an answer, as a share of all requests: upstream failures (status 500 or more: every model failed or timed out) and client errors (4xx: the request itself was refused)."
			/>
		</div>
	)
}

const HOURS = Array.from({ length: 24 }, (_, hour) => `${String(hour).padStart(2, '0')}:00`)

/**
 * Chart data travels as JSON in a data attribute and is drawn by the `costChart` Alpine component. A day
 * shows all 24 hours on its axis; the hours still to come have no point (null), so the lines end at now.
 */
function CostChart({ trend }: { trend: CostTrend }) {
	const hourly = trend.unit === 'hour'
	const pad = (values: number[]) => (hourly ? HOURS.map((_, hour) => values[hour] ?? null) : values)
	const series = {
		labels: hourly ? HOURS : trend.rows.map((row) => row.key ?? ''),
		cost: pad(trend.rows.map((row) => row.costUsd)),
		baseline: pad(trend.rows.map((row) => row.baselineCostUsd)),
	}
	const title = hourly
		? 'Cost by hour today (UTC), and cost without routing'
		: 'Daily cost, and cost without routing'
	return (
		<section class="card">
			<h2>{title}</h2>
			<p class="hint">
				The gap between the lines is what routing saved; requests to a named model add the same to both.
			</p>
			<div class="chart" x-data="costChart" data-series={JSON.stringify(series)}>
				<canvas id="cost-chart" aria-label={title} role="img" />
			</div>
		</section>
	)
}

export function BreakdownTable({
	title,
	label,
	by,
	rows,
}: {
	title: string
	label: string
	by: BreakdownBy
	rows: BreakdownRow[]
}) {
	return (
		<section class="card">
			<h2 safe>{title}</h2>
			{rows.length === 0 ? (
				<p class="empty">Nothing in this period.</p>
			) : (
				<table class="table">
					<thead>
						<tr>
							<th safe>{label}</th>
							<th>Requests</th>
							<th>Cost</th>
							<th>Saved</th>
							<th>Tokens in / out</th>
							<th>Avg latency</th>
						</tr>
					</thead>
					<tbody>
						{rows.map((row) => (
							<tr>
								<td data-label={label} class={row.key === null ? 'absent' : undefined} safe>
									{breakdownLabel(by, row)}
								</td>
								<td data-label="Requests" safe>
									{formatInteger(row.requests)}
								</td>
								<td data-label="Cost" safe>
									{formatUsd(row.costUsd)}
								</td>
								<td data-label="Saved" safe>
									{formatUsd(row.baselineCostUsd - row.costUsd)}
								</td>
								<td data-label="Tokens in / out" safe>
									{`${formatInteger(row.promptTokens)} / ${formatInteger(row.completionTokens)}`}
								</td>
								<td data-label="Avg latency" safe>
									{formatMs(row.avgLatencyMs)}
								</td>
							</tr>
						))}
					</tbody>
				</table>
			)}
		</section>
	)
}

/** We cannot count what was never written, so this says "may" and no number. */
function UncleanStopItem({ stop }: { stop: UncleanStop }) {
	return (
		<li>
			<strong>The server’s previous run</strong>
			{stop.startedAt === null ? (
				''
			) : (
				<>
					{' '}
					(started <span safe>{formatDateTime(stop.startedAt)}</span>
					{stop.pid === null ? '' : <>, pid {stop.pid}</>})
				</>
			)}{' '}
			stopped without a clean shutdown (found when this run started,{' '}
			<span safe>{formatDateTime(stop.noticedAt)}</span>). Requests it answered in its last moments, and those
			in flight, may have no request log row and so be missing from these figures; how many is not known.
		</li>
	)
}

/** Where our peers' users get burned: answers priced at nothing, and answers never logged. */
function CostIntegrity({ integrity }: { integrity: Integrity }) {
	const clean =
		integrity.unpricedRequests === 0 &&
		integrity.missingUsageRequests === 0 &&
		integrity.unpricedModels.length === 0 &&
		integrity.uncleanStop === null
	return (
		<section class="card" id="cost-integrity">
			<h2>Cost integrity</h2>
			{clean ? (
				<p class="status-ok">
					No problems: every answer in this period was priced from the usage its upstream reported.
				</p>
			) : (
				<ul class="integrity">
					{integrity.unpricedRequests > 0 ? (
						<li>
							<strong>{integrity.unpricedRequests}</strong> requests used tokens but cost nothing: their model
							has no price in the catalog.
						</li>
					) : (
						''
					)}
					{integrity.missingUsageRequests > 0 ? (
						<li>
							<strong>{integrity.missingUsageRequests}</strong> answers came back without usage from their
							upstream, so they are priced at nothing.
						</li>
					) : (
						''
					)}
					{integrity.unpricedModels.length > 0 ? (
						<li>
							Models used that the catalog does not price:{' '}
							<span safe>{integrity.unpricedModels.join(', ')}</span>. Add their prices with{' '}
							<code>CATALOG_PATH</code>.
						</li>
					) : (
						''
					)}
					{integrity.uncleanStop ? <UncleanStopItem stop={integrity.uncleanStop} /> : ''}
				</ul>
			)}
		</section>
	)
}

/** The overview's swappable region: period switch, cards, chart and tables share one code path. */
export function OverviewPanel(props: OverviewProps) {
	return (
		<div id={OVERVIEW_ID} class="overview">
			<PeriodSwitch days={props.days} everyone={props.everyone} isAdmin={props.isAdmin} />
			<Cards overview={props.overview} reference={props.reference} />
			<BudgetStatusPlaceholder />
			{props.overview.requests === 0 ? (
				<QuickStart baseUrl={props.baseUrl} hasKeys={props.hasKeys} readyProviders={props.readyProviders} />
			) : (
				''
			)}
			<CostChart trend={props.trend} />
			{props.overview.requests === 0 ? (
				''
			) : (
				<div class="columns">
					<BreakdownTable title="By model" label="Model" by="model" rows={props.byModel} />
					<BreakdownTable title="By tier" label="Tier" by="tier" rows={props.byTier} />
				</div>
			)}
			{/* With no requests, only an unclean stop (rows lost in it may be why) is worth a panel. */}
			{props.overview.requests === 0 && !props.integrity.uncleanStop ? (
				''
			) : (
				<CostIntegrity integrity={props.integrity} />
			)}
		</div>
	)
}

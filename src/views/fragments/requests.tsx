import type { Door } from '../../../db/schema'
import type { RequestDetail, RequestListItem } from '../../analytics/logged-requests'
import type { FilterOptions } from '../../analytics/usage-reports'
import {
	formatDateTime,
	formatInteger,
	formatMs,
	formatUsd,
	modelLabel,
	ROUTE_WORDS,
	tierLabel,
} from '../format'

/** The list the filters re-render, and the slot a row's detail opens in (`RequestDetailSlot`). */
const REQUESTS_IDS = { list: 'requests-list', detail: 'request-detail' } as const

/** Where a clicked row's detail opens: a drawer over the list (app.css), with the request's own URL. */
export const RequestDetailSlot = () => <aside id={REQUESTS_IDS.detail} class="drawer" aria-live="polite" />

/** The filters of the requests page, as they appear in its URL. */
export interface RequestQuery {
	status?: string
	model?: string
	tier?: string
	key?: string
	door?: string
	everyone: boolean
}

/** Each front door's endpoint: the requests list shows the door, the detail and the filter its endpoint. */
export const DOOR_ENDPOINTS: Record<Door, string> = {
	chat: 'POST /v1/chat/completions',
	messages: 'POST /v1/messages',
	responses: 'POST /v1/responses',
	embeddings: 'POST /v1/embeddings',
}

export function requestQueryString(query: RequestQuery, extra: Record<string, string> = {}): string {
	const params = new URLSearchParams()
	if (query.status) params.set('status', query.status)
	if (query.model) params.set('model', query.model)
	if (query.tier) params.set('tier', query.tier)
	if (query.key) params.set('key', query.key)
	if (query.door) params.set('door', query.door)
	if (query.everyone) params.set('scope', 'all')
	for (const [name, value] of Object.entries(extra)) params.set(name, value)
	const text = params.toString()
	return text ? `?${text}` : ''
}

/**
 * The filter values for what has no name. Tier names and model ids begin with a letter or a digit, so a
 * leading `_` never meets a real one (a tier may well be called `explicit`).
 */
export const ROUTE_FILTERS = {
	explicit: '_explicit',
	beforeRouting: '_before-routing',
	unanswered: '_unanswered',
} as const

function modelOptions(options: FilterOptions) {
	const models = options.models.map((m) => ({ value: m, label: m }))
	return options.unanswered
		? [...models, { value: ROUTE_FILTERS.unanswered, label: ROUTE_WORDS.unanswered }]
		: models
}

function tierOptions(options: FilterOptions) {
	return [
		...options.tiers.map((t) => ({ value: t, label: t })),
		...(options.untiered ? [{ value: ROUTE_FILTERS.explicit, label: ROUTE_WORDS.explicit }] : []),
		...(options.untieredUnanswered
			? [{ value: ROUTE_FILTERS.beforeRouting, label: ROUTE_WORDS.beforeRouting }]
			: []),
	]
}

function Select(props: {
	name: string
	label: string
	value?: string
	options: { value: string; label: string }[]
}) {
	return (
		<label>
			<span safe>{props.label}</span>
			<select name={props.name}>
				<option value="">Any</option>
				{props.options.map((option) => (
					<option value={option.value} selected={option.value === props.value} safe>
						{option.label}
					</option>
				))}
			</select>
		</label>
	)
}

export function RequestFiltersForm({
	query,
	options,
	isAdmin,
}: {
	query: RequestQuery
	options: FilterOptions
	isAdmin: boolean
}) {
	return (
		<form
			class="filters"
			method="get"
			action="/requests"
			hx-get="/requests"
			hx-target={`#${REQUESTS_IDS.list}`}
			hx-swap="outerHTML"
			hx-trigger="change"
			hx-push-url="true"
		>
			<Select
				name="status"
				label="Status"
				value={query.status}
				options={[
					{ value: 'ok', label: 'Succeeded' },
					{ value: 'error', label: 'Failed' },
					{ value: '429', label: '429' },
					{ value: '499', label: '499 (client left)' },
					{ value: '502', label: '502' },
				]}
			/>
			<Select name="model" label="Model" value={query.model} options={modelOptions(options)} />
			<Select name="tier" label="Tier" value={query.tier} options={tierOptions(options)} />
			<Select
				name="key"
				label="Key"
				value={query.key}
				options={options.keys.map((k) => ({ value: String(k.id), label: k.name }))}
			/>
			<Select
				name="door"
				label="API"
				value={query.door}
				options={Object.entries(DOOR_ENDPOINTS).map(([door, endpoint]) => ({ value: door, label: endpoint }))}
			/>
			{isAdmin ? (
				<label class="check">
					<input type="checkbox" name="scope" value="all" checked={query.everyone} /> Everyone's requests
				</label>
			) : (
				''
			)}
			<noscript>
				<button type="submit">Filter</button>
			</noscript>
		</form>
	)
}

const statusClass = (status: number) => (status < 400 ? 'status-ok' : 'status-bad')

export function RequestRow({ request, everyone }: { request: RequestListItem; everyone: boolean }) {
	return (
		<tr>
			<td data-label="Time">
				<a
					href={`/requests/${request.id}`}
					hx-get={`/requests/${request.id}`}
					hx-target={`#${REQUESTS_IDS.detail}`}
					hx-swap="innerHTML"
					hx-push-url="true"
					safe
				>
					{formatDateTime(request.createdAt)}
				</a>
			</td>
			{everyone ? (
				<td data-label="User" safe>
					{request.userEmail ?? '—'}
				</td>
			) : (
				''
			)}
			<td data-label="Key" safe>
				{request.keyName ?? '—'}
			</td>
			<td data-label="API">
				<span class={`badge door door-${request.door}`} title={DOOR_ENDPOINTS[request.door]}>
					{request.door}
				</span>
			</td>
			<td data-label="Model">
				<span class={request.model === null ? 'absent' : undefined} safe>
					{modelLabel(request)}
				</span>
				{request.requestedModel === 'auto' ? <span class="badge">auto</span> : ''}
				{request.cacheHit ? (
					<span
						class="badge cache-hit"
						title={`Answered from the cache, saving ${formatUsd(request.cacheSavedUsd)}`}
					>
						cache hit
					</span>
				) : (
					''
				)}
				{request.model === null && request.requestedModel && request.requestedModel !== 'auto' ? (
					<span class="hint asked" safe>
						{`asked for ${request.requestedModel}`}
					</span>
				) : (
					''
				)}
			</td>
			<td data-label="Tier" class={request.tier === null ? 'absent' : undefined} safe>
				{tierLabel(request)}
			</td>
			<td data-label="Status" class={statusClass(request.status)}>
				{request.status}
			</td>
			<td data-label="Tokens" safe>
				{`${formatInteger(request.promptTokens)} / ${formatInteger(request.completionTokens)}`}
			</td>
			<td data-label="Cost" safe>
				{formatUsd(request.costUsd)}
			</td>
			<td data-label="Latency" safe>
				{formatMs(request.latencyMs)}
			</td>
		</tr>
	)
}

/** A page of rows plus, when there may be more, the row that loads the next page in its place. */
export function RequestRows(props: { requests: RequestListItem[]; query: RequestQuery; pageSize: number }) {
	const last = props.requests.at(-1)
	const more = last && props.requests.length === props.pageSize
	const columns = props.query.everyone ? 10 : 9
	return (
		<>
			{props.requests.map((request) => (
				<RequestRow request={request} everyone={props.query.everyone} />
			))}
			{more ? (
				<tr id="load-more" class="load-more">
					<td colspan={String(columns)}>
						<a
							href={`/requests${requestQueryString(props.query, { before: String(last.id) })}`}
							hx-get={`/requests/rows${requestQueryString(props.query, { before: String(last.id) })}`}
							hx-target="closest tr"
							hx-swap="outerHTML"
							class="button"
						>
							Load more
						</a>
					</td>
				</tr>
			) : (
				''
			)}
		</>
	)
}

export function RequestsList(props: { requests: RequestListItem[]; query: RequestQuery; pageSize: number }) {
	return (
		<div id={REQUESTS_IDS.list}>
			{props.requests.length === 0 ? (
				<p class="empty">No requests match these filters.</p>
			) : (
				<table class="table requests-table">
					<thead>
						<tr>
							<th>Time</th>
							{props.query.everyone ? <th>User</th> : ''}
							<th>Key</th>
							<th>API</th>
							<th>Model</th>
							<th>Tier</th>
							<th>Status</th>
							<th>Tokens in / out</th>
							<th>Cost</th>
							<th>Latency</th>
						</tr>
					</thead>
					<tbody>
						<RequestRows {...props} />
					</tbody>
				</table>
			)}
		</div>
	)
}

function Field({ label, value }: { label: string; value: string }) {
	return (
		<>
			<dt safe>{label}</dt>
			<dd safe>{value}</dd>
		</>
	)
}

/** What the cost is compared with: routing's reference for a routed request, nothing for the others. */
function costNote(request: RequestDetail): string {
	if (request.rule === 'explicit') return ' (a named model: routing saved nothing)'
	if (request.tier === null) return ''
	return ` (${formatUsd(request.baselineCostUsd)} without routing)`
}

export function RequestDetailView({ request }: { request: RequestDetail }) {
	return (
		<article class="card request-detail" id={`request-${request.id}`}>
			<div class="detail-head">
				<h2 safe>{`Request ${request.requestId}`}</h2>
				<button type="button" class="small drawer-close" data-close-drawer aria-label="Close the request">
					Close
				</button>
			</div>
			<dl class="fields">
				<Field label="Time" value={formatDateTime(request.createdAt)} />
				<Field label="Key" value={request.keyName ?? '—'} />
				<Field label="API" value={`${DOOR_ENDPOINTS[request.door]} (${request.door})`} />
				<Field label="Requested model" value={request.requestedModel ?? '—'} />
				<Field
					label="Answered by"
					value={request.model ? `${request.model} (${request.upstreamModel ?? '?'})` : modelLabel(request)}
				/>
				<Field label="Tier" value={tierLabel(request)} />
				{request.pin ? <Field label="Session pin" value={request.pin} /> : ''}
				<Field
					label="Rule"
					value={`${request.rule ?? '—'}${request.rulesRevision ? ` (rules revision ${request.rulesRevision})` : ''}`}
				/>
				<Field label="Status" value={String(request.status)} />
				<Field label="Stream" value={request.stream ? 'yes' : 'no'} />
				<Field
					label="Tokens"
					value={`${formatInteger(request.promptTokens)} in (${formatInteger(request.cachedTokens)} cached, ${formatInteger(request.cacheWriteTokens)} cache writes) · ${formatInteger(request.completionTokens)} out${request.usageReported || request.cacheHit ? '' : ' · no usage reported'}`}
				/>
				<Field label="Cost" value={`${formatUsd(request.costUsd)}${costNote(request)}`} />
				{request.cacheHit ? (
					<Field
						label="Cache"
						value={`Answered from the cache, saving ${formatUsd(request.cacheSavedUsd)}`}
					/>
				) : (
					''
				)}
				<Field
					label="Latency"
					value={`${formatMs(request.latencyMs)} total${request.ttftMs !== null ? ` · first token after ${formatMs(request.ttftMs)}` : ''}`}
				/>
				{request.error ? (
					<Field label="Error" value={`${request.errorType ?? 'error'}: ${request.error}`} />
				) : (
					''
				)}
			</dl>
			<h3>Attempts</h3>
			{request.attempts.length === 0 ? (
				<p class="hint">
					{request.cacheHit ? 'No upstream was called: the cache answered.' : 'No upstream was called.'}
				</p>
			) : (
				<table class="table">
					<thead>
						<tr>
							<th>Model</th>
							<th>Status</th>
							<th>Latency</th>
							<th>Billed</th>
							<th>Error</th>
						</tr>
					</thead>
					<tbody>
						{request.attempts.map((attempt) => (
							<tr>
								<td data-label="Model" safe>
									{attempt.model}
								</td>
								<td
									data-label="Status"
									class={attempt.status > 0 && attempt.status < 400 ? 'status-ok' : 'status-bad'}
								>
									{attempt.status === 0 ? 'none' : attempt.status}
								</td>
								<td data-label="Latency" safe>
									{formatMs(attempt.latencyMs)}
								</td>
								<td data-label="Billed" safe>
									{attempt.costUsd === undefined ? '' : formatUsd(attempt.costUsd)}
								</td>
								<td data-label="Error" safe>
									{attempt.error ?? ''}
								</td>
							</tr>
						))}
					</tbody>
				</table>
			)}
			{request.features ? (
				<>
					<h3>Features the rules saw</h3>
					<pre>
						<code safe>{JSON.stringify(request.features, null, 2)}</code>
					</pre>
				</>
			) : (
				''
			)}
			{request.promptText !== null || request.systemText !== null ? (
				<>
					<h3>Logged text (LOG_PROMPT_TEXT)</h3>
					<pre>
						<code safe>{`system: ${request.systemText ?? ''}\nuser: ${request.promptText ?? ''}`}</code>
					</pre>
				</>
			) : (
				''
			)}
		</article>
	)
}

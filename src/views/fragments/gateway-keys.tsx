import type { BudgetView } from '../../budgets/budget-views'
import type { GatewayKeyView, KeyLimitSettings } from '../../keys/gateway-keys'
import { BudgetBar, BudgetFields } from '../components/budget-bar'
import { ErrorBanner } from '../components/error-banner'
import { ShowOnce } from '../components/show-once'
import { formatDateTime, formatInteger } from '../format'

/** The section a key form re-renders, and the new key's text that its copy button reads. */
const SECTION_ID = 'gateway-keys'
const NEW_KEY_ID = 'new-key-value'

export interface CreatedKey {
	name: string
	key: string
}

function KeyTableHead({ everyone }: { everyone: boolean }) {
	return (
		<thead>
			<tr>
				{everyone ? <th>Owner</th> : ''}
				<th>Name</th>
				<th>Key</th>
				<th>Limits</th>
				<th>Created</th>
				<th>Last used</th>
				<th>Status</th>
			</tr>
		</thead>
	)
}

/** Each key's budgets with where they stand, by key id; a key without any is absent. */
export type KeyBudgets = ReadonlyMap<number, readonly BudgetView[]>

const NO_BUDGETS: readonly BudgetView[] = []

/** A key's limits beside its requests per minute (which its view carries); `null` is none, for the cache off. */
export type KeyLimitValues = Pick<KeyLimitSettings, 'tokensPerMinute' | 'maxConcurrent' | 'cacheTtlSeconds'>

/** Each listed key's limits, by key id; a key absent shows none. */
export type KeyLimitsByKey = ReadonlyMap<number, KeyLimitValues>

const NO_LIMITS: KeyLimitValues = { tokensPerMinute: null, maxConcurrent: null, cacheTtlSeconds: null }

/** A limit as a form field's value: empty for none. */
const fieldValue = (limit: number | null) => (limit ? String(limit) : '')

/** One whole-number limit of the form, empty for none. */
function LimitField(props: { label: string; name: string; value: number | null; empty: string }) {
	return (
		<label>
			<span safe>{props.label}</span>
			<input
				name={props.name}
				type="number"
				min="1"
				step="1"
				value={fieldValue(props.value)}
				placeholder={props.empty}
			/>
		</label>
	)
}

/**
 * A key's limits (requests and tokens per minute, requests in flight, the cache's TTL) and budgets, each
 * with its bar, and (for a live key) the form that sets them: a disclosure, open when the last try was
 * refused. The form swaps the whole row.
 */
function KeyLimits({
	gatewayKey,
	limits,
	budgets,
	everyone,
	error,
}: {
	gatewayKey: GatewayKeyView
	limits: KeyLimitValues
	budgets: readonly BudgetView[]
	everyone: boolean
	error?: string
}) {
	const url = `/keys/${gatewayKey.id}/limits${everyone ? '?scope=all' : ''}`
	const rpm = gatewayKey.rateLimitPerMinute
	const { tokensPerMinute: tpm, maxConcurrent, cacheTtlSeconds } = limits
	return (
		<div class="limits">
			<ul class="limit-list">
				<li class="limit-rpm">{rpm ? `${formatInteger(rpm)} requests/min` : 'No request limit'}</li>
				<li class="limit-tpm">{tpm ? `${formatInteger(tpm)} tokens/min` : 'No token limit'}</li>
				<li class="limit-concurrency">
					{maxConcurrent ? `${formatInteger(maxConcurrent)} in flight at most` : 'No in-flight limit'}
				</li>
				<li class="limit-cache">
					{cacheTtlSeconds ? `Cache TTL ${formatInteger(cacheTtlSeconds)} s` : 'Cache off'}
				</li>
			</ul>
			{budgets.length === 0 ? <div class="hint">No budget</div> : ''}
			{budgets.map((budget) => (
				<BudgetBar budget={budget} />
			))}
			{error ? <ErrorBanner message={error} /> : ''}
			{gatewayKey.revokedAt === null ? (
				<details class="limits-edit" open={error !== undefined}>
					<summary>Set limits</summary>
					<form
						class="limits-form"
						method="post"
						action={url}
						hx-post={url}
						hx-target="closest tr"
						hx-swap="outerHTML"
					>
						<LimitField label="Requests/min" name="rpm" value={rpm} empty="no limit" />
						<LimitField label="Tokens/min" name="tpm" value={tpm} empty="no limit" />
						<LimitField label="In flight" name="concurrency" value={maxConcurrent} empty="no limit" />
						<LimitField label="Cache TTL, s" name="cacheTtlSeconds" value={cacheTtlSeconds} empty="off" />
						<BudgetFields budgets={budgets} />
						<button type="submit" class="primary small">
							Save limits
						</button>
					</form>
				</details>
			) : (
				''
			)}
		</div>
	)
}

/**
 * One key; `everyone` is an admin's list of every user's keys, with each key's owner. Revoking one's own key
 * re-renders the whole section, so that a show-once banner of that key goes too.
 */
export function KeyRow({
	gatewayKey,
	everyone = false,
	budgets = NO_BUDGETS,
	limits = NO_LIMITS,
	limitsError,
}: {
	gatewayKey: GatewayKeyView
	everyone?: boolean
	budgets?: readonly BudgetView[]
	/** Its tokens per minute, requests in flight and cache TTL; none when absent. */
	limits?: KeyLimitValues
	/** Why the limits form was refused, shown in the row. */
	limitsError?: string
}) {
	const revoked = gatewayKey.revokedAt !== null
	const revokeUrl = `/keys/${gatewayKey.id}/revoke${everyone ? '?scope=all' : ''}`
	return (
		<tr id={`${everyone ? 'any-key' : 'key'}-${gatewayKey.id}`} class={revoked ? 'revoked' : ''}>
			{everyone ? (
				<td data-label="Owner" safe>
					{gatewayKey.ownerEmail}
				</td>
			) : (
				''
			)}
			<td data-label="Name" safe>
				{gatewayKey.name}
			</td>
			<td data-label="Key">
				<code safe>{`${gatewayKey.prefix}…`}</code>
			</td>
			<td data-label="Limits">
				<KeyLimits
					gatewayKey={gatewayKey}
					limits={limits}
					budgets={budgets}
					everyone={everyone}
					error={limitsError}
				/>
			</td>
			<td data-label="Created" safe>
				{formatDateTime(gatewayKey.createdAt)}
			</td>
			<td data-label="Last used" safe>
				{formatDateTime(gatewayKey.lastUsedAt)}
			</td>
			<td data-label="Status">
				{revoked ? (
					<span class="status status-bad" safe>{`Revoked ${formatDateTime(gatewayKey.revokedAt)}`}</span>
				) : (
					<form
						method="post"
						action={revokeUrl}
						hx-post={revokeUrl}
						hx-target={everyone ? 'closest tr' : `#${SECTION_ID}`}
						hx-swap="outerHTML"
						hx-confirm="Revoke this key? Apps using it stop working at once."
					>
						<span class="status status-ok">Active</span>{' '}
						<button type="submit" class="danger small">
							Revoke
						</button>
					</form>
				)}
			</td>
		</tr>
	)
}

function NewKeyPanel({ created }: { created: CreatedKey }) {
	return (
		<ShowOnce id={NEW_KEY_ID} value={created.key}>
			<strong safe>{created.name}</strong> — copy this key now. It will not be shown again.
		</ShowOnce>
	)
}

interface GatewayKeysProps {
	keys: GatewayKeyView[]
	budgets?: KeyBudgets
	limits?: KeyLimitsByKey
	created?: CreatedKey
	error?: string
}

export function GatewayKeysSection({ keys, budgets, limits, created, error }: GatewayKeysProps) {
	return (
		<section id={SECTION_ID} class="card">
			<h2>Gateway keys</h2>
			<p class="hint">
				Your apps send one of these as their OpenAI API key. Each key can have limits of requests and tokens
				per minute and of requests in flight, and budgets in USD per UTC day, per UTC month and in total: past
				one, its requests are refused. A cache TTL turns on the response cache for the key's identical
				requests.
			</p>
			<form
				class="inline-form"
				method="post"
				action="/keys"
				hx-post="/keys"
				hx-target={`#${SECTION_ID}`}
				hx-swap="outerHTML"
			>
				<label>
					Name
					<input name="name" required maxlength="100" placeholder="e.g. billing-service" />
				</label>
				<label>
					Requests per minute (optional)
					<input name="rateLimitPerMinute" type="number" min="1" step="1" placeholder="no limit" />
				</label>
				<button type="submit" class="primary">
					Create key
				</button>
			</form>
			{error ? <ErrorBanner message={error} /> : ''}
			{created ? <NewKeyPanel created={created} /> : ''}
			{keys.length === 0 ? (
				<p class="empty">No gateway keys yet. Create one to start sending requests.</p>
			) : (
				<table class="table">
					<KeyTableHead everyone={false} />
					<tbody>
						{keys.map((gatewayKey) => (
							<KeyRow
								gatewayKey={gatewayKey}
								budgets={budgets?.get(gatewayKey.id)}
								limits={limits?.get(gatewayKey.id)}
							/>
						))}
					</tbody>
				</table>
			)}
		</section>
	)
}

/** An admin's view of every user's gateway keys, to revoke any of them. */
export function EveryonesKeysSection({
	keys,
	budgets,
	limits,
}: {
	keys: GatewayKeyView[]
	budgets?: KeyBudgets
	limits?: KeyLimitsByKey
}) {
	return (
		<section class="card">
			<h2>Everyone's gateway keys</h2>
			<p class="hint">
				As an admin you can set any key's limits and revoke any key: the apps using it stop at once.
			</p>
			<table class="table">
				<KeyTableHead everyone />
				<tbody>
					{keys.map((gatewayKey) => (
						<KeyRow
							gatewayKey={gatewayKey}
							everyone
							budgets={budgets?.get(gatewayKey.id)}
							limits={limits?.get(gatewayKey.id)}
						/>
					))}
				</tbody>
			</table>
		</section>
	)
}

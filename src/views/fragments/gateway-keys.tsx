import type { BudgetView } from '../../budgets/budget-views'
import type { GatewayKeyView } from '../../keys/gateway-keys'
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

/**
 * A key's requests-per-minute limit and budgets, each with its bar, and (for a live key) the form that sets
 * them: a disclosure, open when the last try was refused. The form swaps the whole row.
 */
function KeyLimits({
	gatewayKey,
	budgets,
	everyone,
	error,
}: {
	gatewayKey: GatewayKeyView
	budgets: readonly BudgetView[]
	everyone: boolean
	error?: string
}) {
	const url = `/keys/${gatewayKey.id}/limits${everyone ? '?scope=all' : ''}`
	const rpm = gatewayKey.rateLimitPerMinute
	return (
		<div class="limits">
			<div class="limit-rpm">{rpm ? `${formatInteger(rpm)} requests/min` : 'No request limit'}</div>
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
						<label>
							Requests/min
							<input
								name="rpm"
								type="number"
								min="1"
								step="1"
								value={rpm ? String(rpm) : ''}
								placeholder="no limit"
							/>
						</label>
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
	limitsError,
}: {
	gatewayKey: GatewayKeyView
	everyone?: boolean
	budgets?: readonly BudgetView[]
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
				<KeyLimits gatewayKey={gatewayKey} budgets={budgets} everyone={everyone} error={limitsError} />
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
	created?: CreatedKey
	error?: string
}

export function GatewayKeysSection({ keys, budgets, created, error }: GatewayKeysProps) {
	return (
		<section id={SECTION_ID} class="card">
			<h2>Gateway keys</h2>
			<p class="hint">
				Your apps send one of these as their OpenAI API key. Each key can have a limit of requests per minute
				and budgets in USD per UTC day, per UTC month and in total: past one, its requests are refused.
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
							<KeyRow gatewayKey={gatewayKey} budgets={budgets?.get(gatewayKey.id)} />
						))}
					</tbody>
				</table>
			)}
		</section>
	)
}

/** An admin's view of every user's gateway keys, to revoke any of them. */
export function EveryonesKeysSection({ keys, budgets }: { keys: GatewayKeyView[]; budgets?: KeyBudgets }) {
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
						<KeyRow gatewayKey={gatewayKey} everyone budgets={budgets?.get(gatewayKey.id)} />
					))}
				</tbody>
			</table>
		</section>
	)
}

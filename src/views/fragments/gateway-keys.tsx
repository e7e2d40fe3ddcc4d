import type { GatewayKeyView } from '../../keys/gateway-keys'
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
				<th>Limit</th>
				<th>Created</th>
				<th>Last used</th>
				<th>Status</th>
			</tr>
		</thead>
	)
}

/**
 * One key; `everyone` is an admin's list of every user's keys, with each key's owner. Revoking one's own key
 * re-renders the whole section, so that a show-once banner of that key goes too.
 */
export function KeyRow({ gatewayKey, everyone = false }: { gatewayKey: GatewayKeyView; everyone?: boolean }) {
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
			<td data-label="Limit">
				{gatewayKey.rateLimitPerMinute ? `${formatInteger(gatewayKey.rateLimitPerMinute)}/min` : 'none'}
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
	created?: CreatedKey
	error?: string
}

export function GatewayKeysSection({ keys, created, error }: GatewayKeysProps) {
	return (
		<section id={SECTION_ID} class="card">
			<h2>Gateway keys</h2>
			<p class="hint">Your apps send one of these as their OpenAI API key.</p>
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
							<KeyRow gatewayKey={gatewayKey} />
						))}
					</tbody>
				</table>
			)}
		</section>
	)
}

/** An admin's view of every user's gateway keys, to revoke any of them. */
export function EveryonesKeysSection({ keys }: { keys: GatewayKeyView[] }) {
	return (
		<section class="card">
			<h2>Everyone's gateway keys</h2>
			<p class="hint">As an admin you can revoke any key: the apps using it stop at once.</p>
			<table class="table">
				<KeyTableHead everyone />
				<tbody>
					{keys.map((gatewayKey) => (
						<KeyRow gatewayKey={gatewayKey} everyone />
					))}
				</tbody>
			</table>
		</section>
	)
}

import { escapeHtml } from '@kitajs/html'
import type { KeyScope } from '../../../db/schema'
import type { KeyInUse, ProviderKeyView } from '../../keys/provider-keys'
import type { CatalogProvider } from '../../providers/catalog'
import { ErrorBanner } from '../components/error-banner'
import { formatDateTime } from '../format'

/** One provider-key form: a provider's key of one scope. */
export interface ProviderKeyForm {
	provider: string
	scope: KeyScope
}

interface KeyCellProps {
	provider: CatalogProvider
	scope: KeyScope
	current: ProviderKeyView | undefined
	editable: boolean
	/** The key check refused this form's key: offer to save without checking. */
	offerUnchecked: boolean
}

/** The section every provider-key form re-renders. */
const SECTION_ID = 'provider-keys'
const SECTION_TARGET = { 'hx-target': `#${SECTION_ID}`, 'hx-swap': 'outerHTML' } as const

function KeyCell({ provider, scope, current, editable, offerUnchecked }: KeyCellProps) {
	const fromEnv = current?.source === 'env'
	return (
		<td data-label={scope === 'user' ? 'Your key' : 'Organisation key'}>
			<div class="key-state">
				{current ? (
					// A word joiner keeps "…" with the characters it introduces in a narrow column.
					<code safe>{`…\u2060${current.last4}`}</code>
				) : (
					<span class="muted">{scope === 'user' ? 'not set' : 'none'}</span>
				)}
				{fromEnv ? <span class="badge">from environment</span> : ''}
			</div>
			{editable ? (
				<div class="key-actions">
					<form
						class="inline-form"
						method="post"
						action={`/provider-keys/${provider.id}`}
						hx-post={`/provider-keys/${provider.id}`}
						{...SECTION_TARGET}
					>
						<input type="hidden" name="scope" value={scope} />
						<input
							type="password"
							name="apiKey"
							required
							autocomplete="off"
							aria-label={escapeHtml(`${provider.name} API key`)}
							placeholder={current && !fromEnv ? 'Replace key' : 'Paste API key'}
						/>
						<button type="submit" class="small">
							{current && !fromEnv ? 'Replace' : 'Save'}
						</button>
						{offerUnchecked ? (
							<label class="check">
								<input type="checkbox" name="verify" value="false" />
								Save without checking
							</label>
						) : (
							''
						)}
					</form>
					{current && !fromEnv ? (
						<form
							method="post"
							action={`/provider-keys/${provider.id}/delete`}
							hx-post={`/provider-keys/${provider.id}/delete`}
							hx-confirm="Remove this provider key?"
							{...SECTION_TARGET}
						>
							<input type="hidden" name="scope" value={scope} />
							<button type="submit" class="danger small">
								Remove
							</button>
						</form>
					) : (
						''
					)}
				</div>
			) : (
				''
			)}
		</td>
	)
}

/** The sentence saying which key requests use and why, and a second line on how it was checked. */
function describeKeyInUse(inUse: KeyInUse): { use: string; tone?: string; note?: string; noteTone?: string } {
	const note = inUse.check
		? inUse.check.checked
			? { note: `Checked with the provider when saved, ${formatDateTime(inUse.check.at)}`, noteTone: 'muted' }
			: {
					note:
						inUse.source === 'user' && inUse.shadows
							? `Saved without checking (${formatDateTime(inUse.check.at)}): if the provider refuses it, requests fail instead of using the organisation's key`
							: `Saved without checking, ${formatDateTime(inUse.check.at)}`,
					noteTone: 'status-bad',
				}
		: {}
	const unreadable = inUse.unreadable
		? {
				note: 'A saved key cannot be decrypted (was ENCRYPTION_KEY changed?): save it again',
				noteTone: 'status-bad',
			}
		: {}
	switch (inUse.source) {
		case 'user': {
			const shadow = inUse.shadows
			const shadowed = shadow
				? ` (yours shadows the organisation's …${shadow.last4}${shadow.envVar ? ` from ${shadow.envVar}` : ''})`
				: ''
			return { use: `Your key …${inUse.last4}${shadowed}`, ...note, ...unreadable }
		}
		case 'org':
			return { use: `Organisation key …${inUse.last4} (saved by an admin)`, ...note, ...unreadable }
		case 'env':
			return {
				use: `Organisation key …${inUse.last4} from ${inUse.envVar} (environment)`,
				...unreadable,
			}
		case 'keyless':
			return { use: 'No key needed (a keyless server)', tone: 'muted', ...unreadable }
		case 'none':
			return { use: 'No key: requests to this provider fail', tone: 'status-bad', ...unreadable }
	}
}

function KeyInUseCell({ inUse }: { inUse: KeyInUse | undefined }) {
	if (!inUse) return <td data-label="Requests use">—</td>
	const { use, tone, note, noteTone } = describeKeyInUse(inUse)
	return (
		<td data-label="Requests use">
			<div class={tone} safe>
				{use}
			</div>
			{note ? (
				<div class={`hint ${noteTone ?? ''}`} safe>
					{note}
				</div>
			) : (
				''
			)}
		</td>
	)
}

interface ProviderKeysProps {
	providers: readonly CatalogProvider[]
	keys: ProviderKeyView[]
	/** Which key each provider's requests use for this user, and why (`ProviderKeyVault.keysInUse`). */
	keysInUse?: KeyInUse[]
	isAdmin: boolean
	error?: string
	/** The form whose key a failed check refused. */
	refusedForm?: ProviderKeyForm
}

export function ProviderKeysSection({
	providers,
	keys,
	keysInUse = [],
	isAdmin,
	error,
	refusedForm,
}: ProviderKeysProps) {
	const find = (providerId: string, scope: KeyScope) =>
		keys.find((key) => key.provider === providerId && key.scope === scope)
	const refused = (providerId: string, scope: KeyScope) =>
		refusedForm?.provider === providerId && refusedForm.scope === scope
	return (
		<section id={SECTION_ID} class="card">
			<h2>Provider keys</h2>
			<p class="hint">
				Requests use your own key for a provider first, then the organisation's. A key is checked with its
				provider before it is saved. Keys are encrypted at rest; only their last four characters are ever
				shown.
			</p>
			{error ? <ErrorBanner message={error} /> : ''}
			<table class="table">
				<thead>
					<tr>
						<th>Provider</th>
						<th>Your key</th>
						<th>Organisation key</th>
						<th>Requests use</th>
					</tr>
				</thead>
				<tbody>
					{providers.map((provider) => (
						<tr id={`provider-${provider.id}`}>
							<td data-label="Provider" safe>
								{provider.name}
							</td>
							<KeyCell
								provider={provider}
								scope="user"
								current={find(provider.id, 'user')}
								editable
								offerUnchecked={refused(provider.id, 'user')}
							/>
							<KeyCell
								provider={provider}
								scope="org"
								current={find(provider.id, 'org')}
								editable={isAdmin}
								offerUnchecked={refused(provider.id, 'org')}
							/>
							<KeyInUseCell inUse={keysInUse.find((inUse) => inUse.provider === provider.id)} />
						</tr>
					))}
				</tbody>
			</table>
		</section>
	)
}

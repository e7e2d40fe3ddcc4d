import type { GatewayKeyView } from '../../keys/gateway-keys'
import type { KeyInUse, ProviderKeyView } from '../../keys/provider-keys'
import type { CatalogProvider } from '../../providers/catalog'
import {
	type CreatedKey,
	EveryonesKeysSection,
	GatewayKeysSection,
	type KeyBudgets,
	type KeyLimitsByKey,
} from '../fragments/gateway-keys'
import { type ProviderKeyForm, ProviderKeysSection } from '../fragments/provider-keys'
import { Layout, type ViewUser } from '../layout'

interface KeysPageProps {
	user: ViewUser
	gatewayKeys: GatewayKeyView[]
	/** Every listed key's budgets, by key id. */
	keyBudgets?: KeyBudgets
	/** Every listed key's tokens per minute, requests in flight and cache TTL, by key id. */
	keyLimits?: KeyLimitsByKey
	created?: CreatedKey
	gatewayError?: string
	providers: readonly CatalogProvider[]
	providerKeys: ProviderKeyView[]
	keysInUse: KeyInUse[]
	providerError?: string
	/** The provider-key form whose key a failed check refused. */
	refusedForm?: ProviderKeyForm
	/** Every user's keys, for an admin; absent for developers. */
	everyonesKeys?: GatewayKeyView[]
}

export function KeysPage(props: KeysPageProps) {
	return (
		<Layout title="Keys" user={props.user} active="keys">
			<GatewayKeysSection
				keys={props.gatewayKeys}
				budgets={props.keyBudgets}
				limits={props.keyLimits}
				created={props.created}
				error={props.gatewayError}
			/>
			<ProviderKeysSection
				providers={props.providers}
				keys={props.providerKeys}
				keysInUse={props.keysInUse}
				isAdmin={props.user.role === 'admin'}
				error={props.providerError}
				refusedForm={props.refusedForm}
			/>
			{props.everyonesKeys ? (
				<EveryonesKeysSection
					keys={props.everyonesKeys}
					budgets={props.keyBudgets}
					limits={props.keyLimits}
				/>
			) : (
				''
			)}
		</Layout>
	)
}

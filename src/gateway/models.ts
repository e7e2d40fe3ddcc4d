import type { Principal } from '../keys/gateway-keys'
import type { ProviderKeyVault } from '../keys/provider-keys'
import type { Catalog } from '../providers/catalog'

export interface ModelListDeps {
	catalog: Catalog
	providerKeys: Pick<ProviderKeyVault, 'reachableProviders'>
}

/** Unix seconds of the catalog's price reading: the `created` of every listed model. */
function catalogCreated(pricesReadAt: string | undefined): number {
	const parsed = pricesReadAt ? Date.parse(pricesReadAt) : Number.NaN
	return Number.isNaN(parsed) ? 0 : Math.floor(parsed / 1000)
}

/** `GET /v1/models`: `auto` and every model this key's owner has a provider key for, retired ones hidden. */
export async function listModels(deps: ModelListDeps, principal: Principal) {
	const { catalog, providerKeys } = deps
	const created = catalogCreated(catalog.pricesReadAt)
	const reachable = new Set(
		(await providerKeys.reachableProviders(principal.userId)).map((provider) => provider.id),
	)
	const data = [
		{ id: 'auto', object: 'model', created, owned_by: 'switchyard' },
		...catalog.models
			.filter((model) => reachable.has(model.provider) && !catalog.retiredOn(model))
			.map((model) => ({ id: model.qualifiedId, object: 'model', created, owned_by: model.provider })),
	]
	return { object: 'list', data }
}

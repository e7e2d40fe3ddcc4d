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

/**
 * `GET /v1/models`: `auto` and every model this key's owner has a provider key for, retired ones hidden.
 * Every door reaches every chat model (translated where needed); embedding models only `/v1/embeddings`.
 * An Anthropic client (it sends `anthropic-version`, as Claude Code's model discovery does) gets
 * Anthropic's list shape (https://platform.claude.com/docs/en/api/models/list).
 */
export async function listModels(deps: ModelListDeps, principal: Principal, headers: Headers) {
	const { catalog, providerKeys } = deps
	const created = catalogCreated(catalog.pricesReadAt)
	const reachable = new Set(
		(await providerKeys.reachableProviders(principal.userId)).map((provider) => provider.id),
	)
	const ids = [
		'auto',
		...catalog.models
			.filter((model) => reachable.has(model.provider) && !catalog.retiredOn(model))
			.map((model) => model.qualifiedId),
	]
	if (headers.has('anthropic-version')) {
		const createdAt = new Date(created * 1000).toISOString()
		const data = ids.map((id) => ({ type: 'model', id, display_name: id, created_at: createdAt }))
		return { data, has_more: false, first_id: ids[0] ?? null, last_id: ids.at(-1) ?? null }
	}
	const ownerOf = (id: string) => (id === 'auto' ? 'switchyard' : (catalog.model(id)?.provider ?? ''))
	return {
		object: 'list',
		data: ids.map((id) => ({ id, object: 'model', created, owned_by: ownerOf(id) })),
	}
}

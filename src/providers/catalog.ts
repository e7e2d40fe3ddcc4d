import { type Static, Type } from '@sinclair/typebox'
import { Value } from '@sinclair/typebox/value'
import type { Config } from '../config'
import { toParam } from '../errors'
import { readText } from '../files'
import shipped from './catalog.json'

const Price = Type.Number({ minimum: 0 })

const ProviderSchema = Type.Object({
	id: Type.String({ pattern: '^[a-z0-9][a-z0-9-]*$' }),
	name: Type.String({ minLength: 1 }),
	kind: Type.Union([Type.Literal('openai'), Type.Literal('anthropic'), Type.Literal('openai-compatible')]),
	baseUrl: Type.String({ pattern: '^https?://' }),
	/** Environment variable holding the organisation key; absent for a keyless local server. */
	keyEnv: Type.Optional(Type.String({ pattern: '^[A-Z][A-Z0-9_]*$' })),
	pricingUrl: Type.Optional(Type.String()),
})

const ModelSchema = Type.Object({
	id: Type.String({ minLength: 1 }),
	provider: Type.String({ minLength: 1 }),
	inputPerMTok: Price,
	outputPerMTok: Price,
	cachedInputPerMTok: Type.Optional(Price),
	cacheWritePerMTok: Type.Optional(Price),
	contextWindow: Type.Integer({ minimum: 1 }),
	maxOutputTokens: Type.Integer({ minimum: 1 }),
	capabilities: Type.Object({ tools: Type.Boolean(), vision: Type.Boolean(), jsonMode: Type.Boolean() }),
	/** Request fields this model refuses (reasoning models and sampling settings); dropped before sending. */
	unsupportedParams: Type.Optional(Type.Array(Type.String())),
})

const CatalogFileSchema = Type.Object({
	pricesReadAt: Type.Optional(Type.String()),
	providers: Type.Array(ProviderSchema),
	models: Type.Array(ModelSchema),
})

/** An operator's catalog: new entries in full, or only the fields to change on a shipped one. */
const CatalogOverrideSchema = Type.Object({
	pricesReadAt: Type.Optional(Type.String()),
	providers: Type.Optional(
		Type.Array(Type.Intersect([Type.Partial(ProviderSchema), Type.Object({ id: Type.String() })])),
	),
	models: Type.Optional(
		Type.Array(
			Type.Intersect([
				Type.Partial(ModelSchema),
				Type.Object({ id: Type.String(), provider: Type.String() }),
			]),
		),
	),
})

export type ProviderKind = Static<typeof ProviderSchema>['kind']
export type CatalogProvider = Static<typeof ProviderSchema>
export type CatalogModel = Static<typeof ModelSchema> & {
	/** `<provider>/<id>`, unique across providers. */
	readonly qualifiedId: string
}
type CatalogFile = Static<typeof CatalogFileSchema>

export interface Catalog {
	readonly pricesReadAt: string | undefined
	/** In catalog order. */
	readonly providers: readonly CatalogProvider[]
	/** In catalog order. */
	readonly models: readonly CatalogModel[]
	provider(id: string): CatalogProvider | undefined
	/** By `<provider>/<id>`, or a bare id (the first provider in catalog order that serves it). */
	model(id: string): CatalogModel | undefined
}

export class CatalogError extends Error {
	constructor(
		readonly source: string,
		readonly problems: string[],
	) {
		super(`${source}: ${problems.join('; ')}`)
		this.name = 'CatalogError'
	}
}

function schemaErrors(
	schema: typeof CatalogFileSchema | typeof CatalogOverrideSchema,
	value: unknown,
): string[] {
	return [...Value.Errors(schema, value)].map((e) => `${toParam(e.path) ?? '(root)'}: ${e.message}`)
}

function mergeCatalog(base: CatalogFile, override: Static<typeof CatalogOverrideSchema>): unknown {
	const providers = base.providers.map((p) => ({ ...p }))
	for (const patch of override.providers ?? []) {
		const existing = providers.find((p) => p.id === patch.id)
		if (existing) Object.assign(existing, patch)
		else providers.push(patch as CatalogProvider)
	}
	const models = base.models.map((m) => ({ ...m, capabilities: { ...m.capabilities } }))
	for (const patch of override.models ?? []) {
		const existing = models.find((m) => m.id === patch.id && m.provider === patch.provider)
		if (existing)
			Object.assign(existing, patch, { capabilities: { ...existing.capabilities, ...patch.capabilities } })
		else models.push(patch as (typeof models)[number])
	}
	return { pricesReadAt: override.pricesReadAt ?? base.pricesReadAt, providers, models }
}

function crossCheck(file: CatalogFile): string[] {
	const problems: string[] = []
	const providerIds = new Set<string>()
	file.providers.forEach((p, i) => {
		if (providerIds.has(p.id)) problems.push(`providers[${i}].id: duplicate provider "${p.id}"`)
		providerIds.add(p.id)
	})
	const modelIds = new Set<string>()
	file.models.forEach((m, i) => {
		const qualified = `${m.provider}/${m.id}`
		if (!providerIds.has(m.provider)) problems.push(`models[${i}].provider: unknown provider "${m.provider}"`)
		if (modelIds.has(qualified)) problems.push(`models[${i}].id: duplicate model "${qualified}"`)
		modelIds.add(qualified)
	})
	return problems
}

/** Base URLs from the environment win over the catalog's, so tests and proxies can redirect a provider. */
function applyBaseUrlOverrides(
	file: CatalogFile,
	config: Pick<Config, 'openaiBaseUrl' | 'anthropicBaseUrl'>,
) {
	for (const provider of file.providers) {
		if (provider.id === 'openai') provider.baseUrl = config.openaiBaseUrl
		if (provider.id === 'anthropic') provider.baseUrl = config.anthropicBaseUrl
	}
}

export function buildCatalog(file: CatalogFile): Catalog {
	const providers = file.providers
	const models = file.models.map((m) => ({ ...m, qualifiedId: `${m.provider}/${m.id}` }))
	const providerById = new Map(providers.map((p) => [p.id, p]))
	const modelById = new Map<string, CatalogModel>()
	for (const model of models) modelById.set(model.qualifiedId, model)
	for (const model of models) if (!modelById.has(model.id)) modelById.set(model.id, model)
	return {
		pricesReadAt: file.pricesReadAt,
		providers,
		models,
		provider: (id) => providerById.get(id),
		model: (id) => modelById.get(id),
	}
}

/** The shipped catalog, with `CATALOG_PATH` merged over it; throws `CatalogError` listing every problem. */
export function loadCatalog(
	config: Pick<Config, 'catalogPath' | 'openaiBaseUrl' | 'anthropicBaseUrl'>,
): Catalog {
	let file = structuredClone(shipped) as unknown
	let source = 'shipped catalog'
	if (config.catalogPath) {
		source = config.catalogPath
		let override: unknown
		try {
			override = JSON.parse(readText(config.catalogPath))
		} catch (error) {
			throw new CatalogError(source, [`cannot be read as JSON (${(error as Error).message})`])
		}
		const overrideProblems = schemaErrors(CatalogOverrideSchema, override)
		if (overrideProblems.length > 0) throw new CatalogError(source, overrideProblems)
		file = mergeCatalog(file as CatalogFile, override as Static<typeof CatalogOverrideSchema>)
	}
	const problems = schemaErrors(CatalogFileSchema, file)
	if (problems.length === 0) problems.push(...crossCheck(file as CatalogFile))
	if (problems.length > 0) throw new CatalogError(source, problems)
	applyBaseUrlOverrides(file as CatalogFile, config)
	return buildCatalog(file as CatalogFile)
}

import { type Static, Type } from '@sinclair/typebox'
import { Value } from '@sinclair/typebox/value'
import type { Config } from '../config'
import { toParam } from '../errors'
import { readText } from '../lib/files'
import shipped from './catalog.json'

const Price = Type.Number({ minimum: 0 })

const FieldName = Type.String({ pattern: '^[a-z_][a-z0-9_]*$' })

/** How an OpenAI-kind provider's Chat Completions API differs from OpenAI's (docs/providers.md). */
const ChatApiSchema = Type.Object({
	/** The name the output limit goes by. @default max_tokens (openai-compatible), max_completion_tokens (openai) */
	maxTokensField: Type.Optional(
		Type.Union([Type.Literal('max_tokens'), Type.Literal('max_completion_tokens')]),
	),
	/** `stream_options`: usage must be asked for; `always`: sent unasked, and the field is refused. */
	streamUsage: Type.Optional(Type.Union([Type.Literal('stream_options'), Type.Literal('always')])),
	/** The only top-level fields the server takes; others are dropped. */
	fields: Type.Optional(Type.Array(FieldName)),
	/** Top-level fields the server refuses; dropped. */
	refuses: Type.Optional(Type.Array(FieldName)),
	/** The only message fields the server takes; others are removed from every message. */
	messageFields: Type.Optional(Type.Array(FieldName)),
	/** OpenAI's name of a field → this server's. */
	renames: Type.Optional(Type.Record(FieldName, FieldName)),
	/** The server knows the `developer` role; without it, developer messages go as `system`. @default true */
	developerRole: Type.Optional(Type.Boolean()),
	/** Assistant messages that made tool calls must carry `reasoning_content` back (DeepSeek's thinking mode). */
	reasoningReplay: Type.Optional(Type.Boolean()),
	/** The provider also serves OpenAI's Responses API at `<baseUrl>/responses`. */
	responsesApi: Type.Optional(Type.Boolean()),
})

const ProviderSchema = Type.Object({
	id: Type.String({ pattern: '^[a-z0-9][a-z0-9-]*$' }),
	name: Type.String({ minLength: 1 }),
	kind: Type.Union([Type.Literal('openai'), Type.Literal('anthropic'), Type.Literal('openai-compatible')]),
	baseUrl: Type.String({ pattern: '^https?://' }),
	/** Environment variable holding the organisation key; absent for a keyless local server. */
	keyEnv: Type.Optional(Type.String({ pattern: '^[A-Z][A-Z0-9_]*$' })),
	pricingUrl: Type.Optional(Type.String()),
	chatApi: Type.Optional(ChatApiSchema),
})

export const EFFORT_LEVELS = ['none', 'minimal', 'low', 'medium', 'high', 'xhigh', 'max'] as const
export type EffortLevel = (typeof EFFORT_LEVELS)[number]
const Effort = Type.Union(EFFORT_LEVELS.map((level) => Type.Literal(level)))

/** `reasoning-off`: only when the request turns reasoning off (OpenAI effort `none`, Claude thinking off). */
const When = Type.Union([Type.Literal('always'), Type.Literal('reasoning-off'), Type.Literal('never')])

const ReasoningSchema = Type.Object({
	/** In OpenAI's `reasoning_effort` words; `none` means reasoning can be turned off. */
	levels: Type.Array(Effort, { minItems: 1, uniqueItems: true }),
	/** What the provider applies when the request names no level. */
	default: Effort,
	/** OpenAI: the levels Chat Completions takes, where narrower than `levels` (the rest need the Responses API). */
	chatLevels: Type.Optional(Type.Array(Effort, { minItems: 1, uniqueItems: true })),
	/** What the provider calls a level, where it has its own word (Groq's Qwen: `default`). */
	names: Type.Optional(Type.Record(Type.String(), Type.String({ minLength: 1 }))),
})

/** What a model accepts, so that the gateway never sends what it would refuse (docs/providers.md). */
const AcceptsSchema = Type.Object({
	/** null: no reasoning control (`reasoning_effort` is dropped). Absent: unknown, passed through. */
	reasoning: Type.Optional(Type.Union([ReasoningSchema, Type.Null()])),
	/** temperature, top_p, logprobs, top_logprobs, penalties, logit_bias, stop. @default always */
	sampling: Type.Optional(When),
	/** Function tools on the chat API. @default always */
	chatTools: Type.Optional(When),
	/** `tool_choice` `required` or a named function. @default always */
	forcedToolChoice: Type.Optional(When),
	/** A conversation that ends with an assistant message. @default always */
	prefill: Type.Optional(When),
	/** Request fields this model refuses whatever its reasoning; dropped. */
	refuses: Type.Optional(Type.Array(FieldName)),
	/** Anthropic: `adaptive` (on by default, steered by effort) or `budget` (off by default, on with budget_tokens). */
	thinking: Type.Optional(Type.Union([Type.Literal('adaptive'), Type.Literal('budget')])),
	/** Anthropic adaptive models that can turn thinking off: how, and up to which effort. */
	thinkingOff: Type.Optional(
		Type.Object({
			type: Type.Union([Type.Literal('disabled'), Type.Literal('between_tools')]),
			maxEffort: Effort,
		}),
	),
})

const IsoDate = Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$' })

const ModelSchema = Type.Object({
	id: Type.String({ minLength: 1 }),
	provider: Type.String({ minLength: 1 }),
	/** What the model does: chat (the default), or embeddings, served only by `/v1/embeddings`. */
	kind: Type.Optional(Type.Literal('embedding')),
	inputPerMTok: Price,
	outputPerMTok: Price,
	cachedInputPerMTok: Type.Optional(Price),
	/** Cache writes: OpenAI's (30-minute retention), Anthropic's 5-minute ones. */
	cacheWritePerMTok: Type.Optional(Price),
	/** Anthropic's 1-hour cache writes. */
	cacheWrite1hPerMTok: Type.Optional(Price),
	contextWindow: Type.Integer({ minimum: 1 }),
	maxOutputTokens: Type.Integer({ minimum: 1 }),
	capabilities: Type.Object({ tools: Type.Boolean(), vision: Type.Boolean(), jsonMode: Type.Boolean() }),
	accepts: Type.Optional(AcceptsSchema),
	/** The provider's shutdown date (UTC): from that day the model is never called. */
	retiresAt: Type.Optional(IsoDate),
	/** What the provider recommends instead, named when a retired model is requested. */
	replacement: Type.Optional(Type.String()),
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
	/** The date a model was retired on, by the catalog's clock, once that date has come. */
	retiredOn(model: Pick<CatalogModel, 'retiresAt'>): string | undefined
}

/** What day it is, for retirement dates; tests pin it. */
export type Clock = () => Date

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
			Object.assign(existing, patch, {
				capabilities: { ...existing.capabilities, ...patch.capabilities },
				...((existing.accepts || patch.accepts) && { accepts: { ...existing.accepts, ...patch.accepts } }),
			})
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
	file.models.forEach((m, i) => {
		problems.push(...acceptsProblems(m, `models[${i}]`))
		if (m.retiresAt && Number.isNaN(Date.parse(m.retiresAt)))
			problems.push(`models[${i}].retiresAt: "${m.retiresAt}" is not a date`)
		if (m.replacement && !modelIds.has(m.replacement))
			problems.push(`models[${i}].replacement: unknown model "${m.replacement}" (use <provider>/<id>)`)
	})
	return problems
}

/** What the schema cannot say: levels that agree with each other, thinking fields only where they mean something. */
function acceptsProblems(model: Static<typeof ModelSchema>, at: string): string[] {
	const accepts = model.accepts
	if (!accepts) return []
	const problems: string[] = []
	const reasoning = accepts.reasoning
	const levels: readonly string[] = reasoning?.levels ?? []
	const mustBeLevels = (field: string, values: readonly string[]) => {
		for (const value of values) {
			if (!levels.includes(value))
				problems.push(`${at}.accepts.${field}: "${value}" is not one of its levels`)
		}
	}
	mustBeLevels('reasoning.default', reasoning ? [reasoning.default] : [])
	mustBeLevels('reasoning.names', Object.keys(reasoning?.names ?? {}))
	mustBeLevels('reasoning.chatLevels', reasoning?.chatLevels ?? [])
	if (accepts.thinkingOff && accepts.thinking !== 'adaptive')
		problems.push(`${at}.accepts.thinkingOff: only adaptive thinking can be turned off this way`)
	mustBeLevels('thinkingOff.maxEffort', accepts.thinkingOff ? [accepts.thinkingOff.maxEffort] : [])
	return problems
}

/** The UTC date a model was retired on, when that date has come; undefined while it is served. */
export function retiredOn(model: Pick<CatalogModel, 'retiresAt'>, now = new Date()): string | undefined {
	if (!model.retiresAt) return undefined
	return model.retiresAt <= now.toISOString().slice(0, 10) ? model.retiresAt : undefined
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

export function buildCatalog(file: CatalogFile, clock: Clock = () => new Date()): Catalog {
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
		// Most models have no shutdown date: only those read the clock.
		retiredOn: (model) => (model.retiresAt ? retiredOn(model, clock()) : undefined),
	}
}

/** The shipped catalog, with `CATALOG_PATH` merged over it; throws `CatalogError` listing every problem. */
export function loadCatalog(
	config: Pick<Config, 'catalogPath' | 'openaiBaseUrl' | 'anthropicBaseUrl'>,
	clock?: Clock,
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
	return buildCatalog(file as CatalogFile, clock)
}

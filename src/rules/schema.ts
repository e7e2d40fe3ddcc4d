import { type Static, Type } from '@sinclair/typebox'

/**
 * Names are sent as header values (x-switchyard-rule, x-switchyard-tier) on answers that are already paid
 * for, where a character the HTTP stack refuses would turn the answer into a 500; tier names are also
 * analytics keys and URL query values. Both sets are plain ASCII, which every header and URL carries as is.
 */
export const NAME_MAX_LENGTH = 64
/** The characters of each kind of name, as the body of a regular expression's character class. */
export const RULE_NAME_CHARACTERS = 'A-Za-z0-9._:-'
export const TIER_NAME_CHARACTERS = 'a-z0-9_-'
export const RULE_NAME_PATTERN = `^[A-Za-z0-9][${RULE_NAME_CHARACTERS}]{0,${NAME_MAX_LENGTH - 1}}$`
export const TIER_NAME_PATTERN = `^[a-z0-9][${TIER_NAME_CHARACTERS}]{0,${NAME_MAX_LENGTH - 1}}$`

// The titles let validate.ts word a pattern failure; the patterns also refuse the empty string.
const ruleName = { title: 'Rule name', pattern: RULE_NAME_PATTERN } as const
const tierName = { title: 'Tier name', pattern: TIER_NAME_PATTERN } as const

// Every object schema carries a `title`: editors show it, and validate.ts uses it to word TypeBox's errors.
export const RangeSchema = Type.Object(
	{
		gte: Type.Optional(Type.Integer({ minimum: 0, description: 'Holds when the value is at least this.' })),
		lte: Type.Optional(Type.Integer({ minimum: 0, description: 'Holds when the value is at most this.' })),
	},
	{ title: 'Range', additionalProperties: false, minProperties: 1 },
)

const keyword = Type.String({ minLength: 1, pattern: '\\S' })

export const WhenSchema = Type.Recursive(
	(This) =>
		Type.Object(
			{
				promptTokens: Type.Optional(RangeSchema),
				messages: Type.Optional(RangeSchema),
				maxTokens: Type.Optional(RangeSchema),
				hasTools: Type.Optional(Type.Boolean({ description: 'The request declares tools (or functions).' })),
				hasImages: Type.Optional(Type.Boolean({ description: 'A message has an image_url part.' })),
				jsonMode: Type.Optional(
					Type.Boolean({ description: 'response_format is json_object or json_schema.' }),
				),
				keywords: Type.Optional(
					Type.Array(keyword, {
						minItems: 1,
						description:
							'Any of these words or phrases, case-insensitive, as whole words, in the last user message.',
					}),
				),
				matches: Type.Optional(
					Type.String({
						description:
							'A JavaScript regular expression (flag u) tested on the last user message; case-sensitive unless written (?i:…).',
					}),
				),
				system: Type.Optional(
					Type.String({
						description:
							'A JavaScript regular expression (flag u) tested on the system and developer messages; case-sensitive unless written (?i:…).',
					}),
				),
				any: Type.Optional(Type.Array(This, { minItems: 1, description: 'Holds when one of these holds.' })),
				all: Type.Optional(Type.Array(This, { minItems: 1, description: 'Holds when all of these hold.' })),
				not: Type.Optional(This),
			},
			{
				title: 'Condition',
				additionalProperties: false,
				description: 'Holds when every predicate in it holds; {} always holds.',
			},
		),
	{ $id: 'When' },
)

export const TierSchema = Type.Object(
	{
		models: Type.Array(Type.String({ minLength: 1 }), {
			minItems: 1,
			description: 'Catalog models (`provider/id` or a bare id), tried in order.',
		}),
		description: Type.Optional(Type.String()),
	},
	{ title: 'Tier', additionalProperties: false },
)

export const RuleSchema = Type.Object(
	{
		name: Type.String({
			...ruleName,
			description: 'Unique; reported in x-switchyard-rule. Letters, digits, ".", "_", ":" and "-".',
		}),
		description: Type.Optional(Type.String()),
		enabled: Type.Optional(Type.Boolean({ default: true })),
		when: WhenSchema,
		tier: Type.String(tierName),
	},
	{ title: 'Rule', additionalProperties: false },
)

export const RulesDocumentSchema = Type.Object(
	{
		$schema: Type.Optional(Type.String({ description: 'For editors; ignored.' })),
		version: Type.Literal(1),
		baseline: Type.Optional(
			Type.String({
				minLength: 1,
				description:
					'The model savings are measured against: what a routed request would have cost without routing. Default: the first model of the strongest tier (the tier whose first model has the highest list price).',
			}),
		),
		aliases: Type.Optional(
			Type.Record(Type.String({ minLength: 1, maxLength: 200 }), Type.String({ minLength: 1 }), {
				description:
					'Model names callers send (Claude Code sends its own, such as claude-sonnet-5-5) mapped to "auto" (classified by the rules) or to a tier. A name ending in * matches every name that starts with what comes before it; an exact name wins over a pattern, a longer pattern over a shorter one.',
			}),
		),
		defaultTier: Type.String({ ...tierName, description: 'The tier used when no rule matches.' }),
		tiers: Type.Record(Type.String(tierName), TierSchema, {
			title: 'Tiers',
			additionalProperties: false,
			minProperties: 1,
		}),
		rules: Type.Array(RuleSchema, {
			description: 'Tried in order; the first enabled rule that holds decides.',
		}),
	},
	{ title: 'Rules document', additionalProperties: false },
)

export type Range = Static<typeof RangeSchema>
export type When = Static<typeof WhenSchema>
export type Tier = Static<typeof TierSchema>
export type Rule = Static<typeof RuleSchema>
export type RulesDocument = Static<typeof RulesDocumentSchema>

type Json = null | boolean | number | string | Json[] | { [key: string]: Json }

const DRAFT_07 = 'http://json-schema.org/draft-07/schema#'

/**
 * The document schema as plain JSON Schema (draft-07) for `/api/rules/schema` and editors. TypeBox's
 * recursive `$id: "When"` / `$ref: "When"` pair becomes `#/definitions/When`, which every editor resolves,
 * and the shared range schema is listed once.
 */
export function rulesJsonSchema(): { [key: string]: Json } {
	const definitions: { [key: string]: Json } = {}
	const hoist = (node: Json): Json => {
		if (Array.isArray(node)) return node.map(hoist)
		if (node === null || typeof node !== 'object') return node
		if (node.$ref === 'When') return { $ref: '#/definitions/When' }
		const name = node.$id === 'When' ? 'When' : node.title === 'Range' ? 'Range' : null
		const copy: { [key: string]: Json } = {}
		for (const [key, value] of Object.entries(node)) if (key !== '$id') copy[key] = hoist(value)
		if (name === null) return copy
		definitions[name] = copy
		return { $ref: `#/definitions/${name}` }
	}
	// JSON round trip drops TypeBox's symbol-keyed metadata.
	const body = hoist(JSON.parse(JSON.stringify(RulesDocumentSchema)) as Json) as { [key: string]: Json }
	return { $schema: DRAFT_07, ...body, definitions }
}

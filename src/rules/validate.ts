import type { TObject } from '@sinclair/typebox'
import { TypeCompiler } from '@sinclair/typebox/compiler'
import { type ValueError, ValueErrorType } from '@sinclair/typebox/errors'
import type { Catalog, CatalogModel } from '../providers/catalog'
import { type CapabilityNeeds, checkCapabilities } from './capabilities'
import { keywordsRegExp, patternRegExp } from './patterns'
import {
	NAME_MAX_LENGTH,
	RULE_NAME_CHARACTERS,
	RULE_NAME_PATTERN,
	RuleSchema,
	type RulesDocument,
	RulesDocumentSchema,
	TIER_NAME_CHARACTERS,
	TIER_NAME_PATTERN,
	TierSchema,
	WhenSchema,
} from './schema'

/** One problem in a rules document; `path` is a JSON Pointer into it ('' for the document itself). */
export interface RuleError {
	path: string
	message: string
}

export type RulesValidation = { ok: true; document: RulesDocument } | { ok: false; errors: RuleError[] }

const checker = TypeCompiler.Compile(RulesDocumentSchema)

const fieldsOf = (schema: TObject) => Object.keys(schema.properties).join(', ')
const PREDICATES = fieldsOf(WhenSchema as unknown as TObject)
const RANGE_FIELDS = ['promptTokens', 'messages', 'maxTokens'] as const
const REGEX_FIELDS = ['matches', 'system'] as const

type Json = Record<string, unknown>
const isObject = (value: unknown): value is Json =>
	typeof value === 'object' && value !== null && !Array.isArray(value)

/** RFC 6901 escaping, so a key holding '/' or '~' still points at the right place. */
const escapeSegment = (segment: string | number) => String(segment).replace(/~/g, '~0').replace(/\//g, '~1')
const pointer = (...segments: (string | number)[]) => segments.map((s) => `/${escapeSegment(s)}`).join('')
const lastSegment = (path: string) => (path.split('/').pop() ?? '').replace(/~1/g, '/').replace(/~0/g, '~')

/** Names in messages are JSON strings, so a line break or an invisible character shows instead of acting. */
const quote = (text: string) =>
	JSON.stringify(text.length > NAME_MAX_LENGTH * 2 ? `${text.slice(0, NAME_MAX_LENGTH)}…` : text)

const NAME_SETS = {
	rule: {
		name: new RegExp(RULE_NAME_PATTERN),
		character: new RegExp(`^[${RULE_NAME_CHARACTERS}]$`),
		allowed: 'letters, digits, ".", "_", ":" and "-"',
	},
	tier: {
		name: new RegExp(TIER_NAME_PATTERN),
		character: new RegExp(`^[${TIER_NAME_CHARACTERS}]$`),
		allowed: 'lowercase letters, digits, "-" and "_"',
	},
} as const

type NameKind = keyof typeof NAME_SETS

const isValidName = (kind: NameKind, name: string) => NAME_SETS[kind].name.test(name)

function describeCharacter(character: string): string {
	const code = `U+${(character.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`
	if (character === ' ') return 'a space'
	if (character === '\r' || character === '\n') return `a line break (${code})`
	if (/^[\s\p{C}]$/u.test(character)) return `an invisible character (${code})`
	return /^[\x21-\x7e]$/.test(character) ? quote(character) : `${quote(character)} (${code})`
}

/** Why a name cannot be used, naming the first character at fault, so the fix is plain. */
function nameProblem(kind: NameKind, name: string): string {
	const { character, allowed } = NAME_SETS[kind]
	const bad = [...name].find((c) => !character.test(c))
	const reason =
		name === ''
			? 'it is empty'
			: bad !== undefined
				? `it contains ${describeCharacter(bad)}`
				: name.length > NAME_MAX_LENGTH
					? `it is ${name.length} characters long`
					: `it starts with "${name[0]}"`
	return `invalid ${kind} name ${quote(name)}: ${reason}; use 1 to ${NAME_MAX_LENGTH} ${allowed}, starting with a letter or digit (it is sent in the x-switchyard-${kind} header)`
}

function kindOf(value: unknown): string {
	if (value === null) return 'null'
	if (Array.isArray(value)) return 'an array'
	return typeof value === 'object' ? 'an object' : `a ${typeof value}`
}

/** TypeBox's messages, reworded where the schema alone makes them cryptic. */
function schemaMessage(error: ValueError): string {
	const { type, path, schema, value } = error
	const key = lastSegment(path)
	switch (type) {
		case ValueErrorType.Object:
			if (path === '') return `the rules document must be a JSON object, not ${kindOf(value)}`
			break
		case ValueErrorType.ObjectAdditionalProperties:
			switch (schema.title) {
				case 'Condition':
					return `unknown predicate ${quote(key)}; known predicates: ${PREDICATES}`
				case 'Range':
					return `unknown bound ${quote(key)}; a range takes gte, lte or both`
				case 'Tiers':
					return nameProblem('tier', key)
				case 'Tier':
					return `unknown field ${quote(key)} in a tier; known fields: ${fieldsOf(TierSchema)}`
				case 'Rule':
					return `unknown field ${quote(key)} in a rule; known fields: ${fieldsOf(RuleSchema)}`
				default:
					return `unknown field ${quote(key)}; known fields: ${fieldsOf(RulesDocumentSchema)}`
			}
		case ValueErrorType.ObjectMinProperties:
			if (schema.title === 'Range') return 'a range needs gte, lte or both'
			if (schema.title === 'Tiers') return 'define at least one tier'
			break
		case ValueErrorType.ObjectRequiredProperty:
			return `missing required field "${key}"`
		case ValueErrorType.ArrayMinItems:
			if (key === 'models')
				return `tier ${quote(lastSegment(path.slice(0, -'/models'.length)))} has no models`
			if (key === 'keywords') return 'keywords needs at least one word or phrase'
			return `"${key}" needs at least one condition`
		case ValueErrorType.Literal:
			if (path === '/version') return `unsupported version ${JSON.stringify(value)}; the only version is 1`
			break
		case ValueErrorType.StringPattern:
			if (path.includes('/keywords/')) return 'a keyword must not be blank'
			if (value === '') return `"${key}" must not be empty`
			if (schema.title === 'Rule name') return nameProblem('rule', String(value))
			if (schema.title === 'Tier name') return nameProblem('tier', String(value))
			break
		case ValueErrorType.StringMinLength:
			return /^\d+$/.test(key) ? 'must not be empty' : `"${key}" must not be empty`
	}
	return error.message
}

function schemaErrors(doc: unknown): RuleError[] {
	const errors: RuleError[] = []
	const missing = new Set<string>()
	for (const error of checker.Errors(doc)) {
		// A missing field is also reported as the wrong type; the first message says it all.
		if (missing.has(error.path)) continue
		if (error.type === ValueErrorType.ObjectRequiredProperty) missing.add(error.path)
		errors.push({ path: error.path, message: schemaMessage(error) })
	}
	return errors
}

const NEED_NAMES = {
	hasTools: { model: 'tool support', request: 'tools' },
	hasImages: { model: 'vision', request: 'images' },
	jsonMode: { model: 'JSON mode', request: 'JSON mode' },
} as const

/** What a `when` requires of every request it lets through: top level and `all` only, never `any` or `not`. */
function collectNeeds(when: unknown, needs: CapabilityNeeds): CapabilityNeeds {
	if (!isObject(when)) return needs
	if (when.hasTools === true) needs.hasTools = true
	if (when.hasImages === true) needs.hasImages = true
	if (when.jsonMode === true) needs.jsonMode = true
	const tokens = when.promptTokens
	if (isObject(tokens) && typeof tokens.gte === 'number')
		needs.promptTokens = Math.max(needs.promptTokens, tokens.gte)
	if (Array.isArray(when.all)) for (const child of when.all) collectNeeds(child, needs)
	return needs
}

/** One need at a time, so the message names exactly what the tier lacks. */
function splitNeeds(needs: CapabilityNeeds) {
	const none: CapabilityNeeds = { promptTokens: 0, hasTools: false, hasImages: false, jsonMode: false }
	const parts: { needs: CapabilityNeeds; model: string; request: string }[] = []
	for (const flag of ['hasTools', 'hasImages', 'jsonMode'] as const) {
		if (needs[flag]) parts.push({ needs: { ...none, [flag]: true }, ...NEED_NAMES[flag] })
	}
	if (needs.promptTokens > 0)
		parts.push({
			needs: { ...none, promptTokens: needs.promptTokens },
			model: `a context window of at least ${needs.promptTokens} tokens`,
			request: `prompts of ${needs.promptTokens} or more tokens`,
		})
	return parts
}

function capabilityErrors(rule: string, tier: string, models: CatalogModel[], needs: CapabilityNeeds) {
	const parts = splitNeeds(needs)
	const serves = (n: CapabilityNeeds) => models.some((model) => checkCapabilities(model, n) === null)
	const messages = parts
		.filter((part) => !serves(part.needs))
		.map(
			(part) =>
				`tier ${quote(tier)} has no model with ${part.model}, but rule ${rule} sends requests with ${part.request} to it`,
		)
	if (messages.length === 0 && parts.length > 1 && !serves(needs)) {
		const model = parts.map((part) => part.model).join(' and ')
		const request = parts.map((part) => part.request).join(' and ')
		messages.push(
			`tier ${quote(tier)} has no single model with ${model}, but rule ${rule} sends requests with ${request} to it`,
		)
	}
	return messages
}

function whenErrors(when: unknown, path: string, errors: RuleError[]) {
	if (!isObject(when)) return
	for (const field of RANGE_FIELDS) {
		const range = when[field]
		if (
			isObject(range) &&
			typeof range.gte === 'number' &&
			typeof range.lte === 'number' &&
			range.gte > range.lte
		)
			errors.push({
				path: `${path}/${field}`,
				message: `gte ${range.gte} is greater than lte ${range.lte}, so this range never holds`,
			})
	}
	for (const field of REGEX_FIELDS) {
		const pattern = when[field]
		if (typeof pattern !== 'string') continue
		try {
			patternRegExp(pattern)
		} catch (error) {
			errors.push({
				path: `${path}/${field}`,
				message: `invalid regular expression: ${(error as Error).message}`,
			})
		}
	}
	const words = when.keywords
	if (Array.isArray(words) && words.every((word) => typeof word === 'string' && word.trim() !== '')) {
		try {
			keywordsRegExp(words)
		} catch (error) {
			errors.push({
				path: `${path}/keywords`,
				message: `cannot use these keywords: ${(error as Error).message}`,
			})
		}
	}
	for (const combinator of ['any', 'all'] as const) {
		const children = when[combinator]
		if (Array.isArray(children))
			children.forEach((child, i) => {
				whenErrors(child, `${path}/${combinator}/${i}`, errors)
			})
	}
	whenErrors(when.not, `${path}/not`, errors)
}

/** Checks the schema knows nothing of: references, regexes, names, ranges and capabilities. */
function semanticErrors(doc: Json, catalog: Catalog): RuleError[] {
	const errors: RuleError[] = []
	const tiers = isObject(doc.tiers) ? doc.tiers : {}
	// Only the usable names are listed: a refused one may hold a line break.
	const tierNames = Object.keys(tiers).filter((name) => isValidName('tier', name))
	const tierModels = new Map<string, CatalogModel[]>()

	const unknownTier = (name: string) =>
		tierNames.length === 0
			? `unknown tier ${quote(name)}; no tiers are defined`
			: `unknown tier ${quote(name)}; tiers: ${tierNames.join(', ')}`
	const unknownModel = (id: string) => `unknown model ${quote(id)}: it is not in the catalog`

	if (typeof doc.baseline === 'string' && doc.baseline !== '' && !catalog.model(doc.baseline))
		errors.push({ path: '/baseline', message: unknownModel(doc.baseline) })
	if (isObject(doc.aliases))
		for (const [name, target] of Object.entries(doc.aliases)) {
			if (typeof target === 'string' && target !== 'auto' && !Object.hasOwn(tiers, target))
				errors.push({ path: pointer('aliases', name), message: `${unknownTier(target)}, or auto` })
		}
	// A name the schema refused is reported once, there, and not again as unknown.
	if (
		typeof doc.defaultTier === 'string' &&
		isValidName('tier', doc.defaultTier) &&
		!Object.hasOwn(tiers, doc.defaultTier)
	)
		errors.push({ path: '/defaultTier', message: unknownTier(doc.defaultTier) })

	for (const [name, tier] of Object.entries(tiers)) {
		const known: CatalogModel[] = []
		if (isObject(tier) && Array.isArray(tier.models))
			tier.models.forEach((id, i) => {
				if (typeof id !== 'string' || id === '') return
				const model = catalog.model(id)
				if (model) known.push(model)
				else errors.push({ path: pointer('tiers', name, 'models', i), message: unknownModel(id) })
			})
		tierModels.set(name, known)
	}

	const names = new Map<string, number>()
	const rules = Array.isArray(doc.rules) ? doc.rules : []
	rules.forEach((rule, i) => {
		if (!isObject(rule)) return
		const { name, tier, when } = rule
		const named = typeof name === 'string' && isValidName('rule', name)
		if (named) {
			const first = names.get(name)
			if (first === undefined) names.set(name, i)
			else
				errors.push({
					path: `/rules/${i}/name`,
					message: `duplicate rule name ${quote(name)} (first used at /rules/${first})`,
				})
		}
		whenErrors(when, `/rules/${i}/when`, errors)
		if (typeof tier !== 'string' || !isValidName('tier', tier)) return
		if (!Object.hasOwn(tiers, tier)) {
			errors.push({ path: `/rules/${i}/tier`, message: unknownTier(tier) })
			return
		}
		const models = tierModels.get(tier) ?? []
		// A disabled rule sends nothing anywhere; it is checked again when it is enabled and saved.
		if (rule.enabled === false || models.length === 0) return
		const needs = collectNeeds(when, { promptTokens: 0, hasTools: false, hasImages: false, jsonMode: false })
		const label = named ? quote(name) : `#${i}`
		for (const message of capabilityErrors(label, tier, models, needs))
			errors.push({ path: `/rules/${i}/tier`, message })
	})
	return errors
}

/**
 * Checks a rules document against its schema and the catalog. Reports every problem, each with its JSON
 * Pointer; the schema and cross-reference checks both run, so one save shows everything to fix.
 */
export function validateRules(doc: unknown, catalog: Catalog): RulesValidation {
	const errors = schemaErrors(doc)
	if (isObject(doc)) errors.push(...semanticErrors(doc, catalog))
	return errors.length === 0 ? { ok: true, document: doc as RulesDocument } : { ok: false, errors }
}

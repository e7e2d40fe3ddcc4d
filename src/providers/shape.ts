// What every adapter decides the same way when it shapes a request for a model: the reasoning level it
// will run at, whether a field the catalog restricts is accepted at that level, and the record of what was
// dropped or changed (docs/providers.md, "What the gateway does").
import { badRequest } from '../errors'
import { type CatalogModel, EFFORT_LEVELS, type EffortLevel } from './catalog'
import type { ChatRequest } from './types'

type Accepts = NonNullable<CatalogModel['accepts']>
type When = NonNullable<Accepts['sampling']>

/** Fields OpenAI refuses from reasoning models, and the catalog's `sampling` rule governs. */
const SAMPLING_FIELDS = [
	'temperature',
	'top_p',
	'logprobs',
	'top_logprobs',
	'presence_penalty',
	'frequency_penalty',
	'logit_bias',
	'stop',
] as const

/** The reasoning a request will run at on one model. */
export interface ReasoningPlan {
	/** The level to send; undefined sends none (the model's default applies, or it has no reasoning). */
	level: EffortLevel | undefined
	/** Whether reasoning is off for this request (OpenAI effort `none`, Claude thinking off, no reasoning). */
	off: boolean
}

/** What shaping left out or changed, for the `x-switchyard-dropped` and `x-switchyard-adjusted` headers. */
export class ShapeLog {
	readonly dropped: string[] = []
	readonly adjusted: string[] = []

	drop(field: string) {
		if (!this.dropped.includes(field)) this.dropped.push(field)
	}

	adjust(note: string) {
		this.adjusted.push(note)
	}

	/** Drops `field` from `body` when present, recording it. */
	remove(body: Record<string, unknown>, field: string) {
		if (body[field] === undefined) return
		delete body[field]
		this.drop(field)
	}
}

const rank = (level: EffortLevel) => EFFORT_LEVELS.indexOf(level)

const isEffortLevel = (value: unknown): value is EffortLevel =>
	typeof value === 'string' && (EFFORT_LEVELS as readonly string[]).includes(value)

/**
 * The model's level nearest to the one asked for. `none` asked of a model that cannot turn reasoning off
 * becomes its lowest level; any other level never becomes `none`. Ties go to the higher level: the caller
 * asked for at least that much thought.
 */
export function nearestLevel(asked: EffortLevel, levels: readonly EffortLevel[]): EffortLevel {
	if (levels.includes(asked)) return asked
	const candidates = asked === 'none' ? levels : levels.filter((level) => level !== 'none')
	let best = candidates[0] ?? asked
	for (const level of candidates) {
		const distance = Math.abs(rank(level) - rank(asked))
		const bestDistance = Math.abs(rank(best) - rank(asked))
		if (distance < bestDistance || (distance === bestDistance && rank(level) > rank(best))) best = level
	}
	return best
}

/**
 * Resolves the request's `reasoning_effort` against the model. Unknown to the catalog (an OpenAI-compatible
 * model without `accepts.reasoning`): passed through as it is. A model without reasoning: dropped. Otherwise
 * the nearest level the model has, noted when it differs from the one asked.
 */
export function planReasoning(asked: unknown, model: CatalogModel, log: ShapeLog): ReasoningPlan {
	const reasoning = model.accepts?.reasoning
	if (reasoning === undefined) {
		return { level: isEffortLevel(asked) ? asked : undefined, off: asked === 'none' }
	}
	if (reasoning === null) {
		if (asked !== undefined && asked !== null) log.drop('reasoning_effort')
		return { level: undefined, off: true }
	}
	if (!isEffortLevel(asked)) {
		if (asked !== undefined && asked !== null) {
			throw badRequest(
				`Invalid value for 'reasoning_effort': expected one of ${EFFORT_LEVELS.join(', ')}.`,
				'reasoning_effort',
			)
		}
		return { level: undefined, off: reasoning.default === 'none' }
	}
	const level = nearestLevel(asked, reasoning.levels)
	if (level !== asked) log.adjust(`reasoning_effort=${level} (asked ${asked})`)
	return { level, off: level === 'none' }
}

/** Whether something restricted to `when` is accepted with reasoning on or off. */
export const allowed = (when: When | undefined, reasoningOff: boolean) =>
	when === undefined || when === 'always' || (when === 'reasoning-off' && reasoningOff)

/** Drops what the model refuses: the sampling fields at this reasoning, and the fields it never takes. */
export function shapeFields(
	body: Record<string, unknown>,
	model: CatalogModel,
	plan: ReasoningPlan,
	log: ShapeLog,
) {
	for (const field of model.accepts?.refuses ?? []) log.remove(body, field)
	if (allowed(model.accepts?.sampling, plan.off)) return
	for (const field of SAMPLING_FIELDS) log.remove(body, field)
}

/** A `tool_choice` that makes the model call a tool: `required`, or a named function. */
function forcesToolUse(request: ChatRequest): boolean {
	const choice = request.tool_choice
	return choice === 'required' || (typeof choice === 'object' && choice !== null)
}

/** A conversation that ends with an assistant message asks the model to continue it (prefill). */
function endsWithPrefill(request: ChatRequest): boolean {
	return request.messages.at(-1)?.role === 'assistant'
}

/** The refusal that makes a candidate incapable for this request; a named model returns it as a 400. */
export const incapable = (model: CatalogModel, why: string, param: string | null = null) =>
	badRequest(`${model.qualifiedId} ${why}`, param, 'model_incapable')

/** Checks what no shaping can fix: a forced tool choice and a prefill the model refuses at this reasoning. */
export function checkRefusals(request: ChatRequest, model: CatalogModel, plan: ReasoningPlan) {
	const accepts = model.accepts
	if (request.tools?.length && forcesToolUse(request) && !allowed(accepts?.forcedToolChoice, plan.off)) {
		throw incapable(
			model,
			'does not accept a forced tool_choice (required or a named function)',
			'tool_choice',
		)
	}
	if (endsWithPrefill(request) && !allowed(accepts?.prefill, plan.off)) {
		throw incapable(
			model,
			'does not accept a conversation that ends with an assistant message (prefill)',
			'messages',
		)
	}
}

// How a request thinks on a Claude model: adaptive thinking steered by effort on Claude 5.x, a token budget on
// legacy models, and the signed thinking blocks a tool loop must send back to the model that wrote them.
// https://platform.claude.com/docs/en/build-with-claude/extended-thinking
import type Anthropic from '@anthropic-ai/sdk'
import { type CatalogModel, EFFORT_LEVELS, type EffortLevel } from '../catalog'
import { incapable, type ReasoningPlan, type ShapeLog } from '../shape'
import type { ThinkingBlock } from './response'
import type { Block, Turn } from './transform'

/** Legacy Claude models think with a budget: what each level buys, below `max_tokens`. */
const THINKING_BUDGETS: Partial<Record<EffortLevel, number>> = {
	minimal: 1024,
	low: 2048,
	medium: 8192,
	high: 16384,
	xhigh: 16384,
	max: 16384,
}
const MIN_THINKING_BUDGET = 1024

/**
 * Sets `thinking` and `output_config.effort` for the model and returns whether thinking is on. Claude 5.x
 * thinks by default, steered by effort; `none` turns thinking off where the model can. Legacy models think
 * only when asked, with a budget. A tool loop whose thinking cannot be replayed to this model (the call came
 * from another model, or the client dropped `thinking_blocks`) runs with thinking off, as Anthropic's
 * error for that case advises; a model that cannot turn it off cannot continue that loop.
 */
export function applyThinking(
	params: Anthropic.MessageCreateParams,
	turns: Turn[],
	model: CatalogModel,
	plan: ReasoningPlan,
	log: ShapeLog,
): boolean {
	const accepts = model.accepts
	const lostThinking = answersToolCallWithoutThinking(turns)
	if (accepts?.thinking === 'budget') {
		const budget = plan.level && THINKING_BUDGETS[plan.level]
		if (!budget) return false
		if (lostThinking) {
			log.adjust('thinking off (the tool call being answered has no thinking block from this model)')
			return false
		}
		const capped = Math.min(budget, params.max_tokens - 1)
		if (capped < MIN_THINKING_BUDGET) {
			log.adjust(`thinking off (max_tokens ${params.max_tokens} leaves no room for a thinking budget)`)
			return false
		}
		params.thinking = { type: 'enabled', budget_tokens: capped }
		return true
	}
	if (accepts?.thinking !== 'adaptive') return false
	const off = accepts.thinkingOff
	if (plan.off || lostThinking) {
		if (!off) {
			throw incapable(
				model,
				'cannot continue a tool call without the signed thinking blocks of the turn that made it, and cannot turn thinking off (send the thinking_blocks back, or use another model)',
				'messages',
			)
		}
		if (lostThinking && !plan.off)
			log.adjust('thinking off (the tool call being answered has no thinking block from this model)')
		params.thinking = { type: off.type }
		const effort = plan.off ? 'low' : clampEffort(plan.level, off.maxEffort, log)
		if (effort) params.output_config = { effort: effort as Anthropic.OutputConfig['effort'] }
		return false
	}
	// Summarized, so that reasoning_content carries text; the default (omitted) returns only signatures.
	params.thinking = { type: 'adaptive', display: 'summarized' }
	if (plan.level) params.output_config = { effort: plan.level as Anthropic.OutputConfig['effort'] }
	return true
}

function clampEffort(
	level: EffortLevel | undefined,
	max: EffortLevel,
	log: ShapeLog,
): EffortLevel | undefined {
	if (!level || EFFORT_LEVELS.indexOf(level) <= EFFORT_LEVELS.indexOf(max)) return level
	log.adjust(`effort=${max} (asked ${level}; the highest this model takes with thinking off)`)
	return max
}

/**
 * The last turn answers tool calls (tool results), and the assistant turn that made them does not begin with
 * a thinking block this model can read: Anthropic refuses such a request while thinking is on.
 */
function answersToolCallWithoutThinking(turns: Turn[]): boolean {
	const last = turns.at(-1)
	const previous = turns.at(-2)
	if (last?.role !== 'user' || previous?.role !== 'assistant') return false
	if (!last.content.some((block) => block.type === 'tool_result')) return false
	if (!previous.content.some((block) => block.type === 'tool_use')) return false
	const first = previous.content[0]
	return first?.type !== 'thinking' && first?.type !== 'redacted_thinking'
}

/** The signed thinking blocks an assistant message carries back: only those this model wrote, as a signature is bound to its model. */
export function replayedThinking(message: object, modelId: string): Block[] {
	const blocks = (message as { thinking_blocks?: unknown }).thinking_blocks
	if (!Array.isArray(blocks)) return []
	return blocks.flatMap((block: Partial<ThinkingBlock> & Record<string, unknown>): Block[] => {
		if (block.model !== modelId) return []
		if (block.type === 'thinking' && typeof block.signature === 'string') {
			return [{ type: 'thinking', thinking: String(block.thinking ?? ''), signature: block.signature }]
		}
		if (block.type === 'redacted_thinking' && typeof block.data === 'string') {
			return [{ type: 'redacted_thinking', data: block.data }]
		}
		return []
	})
}

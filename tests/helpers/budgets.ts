import type { BudgetWindow } from '../../db/schema'
import type { GatewayHarness } from './gateway'

/** A budget of `limitMicros` on the harness's gateway key. */
export async function keyBudget(g: GatewayHarness, limitMicros: number, window: BudgetWindow = 'day') {
	const [key] = await g.t.deps.gatewayKeys.list(g.userId)
	if (!key) throw new Error('no key')
	return g.t.deps.budgets.create({ scope: 'key', scopeId: key.id, window, limitMicros, createdBy: g.userId })
}

/**
 * 200 answers that take a second: every request of a burst is admitted or refused before the first one
 * settles and gives back what it reserved beyond its cost, so exactly the worst cases that fit pass.
 */
export const slowAnswers = (g: GatewayHarness, model: string) =>
	g.upstream.script(
		model,
		...Array.from({ length: 200 }, () => ({ kind: 'slow', firstByteMs: 1_000, chunkMs: 0 }) as const),
	)

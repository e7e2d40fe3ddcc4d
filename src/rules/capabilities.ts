import type { CatalogModel } from '../providers/catalog'
import type { RequestFeatures } from './features'

/** The parts of a request that decide whether a model can take it at all. */
export type CapabilityNeeds = Pick<RequestFeatures, 'promptTokens' | 'hasTools' | 'hasImages' | 'jsonMode'>

/**
 * Null when `model` can serve a request with these features, else why not. The gateway skips such
 * candidates; validation uses it to check that a rule's tier can serve what the rule sends there.
 */
export function checkCapabilities(
	model: Pick<CatalogModel, 'capabilities' | 'contextWindow'>,
	features: CapabilityNeeds,
): string | null {
	const { capabilities } = model
	if (features.hasTools && !capabilities.tools) return 'no tool support'
	if (features.hasImages && !capabilities.vision) return 'no vision'
	if (features.jsonMode && !capabilities.jsonMode) return 'no JSON mode'
	if (features.promptTokens > model.contextWindow)
		return `context window ${model.contextWindow} is smaller than the prompt (~${features.promptTokens} tokens)`
	return null
}

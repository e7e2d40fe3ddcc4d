import type { Catalog, CatalogModel } from '../providers/catalog'
import { checkCapabilities } from './capabilities'
import type { CompiledRules, Decision, RuleExplanation } from './compile'
import { type ChatRequestLike, extractFeatures, type RequestFeatures } from './features'

export interface CandidateView {
	model: string
	provider: string
	/** Why this candidate would be skipped for this caller; absent when it would be tried. */
	skipped?: string
}

export interface RoutingPreview extends Decision {
	candidates: CandidateView[]
	features: RequestFeatures
	/** Each rule up to the deciding one: matched, failed (with the predicate that failed), or disabled. */
	explanation: RuleExplanation[]
	/** The model the gateway would call first, or null when every candidate would be skipped. */
	wouldCall: string | null
}

/**
 * "Why did this go there?": the decision for one chat-completion body under some rules, with the
 * candidates in order and, for each, why it would be skipped: retired, a capability, what the model
 * refuses in this very request (`refusal`, from its adapter), or no key for this caller.
 */
export function previewRouting(
	compiled: CompiledRules,
	catalog: Catalog,
	request: ChatRequestLike,
	hasKey: (providerId: string) => boolean,
	refusal: (model: CatalogModel) => string | undefined = () => undefined,
): RoutingPreview {
	const { features, text } = extractFeatures(request)
	const { decision, rules } = compiled.explain(features, text)
	const tier = compiled.document.tiers[decision.tier]
	const candidates: CandidateView[] = (tier?.models ?? []).map((id) => {
		const model = catalog.model(id)
		if (!model) return { model: id, provider: 'unknown', skipped: 'not in the catalog' }
		const retired = catalog.retiredOn(model)
		const incapable = retired
			? `retired on ${retired}`
			: (checkCapabilities(model, features) ?? refusal(model))
		if (incapable) return { model: model.qualifiedId, provider: model.provider, skipped: incapable }
		if (!hasKey(model.provider)) {
			return { model: model.qualifiedId, provider: model.provider, skipped: `no ${model.provider} key` }
		}
		return { model: model.qualifiedId, provider: model.provider }
	})
	return {
		...decision,
		candidates,
		features,
		explanation: rules,
		wouldCall: candidates.find((candidate) => !candidate.skipped)?.model ?? null,
	}
}

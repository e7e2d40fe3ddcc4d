import type { Catalog, CatalogModel } from '../providers/catalog'
import type { RulesDocument } from './schema'

/** A model's list price, for ranking tiers: input plus output, per million tokens. */
export const listPrice = (model: CatalogModel) => model.inputPerMTok + model.outputPerMTok

/**
 * The reference of the savings figure: the model a request routed by these rules would have gone to
 * without routing. The rules' `baseline` when they name one; otherwise the first model of the strongest
 * tier, the tier whose first model has the highest list price (the first such tier in the document).
 * Every savings figure (overview, breakdowns, simulation, `eval:routing`) prices against this model.
 */
export function referenceModel(document: RulesDocument, catalog: Catalog): CatalogModel | undefined {
	if (document.baseline) return catalog.model(document.baseline)
	let strongest: CatalogModel | undefined
	for (const tier of Object.values(document.tiers)) {
		const first = tier.models[0] ? catalog.model(tier.models[0]) : undefined
		if (first && (!strongest || listPrice(first) > listPrice(strongest))) strongest = first
	}
	return strongest
}

import type { RulesDocument } from './schema'

/**
 * Where the rules' `aliases` send a model name: `auto`, a tier, or nowhere (undefined). An exact name wins
 * over a pattern (`claude-haiku-*`), and a longer pattern over a shorter one.
 */
export function aliasOf(document: Pick<RulesDocument, 'aliases'>, model: string): string | undefined {
	const aliases = document.aliases
	if (!aliases) return undefined
	if (Object.hasOwn(aliases, model)) return aliases[model]
	let best: string | undefined
	let bestLength = -1
	for (const [name, target] of Object.entries(aliases)) {
		if (!name.endsWith('*')) continue
		const prefix = name.slice(0, -1)
		if (prefix.length > bestLength && model.startsWith(prefix)) {
			best = target
			bestLength = prefix.length
		}
	}
	return best
}

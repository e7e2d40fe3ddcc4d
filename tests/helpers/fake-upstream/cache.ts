/**
 * Prompt caching as the providers describe it. OpenAI and the OpenAI-compatible providers cache prompt
 * prefixes automatically in fixed steps [O6]; Anthropic caches the prefix ending at each `cache_control`
 * breakpoint (tools → system → messages) for its `ttl` [A6]. The first request with a prefix writes it,
 * the next ones read it. Prefixes are keyed on the model and a chained hash, so a longer conversation
 * reads what a shorter one wrote.
 */
import { canonicalJson, isRecord } from './wire'

/** Automatic caching: nothing under `min` tokens, then the prefix rounded down to `step` tokens. */
export interface AutoCacheRule {
	min: number
	step: number
}

export interface AnthropicCacheUse {
	read: number
	created: number
	created5m: number
	created1h: number
}

/** Past this many entries the oldest half goes, so a long benchmark does not grow without bound. */
const MAX_ENTRIES = 100_000
const TTL_MS = { '5m': 5 * 60_000, '1h': 60 * 60_000 } as const
/** Characters per token, as `countPromptTokens` counts. */
const CHARS_PER_TOKEN = 4

export class PromptCache {
	private readonly automatic = new Set<bigint>()
	private readonly anthropic = new Map<bigint, number>()

	clear(): void {
		this.automatic.clear()
		this.anthropic.clear()
	}

	/**
	 * OpenAI-style caching of `texts` (the prompt, as counted) behind `namespace` (provider, model, tools).
	 * Returns the tokens read from the cache and the tokens this request wrote.
	 */
	automaticUse(namespace: string, texts: readonly string[], total: number, rule: AutoCacheRule) {
		if (total < rule.min) return { cached: 0, written: 0 }
		const joined = texts.join('')
		const steps = Math.floor(total / rule.step)
		const width = rule.step * CHARS_PER_TOKEN
		const hashes: bigint[] = []
		let hash = Bun.hash.wyhash(namespace)
		for (let step = 0; step < steps; step++) {
			hash = Bun.hash.wyhash(joined.slice(step * width, (step + 1) * width), hash)
			hashes.push(hash)
		}
		let hit = 0
		for (let step = steps; step > 0; step--) {
			if (this.automatic.has(hashes[step - 1] as bigint)) {
				hit = step
				break
			}
		}
		trim(this.automatic)
		for (const each of hashes) this.automatic.add(each)
		return { cached: hit * rule.step, written: (steps - hit) * rule.step }
	}

	/** Anthropic's breakpoints: reads the longest live cached prefix, writes every later breakpoint. */
	anthropicUse(model: string, body: Record<string, unknown>, total: number, now: number): AnthropicCacheUse {
		const use = { read: 0, created: 0, created5m: 0, created1h: 0 }
		const breakpoints = breakpointsOf(model, body, total)
		if (breakpoints.length === 0) return use
		let hit = -1
		for (let index = breakpoints.length - 1; index >= 0; index--) {
			const expires = this.anthropic.get((breakpoints[index] as Breakpoint).hash)
			if (expires !== undefined && expires > now) {
				hit = index
				break
			}
		}
		use.read = hit >= 0 ? (breakpoints[hit] as Breakpoint).tokens : 0
		let covered = use.read
		for (const [index, breakpoint] of breakpoints.entries()) {
			const expires = now + TTL_MS[breakpoint.ttl]
			this.anthropic.set(breakpoint.hash, Math.max(expires, this.anthropic.get(breakpoint.hash) ?? 0))
			if (index <= hit) continue
			const written = Math.max(0, breakpoint.tokens - covered)
			covered = Math.max(covered, breakpoint.tokens)
			use.created += written
			if (breakpoint.ttl === '1h') use.created1h += written
			else use.created5m += written
		}
		if (this.anthropic.size > MAX_ENTRIES) this.anthropic.clear()
		return use
	}
}

interface Breakpoint {
	hash: bigint
	tokens: number
	ttl: '5m' | '1h'
}

/** Each `cache_control` block of tools, system and messages, with the hash and size of the prefix it ends. */
function breakpointsOf(model: string, body: Record<string, unknown>, total: number): Breakpoint[] {
	const breakpoints: Breakpoint[] = []
	let hash = Bun.hash.wyhash(model)
	let chars = 0
	const visit = (scope: string, block: unknown) => {
		hash = Bun.hash.wyhash(scope + canonicalJson(block), hash)
		chars += charsOf(block)
		if (!isRecord(block) || !isRecord(block.cache_control)) return
		const tokens = Math.min(total, Math.ceil(chars / CHARS_PER_TOKEN))
		breakpoints.push({ hash, tokens, ttl: block.cache_control.ttl === '1h' ? '1h' : '5m' })
	}
	if (Array.isArray(body.tools)) for (const tool of body.tools) visit('tool', tool)
	for (const block of blocksOf(body.system)) visit('system', block)
	if (Array.isArray(body.messages)) {
		for (const message of body.messages) {
			if (!isRecord(message)) continue
			for (const block of blocksOf(message.content)) visit(String(message.role), block)
		}
	}
	return breakpoints
}

/** A string content is one text block. */
export function blocksOf(content: unknown): unknown[] {
	if (typeof content === 'string') return [{ type: 'text', text: content }]
	return Array.isArray(content) ? content : []
}

/** Characters of a block's texts, counted as `countPromptTokens` counts them. */
function charsOf(block: unknown): number {
	if (typeof block === 'string') return block.length
	if (Array.isArray(block)) return block.reduce((sum: number, part) => sum + charsOf(part), 0)
	if (!isRecord(block) || block.type === 'tool' || block.input_schema !== undefined) return 0
	let chars = typeof block.text === 'string' ? block.text.length : 0
	if (block.content !== undefined) chars += charsOf(block.content)
	return chars
}

function trim(set: Set<bigint>): void {
	if (set.size < MAX_ENTRIES) return
	let drop = set.size >> 1
	for (const each of set) {
		if (drop-- <= 0) break
		set.delete(each)
	}
}

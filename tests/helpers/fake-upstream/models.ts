/**
 * The fake's own table of what each upstream model accepts, written from docs/providers.md (rule ids in
 * the comments) and deliberately not read from src/providers/catalog.json: a gateway test then proves the
 * catalog agrees with the providers instead of with itself.
 */

export type Effort = 'none' | 'minimal' | 'low' | 'medium' | 'high' | 'xhigh' | 'max'
export type Provider = 'openai' | 'anthropic' | 'groq' | 'mistral' | 'deepseek' | 'together'

/** Every effort word in OpenAI's order; a level's index sets its reasoning-token count. */
export const EFFORTS: readonly Effort[] = ['none', 'minimal', 'low', 'medium', 'high', 'xhigh', 'max']

export interface OpenAIModel {
	id: string
	family: 'gpt-6' | 'gpt-5' | 'o3' | 'gpt-4'
	/** Levels the Responses API takes; null: no reasoning at all (OA-3, OR-4). */
	levels: readonly Effort[] | null
	/** Levels Chat Completions takes (OA-4: no `max` there on the GPT-6 line). */
	chatLevels: readonly Effort[]
	defaultEffort: Effort | null
	/** When the sampling fields are accepted (OA-5, OR-3). */
	sampling: 'always' | 'reasoning-off' | 'never'
	/** When function tools are accepted on Chat Completions (OA-7). */
	chatTools: 'always' | 'reasoning-off' | 'never'
	/** OA-8: o3 refuses `parallel_tool_calls`. */
	parallelToolCalls: boolean
	/** GPT-5.6 and later report `cache_write_tokens` [O6]. */
	reportsCacheWrites: boolean
	/** Shutdown day, UTC (OA-9). */
	shutdown?: string
}

const GPT6_LEVELS: readonly Effort[] = ['none', 'low', 'medium', 'high', 'xhigh', 'max']
const GPT62_LEVELS: readonly Effort[] = ['low', 'medium', 'high', 'xhigh', 'max']
const GPT5_LEVELS: readonly Effort[] = ['minimal', 'low', 'medium', 'high']
const O3_LEVELS: readonly Effort[] = ['low', 'medium', 'high']

function gpt6(id: string, levels: readonly Effort[], chatTools: OpenAIModel['chatTools']): OpenAIModel {
	return {
		id,
		family: 'gpt-6',
		levels,
		chatLevels: levels.filter((level) => level !== 'max'),
		defaultEffort: 'medium',
		sampling: levels.includes('none') ? 'reasoning-off' : 'never',
		chatTools,
		parallelToolCalls: true,
		reportsCacheWrites: true,
	}
}

function legacy(id: string, family: 'gpt-5' | 'o3' | 'gpt-4', shutdown: string): OpenAIModel {
	const levels = family === 'gpt-5' ? GPT5_LEVELS : family === 'o3' ? O3_LEVELS : null
	return {
		id,
		family,
		levels,
		chatLevels: levels ?? [],
		defaultEffort: levels ? 'medium' : null,
		sampling: levels ? 'never' : 'always',
		chatTools: 'always',
		parallelToolCalls: family !== 'o3',
		reportsCacheWrites: false,
		shutdown,
	}
}

export const OPENAI_MODELS: readonly OpenAIModel[] = [
	gpt6('gpt-6.2-astra', GPT62_LEVELS, 'never'),
	gpt6('gpt-6.2-sol', GPT62_LEVELS, 'never'),
	// [O2]: Terra's page sends every tool call to the Responses API, `none` included.
	gpt6('gpt-6.1-terra', GPT6_LEVELS, 'never'),
	gpt6('gpt-6-luna', GPT6_LEVELS, 'reasoning-off'),
	legacy('gpt-5', 'gpt-5', '2026-12-11'),
	legacy('gpt-5-mini', 'gpt-5', '2026-12-11'),
	legacy('gpt-5-nano', 'gpt-5', '2026-12-11'),
	legacy('o3', 'o3', '2026-12-11'),
	legacy('gpt-4.1', 'gpt-4', '2027-01-14'),
	legacy('gpt-4.1-mini', 'gpt-4', '2027-01-14'),
	legacy('gpt-4o', 'gpt-4', '2027-01-14'),
	legacy('gpt-4o-mini', 'gpt-4', '2027-01-14'),
]

export interface EmbeddingModel {
	id: string
	/** The vector's length when the request names none. */
	dimensions: number
	/** EM-5: takes `dimensions` (text-embedding-3 and later [O8]). */
	shortenable: boolean
}

/** [O8]: the embedding models and their default sizes. */
export const EMBEDDING_MODELS: readonly EmbeddingModel[] = [
	{ id: 'text-embedding-3-small', dimensions: 1536, shortenable: true },
	{ id: 'text-embedding-3-large', dimensions: 3072, shortenable: true },
	{ id: 'text-embedding-ada-002', dimensions: 1536, shortenable: false },
]

export interface AnthropicModel {
	id: string
	/** `adaptive`: Claude 5.x, on by default; `budget`: legacy, on only with `budget_tokens`. */
	thinking: 'adaptive' | 'budget'
	/** `output_config.effort` levels; null: effort refused (AN-7). */
	efforts: readonly Effort[] | null
	defaultEffort: Effort | null
	/** How thinking is turned off on an adaptive model, and the highest effort that allows it (AN-2..AN-4). */
	thinkingOff: { type: 'disabled' | 'between_tools'; maxEffort: Effort } | null
	/** AN-8: refused; `no-thinking`: accepted, answered without a thinking block; legacy: AN-9. */
	forcedToolChoice: 'refused' | 'no-thinking' | 'thinking-off'
	/** AN-10. */
	prefill: 'refused' | 'thinking-off'
	/** AN-16. */
	maxOutput: number
	/** AN-12: whose thinking blocks this model reads (its own always). */
	reads: readonly string[]
	/** AN-13: `always`, or only when the request sets `thinking.block_binding`. */
	prefixBinding: 'always' | 'opt-in' | 'never'
	/** AN-17, UTC day. */
	retired?: string
}

const CLAUDE_5_EFFORTS: readonly Effort[] = ['low', 'medium', 'high', 'xhigh', 'max']

export const ANTHROPIC_MODELS: readonly AnthropicModel[] = [
	{
		id: 'claude-fable-5-2',
		thinking: 'adaptive',
		efforts: CLAUDE_5_EFFORTS,
		defaultEffort: 'high',
		thinkingOff: null,
		forcedToolChoice: 'refused',
		prefill: 'refused',
		maxOutput: 128_000,
		reads: [],
		prefixBinding: 'always',
	},
	{
		id: 'claude-opus-5-5',
		thinking: 'adaptive',
		efforts: CLAUDE_5_EFFORTS,
		defaultEffort: 'medium',
		thinkingOff: null,
		forcedToolChoice: 'refused',
		prefill: 'refused',
		maxOutput: 128_000,
		// [A2]: "reads thinking blocks from Claude Opus 5 and earlier Opus, Sonnet, and Haiku models".
		reads: ['claude-sonnet-5-5', 'claude-haiku-4-5', 'claude-sonnet-4-5', 'claude-opus-4-1'],
		prefixBinding: 'always',
	},
	{
		id: 'claude-sonnet-5-5',
		thinking: 'adaptive',
		efforts: CLAUDE_5_EFFORTS,
		defaultEffort: 'high',
		thinkingOff: { type: 'between_tools', maxEffort: 'high' },
		forcedToolChoice: 'refused',
		prefill: 'refused',
		maxOutput: 128_000,
		// [A2]: "reads thinking blocks from … Claude Haiku 4.5, and earlier models".
		reads: ['claude-haiku-4-5', 'claude-sonnet-4-5', 'claude-opus-4-1'],
		prefixBinding: 'always',
	},
	{
		id: 'claude-haiku-5-5',
		thinking: 'adaptive',
		efforts: CLAUDE_5_EFFORTS,
		defaultEffort: 'medium',
		thinkingOff: { type: 'disabled', maxEffort: 'high' },
		forcedToolChoice: 'no-thinking',
		prefill: 'refused',
		maxOutput: 128_000,
		reads: [],
		prefixBinding: 'opt-in',
	},
	legacyClaude('claude-haiku-4-5', 64_000),
	legacyClaude('claude-sonnet-4-5', 64_000, '2026-11-30'),
	legacyClaude('claude-opus-4-1', 32_000, '2026-08-05'),
]

function legacyClaude(id: string, maxOutput: number, retired?: string): AnthropicModel {
	return {
		id,
		thinking: 'budget',
		efforts: null,
		defaultEffort: null,
		thinkingOff: null,
		forcedToolChoice: 'thinking-off',
		prefill: 'thinking-off',
		maxOutput,
		reads: [],
		prefixBinding: 'never',
		...(retired && { retired }),
	}
}

export type CompatibleProvider = Exclude<Provider, 'openai' | 'anthropic'>

export interface CompatibleModel {
	id: string
	provider: CompatibleProvider
	/** GQ-4, TG-1: the `reasoning_effort` values taken; null: not checked. */
	efforts: readonly string[] | null
	/** Whether the model reasons when the request says nothing. */
	reasonsByDefault: boolean
}

export const COMPATIBLE_MODELS: readonly CompatibleModel[] = [
	{ id: 'openai/gpt-oss-120b', provider: 'groq', efforts: ['low', 'medium', 'high'], reasonsByDefault: true },
	{ id: 'openai/gpt-oss-20b', provider: 'groq', efforts: ['low', 'medium', 'high'], reasonsByDefault: true },
	{ id: 'qwen/qwen3.8-27b', provider: 'groq', efforts: ['none', 'default'], reasonsByDefault: true },
	{ id: 'mistral-large-2512', provider: 'mistral', efforts: null, reasonsByDefault: false },
	{ id: 'mistral-medium-2604', provider: 'mistral', efforts: null, reasonsByDefault: false },
	{ id: 'mistral-small-2603', provider: 'mistral', efforts: null, reasonsByDefault: false },
	// DS-1: thinking mode is the default; `thinking: {type: 'disabled'}` turns it off.
	{ id: 'deepseek-flash', provider: 'deepseek', efforts: null, reasonsByDefault: true },
	{ id: 'deepseek-v4-pro', provider: 'deepseek', efforts: null, reasonsByDefault: true },
	{
		id: 'openai/gpt-oss-120b',
		provider: 'together',
		efforts: ['low', 'medium', 'high'],
		reasonsByDefault: true,
	},
	{
		id: 'meta-llama/Llama-3.3-70B-Instruct-Turbo',
		provider: 'together',
		efforts: null,
		reasonsByDefault: false,
	},
	{ id: 'Qwen/Qwen3.7-Max', provider: 'together', efforts: null, reasonsByDefault: true },
]

/** Every model id the fake knows, per provider, retired ones included. */
export const FAKE_MODELS: Readonly<Record<Provider, string[]>> = {
	openai: [...OPENAI_MODELS, ...EMBEDDING_MODELS].map((model) => model.id),
	anthropic: ANTHROPIC_MODELS.map((model) => model.id),
	groq: idsOf('groq'),
	mistral: idsOf('mistral'),
	deepseek: idsOf('deepseek'),
	together: idsOf('together'),
}

function idsOf(provider: CompatibleProvider): string[] {
	return COMPATIBLE_MODELS.filter((model) => model.provider === provider).map((model) => model.id)
}

const openaiById = new Map(OPENAI_MODELS.map((model) => [model.id, model]))
const anthropicById = new Map(ANTHROPIC_MODELS.map((model) => [model.id, model]))
const compatibleById = new Map(COMPATIBLE_MODELS.map((model) => [`${model.provider}:${model.id}`, model]))

export function openaiModel(id: string): OpenAIModel | undefined {
	return openaiById.get(id)
}

export function anthropicModel(id: string): AnthropicModel | undefined {
	return anthropicById.get(id)
}

export function compatibleModel(provider: CompatibleProvider, id: string): CompatibleModel | undefined {
	return compatibleById.get(`${provider}:${id}`)
}

/** True from the first instant of the given UTC day. */
export function isPast(day: string | undefined, now: Date): boolean {
	return day !== undefined && now.getTime() >= Date.parse(`${day}T00:00:00Z`)
}

/** `'a'`, `'a' and 'b'`, `'a', 'b', and 'c'`: the list form of OpenAI's messages. */
export function quotedList(values: readonly string[]): string {
	const quoted = values.map((value) => `'${value}'`)
	if (quoted.length <= 2) return quoted.join(' and ')
	return `${quoted.slice(0, -1).join(', ')}, and ${quoted.at(-1)}`
}

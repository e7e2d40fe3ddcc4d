/**
 * Times the rules engine on the hot path: `bun scripts/bench-rules.ts`. Each figure is per call, in
 * microseconds, over a realistic mix of chat-completion bodies classified by the shipped default rules.
 * Runs for a few seconds at most.
 */

import { loadCatalog } from '../src/providers/catalog'
import { compileRules } from '../src/rules/compile'
import defaultRules from '../src/rules/default-rules.json'
import { type ChatRequestLike, extractFeatures } from '../src/rules/features'
import { validateRules } from '../src/rules/validate'

/** Per measurement: stop after this many calls or this much time, whichever comes first. */
const MAX_CALLS = 20_000
const MAX_MS = 150

const prose = (chars: number) => {
	const sentence =
		'The quick brown fox jumps over the lazy dog while the committee reviews the quarterly report. '
	return sentence.repeat(Math.ceil(chars / sentence.length)).slice(0, chars)
}
const image = (n: number) => ({ type: 'image_url', image_url: { url: `https://example.com/${n}.png` } })
const tool = (name: string) => ({
	type: 'function',
	function: {
		name,
		description: `Calls ${name} with the given arguments and returns its JSON result.`,
		parameters: {
			type: 'object',
			properties: { query: { type: 'string' }, limit: { type: 'integer', minimum: 1, maximum: 100 } },
			required: ['query'],
		},
	},
})

function agentTranscript(turns: number) {
	const messages: unknown[] = [{ role: 'system', content: prose(1500) }]
	for (let i = 0; i < turns; i++) {
		messages.push({ role: 'user', content: `Step ${i}: look up the next record and summarise it.` })
		messages.push({
			role: 'assistant',
			content: null,
			tool_calls: [
				{ id: `c${i}`, type: 'function', function: { name: 'search', arguments: '{"query":"x","limit":5}' } },
			],
		})
		messages.push({ role: 'tool', tool_call_id: `c${i}`, content: prose(800) })
	}
	return messages
}

const BODIES: Record<string, ChatRequestLike> = {
	'short chat': {
		messages: [
			{ role: 'system', content: 'You are a helpful assistant.' },
			{ role: 'user', content: 'What is the capital of France?' },
		],
	},
	'multi-turn chat': {
		messages: Array.from({ length: 12 }, (_, i) => ({
			role: i % 2 === 0 ? 'user' : 'assistant',
			content: prose(400),
		})),
	},
	'keyword prompt': {
		messages: [
			{ role: 'system', content: 'You are a mathematician.' },
			{ role: 'user', content: `${prose(600)} Now prove, step by step, that the sum converges.` },
		],
	},
	'translate 20 kB': {
		messages: [{ role: 'user', content: `Translate into German:\n${prose(20_000)}` }],
	},
	'json mode': {
		messages: [{ role: 'user', content: `Extract the names as JSON: ${prose(1000)}` }],
		response_format: { type: 'json_object' },
		max_completion_tokens: 500,
	},
	images: {
		messages: [
			{
				role: 'user',
				content: [{ type: 'text', text: 'What differs between these screenshots?' }, image(1), image(2)],
			},
		],
	},
	'agent with tools': {
		messages: agentTranscript(15),
		tools: ['search', 'fetch', 'write_file', 'read_file', 'run_tests'].map(tool),
		tool_choice: 'auto',
	},
	'long context 200 kB': {
		messages: [
			{ role: 'system', content: 'Answer from the document.' },
			{ role: 'user', content: `${prose(200_000)}\n\nWhat does the report conclude?` },
		],
	},
	'long context 600 kB': {
		messages: [{ role: 'user', content: `${prose(600_000)}\n\nList every committee.` }],
	},
}

function percentile(sorted: Float64Array, p: number): number {
	return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? Number.NaN
}

/** A batch should take at least this long, so the clock's own cost (~0.05 µs) does not dominate. */
const MIN_BATCH_US = 2

/**
 * Per-call times in µs. Calls slower than MIN_BATCH_US are timed one by one; faster ones in small batches
 * (the figure is then the batch's mean per call, so p99 is smoothed for them).
 */
function measure(fn: () => unknown): { median: number; p99: number; calls: number } {
	const warmStart = Bun.nanoseconds()
	for (let i = 0; i < 200; i++) fn()
	const estimateUs = (Bun.nanoseconds() - warmStart) / 1000 / 200
	const batch = Math.max(1, Math.ceil(MIN_BATCH_US / Math.max(estimateUs, 0.001)))
	const samples = new Float64Array(Math.ceil(MAX_CALLS / batch))
	const deadline = performance.now() + MAX_MS
	let taken = 0
	while (taken < samples.length && (taken % 64 !== 0 || performance.now() < deadline)) {
		const start = Bun.nanoseconds()
		for (let i = 0; i < batch; i++) fn()
		samples[taken++] = (Bun.nanoseconds() - start) / 1000 / batch
	}
	const sorted = samples.subarray(0, taken).sort()
	return { median: percentile(sorted, 0.5), p99: percentile(sorted, 0.99), calls: taken * batch }
}

const fmt = (us: number) => us.toFixed(us < 10 ? 2 : 1).padStart(8)

/** The shipped catalog, exactly as the server loads it without CATALOG_PATH. */
const catalog = loadCatalog({
	catalogPath: undefined,
	openaiBaseUrl: 'http://localhost:1',
	anthropicBaseUrl: 'http://localhost:2',
})
const validation = validateRules(defaultRules, catalog)
if (!validation.ok) throw new Error(`default rules are invalid: ${JSON.stringify(validation.errors)}`)
const { document } = validation

const compileTimes = measure(() => compileRules(document))
const validateTimes = measure(() => validateRules(defaultRules, catalog))
const rules = compileRules(document)

console.log('rules engine, per call in µs (median / p99)\n')
console.log(`validateRules(default rules)  ${fmt(validateTimes.median)} / ${fmt(validateTimes.p99)}`)
console.log(`compileRules(default rules)   ${fmt(compileTimes.median)} / ${fmt(compileTimes.p99)}\n`)

const header = ['body', 'tier/rule', 'extractFeatures', 'classify', 'both'].join(' | ')
console.log(header)
for (const [name, body] of Object.entries(BODIES)) {
	const { features, text } = extractFeatures(body)
	const decision = rules.classify(features, text)
	const extract = measure(() => extractFeatures(body))
	// A fresh text object per call, as each request brings: the compiled rules memoise regex results per text.
	const classify = measure(() =>
		rules.classify(features, { lastUserMessage: text.lastUserMessage, system: text.system }),
	)
	const both = measure(() => {
		const extracted = extractFeatures(body)
		return rules.classify(extracted.features, extracted.text)
	})
	console.log(
		[
			name.padEnd(20),
			`${decision.tier}/${decision.rule}`.padEnd(26),
			`${fmt(extract.median)} / ${fmt(extract.p99)}`,
			`${fmt(classify.median)} / ${fmt(classify.p99)}`,
			`${fmt(both.median)} / ${fmt(both.p99)}`,
		].join(' | '),
	)
}

// The mix: every body in turn, as a gateway would see them interleaved.
const bodies = Object.values(BODIES)
let next = 0
const mixed = measure(() => {
	const body = bodies[next++ % bodies.length] ?? {}
	const extracted = extractFeatures(body)
	return rules.classify(extracted.features, extracted.text)
})
console.log(
	`\nmixed stream, extract + classify  ${fmt(mixed.median)} / ${fmt(mixed.p99)}  (${mixed.calls} calls)`,
)

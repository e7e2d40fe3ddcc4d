/**
 * Scores a rules document on labelled prompts: `bun run eval:routing [rules.json] [--data path.jsonl]
 * [--baseline length] [--half a|b] [--json]`.
 *
 * - rules.json: the document to score; the shipped `src/rules/default-rules.json` when omitted.
 * - --data: a JSONL file of `{ id, request, expected_tier, source }` lines; by default
 *   `../shared/routing-dev.jsonl` next to the repository (the dataset is not part of the repository).
 * - --baseline length: score the length-only baseline instead (LENGTH_BASELINE below): the same tiers,
 *   models and baseline as the shipped defaults, routing on the estimated prompt size alone.
 * - --half a|b: score one half of the data, for a held-out check. Items are grouped by source and
 *   expected tier in file order; half `a` takes the 1st, 3rd, 5th… of each group, `b` the others.
 * - --json: one JSON object on stdout instead of the tables.
 *
 * Each request goes through `extractFeatures` and the compiled rules' `classify`, exactly as the gateway
 * routes a `model: "auto"` request. Figures: tier accuracy, the confusion matrix (expected tier in rows,
 * routed tier in columns), the share of expected-`complex` items routed to `simple` (the mistake that
 * costs quality), accuracy per source and per deciding rule, and the cost ratio below.
 *
 * Cost model. Every item costs its estimated prompt tokens (`promptTokens` from `extractFeatures`: chars / 4
 * plus 4 per message) plus an assumed completion of ASSUMED_COMPLETION_TOKENS, priced with `costUsd` at the
 * first model of its routed tier (no caching). "Reference" prices every item the same way at the savings
 * reference of the rules (`referenceModel`, as the dashboard's savings: `baseline`, or the first model of
 * the strongest tier). The ratio is routed cost / reference cost: 1 means no saving. A fixed completion length
 * favours no tier; real answers to hard prompts run longer, so real savings are somewhat larger.
 */

import { resolve } from 'node:path'
import { loadConfig } from '../src/config'
import { type Catalog, type CatalogModel, loadCatalog } from '../src/providers/catalog'
import { costUsd } from '../src/providers/pricing'
import { compileRules } from '../src/rules/compile'
import defaultRules from '../src/rules/default-rules.json'
import { type ChatRequestLike, extractFeatures } from '../src/rules/features'
import { referenceModel } from '../src/rules/reference'
import type { RulesDocument } from '../src/rules/schema'
import { validateRules } from '../src/rules/validate'

const ASSUMED_COMPLETION_TOKENS = 400
const REPO_ROOT = resolve(import.meta.dir, '..')
const DEFAULT_DATA = resolve(REPO_ROOT, '../shared/routing-dev.jsonl')
const DEFAULT_RULES = 'src/rules/default-rules.json'
/** Rows and columns of the confusion matrix come in this order; other tier names follow. */
const TIER_ORDER = ['simple', 'medium', 'complex']

/** The length-only baseline's bounds, in estimated prompt tokens (about 240 and 1,600 characters). */
const LENGTH_SIMPLE_MAX = 60
const LENGTH_COMPLEX_MIN = 400

/** What a router that looks only at prompt size would do, on the shipped tiers and models. */
const LENGTH_BASELINE: RulesDocument = {
	version: 1,
	defaultTier: 'medium',
	tiers: defaultRules.tiers,
	rules: [
		{
			name: 'long-prompt',
			description: `At least ${LENGTH_COMPLEX_MIN} estimated prompt tokens.`,
			when: { promptTokens: { gte: LENGTH_COMPLEX_MIN } },
			tier: 'complex',
		},
		{
			name: 'short-prompt',
			description: `At most ${LENGTH_SIMPLE_MAX} estimated prompt tokens.`,
			when: { promptTokens: { lte: LENGTH_SIMPLE_MAX } },
			tier: 'simple',
		},
	],
}

interface Options {
	rulesPath: string | null
	dataPath: string
	baseline: boolean
	half: 'a' | 'b' | null
	json: boolean
}

interface Item {
	id: string
	source: string
	expected: string
	request: ChatRequestLike
}

interface Outcome {
	id: string
	source: string
	expected: string
	routed: string
	rule: string
	promptTokens: number
}

const USAGE =
	'usage: bun run eval:routing [rules.json] [--data path.jsonl] [--baseline length] [--half a|b] [--json]'

function fail(message: string): never {
	console.error(message)
	process.exit(1)
}

function parseArgs(args: string[]): Options {
	const options: Options = {
		rulesPath: null,
		dataPath: DEFAULT_DATA,
		baseline: false,
		half: null,
		json: false,
	}
	for (let i = 0; i < args.length; i++) {
		const arg = args[i] as string
		const value = () => args[++i] ?? fail(`${arg} needs a value\n${USAGE}`)
		if (arg === '--json') options.json = true
		else if (arg === '--data') options.dataPath = resolve(value())
		else if (arg === '--baseline') {
			if (value() !== 'length') fail(`--baseline takes "length", the only built-in baseline\n${USAGE}`)
			options.baseline = true
		} else if (arg === '--half') {
			const half = value()
			if (half !== 'a' && half !== 'b') fail(`--half takes a or b\n${USAGE}`)
			options.half = half
		} else if (arg === '--help' || arg === '-h') {
			console.log(USAGE)
			process.exit(0)
		} else if (arg.startsWith('-')) fail(`unknown option ${arg}\n${USAGE}`)
		else if (options.rulesPath === null) options.rulesPath = resolve(arg)
		else fail(`only one rules document can be scored at a time\n${USAGE}`)
	}
	if (options.baseline && options.rulesPath !== null)
		fail(`give a rules document or --baseline, not both\n${USAGE}`)
	return options
}

async function readJson(path: string, what: string): Promise<unknown> {
	const file = Bun.file(path)
	if (!(await file.exists())) fail(`${what} not found: ${path}`)
	try {
		return JSON.parse(await file.text())
	} catch (error) {
		return fail(`${what} ${path} is not valid JSON: ${(error as Error).message}`)
	}
}

const isObject = (value: unknown): value is Record<string, unknown> =>
	typeof value === 'object' && value !== null && !Array.isArray(value)

async function readItems(path: string): Promise<Item[]> {
	const file = Bun.file(path)
	if (!(await file.exists()))
		fail(
			`dataset not found: ${path}\nThe dataset is not part of the repository: place it at ../shared/routing-dev.jsonl beside the repository, or pass --data path.jsonl.`,
		)
	const items: Item[] = []
	const problems: string[] = []
	const lines = (await file.text()).split('\n')
	lines.forEach((line, i) => {
		if (line.trim() === '') return
		let row: unknown
		try {
			row = JSON.parse(line)
		} catch (error) {
			problems.push(`line ${i + 1}: not JSON (${(error as Error).message})`)
			return
		}
		if (
			!isObject(row) ||
			!isObject(row.request) ||
			typeof row.expected_tier !== 'string' ||
			typeof row.source !== 'string'
		) {
			problems.push(`line ${i + 1}: needs an object "request" and strings "expected_tier" and "source"`)
			return
		}
		const id = typeof row.id === 'string' ? row.id : `line-${i + 1}`
		items.push({
			id,
			source: row.source,
			expected: row.expected_tier,
			request: row.request as ChatRequestLike,
		})
	})
	if (problems.length > 0) fail(`${path}:\n  ${problems.join('\n  ')}`)
	if (items.length === 0) fail(`${path} holds no items`)
	return items
}

/** Alternate items within each (source, expected tier) group, so both halves keep the mix. */
function takeHalf(items: Item[], half: 'a' | 'b'): Item[] {
	const seen = new Map<string, number>()
	return items.filter((item) => {
		const key = `${item.source}\u0000${item.expected}`
		const index = seen.get(key) ?? 0
		seen.set(key, index + 1)
		return index % 2 === (half === 'a' ? 0 : 1)
	})
}

const sortTiers = (tiers: Iterable<string>) =>
	[...new Set(tiers)].sort((a, b) => {
		const ia = TIER_ORDER.indexOf(a)
		const ib = TIER_ORDER.indexOf(b)
		return (ia === -1 ? TIER_ORDER.length : ia) - (ib === -1 ? TIER_ORDER.length : ib) || a.localeCompare(b)
	})

function firstModel(document: RulesDocument, catalog: Catalog, tier: string): CatalogModel {
	const id = document.tiers[tier]?.models[0]
	const model = id === undefined ? undefined : catalog.model(id)
	// validateRules has checked every model against the catalog.
	if (model === undefined) throw new Error(`tier "${tier}" has no catalog model`)
	return model
}

const itemCost = (model: CatalogModel, promptTokens: number) =>
	costUsd(model, {
		promptTokens,
		completionTokens: ASSUMED_COMPLETION_TOKENS,
		cachedTokens: 0,
		cacheWriteTokens: 0,
		cacheWrite1hTokens: 0,
		reasoningTokens: 0,
	})

interface Tally {
	items: number
	correct: number
}

function tally(outcomes: Outcome[], key: (outcome: Outcome) => string): Record<string, Tally> {
	const result: Record<string, Tally> = {}
	for (const outcome of outcomes) {
		const name = key(outcome)
		const entry = result[name] ?? { items: 0, correct: 0 }
		result[name] = entry
		entry.items++
		if (outcome.routed === outcome.expected) entry.correct++
	}
	return result
}

function evaluate(document: RulesDocument, catalog: Catalog, items: Item[]) {
	const rules = compileRules(document)
	const outcomes: Outcome[] = items.map((item) => {
		const { features, text } = extractFeatures(item.request)
		const decision = rules.classify(features, text)
		return {
			id: item.id,
			source: item.source,
			expected: item.expected,
			routed: decision.tier,
			rule: decision.rule,
			promptTokens: features.promptTokens,
		}
	})

	const tiers = sortTiers([...Object.keys(document.tiers), ...items.map((item) => item.expected)])
	const confusion: Record<string, Record<string, number>> = {}
	for (const expected of tiers) confusion[expected] = Object.fromEntries(tiers.map((tier) => [tier, 0]))
	for (const { expected, routed } of outcomes) {
		const row = confusion[expected] as Record<string, number>
		row[routed] = (row[routed] ?? 0) + 1
	}

	const complexItems = outcomes.filter((outcome) => outcome.expected === 'complex')
	const complexToSimple = complexItems.filter((outcome) => outcome.routed === 'simple').length

	const totalAt = (model: CatalogModel) =>
		outcomes.reduce((sum, outcome) => sum + itemCost(model, outcome.promptTokens), 0)
	const reference = referenceModel(document, catalog)
	if (!reference) throw new Error('the rules name no model that the catalog knows to price savings against')
	const routedUsd = outcomes.reduce(
		(sum, outcome) => sum + itemCost(firstModel(document, catalog, outcome.routed), outcome.promptTokens),
		0,
	)
	const referenceUsd = totalAt(reference)
	const correct = outcomes.filter((outcome) => outcome.routed === outcome.expected).length

	return {
		items: outcomes.length,
		correct,
		accuracy: correct / outcomes.length,
		complexToSimple: {
			count: complexToSimple,
			of: complexItems.length,
			share: complexItems.length === 0 ? 0 : complexToSimple / complexItems.length,
		},
		tiers,
		confusion,
		bySource: tally(outcomes, (outcome) => outcome.source),
		byRule: tally(outcomes, (outcome) => `${outcome.rule} → ${outcome.routed}`),
		cost: {
			assumedCompletionTokens: ASSUMED_COMPLETION_TOKENS,
			firstModels: Object.fromEntries(
				Object.keys(document.tiers).map((tier) => [tier, firstModel(document, catalog, tier).qualifiedId]),
			),
			reference: reference.qualifiedId,
			routedUsd,
			referenceUsd,
			ratio: referenceUsd === 0 ? 0 : routedUsd / referenceUsd,
		},
		outcomes,
	}
}

type Report = ReturnType<typeof evaluate>

const percent = (value: number) => `${(value * 100).toFixed(1)} %`
const share = ({ items, correct }: Tally) => `${percent(correct / items)}  (${correct}/${items})`

function table(header: string[], rows: string[][]): string {
	const widths = header.map((cell, i) => Math.max(cell.length, ...rows.map((row) => (row[i] ?? '').length)))
	const line = (cells: string[]) =>
		cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0))).join('  ')
	return [line(header), ...rows.map(line)].join('\n')
}

function printReport(report: Report, title: string) {
	const { cost } = report
	const models = Object.entries(cost.firstModels)
		.map(([tier, model]) => `${tier} ${model}`)
		.join(', ')
	console.log(title)
	console.log(`items                 ${report.items}`)
	console.log(`accuracy              ${percent(report.accuracy)}  (${report.correct}/${report.items})`)
	console.log(
		`complex → simple      ${percent(report.complexToSimple.share)}  (${report.complexToSimple.count}/${report.complexToSimple.of})`,
	)
	console.log(`cost vs reference     ${cost.ratio.toFixed(3)}  (${cost.reference})`)
	console.log(
		`\ncost model: per item, estimated prompt tokens + ${cost.assumedCompletionTokens} completion tokens, at the first model of its tier (${models}); the reference prices every item at ${cost.reference}. Routed $${cost.routedUsd.toFixed(4)}, reference $${cost.referenceUsd.toFixed(4)}.`,
	)
	console.log('\nconfusion (rows: expected tier, columns: routed tier)')
	console.log(
		table(
			['expected', ...report.tiers, 'total'],
			report.tiers.map((expected) => {
				const row = report.confusion[expected] ?? {}
				const counts = report.tiers.map((tier) => row[tier] ?? 0)
				return [expected, ...counts.map(String), String(counts.reduce((a, b) => a + b, 0))]
			}),
		),
	)
	console.log('\naccuracy by source')
	console.log(
		table(
			['source', 'accuracy'],
			Object.entries(report.bySource).map(([source, entry]) => [source, share(entry)]),
		),
	)
	console.log('\ndecided by (share of the items it decided whose expected tier it matched)')
	console.log(
		table(
			['rule → tier', 'items', 'matched'],
			Object.entries(report.byRule)
				.sort(([, a], [, b]) => b.items - a.items)
				.map(([rule, entry]) => [rule, String(entry.items), percent(entry.correct / entry.items)]),
		),
	)
}

const options = parseArgs(process.argv.slice(2))
/** The shipped catalog, exactly as the server loads it without CATALOG_PATH. */
const catalog = loadCatalog(loadConfig({}))
const rulesLabel = options.baseline
	? `length-only baseline (≤ ${LENGTH_SIMPLE_MAX} tokens → simple, ≥ ${LENGTH_COMPLEX_MIN} → complex, else medium)`
	: (options.rulesPath ?? DEFAULT_RULES)
const raw = options.baseline
	? LENGTH_BASELINE
	: options.rulesPath === null
		? defaultRules
		: await readJson(options.rulesPath, 'rules document')
const validation = validateRules(raw, catalog)
if (!validation.ok)
	fail(
		`${rulesLabel} is not a valid rules document:\n${validation.errors.map((e) => `  ${e.path || '(document)'}: ${e.message}`).join('\n')}`,
	)

const allItems = await readItems(options.dataPath)
const items = options.half === null ? allItems : takeHalf(allItems, options.half)
const report = evaluate(validation.document, catalog, items)
const dataLabel = `${options.dataPath}${options.half === null ? '' : ` (half ${options.half})`}`

if (options.json) console.log(JSON.stringify({ rules: rulesLabel, data: dataLabel, ...report }, null, '\t'))
else printReport(report, `rules: ${rulesLabel}\ndata:  ${dataLabel}\n`)

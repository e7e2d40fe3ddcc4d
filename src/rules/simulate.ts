import { desc, lt } from 'drizzle-orm'
import type { DataStore } from '../../db/client'
import type { TextDigester } from '../lib/text-digest'
import type { Catalog, CatalogModel } from '../providers/catalog'
import { costUsd } from '../providers/pricing'
import { checkCapabilities } from './capabilities'
import type { CompiledRules } from './compile'
import type { RequestFeatures } from './features'
import type { LoggedText } from './replay'

const DAY_MS = 24 * 60 * 60_000
/** How many incapable requests the answer lists (it counts them all). */
const MAX_LISTED = 50

export interface IncapableRequest {
	id: number
	createdAt: string
	tier: string
	reasons: string[]
}

export interface SimulationResult {
	days: number
	/** Logged `auto` requests in the window. */
	requests: number
	/** Those whose proposed decision could be computed. */
	evaluated: number
	/** Those whose decision needed a text predicate that what was logged could not answer. */
	notEvaluated: number
	/** Per rule and predicate, the requests it left undecided, most first: never hidden in a total. */
	notEvaluatedByRule: UndecidedByRule[]
	/** What the log kept of the requests' text: a digest (LOG_TEXT_DIGEST), readable excerpts (LOG_PROMPT_TEXT). */
	textKept: { digest: number; text: number; neither: number }
	/** Evaluated requests whose tier would change. */
	changed: number
	/** Costs cover the evaluated requests the proposed rules can serve; tier counts cover every evaluated one. */
	current: { costUsd: number; byTier: Record<string, number> }
	proposed: { costUsd: number; byTier: Record<string, number> }
	costDeltaUsd: number
	/** Evaluated requests the proposed rules would send to a tier with no model able to serve them. */
	incapable: number
	incapableRequests: IncapableRequest[]
	/**
	 * How often each rule decided the logged requests (the rules live when they came), with its share of
	 * their cost, most frequent first: every request, evaluated or not.
	 */
	byRule: RuleHits[]
}

export interface UndecidedByRule {
	rule: string
	/** The predicate that could not be answered, on one line. */
	needs: string
	requests: number
}

export interface RuleHits {
	rule: string
	requests: number
	costUsd: number
	/** Of the cost of all the period's `auto` requests, 0 to 1. */
	costShare: number
}

interface LoggedRow {
	id: number
	createdAt: Date
	tier: string | null
	rule: string | null
	costUsd: number
	promptTokens: number
	completionTokens: number
	cachedTokens: number
	cacheWriteTokens: number
	/** `RequestFeatures`, as the gateway logged them. */
	features: Record<string, unknown>
	promptText: string | null
	systemText: string | null
	textDigest: Uint8Array | null
}

const hasFeatures = <Row extends { features: Record<string, unknown> | null }>(
	row: Row,
): row is Row & { features: Record<string, unknown> } => row.features !== null

/** Rows reach the log when their request ends, so a long stream may land a little after a later request. */
const OUT_OF_ORDER_SLACK_MS = 60 * 60_000
/** Rows read per query while walking back through the log. */
const PAGE = 5000

/**
 * The window's `auto` requests, newest first along the primary key: rows are written in time order, so the
 * walk stops once it is well past the window's start instead of reading the whole log.
 */
async function loggedAutoRequests(store: DataStore, since: number): Promise<LoggedRow[]> {
	const { db, tables } = store
	const { requestLog } = tables
	const rows: LoggedRow[] = []
	let before: number | undefined
	for (;;) {
		const page = await db
			.select({
				id: requestLog.id,
				createdAt: requestLog.createdAt,
				requestedModel: requestLog.requestedModel,
				tier: requestLog.tier,
				rule: requestLog.rule,
				costUsd: requestLog.costUsd,
				promptTokens: requestLog.promptTokens,
				completionTokens: requestLog.completionTokens,
				cachedTokens: requestLog.cachedTokens,
				cacheWriteTokens: requestLog.cacheWriteTokens,
				features: requestLog.features,
				promptText: requestLog.promptText,
				systemText: requestLog.systemText,
				textDigest: requestLog.textDigest,
			})
			.from(requestLog)
			.where(before === undefined ? undefined : lt(requestLog.id, before))
			.orderBy(desc(requestLog.id))
			.limit(PAGE)
		for (const row of page) {
			if (row.createdAt.getTime() < since - OUT_OF_ORDER_SLACK_MS) return rows
			if (row.createdAt.getTime() >= since && row.requestedModel === 'auto' && hasFeatures(row))
				rows.push(row)
		}
		const last = page.at(-1)
		if (!last || page.length < PAGE) return rows
		before = last.id
	}
}

function ruleHits(rows: readonly LoggedRow[]): RuleHits[] {
	const hits = new Map<string, { requests: number; costUsd: number }>()
	let total = 0
	for (const row of rows) {
		const rule = row.rule ?? 'unknown'
		const tally = hits.get(rule) ?? { requests: 0, costUsd: 0 }
		tally.requests++
		tally.costUsd += row.costUsd
		total += row.costUsd
		hits.set(rule, tally)
	}
	return [...hits]
		.map(([rule, { requests, costUsd }]) => ({
			rule,
			requests,
			costUsd,
			costShare: total > 0 ? costUsd / total : 0,
		}))
		.sort((a, b) => b.requests - a.requests || a.rule.localeCompare(b.rule))
}

function loggedText(row: LoggedRow, digester: TextDigester | null): LoggedText {
	return {
		text:
			row.promptText !== null || row.systemText !== null
				? { lastUserMessage: row.promptText ?? '', system: row.systemText ?? '' }
				: null,
		digest: digester && row.textDigest ? digester.read(row.textDigest) : null,
	}
}

const count = (tally: Record<string, number>, key: string) => {
	tally[key] = (tally[key] ?? 0) + 1
}

function undecidedByRule(undecided: Map<string, UndecidedByRule>): UndecidedByRule[] {
	return [...undecided.values()].sort((a, b) => b.requests - a.requests || a.rule.localeCompare(b.rule))
}

/**
 * Replays the last `days` of logged `auto` requests through proposed rules, using the features and
 * tokens stored with each row, and its text digest or kept text for text predicates. The proposed cost of
 * a request is its logged tokens at the price of the first model in the proposed tier able to serve it.
 * `digester` reads the digests (null: digests are ignored).
 */
export async function simulateRules(
	store: DataStore,
	catalog: Catalog,
	proposed: CompiledRules,
	days: number,
	digester: TextDigester | null,
	now = Date.now(),
): Promise<SimulationResult> {
	const rows = await loggedAutoRequests(store, now - days * DAY_MS)
	const tierModels = new Map<string, CatalogModel[]>()
	for (const [name, tier] of Object.entries(proposed.document.tiers)) {
		tierModels.set(
			name,
			tier.models.flatMap((id) => catalog.model(id) ?? []),
		)
	}
	const result: SimulationResult = {
		days,
		requests: rows.length,
		evaluated: 0,
		notEvaluated: 0,
		notEvaluatedByRule: [],
		textKept: { digest: 0, text: 0, neither: 0 },
		changed: 0,
		current: { costUsd: 0, byTier: {} },
		proposed: { costUsd: 0, byTier: {} },
		costDeltaUsd: 0,
		incapable: 0,
		incapableRequests: [],
		byRule: ruleHits(rows),
	}
	const undecided = new Map<string, UndecidedByRule>()
	for (const row of rows) {
		const features = row.features as RequestFeatures
		const logged = loggedText(row, digester)
		if (logged.digest) result.textKept.digest++
		if (logged.text) result.textKept.text++
		if (!logged.digest && !logged.text) result.textKept.neither++
		const decision = proposed.replay(features, logged)
		if ('undetermined' in decision) {
			result.notEvaluated++
			const id = `${decision.rule}\u0000${decision.needs}`
			const tally = undecided.get(id) ?? { rule: decision.rule, needs: decision.needs, requests: 0 }
			tally.requests++
			undecided.set(id, tally)
			continue
		}
		result.evaluated++
		count(result.current.byTier, row.tier ?? 'unknown')
		count(result.proposed.byTier, decision.tier)
		if (decision.tier !== row.tier) result.changed++
		const candidates = tierModels.get(decision.tier) ?? []
		const reasons: string[] = []
		const serving = candidates.find((model) => {
			const reason = checkCapabilities(model, features)
			if (reason) reasons.push(`${model.qualifiedId}: ${reason}`)
			return reason === null
		})
		if (!serving) {
			result.incapable++
			if (result.incapableRequests.length < MAX_LISTED) {
				result.incapableRequests.push({
					id: row.id,
					createdAt: row.createdAt.toISOString(),
					tier: decision.tier,
					reasons,
				})
			}
			continue
		}
		// Requests the proposed rules cannot serve stay out of both totals, so the delta compares like with like.
		result.current.costUsd += row.costUsd
		result.proposed.costUsd += costUsd(serving, {
			promptTokens: row.promptTokens,
			completionTokens: row.completionTokens,
			cachedTokens: row.cachedTokens,
			cacheWriteTokens: row.cacheWriteTokens,
			cacheWrite1hTokens: 0,
			reasoningTokens: 0,
		})
	}
	result.notEvaluatedByRule = undecidedByRule(undecided)
	result.costDeltaUsd = result.proposed.costUsd - result.current.costUsd
	return result
}

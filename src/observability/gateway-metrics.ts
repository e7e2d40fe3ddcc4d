// The gateway's Prometheus metrics: what `GET /metrics` serves. Every label value comes from a bounded
// set (front doors, catalog models and providers, the rules' tiers, HTTP status codes, failure kinds):
// never a user, a key, a request id or text from a request.
import type { BudgetStatus } from '../budgets/ledger'
import { microsToUsd } from '../budgets/windows'
import type { Catalog, CatalogModel } from '../providers/catalog'
import type { TokenUsage } from '../providers/types'
import type { UpstreamError } from '../providers/upstream-error'
import {
	type Counter,
	type CounterNode,
	type Gauge,
	type Histogram,
	type ObservedSample,
	Registry,
} from './prometheus'

/**
 * The API a request came in through: `chat` is `POST /v1/chat/completions`. The front doors to come
 * (Anthropic Messages, OpenAI Responses, embeddings) add their own value, and every metric keeps its name.
 */
export type Door = 'chat' | 'messages' | 'responses' | 'embeddings'

/** In seconds: from a cache hit or a refusal (under 50 ms) to a long reasoning answer (minutes). */
export const DURATION_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60, 120, 300] as const
/** In seconds: a streamed answer's first content, usually under a few seconds. */
export const TTFT_BUCKETS = [0.05, 0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10, 20, 60, 300] as const

/** The label of a value that is not there: no model named, no tier (a named model), no HTTP status. */
export const NONE = 'none'
/** A requested model that is not in the catalog: its name comes from the caller, so it is never a label. */
export const UNKNOWN_MODEL = 'unknown'
/** A routed request that no model answered. */
export const AUTO = 'auto'

/** What the metrics read of a finished request; the gateway's `Exchange` is one. */
export interface FinishedRequest {
	readonly requestedModel: string | null
	readonly stream: boolean
	readonly route?: { readonly tier: string | null; readonly candidates: readonly CatalogModel[] }
}

/** How it ended; the gateway's `Outcome` is one. */
export interface RequestEnd {
	readonly status: number
	/** The model that answered. */
	readonly model?: CatalogModel
	readonly ttftMs?: number
}

/** The request log's health, read at each scrape (`RequestLog`). */
export interface LogHealth {
	/** Rows recorded and not yet written. */
	readonly pending: number
	/** Failed write attempts (each is retried). */
	readonly failures: number
	/** Rows given up on. The log retries every failed write, so it has none to count today. */
	readonly dropped?: number
}

export interface MetricsSources {
	catalog: Pick<Catalog, 'model'>
	requestLog: LogHealth
	/** Every budget's state now, read before each scrape; absent: no budget metrics. */
	budgets?: () => Promise<readonly BudgetStatus[]>
	/** The live rules' revision. */
	rulesRevision(): number | null
	/** @default performance.timeOrigin + performance.now() */
	now?: () => number
}

/** The series one model's requests and attempts add to, found once per model. */
interface ModelSeries {
	promptTokens: CounterNode
	completionTokens: CounterNode
	cachedTokens: CounterNode
	cacheWriteTokens: CounterNode
	cost: CounterNode
	attempts: CounterNode
}

const BOOLEAN = ['false', 'true'] as const

export class GatewayMetrics {
	readonly registry = new Registry()
	private readonly requests: Counter
	private readonly inFlight: Gauge
	private readonly duration: Histogram
	private readonly ttft: Histogram
	private readonly tokens: Counter
	private readonly cost: Counter
	private readonly attempts: Counter
	private readonly upstreamErrors: Counter
	private readonly fallbacks: Counter
	private readonly byModel = new Map<string, ModelSeries>()
	private readonly catalog: Pick<Catalog, 'model'>

	private budgetSamples: { remaining: ObservedSample[]; limit: ObservedSample[] } = {
		remaining: [],
		limit: [],
	}

	constructor(private readonly sources: MetricsSources) {
		this.catalog = sources.catalog
		const r = this.registry
		this.requests = r.counter(
			'switchyard_requests_total',
			'Gateway requests by front door, the model that answered (or the one named, auto, unknown, none), its provider, the tier and the HTTP status returned.',
			['door', 'model', 'provider', 'tier', 'code'],
		)
		this.inFlight = r.gauge('switchyard_requests_in_flight', 'Gateway requests being served now.', ['door'])
		this.duration = r.histogram(
			'switchyard_request_duration_seconds',
			'Time from a gateway request to the end of its answer (a stream included), answered or not.',
			['door', 'model', 'provider', 'stream'],
			DURATION_BUCKETS,
		)
		this.ttft = r.histogram(
			'switchyard_time_to_first_token_seconds',
			'Time from a streamed request to its first content from the model.',
			['door', 'model', 'provider'],
			TTFT_BUCKETS,
		)
		this.tokens = r.counter(
			'switchyard_tokens_total',
			'Tokens as upstreams reported them; type is prompt, completion, cached (of prompt, read from a cache) or cache_write (of prompt).',
			['model', 'provider', 'type'],
		)
		this.cost = r.counter(
			'switchyard_cost_usd_total',
			"Cost in USD at the catalog's prices, failed attempts that the upstream billed included.",
			['model', 'provider'],
		)
		this.attempts = r.counter(
			'switchyard_upstream_attempts_total',
			'Calls to upstream models, fallbacks included.',
			['model', 'provider'],
		)
		this.upstreamErrors = r.counter(
			'switchyard_upstream_errors_total',
			'Failed upstream calls by kind (http, timeout, connection, protocol, interrupted, aborted) and upstream HTTP status.',
			['model', 'provider', 'type', 'code'],
		)
		this.fallbacks = r.counter(
			'switchyard_fallbacks_total',
			'Calls to a model after an earlier candidate of the same request failed; model is the one tried next.',
			['door', 'tier', 'model', 'provider'],
		)
		const log = sources.requestLog
		r.observed(
			'switchyard_request_log_pending_rows',
			'Request log rows recorded and not yet written to the database.',
			'gauge',
			() => log.pending,
		)
		r.observed(
			'switchyard_request_log_write_failures_total',
			'Failed request log writes; each is retried, so no row is lost to one.',
			'counter',
			() => log.failures,
		)
		r.observed(
			'switchyard_request_log_dropped_rows_total',
			'Request log rows given up on and never written.',
			'counter',
			() => log.dropped ?? 0,
		)
		const budgetLabels = ['scope', 'scope_id', 'window']
		r.observedSet(
			'switchyard_budget_remaining_usd',
			'What a request can still reserve in each budget’s current window, in USD; scope_id is the key or user id (0: the organisation).',
			budgetLabels,
			() => this.budgetSamples.remaining,
		)
		r.observedSet(
			'switchyard_budget_limit_usd',
			'Each budget’s limit per window, in USD.',
			budgetLabels,
			() => this.budgetSamples.limit,
		)
		r.observed(
			'switchyard_rules_revision',
			'The live routing rules revision.',
			'gauge',
			sources.rulesRevision,
		)
		const now = sources.now ?? (() => performance.timeOrigin + performance.now())
		const startedAt = now()
		r.observed('process_start_time_seconds', 'Start time of the process, in Unix seconds.', 'gauge', () =>
			Math.round(startedAt / 1000),
		)
		r.observed('switchyard_uptime_seconds', 'Seconds since the process started.', 'gauge', () =>
			Math.floor((now() - startedAt) / 1000),
		)
		r.observed('process_resident_memory_bytes', 'Resident memory of the process.', 'gauge', () =>
			process.memoryUsage.rss(),
		)
	}

	/** A request reached the pipeline. */
	requestStarted(door: Door) {
		this.inFlight.root.at(door).inc()
	}

	/**
	 * A request that reached the pipeline ended (answered, refused or failed): once per request, when its log
	 * row is written.
	 */
	requestEnded(door: Door, request: FinishedRequest, end: RequestEnd, latencyMs: number) {
		this.inFlight.root.at(door).dec()
		const model = end.model ?? this.namedModel(request)
		const modelLabel = model?.qualifiedId ?? this.unansweredLabel(request)
		const provider = model?.provider ?? NONE
		this.requests.root
			.at(door)
			.at(modelLabel)
			.at(provider)
			.at(request.route?.tier ?? NONE)
			.at(end.status)
			.inc()
		this.duration.root
			.at(door)
			.at(modelLabel)
			.at(provider)
			.at(BOOLEAN[request.stream ? 1 : 0])
			.observe(latencyMs / 1000)
		if (end.ttftMs !== undefined) {
			this.ttft.root
				.at(door)
				.at(modelLabel)
				.at(provider)
				.observe(end.ttftMs / 1000)
		}
	}

	/** A request refused before the pipeline (a missing or bad gateway key). */
	requestRefused(door: Door, status: number) {
		this.requests.root.at(door).at(NONE).at(NONE).at(NONE).at(status).inc()
	}

	/** Usage an upstream reported for one call (an answer, or a failed attempt it billed), and its cost. */
	usage(model: CatalogModel, usage: TokenUsage, costUsd: number) {
		const series = this.modelSeries(model)
		series.promptTokens.inc(usage.promptTokens)
		series.completionTokens.inc(usage.completionTokens)
		series.cachedTokens.inc(usage.cachedTokens)
		series.cacheWriteTokens.inc(usage.cacheWriteTokens)
		series.cost.inc(costUsd)
	}

	/** A call to an upstream model begins; `fallback` when an earlier candidate of the request failed. */
	attemptStarted(door: Door, model: CatalogModel, tier: string | null, fallback: boolean) {
		this.modelSeries(model).attempts.inc()
		if (fallback) {
			this.fallbacks.root
				.at(door)
				.at(tier ?? NONE)
				.at(model.qualifiedId)
				.at(model.provider)
				.inc()
		}
	}

	/** A call to an upstream model failed, before or after it began answering. */
	attemptFailed(model: CatalogModel, error: UpstreamError) {
		const status = error.upstreamStatus
		this.upstreamErrors.root
			.at(model.qualifiedId)
			.at(model.provider)
			.at(error.kind)
			.at(status >= 100 && status <= 599 ? status : NONE)
			.inc()
	}

	/** The exposition text of every metric. */
	render(): string {
		return this.registry.render()
	}

	/** Reads what a scrape shows from the database (the budgets), just before `render`. */
	async refresh(): Promise<void> {
		if (!this.sources.budgets) return
		const statuses = await this.sources.budgets()
		const labels = ({ budget }: BudgetStatus) => [budget.scope, budget.scopeId, budget.window]
		this.budgetSamples = {
			remaining: statuses.map((status) => ({
				labels: labels(status),
				value: microsToUsd(status.remainingMicros),
			})),
			limit: statuses.map((status) => ({ labels: labels(status), value: microsToUsd(status.limitMicros) })),
		}
	}

	/** The catalog model a request named, whether or not it answered; null for `auto` and unknown names. */
	private namedModel(request: FinishedRequest): CatalogModel | null {
		const route = request.route
		if (route) return route.tier === null ? (route.candidates[0] ?? null) : null
		const named = request.requestedModel
		return named && named !== AUTO ? (this.catalog.model(named) ?? null) : null
	}

	private unansweredLabel(request: FinishedRequest): string {
		const named = request.requestedModel
		if (named === null) return NONE
		return named === AUTO ? AUTO : UNKNOWN_MODEL
	}

	private modelSeries(model: CatalogModel): ModelSeries {
		let series = this.byModel.get(model.qualifiedId)
		if (series === undefined) {
			const tokens = this.tokens.root.at(model.qualifiedId).at(model.provider)
			series = {
				promptTokens: tokens.at('prompt'),
				completionTokens: tokens.at('completion'),
				cachedTokens: tokens.at('cached'),
				cacheWriteTokens: tokens.at('cache_write'),
				cost: this.cost.root.at(model.qualifiedId).at(model.provider),
				attempts: this.attempts.root.at(model.qualifiedId).at(model.provider),
			}
			this.byModel.set(model.qualifiedId, series)
		}
		return series
	}
}

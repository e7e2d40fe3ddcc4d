// OpenTelemetry traces of gateway requests, sent over OTLP/HTTP (JSON) with a batch span processor.
// Loaded by `startTracing` only when an endpoint is configured. Spans follow the GenAI semantic
// conventions (https://opentelemetry.io/docs/specs/semconv/gen-ai/gen-ai-spans/): one SERVER span per
// request, one CLIENT span `chat <model>` per upstream attempt. They never carry prompt or completion
// text, a key, a user or a key id: only model names from the catalog, numbers and fixed words.
import {
	type Attributes,
	type Context,
	ROOT_CONTEXT,
	type Span,
	SpanKind,
	SpanStatusCode,
	type TextMapGetter,
	type Tracer,
	trace,
} from '@opentelemetry/api'
import { type ExportResult, ExportResultCode, W3CTraceContextPropagator } from '@opentelemetry/core'
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http'
import { defaultResource, resourceFromAttributes } from '@opentelemetry/resources'
import {
	AlwaysOffSampler,
	AlwaysOnSampler,
	BatchSpanProcessor,
	ParentBasedSampler,
	type ReadableSpan,
	type Sampler,
	type SpanExporter,
	TraceIdRatioBasedSampler,
	TracerProvider,
} from '@opentelemetry/sdk-trace'
import {
	ATTR_ERROR_TYPE,
	ATTR_HTTP_REQUEST_METHOD,
	ATTR_HTTP_RESPONSE_STATUS_CODE,
	ATTR_HTTP_ROUTE,
	ATTR_SERVER_ADDRESS,
	ATTR_SERVER_PORT,
	ATTR_SERVICE_NAME,
} from '@opentelemetry/semantic-conventions'
import type { TracingConfig } from '../config'
import type { Catalog, CatalogModel, CatalogProvider } from '../providers/catalog'
import type { TokenUsage } from '../providers/types'
import type { UpstreamError } from '../providers/upstream-error'
import type { Door } from './gateway-metrics'
import type {
	AttemptSettings,
	AttemptSpan,
	GatewayTracer,
	RequestSpan,
	TracedEnd,
	TracedRequest,
} from './tracing'

// The GenAI attributes are still "development" in the conventions; the package advises copying them
// rather than importing its `incubating` entry point, whose names may change in a minor version.
const GEN_AI = {
	operation: 'gen_ai.operation.name',
	provider: 'gen_ai.provider.name',
	/** The name before 1.37 of the conventions; still what many backends read. */
	system: 'gen_ai.system',
	requestModel: 'gen_ai.request.model',
	responseModel: 'gen_ai.response.model',
	inputTokens: 'gen_ai.usage.input_tokens',
	outputTokens: 'gen_ai.usage.output_tokens',
	cacheReadTokens: 'gen_ai.usage.cache_read.input_tokens',
	cacheCreationTokens: 'gen_ai.usage.cache_creation.input_tokens',
	maxTokens: 'gen_ai.request.max_tokens',
	temperature: 'gen_ai.request.temperature',
	topP: 'gen_ai.request.top_p',
	seed: 'gen_ai.request.seed',
	choiceCount: 'gen_ai.request.choice.count',
} as const

/** Catalog providers by their `gen_ai.provider.name` well-known value, where it differs from our id. */
const PROVIDER_NAMES: Record<string, string> = { mistral: 'mistral_ai' }

const DOORS: Record<Door, { route: string; operation: string }> = {
	chat: { route: '/v1/chat/completions', operation: 'chat' },
	messages: { route: '/v1/messages', operation: 'chat' },
	responses: { route: '/v1/responses', operation: 'chat' },
	embeddings: { route: '/v1/embeddings', operation: 'embeddings' },
}

const headerGetter: TextMapGetter<Headers> = {
	get: (headers, key) => headers.get(key) ?? undefined,
	keys: (headers) => [...headers.keys()],
}

/** @default 5 s between exports, as the SDK's; a scrape of traces needs no more. */
const EXPORT_DELAY_MS = 5000
/** Spans kept while the collector is slow or down; past it new spans are dropped, never the server. */
const MAX_QUEUE = 4096
/**
 * The most a flush may take (at shutdown, within docker's 30 s after the drain): a collector that is down
 * must not hold the stop. An export itself takes at most OTEL_EXPORTER_OTLP_TIMEOUT, retries included.
 */
const FLUSH_TIMEOUT_MS = 5000

/**
 * The SDK's OTLP exporter, saying on the console when exports start failing and when they work again: the
 * SDK itself reports nothing unless a diagnostic logger is installed. The message names the collector's
 * URL and the SDK's reason, never the headers (they may hold a token).
 */
class ReportingExporter implements SpanExporter {
	private failing = false

	constructor(
		private readonly inner: SpanExporter,
		private readonly url: string,
	) {}

	export(spans: ReadableSpan[], done: (result: ExportResult) => void) {
		this.inner.export(spans, (result) => {
			if (result.code === ExportResultCode.SUCCESS) {
				if (this.failing) console.log(`traces: export to ${this.url} works again`)
				this.failing = false
			} else if (!this.failing) {
				this.failing = true
				const reason = result.error?.message ?? 'unknown error'
				console.warn(`traces: export to ${this.url} failed (${reason}); spans are dropped until it works`)
			}
			done(result)
		})
	}

	shutdown() {
		return this.inner.shutdown()
	}

	forceFlush() {
		return this.inner.forceFlush?.() ?? Promise.resolve()
	}
}

/** `work`, settled within FLUSH_TIMEOUT_MS whatever happens: shutdown and tests wait on it. */
function settle(work: Promise<void>): Promise<void> {
	let timer: ReturnType<typeof setTimeout> | undefined
	const timeout = new Promise<void>((resolve) => {
		timer = setTimeout(resolve, FLUSH_TIMEOUT_MS)
	})
	return Promise.race([work.catch(() => undefined), timeout]).finally(() => clearTimeout(timer))
}

/** OTEL_TRACES_SAMPLER's samplers, as the SDKs build them. */
function samplerOf({ root, parentBased, ratio }: TracingConfig['sampler']): Sampler {
	const sampler =
		root === 'always_on'
			? new AlwaysOnSampler()
			: root === 'always_off'
				? new AlwaysOffSampler()
				: new TraceIdRatioBasedSampler(ratio)
	return parentBased ? new ParentBasedSampler({ root: sampler }) : sampler
}

export function createOtelTracer(config: TracingConfig, catalog: Pick<Catalog, 'model'>): GatewayTracer {
	const exporter = new ReportingExporter(
		new OTLPTraceExporter({
			url: config.url,
			headers: { ...config.headers },
			timeoutMillis: config.timeoutMs,
		}),
		config.url,
	)
	const provider = new TracerProvider({
		sampler: samplerOf(config.sampler),
		resource: defaultResource().merge(
			resourceFromAttributes({ ...config.resourceAttributes, [ATTR_SERVICE_NAME]: config.serviceName }),
		),
		spanProcessors: [
			new BatchSpanProcessor({
				exporter,
				scheduledDelayMillis: EXPORT_DELAY_MS,
				maxQueueSize: MAX_QUEUE,
				exportTimeoutMillis: config.timeoutMs,
			}),
		],
	})
	const tracer = provider.getTracer('switchyard')
	const propagator = new W3CTraceContextPropagator()

	return {
		startRequest(door, request, startedAt) {
			try {
				return startRequestSpan(door, request, startedAt)
			} catch (error) {
				lost(error)
				return NO_REQUEST_SPAN
			}
		},
		flush: () => settle(provider.forceFlush()),
		shutdown: () => settle(provider.shutdown()),
	}

	function startRequestSpan(door: Door, request: Request, startedAt: number): RequestSpan {
		const { route, operation } = DOORS[door]
		const parent = propagator.extract(ROOT_CONTEXT, request.headers, headerGetter)
		const span = tracer.startSpan(
			`POST ${route}`,
			{
				kind: SpanKind.SERVER,
				startTime: startedAt,
				attributes: {
					[ATTR_HTTP_REQUEST_METHOD]: 'POST',
					[ATTR_HTTP_ROUTE]: route,
					[GEN_AI.operation]: operation,
				},
			},
			parent,
		)
		return new OtelRequestSpan(tracer, span, trace.setSpan(parent, span), operation, catalog)
	}
}

let lostBefore = false

/**
 * Tracing must never fail a request: whatever the SDK throws costs the span, is said once on the console,
 * and the request goes on.
 */
function lost(error: unknown) {
	if (lostBefore) return
	lostBefore = true
	console.warn(`traces: a span could not be recorded and is lost (said once): ${error}`)
}

const NO_ATTEMPT_SPAN: AttemptSpan = { succeeded() {}, failed() {} }
const NO_REQUEST_SPAN: RequestSpan = { startAttempt: () => NO_ATTEMPT_SPAN, end() {} }

class OtelRequestSpan implements RequestSpan {
	constructor(
		private readonly tracer: Tracer,
		private readonly span: Span,
		private readonly context: Context,
		private readonly operation: string,
		private readonly catalog: Pick<Catalog, 'model'>,
	) {}

	startAttempt(
		model: CatalogModel,
		provider: CatalogProvider,
		settings: AttemptSettings,
		startedAt: number,
	): AttemptSpan {
		try {
			return this.attemptSpan(model, provider, settings, startedAt)
		} catch (error) {
			lost(error)
			return NO_ATTEMPT_SPAN
		}
	}

	end(request: TracedRequest, end: TracedEnd, usage: TokenUsage | null, costUsd: number) {
		try {
			this.endSpan(request, end, usage, costUsd)
		} catch (error) {
			lost(error)
		}
	}

	private attemptSpan(
		model: CatalogModel,
		provider: CatalogProvider,
		settings: AttemptSettings,
		startedAt: number,
	): AttemptSpan {
		// A request that is not sampled costs its attempts nothing more.
		if (!this.span.isRecording()) return NO_ATTEMPT_SPAN
		const attributes: Attributes = {
			[GEN_AI.operation]: this.operation,
			[GEN_AI.provider]: providerName(model.provider),
			[GEN_AI.system]: providerName(model.provider),
			[GEN_AI.requestModel]: model.id,
			'switchyard.model': model.qualifiedId,
			...settingAttributes(settings),
			...serverAttributes(provider.baseUrl),
		}
		const span = this.tracer.startSpan(
			`${this.operation} ${model.id}`,
			{ kind: SpanKind.CLIENT, startTime: startedAt, attributes },
			this.context,
		)
		return new OtelAttemptSpan(span)
	}

	private endSpan(request: TracedRequest, end: TracedEnd, usage: TokenUsage | null, costUsd: number) {
		const span = this.span
		if (!span.isRecording()) return span.end()
		const route = request.route
		const attributes: Attributes = {
			[ATTR_HTTP_RESPONSE_STATUS_CODE]: end.status,
			[GEN_AI.requestModel]: requestedModel(this.catalog, request.requestedModel),
			'switchyard.request_id': request.requestId,
			'switchyard.stream': request.stream,
			'switchyard.attempts': request.attempts.length,
			'switchyard.cost_usd': costUsd,
			...usageAttributes(usage),
		}
		if (route) {
			attributes['switchyard.rule'] = route.rule
			if (route.tier !== null) attributes['switchyard.tier'] = route.tier
			if (route.rulesRevision !== null) attributes['switchyard.rules_revision'] = route.rulesRevision
		}
		if (end.model) {
			attributes['switchyard.model'] = end.model.qualifiedId
			attributes[GEN_AI.provider] = providerName(end.model.provider)
		}
		if (end.upstreamModel) attributes[GEN_AI.responseModel] = end.upstreamModel
		if (end.ttftMs !== undefined) attributes['switchyard.ttft_ms'] = end.ttftMs
		if (end.error) attributes[ATTR_ERROR_TYPE] = end.error.code ?? end.error.type
		span.setAttributes(attributes)
		// A server span is in error for a 5xx only: a 4xx is the caller's mistake (HTTP conventions).
		if (end.status >= 500) span.setStatus({ code: SpanStatusCode.ERROR, message: end.error?.type })
		span.end()
	}
}

class OtelAttemptSpan implements AttemptSpan {
	constructor(private readonly span: Span) {}

	succeeded(upstreamModel: string | undefined, usage: TokenUsage | null) {
		try {
			this.endOk(upstreamModel, usage)
		} catch (error) {
			lost(error)
		}
	}

	failed(error: UpstreamError, billed: TokenUsage | null) {
		try {
			this.endFailed(error, billed)
		} catch (thrown) {
			lost(thrown)
		}
	}

	private endOk(upstreamModel: string | undefined, usage: TokenUsage | null) {
		const span = this.span
		if (!span.isRecording()) return
		span.setAttributes({
			[ATTR_HTTP_RESPONSE_STATUS_CODE]: 200,
			...(upstreamModel && { [GEN_AI.responseModel]: upstreamModel }),
			...usageAttributes(usage),
		})
		span.end()
	}

	private endFailed(error: UpstreamError, billed: TokenUsage | null) {
		const span = this.span
		if (!span.isRecording()) return
		// error.type: the upstream's HTTP status when it answered with one, else what went wrong (timeout, …).
		const type = error.kind === 'http' ? String(error.upstreamStatus) : error.kind
		span.setAttributes({
			[ATTR_ERROR_TYPE]: type,
			...(error.upstreamStatus > 0 && { [ATTR_HTTP_RESPONSE_STATUS_CODE]: error.upstreamStatus }),
			...usageAttributes(billed),
		})
		span.setStatus({ code: SpanStatusCode.ERROR, message: type })
		span.end()
	}
}

const providerName = (id: string) => PROVIDER_NAMES[id] ?? id

/** The model a request named, as a catalog id, `auto`, or `unknown`: never the caller's own text. */
function requestedModel(catalog: Pick<Catalog, 'model'>, named: string | null): string {
	if (named === null) return 'none'
	if (named === 'auto') return 'auto'
	return catalog.model(named)?.qualifiedId ?? 'unknown'
}

function usageAttributes(usage: TokenUsage | null): Attributes {
	if (!usage) return {}
	return {
		[GEN_AI.inputTokens]: usage.promptTokens,
		[GEN_AI.outputTokens]: usage.completionTokens,
		[GEN_AI.cacheReadTokens]: usage.cachedTokens,
		[GEN_AI.cacheCreationTokens]: usage.cacheWriteTokens,
	}
}

function settingAttributes(settings: AttemptSettings): Attributes {
	const attributes: Attributes = {}
	const maxTokens = settings.max_completion_tokens ?? settings.max_tokens
	if (typeof maxTokens === 'number') attributes[GEN_AI.maxTokens] = maxTokens
	if (typeof settings.temperature === 'number') attributes[GEN_AI.temperature] = settings.temperature
	if (typeof settings.top_p === 'number') attributes[GEN_AI.topP] = settings.top_p
	if (typeof settings.seed === 'number') attributes[GEN_AI.seed] = settings.seed
	if (typeof settings.n === 'number' && settings.n !== 1) attributes[GEN_AI.choiceCount] = settings.n
	return attributes
}

const servers = new Map<string, Attributes>()

/** server.address and server.port of a provider's base URL, parsed once per URL. */
function serverAttributes(baseUrl: string): Attributes {
	let attributes = servers.get(baseUrl)
	if (!attributes) {
		const url = URL.canParse(baseUrl) ? new URL(baseUrl) : null
		const port = url?.port ? Number(url.port) : url?.protocol === 'https:' ? 443 : 80
		attributes = url ? { [ATTR_SERVER_ADDRESS]: url.hostname, [ATTR_SERVER_PORT]: port } : {}
		servers.set(baseUrl, attributes)
	}
	return attributes
}

// What the gateway asks of tracing, without the OpenTelemetry SDK: the SDK is in `otel.ts`, loaded only
// when an OTLP endpoint is configured, so that a server without one never loads or runs any of it.
import type { TracingConfig } from '../config'
import type { Catalog, CatalogModel, CatalogProvider } from '../providers/catalog'
import type { TokenUsage } from '../providers/types'
import type { UpstreamError } from '../providers/upstream-error'
import type { Door } from './gateway-metrics'

/** Sends spans of gateway requests (one per request, one per upstream attempt) to an OTLP collector. */
export interface GatewayTracer {
	/** Starts the server span of one request: a child of the caller's W3C `traceparent`, if it sent one. */
	startRequest(door: Door, request: Request, startedAt: number): RequestSpan
	/** Exports every ended span now; never rejects (a collector that is down only costs the spans). */
	flush(): Promise<void>
	/** Exports what is left, then stops; never rejects. */
	shutdown(): Promise<void>
}

/** What a request span reads at its end; the gateway's `Exchange` is one. */
export interface TracedRequest {
	readonly requestId: string
	readonly requestedModel: string | null
	readonly stream: boolean
	readonly attempts: readonly unknown[]
	readonly route?: {
		readonly tier: string | null
		readonly rule: string
		readonly rulesRevision: number | null
	}
}

/** How a request ended; the gateway's `Outcome` is one. */
export interface TracedEnd {
	readonly status: number
	readonly error?: { readonly type: string; readonly code: string | null }
	readonly model?: CatalogModel
	readonly upstreamModel?: string
	readonly ttftMs?: number
}

/** The request settings a client span records (numbers only: never any text of the request). */
export interface AttemptSettings {
	readonly max_tokens?: number | null
	readonly max_completion_tokens?: number | null
	readonly temperature?: number | null
	readonly top_p?: number | null
	readonly seed?: number | null
	readonly n?: number | null
}

export interface RequestSpan {
	/** Starts the client span of one call to an upstream model. */
	startAttempt(
		model: CatalogModel,
		provider: CatalogProvider,
		settings: AttemptSettings,
		startedAt: number,
	): AttemptSpan
	/** Ends the request's span with everything known of it: usage of every attempt, cost at catalog prices. */
	end(request: TracedRequest, end: TracedEnd, usage: TokenUsage | null, costUsd: number): void
}

export interface AttemptSpan {
	succeeded(upstreamModel: string | undefined, usage: TokenUsage | null): void
	/** `billed`: what the upstream reported using before it failed. */
	failed(error: UpstreamError, billed: TokenUsage | null): void
}

/** The OpenTelemetry tracer, or null when tracing is not configured (nothing is loaded then). */
export async function startTracing(
	config: TracingConfig | undefined,
	catalog: Pick<Catalog, 'model'>,
): Promise<GatewayTracer | null> {
	if (!config) return null
	// A module of its own, and in the bundle a file of its own (scripts/build.ts): loaded only here.
	const otel: typeof import('./otel') = await import(OTEL_MODULE)
	return otel.createOtelTracer(config, catalog)
}

/** From source, the SDK module is this file's sibling; the bundle puts its `otel.js` next to `index.js`. */
const OTEL_MODULE = new URL(import.meta.url.endsWith('.ts') ? './otel.ts' : './otel.js', import.meta.url).href

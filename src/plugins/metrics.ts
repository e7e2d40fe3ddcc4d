import { Elysia } from 'elysia'
import type { Config } from '../config'
import { loggable } from '../lib/redact'
import type { GatewayMetrics } from '../observability/gateway-metrics'
import { metricsGuard } from '../observability/metrics-access'
import { EXPOSITION_CONTENT_TYPE } from '../observability/prometheus'

export interface MetricsDeps {
	config: Pick<Config, 'metricsToken'>
	metrics: Pick<GatewayMetrics, 'render' | 'refresh'>
}

interface ServerLike {
	requestIP(request: Request): { address: string } | null
}

const TEXT = { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' }

/**
 * `GET /metrics` in Prometheus' text format. Its refusals are plain text, as a scraper or `curl` reads
 * them, whatever the client accepts.
 */
export const metricsPlugin = (deps: MetricsDeps) => {
	const access = metricsGuard(deps.config.metricsToken)
	return new Elysia({ name: 'metrics' }).get(
		'/metrics',
		async function metrics({ request, server }: { request: Request; server: ServerLike | null }) {
			const verdict = access(request, server?.requestIP(request)?.address)
			if (verdict === 'unauthorized') {
				return new Response(
					'Unauthorized: send the metrics token as Authorization: Bearer <METRICS_TOKEN>\n',
					{
						status: 401,
						headers: { ...TEXT, 'www-authenticate': 'Bearer realm="metrics"' },
					},
				)
			}
			if (verdict === 'local-only') {
				return new Response(
					'Forbidden: without METRICS_TOKEN, /metrics answers only clients on this machine (loopback, not through a proxy)\n',
					{ status: 403, headers: TEXT },
				)
			}
			// A database that does not answer leaves the budgets as last read; the rest of the scrape stands.
			await deps.metrics
				.refresh()
				.catch((error) => console.error(`metrics: could not read the budgets: ${loggable(error)}`))
			return new Response(deps.metrics.render(), {
				headers: { 'content-type': EXPOSITION_CONTENT_TYPE, 'cache-control': 'no-store' },
			})
		},
	)
}

// A tiny OpenTelemetry collector for tests: OTLP/HTTP with JSON bodies (what
// @opentelemetry/exporter-trace-otlp-http sends) on 127.0.0.1, keeping every span it receives.

export type AttributeValue = string | number | boolean | AttributeValue[] | null

export interface ReceivedSpan {
	traceId: string
	spanId: string
	parentSpanId: string
	name: string
	/** OTLP's SpanKind: 2 SERVER, 3 CLIENT. */
	kind: number
	startTimeUnixNano: string
	endTimeUnixNano: string
	attributes: Record<string, AttributeValue>
	/** 0 unset, 1 ok, 2 error. */
	status: { code: number; message?: string }
	resource: Record<string, AttributeValue>
}

export interface OtlpReceiver extends AsyncDisposable {
	/** http://127.0.0.1:<port>: the value for OTEL_EXPORTER_OTLP_ENDPOINT. */
	url: string
	spans: ReceivedSpan[]
	/** Every request body as it came, to search for what must never be sent. */
	bodies: string[]
	/** The headers of every export request, lower-cased names. */
	headers: Record<string, string>[]
	stop(): Promise<void>
}

interface OtlpValue {
	stringValue?: string
	intValue?: string | number
	doubleValue?: number
	boolValue?: boolean
	arrayValue?: { values?: OtlpValue[] }
}

interface OtlpKeyValue {
	key: string
	value: OtlpValue
}

function attributeValue(value: OtlpValue): AttributeValue {
	if (value.stringValue !== undefined) return value.stringValue
	if (value.intValue !== undefined) return Number(value.intValue)
	if (value.doubleValue !== undefined) return value.doubleValue
	if (value.boolValue !== undefined) return value.boolValue
	if (value.arrayValue) return (value.arrayValue.values ?? []).map(attributeValue)
	return null
}

const attributesOf = (list: OtlpKeyValue[] | undefined) =>
	Object.fromEntries((list ?? []).map(({ key, value }) => [key, attributeValue(value)]))

interface ExportRequest {
	resourceSpans?: {
		resource?: { attributes?: OtlpKeyValue[] }
		scopeSpans?: {
			spans?: (Omit<ReceivedSpan, 'attributes' | 'resource'> & { attributes?: OtlpKeyValue[] })[]
		}[]
	}[]
}

export function startOtlpReceiver(): OtlpReceiver {
	const spans: ReceivedSpan[] = []
	const bodies: string[] = []
	const headers: Record<string, string>[] = []
	const server = Bun.serve({
		hostname: '127.0.0.1',
		port: 0,
		async fetch(request) {
			const path = new URL(request.url).pathname
			if (request.method !== 'POST' || path !== '/v1/traces')
				return new Response('not found', { status: 404 })
			if (!request.headers.get('content-type')?.includes('application/json')) {
				return new Response('this receiver takes OTLP/JSON only', { status: 415 })
			}
			const text = await request.text()
			bodies.push(text)
			headers.push(Object.fromEntries(request.headers))
			const body = JSON.parse(text) as ExportRequest
			for (const resourceSpans of body.resourceSpans ?? []) {
				const resource = attributesOf(resourceSpans.resource?.attributes)
				for (const scope of resourceSpans.scopeSpans ?? []) {
					for (const span of scope.spans ?? []) {
						spans.push({ ...span, attributes: attributesOf(span.attributes), resource })
					}
				}
			}
			return Response.json({})
		},
	})
	const stop = () => server.stop(true)
	return {
		url: `http://127.0.0.1:${server.port}`,
		spans,
		bodies,
		headers,
		stop,
		[Symbol.asyncDispose]: stop,
	}
}

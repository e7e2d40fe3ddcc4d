import { Elysia, ValidationError } from 'elysia'
import { type ErrorBody, GatewayError, toOpenAIError, toParam } from '../errors'
import { loggable } from '../lib/redact'
import { newRequestId } from '../lib/request-id'
import { ErrorBanner } from '../views/components/error-banner'
import { ErrorPage } from '../views/pages/error'
import { isHtmx, wantsHtml } from './request-info'

const JSON_HEADERS = { 'content-type': 'application/json' }

/**
 * Elysia validates coerced query values one property at a time, and such an error has no path: the
 * schema then names its parameter itself (`t.Integer({ param: 'days' })`).
 */
function declaredParam(error: ValidationError): string | null {
	const declared = (error.validator as { param?: unknown } | undefined)?.param
	return typeof declared === 'string' ? declared : null
}

function fromValidation(error: ValidationError): GatewayError {
	const first = error.all[0]
	const param = toParam(first?.path) ?? declaredParam(error)
	const reason = first?.summary ?? first?.message ?? 'is invalid'
	const custom = typeof error.customError === 'string' ? error.customError : undefined
	const where = error.type === 'body' ? (param ?? 'body') : `${error.type}${param ? ` ${param}` : ''}`
	return new GatewayError(400, 'invalid_request_error', custom ?? `Invalid ${where}: ${reason}`, { param })
}

function toGatewayError(code: string | number, error: unknown, requestId: string): GatewayError {
	if (error instanceof GatewayError) return error
	if (error instanceof ValidationError) return fromValidation(error)
	if (code === 'PARSE') {
		// Our own body budgets (plugins/body-limits.ts) refuse from inside the parser: their 400 or 413 stands.
		const cause = error instanceof Error ? error.cause : undefined
		if (cause instanceof GatewayError) return cause
		return new GatewayError(400, 'invalid_request_error', 'The request body could not be parsed')
	}
	if (code === 'NOT_FOUND') return new GatewayError(404, 'not_found_error', 'Not found')
	console.error(`[${requestId}] unhandled error: ${loggable(error)}`)
	return new GatewayError(500, 'api_error', `Internal error (request ${requestId})`)
}

function errorResponse(request: Request, error: GatewayError): Response {
	const headers = new Headers(error.headers)
	if (!wantsHtml(request)) {
		for (const [name, value] of Object.entries(JSON_HEADERS)) headers.set(name, value)
		const body: ErrorBody | unknown = error.body ?? toOpenAIError(error)
		return new Response(JSON.stringify(body), { status: error.status, headers })
	}
	if (error.status === 401) {
		if (isHtmx(request)) {
			headers.set('hx-redirect', '/login')
			return new Response(null, { status: 204, headers })
		}
		headers.set('location', '/login')
		return new Response(null, { status: 303, headers })
	}
	headers.set('content-type', 'text/html; charset=utf-8')
	const html = isHtmx(request)
		? ErrorBanner({ message: error.message })
		: ErrorPage({ status: error.status, message: error.message })
	return new Response(`${html}`, { status: error.status, headers })
}

/** The single place that turns thrown errors into responses: OpenAI-shaped JSON, or HTML for the dashboard. */
export const errorsPlugin = () =>
	new Elysia({ name: 'errors' })
		.error({ GatewayError })
		.onError({ as: 'global' }, function renderError({ code, error, request }) {
			const requestId = newRequestId()
			return errorResponse(request, toGatewayError(code, error, requestId))
		})

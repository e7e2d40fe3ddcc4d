// Errors in Anthropic's shape, for the /v1/messages door: https://docs.claude.com/en/api/errors
import type { GatewayError } from '../../../errors'

/**
 * Anthropic's error type for each HTTP status it documents. 503 is not on Anthropic's page: a gateway's
 * "unavailable" is the client's overloaded (retry later), not an internal error. 504 is the SDK's
 * `timeout_error` (GatewayTimeoutErrorObject).
 */
const ERROR_TYPES: Record<number, string> = {
	400: 'invalid_request_error',
	401: 'authentication_error',
	402: 'billing_error',
	403: 'permission_error',
	404: 'not_found_error',
	413: 'request_too_large',
	429: 'rate_limit_error',
	500: 'api_error',
	502: 'api_error',
	503: 'overloaded_error',
	504: 'timeout_error',
	529: 'overloaded_error',
}

/** Other 4xx are `invalid_request_error`, as Anthropic's page says it uses that type for them; other 5xx `api_error`. */
export function anthropicErrorType(status: number): string {
	return ERROR_TYPES[status] ?? (status >= 500 ? 'api_error' : 'invalid_request_error')
}

/**
 * The error body Anthropic sends (and the data of its stream's `error` event). The gateway's error code, such
 * as `budget_exceeded`, goes where Anthropic puts its own: `error.details.error_code`.
 */
export function anthropicError(error: GatewayError): {
	type: 'error'
	error: { type: string; message: string; details?: { error_code: string } }
} {
	const type = anthropicErrorType(error.status)
	const details = error.code ? { details: { error_code: error.code } } : {}
	return { type: 'error', error: { type, message: error.message, ...details } }
}

export type ErrorType =
	| 'invalid_request_error'
	| 'authentication_error'
	| 'permission_error'
	| 'not_found_error'
	| 'rate_limit_error'
	| 'upstream_error'
	| 'api_error'
	| 'config_error'

export interface ErrorBody {
	error: { message: string; type: string; param: string | null; code: string | null }
}

interface GatewayErrorOptions {
	param?: string | null
	code?: string | null
	/** Extra response headers, such as `Retry-After` on a 429. */
	headers?: Record<string, string>
	/** A JSON body other than the usual error shape, where the API promises one. */
	body?: unknown
}

/** The only error type services throw; `src/plugins/errors.ts` turns it into a response. */
export class GatewayError extends Error {
	readonly status: number
	readonly type: ErrorType
	readonly param: string | null
	readonly code: string | null
	readonly headers: Record<string, string>
	readonly body: unknown

	constructor(status: number, type: ErrorType, message: string, options: GatewayErrorOptions = {}) {
		super(message)
		this.name = 'GatewayError'
		this.status = status
		this.type = type
		this.param = options.param ?? null
		this.code = options.code ?? null
		this.headers = options.headers ?? {}
		this.body = options.body
	}
}

export function toOpenAIError(error: GatewayError): ErrorBody {
	return { error: { message: error.message, type: error.type, param: error.param, code: error.code } }
}

export const badRequest = (message: string, param: string | null = null, code: string | null = null) =>
	new GatewayError(400, 'invalid_request_error', message, { param, code })

export const unauthorized = (message = 'Not signed in', code: string | null = null) =>
	new GatewayError(401, 'authentication_error', message, { code })

export const forbidden = (message = 'You do not have access to this') =>
	new GatewayError(403, 'permission_error', message)

export const notFound = (message = 'Not found', code: string | null = null) =>
	new GatewayError(404, 'not_found_error', message, { code })

/** Turns a TypeBox path (`/messages/0/role`) into the dotted form OpenAI reports (`messages[0].role`). */
export function toParam(path: string | undefined): string | null {
	if (!path) return null
	const parts = path.split('/').filter(Boolean)
	if (parts.length === 0) return null
	return parts.reduce(
		(acc, part) => (/^\d+$/.test(part) ? `${acc}[${part}]` : acc ? `${acc}.${part}` : part),
		'',
	)
}

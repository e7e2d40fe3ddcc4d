import { type ErrorType, GatewayError } from '../errors'

export type UpstreamFailureKind = 'http' | 'timeout' | 'connection' | 'aborted' | 'protocol'

const MAX_MESSAGE = 200
// 401/403 mean a bad provider key: the next candidate may have a good one. Never the caller's own 401.
const RETRYABLE_STATUSES = new Set([401, 403, 408, 409, 429])

export const isRetryableStatus = (status: number) => status >= 500 || RETRYABLE_STATUSES.has(status)

const shorten = (text: string) => (text.length > MAX_MESSAGE ? `${text.slice(0, MAX_MESSAGE)}…` : text)

/**
 * A failed upstream attempt. `retryable` failures move the executor to the next candidate; the others
 * (the caller's own 4xx) are returned to the caller as they are. Messages are short and never carry
 * request headers, keys or raw bodies.
 */
export class UpstreamError extends GatewayError {
	readonly upstreamStatus: number
	readonly retryable: boolean
	readonly kind: UpstreamFailureKind

	constructor(
		kind: UpstreamFailureKind,
		upstreamStatus: number,
		message: string,
		caller: { type?: ErrorType; param?: string | null; code?: string | null } = {},
	) {
		const retryable = kind !== 'aborted' && (kind !== 'http' || isRetryableStatus(upstreamStatus))
		const status = kind === 'http' && !retryable ? upstreamStatus : 502
		super(
			status,
			caller.type ?? (retryable ? 'upstream_error' : 'invalid_request_error'),
			shorten(message),
			caller,
		)
		this.name = 'UpstreamError'
		this.upstreamStatus = upstreamStatus
		this.retryable = retryable
		this.kind = kind
	}
}

/** Any failure met while talking to an upstream, as an `UpstreamError`. */
export function toUpstreamError(error: unknown): UpstreamError {
	if (error instanceof UpstreamError) return error
	if (error instanceof GatewayError) return new UpstreamError('protocol', 0, error.message)
	return new UpstreamError('connection', 0, error instanceof Error ? error.message : String(error))
}

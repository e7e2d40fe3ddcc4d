import { type ErrorType, GatewayError } from '../errors'
import { redactSecrets } from '../lib/redact'

/**
 * `interrupted`: a successful answer began and did not complete. What the upstream generated is billed,
 * so such an attempt is never sent again, to this model or another.
 */
export type UpstreamFailureKind = 'http' | 'timeout' | 'connection' | 'aborted' | 'protocol' | 'interrupted'

const MAX_MESSAGE = 200
// 401/403 mean a bad provider key and 402 an unpaid account: the next candidate may have a good one (never
// the caller's own 401). The gateway only calls catalog models at fixed paths, so a 404 means the model was
// retired or the base URL is wrong, neither of which the caller can fix; unless the upstream names a field
// of the body other than the model (a Responses item the caller refers to that OpenAI does not hold).
const RETRYABLE_STATUSES = new Set([401, 402, 403, 404, 408, 409, 429])

export const isRetryableStatus = (status: number) => status >= 500 || RETRYABLE_STATUSES.has(status)

const shorten = (text: string) => (text.length > MAX_MESSAGE ? `${text.slice(0, MAX_MESSAGE)}…` : text)

/**
 * A failed upstream attempt. `retryable` failures move the executor to the next candidate; the others
 * (the caller's own 4xx) are returned to the caller as they are. Messages are short and never carry
 * request headers, keys or raw bodies: anything shaped like a key is masked here, and the key of the call
 * itself by `withoutSecrets`.
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
		const callersItem = upstreamStatus === 404 && Boolean(caller.param) && caller.param !== 'model'
		const retryable =
			kind !== 'aborted' &&
			kind !== 'interrupted' &&
			(kind !== 'http' || (isRetryableStatus(upstreamStatus) && !callersItem))
		const callersFault = kind === 'http' && !retryable
		super(
			callersFault ? upstreamStatus : 502,
			caller.type ?? (callersFault ? 'invalid_request_error' : 'upstream_error'),
			shorten(redactSecrets(message)),
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

/** The failure with `secrets` (the key its call used and the organisation's, whatever their shape) masked. */
export function withoutSecrets(error: UpstreamError, secrets: readonly string[]): UpstreamError {
	const message = redactSecrets(error.message, secrets)
	if (message === error.message) return error
	return new UpstreamError(error.kind, error.upstreamStatus, message, {
		type: error.type,
		param: error.param,
		code: error.code,
	})
}

import Anthropic from '@anthropic-ai/sdk'
import OpenAI from 'openai'
import { type ErrorType, GatewayError } from '../errors'

export type UpstreamFailureKind = 'http' | 'timeout' | 'connection' | 'aborted' | 'protocol'

const MAX_MESSAGE = 200
// 401/403 mean a bad provider key: the next candidate may have a good one. Never the caller's own 401.
const RETRYABLE_STATUSES = new Set([401, 403, 408, 409, 429])

/**
 * A failed upstream attempt. `retryable` failures move the executor to the next candidate; the others
 * (the caller's own 4xx) are returned to the caller as they are.
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
		super(status, caller.type ?? (retryable ? 'upstream_error' : 'invalid_request_error'), message, caller)
		this.name = 'UpstreamError'
		this.upstreamStatus = upstreamStatus
		this.retryable = retryable
		this.kind = kind
	}
}

export const isRetryableStatus = (status: number) => status >= 500 || RETRYABLE_STATUSES.has(status)

const shorten = (text: string) => (text.length > MAX_MESSAGE ? `${text.slice(0, MAX_MESSAGE)}…` : text)

/** The message inside an OpenAI (`{error:{message}}`) or Anthropic (`{type:'error', error:{message}}`) error body. */
function upstreamMessage(body: unknown): string | undefined {
	if (!body || typeof body !== 'object') return undefined
	const inner = 'error' in body ? (body as { error: unknown }).error : body
	if (inner && typeof inner === 'object' && 'message' in inner) {
		const message = (inner as { message: unknown }).message
		if (typeof message === 'string') return message
	}
	return undefined
}

const CALLER_ERROR_TYPES: Record<string, ErrorType> = {
	invalid_request_error: 'invalid_request_error',
	not_found_error: 'not_found_error',
	permission_error: 'permission_error',
}

/** Maps either SDK's errors (or a plain one) to an `UpstreamError`, keeping no headers, keys or raw bodies. */
export function toUpstreamError(error: unknown): UpstreamError {
	if (error instanceof UpstreamError) return error
	if (error instanceof OpenAI.APIUserAbortError || error instanceof Anthropic.APIUserAbortError) {
		return new UpstreamError('aborted', 0, 'request aborted')
	}
	if (
		error instanceof OpenAI.APIConnectionTimeoutError ||
		error instanceof Anthropic.APIConnectionTimeoutError
	) {
		return new UpstreamError('timeout', 0, 'timed out')
	}
	if (error instanceof OpenAI.APIConnectionError || error instanceof Anthropic.APIConnectionError) {
		return new UpstreamError('connection', 0, 'connection failed')
	}
	if (error instanceof OpenAI.APIError || error instanceof Anthropic.APIError) {
		const status = typeof error.status === 'number' ? error.status : 0
		if (status === 0)
			return new UpstreamError('protocol', 0, shorten(upstreamMessage(error.error) ?? error.message))
		const message = shorten(upstreamMessage(error.error) ?? `HTTP ${status}`)
		const openaiError = error instanceof OpenAI.APIError ? error : undefined
		const upstreamType =
			openaiError?.type ?? (error.error as { error?: { type?: string } } | undefined)?.error?.type
		return new UpstreamError('http', status, message, {
			type: upstreamType ? CALLER_ERROR_TYPES[upstreamType] : undefined,
			param: openaiError?.param ?? null,
			code: openaiError?.code ?? null,
		})
	}
	if (error instanceof GatewayError) return new UpstreamError('protocol', 0, shorten(error.message))
	if (error instanceof SyntaxError)
		return new UpstreamError('protocol', 0, 'the upstream sent a malformed response')
	// Only the first sentence: runtimes append advice meant for developers (Bun: "pass `verbose: true`…").
	const reason =
		(error instanceof Error ? error.message : String(error)).split(/\.\s/)[0] ?? 'connection failed'
	return new UpstreamError('connection', 0, shorten(reason))
}

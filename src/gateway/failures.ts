import type { AttemptRecord } from '../../db/schema'
import { GatewayError } from '../errors'
import type { Catalog, CatalogModel } from '../providers/catalog'
import { toUpstreamError, type UpstreamError, withoutSecrets } from '../providers/upstream-error'

/** nginx's "client closed request": the caller went away before the answer was complete. */
export const CLIENT_CLOSED = 499

/**
 * Why no candidate answered: no key for any of them (400 `provider_key_missing`), none able to serve the
 * request (400 `no_capable_model`), or every attempt failed upstream (502, listing each attempt).
 */
export function noAnswer(
	catalog: Catalog,
	attempts: readonly AttemptRecord[],
	tier: string | null,
	skipped: readonly string[],
	missingKeys: readonly CatalogModel[],
): GatewayError {
	if (attempts.length === 0 && missingKeys.length > 0) {
		const providers = [...new Set(missingKeys.map((model) => model.provider))]
		const variables = providers.flatMap((id) => catalog.provider(id)?.keyEnv ?? [])
		const models = missingKeys.map((model) => model.qualifiedId).join(', ')
		return new GatewayError(
			400,
			'invalid_request_error',
			`No provider key for ${providers.join(' or ')} (needed by ${models}): save one on the Keys page` +
				(variables.length > 0 ? ` or set ${variables.join(' / ')}` : '') +
				(skipped.length > missingKeys.length ? ` (skipped: ${skipped.join('; ')})` : ''),
			{ code: 'provider_key_missing' },
		)
	}
	if (attempts.length === 0) {
		const where = tier ? `tier "${tier}"` : 'the request'
		return new GatewayError(
			400,
			'invalid_request_error',
			`No model in ${where} can serve this request: ${skipped.join('; ')}`,
			{
				code: 'no_capable_model',
			},
		)
	}
	const tried = attempts.map((a) =>
		`${a.model}: ${a.status ? `HTTP ${a.status} ` : ''}${a.error ?? ''}`.trim(),
	)
	const also = skipped.length > 0 ? ` (skipped ${skipped.join('; ')})` : ''
	return new GatewayError(
		502,
		'upstream_error',
		`All ${attempts.length} upstream attempts failed: ${tried.join('; ')}${also}`,
		{ code: 'upstream_error' },
	)
}

/**
 * The error that ends a stream after it began. Its status is never sent (the answer's 200 went out); it
 * keeps the upstream's own 429 or 5xx, so that a door that names error types by status says what the
 * upstream said (Anthropic's `overloaded_error` for its 529), and 502 otherwise.
 */
export function midStreamError(error: unknown): GatewayError {
	const upstream = toUpstreamError(error)
	const status =
		upstream.upstreamStatus === 429 || upstream.upstreamStatus >= 500 ? upstream.upstreamStatus : 502
	return new GatewayError(status, 'upstream_error', `The upstream failed mid-stream: ${upstream.message}`, {
		code: 'upstream_error',
	})
}

export const clientGone = () =>
	new GatewayError(CLIENT_CLOSED, 'invalid_request_error', 'The client closed the connection', {
		code: 'client_closed',
	})

/** The failure with the call's key and the organisation's keys from the environment masked, whatever their shape. */
export const maskSecrets = (
	error: UpstreamError,
	apiKey: string,
	envKeys: Readonly<Record<string, string>>,
) => withoutSecrets(error, [apiKey, ...Object.values(envKeys)])

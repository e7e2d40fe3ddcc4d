// A provider key is checked before it is saved with one cheap, unbilled call: the provider's model list
// (OpenAI and OpenAI-compatible `GET {baseUrl}/models`, Anthropic `GET {baseUrl}/v1/models`; sources in
// docs/providers.md, "Checking a key when it is saved"). A key the provider refuses would otherwise sit in
// front of a good organisation key and fail every request it is chosen for.
import { GatewayError } from '../errors'
import { readTextWithin } from '../lib/bounded-text'
import { redactSecrets } from '../lib/redact'
import { ANTHROPIC_VERSION } from '../providers/anthropic'
import type { CatalogProvider } from '../providers/catalog'
import { upstreamMessage } from '../providers/upstream-http'

/** What a key check found. Messages are short and never carry the key. */
export type KeyCheck =
	| { outcome: 'ok' }
	/** The provider answered 401 or 403: it does not take this key. */
	| { outcome: 'rejected'; status: number; message: string }
	/** No answer, or one that says nothing about the key (5xx, 404, 429, a redirect, an HTML page). */
	| { outcome: 'unreachable'; reason: string }

/** Checks a candidate key, and throws the `GatewayError` that refuses to save it when the check fails. */
export type KeyVerifier = (provider: CatalogProvider, apiKey: string) => Promise<void>

/** The longest a check waits for the provider's answer (the answer's headers). */
export const KEY_CHECK_TIMEOUT_MS = 5_000

export interface KeyCheckOptions {
	/** @default KEY_CHECK_TIMEOUT_MS */
	timeoutMs?: number
}

/** An error body is read only this far: enough for any provider's message, never a whole page. */
const MAX_ERROR_BYTES = 64 * 1024
const MAX_MESSAGE = 200

const shorten = (text: string) => (text.length > MAX_MESSAGE ? `${text.slice(0, MAX_MESSAGE)}…` : text)

/** The list request for a provider kind, authenticated the way the gateway's own calls are. */
function modelsRequest(provider: CatalogProvider, apiKey: string): { url: string; headers: HeadersInit } {
	if (provider.kind === 'anthropic') {
		// The adapter sends API keys as a bearer token (as @anthropic-ai/sdk 1.x does): the check proves that.
		return {
			url: `${provider.baseUrl}/v1/models?limit=1`,
			headers: { authorization: `Bearer ${apiKey}`, 'anthropic-version': ANTHROPIC_VERSION },
		}
	}
	return { url: `${provider.baseUrl}/models`, headers: { authorization: `Bearer ${apiKey}` } }
}

/** Asks providers whether they take a key. One GET per check, never retried. */
export class ProviderKeyChecker {
	private readonly timeoutMs: number

	constructor(options: KeyCheckOptions = {}) {
		this.timeoutMs = options.timeoutMs ?? KEY_CHECK_TIMEOUT_MS
	}

	/** One call to `provider` with `apiKey`; never throws. `signal` ends it early (the caller went away). */
	async check(provider: CatalogProvider, apiKey: string, signal?: AbortSignal): Promise<KeyCheck> {
		const { url, headers } = modelsRequest(provider, apiKey)
		const timeout = AbortSignal.timeout(this.timeoutMs)
		let response: Response
		try {
			response = await fetch(url, {
				headers: { accept: 'application/json', ...headers },
				redirect: 'manual',
				signal: signal ? AbortSignal.any([timeout, signal]) : timeout,
			})
		} catch (error) {
			const reason = timeout.aborted
				? `no answer within ${formatSeconds(this.timeoutMs)}`
				: connectionFailure(error)
			return { outcome: 'unreachable', reason: redactSecrets(reason, [apiKey]) }
		}
		if (response.ok) {
			await response.body?.cancel().catch(() => {})
			// A 200 from something else at that address (a login page, a proxy's notice) proves nothing.
			const type = response.headers.get('content-type') ?? ''
			return type.includes('json')
				? { outcome: 'ok' }
				: { outcome: 'unreachable', reason: 'it answered with something other than a model list' }
		}
		const message = await errorMessage(response, apiKey)
		if (response.status === 401 || response.status === 403) {
			return { outcome: 'rejected', status: response.status, message: message ?? `HTTP ${response.status}` }
		}
		if (response.status >= 300 && response.status < 400) {
			return {
				outcome: 'unreachable',
				reason: `it redirected (HTTP ${response.status}): set the provider's base URL to the final address`,
			}
		}
		return {
			outcome: 'unreachable',
			reason: `it answered HTTP ${response.status}${message ? `: ${message}` : ''}`,
		}
	}

	/** A `KeyVerifier` for one save; `signal` is the saving request's, so a caller who leaves ends the check. */
	verifier(signal?: AbortSignal): KeyVerifier {
		return async (provider, apiKey) => {
			const found = await this.check(provider, apiKey, signal)
			if (found.outcome !== 'ok') throw refusal(provider, found)
		}
	}
}

/** Why a key is not saved, as the 400 the JSON API returns and the form shows. */
export function refusal(provider: CatalogProvider, found: Exclude<KeyCheck, { outcome: 'ok' }>) {
	if (found.outcome === 'rejected') {
		return new GatewayError(
			400,
			'invalid_request_error',
			`${provider.name} refused this key: ${found.message}`,
			{
				param: 'apiKey',
				code: 'provider_key_rejected',
			},
		)
	}
	return new GatewayError(
		400,
		'invalid_request_error',
		`Could not reach ${provider.name} to check the key: ${found.reason}. Save it without checking to keep it anyway.`,
		{ param: 'apiKey', code: 'provider_unreachable' },
	)
}

/** The codes of a failed check: the dashboard then offers to save without checking. */
export const KEY_CHECK_CODES: readonly string[] = ['provider_key_rejected', 'provider_unreachable']

async function errorMessage(response: Response, apiKey: string): Promise<string | undefined> {
	const text = await readTextWithin(response, MAX_ERROR_BYTES, () => new Error('too large')).catch(() => '')
	let body: unknown
	try {
		body = JSON.parse(text)
	} catch {
		body = undefined
	}
	// OpenAI's `{error: {message}}`, Anthropic's `{type: 'error', error: {message}}`, Mistral's `{message}`.
	const message = upstreamMessage(body)
	return message ? shorten(redactSecrets(message, [apiKey])) : undefined
}

/** Plain words for the failures people meet (the server is down, the name is wrong), else the runtime's. */
const CONNECTION_FAILURES: Record<string, string> = {
	ECONNREFUSED: 'the connection was refused',
	ECONNRESET: 'the connection was reset',
	ENOTFOUND: 'its host name was not found',
	EAI_AGAIN: 'its host name could not be looked up',
}

function connectionFailure(error: unknown): string {
	const code = error && typeof error === 'object' && 'code' in error ? String(error.code) : ''
	const known = CONNECTION_FAILURES[code]
	if (known) return known
	// Only the first sentence: runtimes append advice meant for developers (Bun: "pass `verbose: true`…").
	const reason = (error instanceof Error ? error.message : String(error)).split(/\.\s/)[0] ?? ''
	return shorten(reason.replace(/\.$/, '') || 'the connection failed')
}

const formatSeconds = (ms: number) => (ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`)

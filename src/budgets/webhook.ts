// The budget alert webhook (issue 22): one JSON POST per alert, signed as Standard Webhooks signs
// (https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md), so a
// receiver can verify it with that project's libraries, reject a replay, and drop a retry it already has.

import { createHmac } from 'node:crypto'
import type { BudgetScope, BudgetWindow } from '../../db/schema'
import { redactSecrets } from '../lib/redact'

/** How long one delivery may take, from sending to the answer's headers. */
export const WEBHOOK_TIMEOUT_MS = 5_000
/** A `last_error` longer than this is cut: it is shown in the dashboard and kept in a row. */
const MAX_ERROR_LENGTH = 300
const SECRET_PREFIX = 'whsec_'

/** What the webhook receives for an alert. Amounts in US dollars, instants as ISO 8601 strings in UTC. */
export interface BudgetAlertEvent {
	type: 'budget.threshold'
	/** The share of the limit spent, in percent: 80 or 100. */
	threshold: 80 | 100
	budget: { id: number; scope: BudgetScope; scopeId: number; window: BudgetWindow; limitUsd: number }
	/** What the window has spent when the alert is sent. */
	spentUsd: number
	windowStart: string
	/** When the window starts afresh; null for a total. */
	resetsAt: string | null
	/** When the budget crossed the threshold. */
	createdAt: string
}

export type DeliveryOutcome =
	| { ok: true }
	/** `error` is safe to store and log: no URL, query string, user info or key in it. */
	| { ok: false; error: string }

export interface WebhookOptions {
	/** An http(s) URL. It may hold a token (user info, query string, or a path like Slack's): it is never logged. */
	url: string
	/** `whsec_` and base64 of the key: each POST then carries `webhook-signature`. */
	secret?: string | undefined
	/** @default WEBHOOK_TIMEOUT_MS (5 s) */
	timeoutMs?: number
	/** @default the global fetch */
	fetch?: (url: string, init: RequestInit) => Promise<Response>
}

/**
 * The URL as logs and the dashboard may show it: scheme, host and port only. User info and query strings
 * hold tokens, and so do the paths of Slack's, Discord's and Teams' webhooks.
 */
export function describeWebhookUrl(url: string): string {
	if (!URL.canParse(url)) return '[the webhook URL]'
	const parsed = new URL(url)
	const more = parsed.pathname !== '/' || parsed.search !== '' || parsed.hash !== ''
	return `${parsed.protocol}//${parsed.host}${more ? '/…' : ''}`
}

/** The webhook's key: the bytes `whsec_<base64>` encodes. */
export function webhookKey(secret: string): Buffer {
	return Buffer.from(secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret, 'base64')
}

/** `v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">`, the Standard Webhooks `webhook-signature`. */
export function signWebhook(key: Buffer, id: string, timestampSeconds: number, body: string): string {
	const mac = createHmac('sha256', key).update(`${id}.${timestampSeconds}.${body}`).digest('base64')
	return `v1,${mac}`
}

/** Text from a failure, with the URL, its parts and anything shaped like a key masked, and kept short. */
export function scrubDeliveryError(text: string, url: string): string {
	let scrubbed = text
	if (URL.canParse(url)) {
		const parsed = new URL(url)
		const parts = [
			url,
			parsed.href,
			parsed.username,
			parsed.password,
			parsed.search.slice(1),
			...parsed.searchParams.values(),
			parsed.pathname,
		]
		for (const part of parts.sort((a, b) => b.length - a.length)) {
			if (part.length >= 4 && part !== '/') scrubbed = scrubbed.replaceAll(part, '[redacted]')
		}
	}
	// Any other URL in the text (a redirect's target, say) keeps only its origin.
	scrubbed = scrubbed.replace(/\bhttps?:\/\/[^\s"'<>]+/gi, (found) => describeWebhookUrl(found))
	scrubbed = redactSecrets(scrubbed)
	return scrubbed.length > MAX_ERROR_LENGTH ? `${scrubbed.slice(0, MAX_ERROR_LENGTH - 1)}…` : scrubbed
}

function describeFailure(error: unknown, timeoutMs: number): string {
	if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError'))
		return `no answer within ${timeoutMs} ms`
	const code = (error as { code?: unknown } | null)?.code
	const message = error instanceof Error ? error.message : String(error)
	return typeof code === 'string' && !message.includes(code) ? `${message} (${code})` : message
}

/** POSTs budget alerts to one URL. Never throws: each outcome says whether the receiver took the alert. */
export class BudgetWebhook {
	/** The URL as it may be logged. */
	readonly target: string
	private readonly key: Buffer | undefined
	private readonly timeoutMs: number
	private readonly send: (url: string, init: RequestInit) => Promise<Response>

	constructor(private readonly options: WebhookOptions) {
		this.target = describeWebhookUrl(options.url)
		this.key = options.secret ? webhookKey(options.secret) : undefined
		this.timeoutMs = options.timeoutMs ?? WEBHOOK_TIMEOUT_MS
		this.send = options.fetch ?? ((url, init) => fetch(url, init))
	}

	/**
	 * One attempt. `id` is the alert's own: the same on every retry, so a receiver that got an attempt whose
	 * answer was lost can recognise the retry. A 2xx answer is a delivery; anything else, a redirect included
	 * (it is not followed), is a failure to retry.
	 */
	async deliver(id: string, event: BudgetAlertEvent, now: number): Promise<DeliveryOutcome> {
		const body = JSON.stringify(event)
		const timestamp = Math.floor(now / 1000)
		const headers: Record<string, string> = {
			'content-type': 'application/json',
			'user-agent': 'Switchyard budget alerts',
			'webhook-id': id,
			'webhook-timestamp': String(timestamp),
		}
		if (this.key) headers['webhook-signature'] = signWebhook(this.key, id, timestamp, body)
		try {
			const response = await this.send(this.options.url, {
				method: 'POST',
				headers,
				body,
				redirect: 'manual',
				signal: AbortSignal.timeout(this.timeoutMs),
			})
			// The answer's body is not read: nothing in it is needed, and the connection is freed.
			await response.body?.cancel().catch(() => {})
			if (response.ok) return { ok: true }
			return { ok: false, error: `HTTP ${response.status}` }
		} catch (error) {
			return {
				ok: false,
				error: scrubDeliveryError(describeFailure(error, this.timeoutMs), this.options.url),
			}
		}
	}
}

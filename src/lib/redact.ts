// One redaction step for every string that may hold upstream text before it is stored, logged or returned:
// providers repeat the key they were sent in their errors ("Incorrect API key provided: sk-…"), and a
// caller must never receive the organisation's key that way, nor an admin a developer's own.

const MASK = '[redacted]'

/**
 * What provider and gateway keys look like, wherever they appear: OpenAI (`sk-`, `sk-proj-`, and the
 * masked `sk-abc***xyz` of its 401), Anthropic (`sk-ant-`), Groq (`gsk_`), Google (`AIza`), Switchyard
 * (`sy_`), and any credential echoed with its scheme.
 */
const KEY_SHAPES =
	/\b(?:sk-[\w*-]{6,}|gsk_\w{8,}|AIza[\w-]{20,}|sy_[\w-]{8,})|\b(?:Bearer|Basic)\s+[\w~+/=-][\w.~+/=-]{6,}[\w~+/=-]/gi

/** Shorter known secrets are not masked: a 4-character "key" would blank ordinary words. */
const MIN_KNOWN_LENGTH = 8

/** `text` with every key shape, and every one of `known` (the keys this call used), masked. */
export function redactSecrets(text: string, known: readonly string[] = []): string {
	let redacted = text
	for (const secret of known) {
		if (secret.length >= MIN_KNOWN_LENGTH && redacted.includes(secret))
			redacted = redacted.replaceAll(secret, MASK)
	}
	return redacted.replace(KEY_SHAPES, MASK)
}

/**
 * A failed statement's error from drizzle: its message lists the statement's values, which may be a
 * session id, a key's hash or a prompt. Only the statement and the database's own error are kept.
 */
function withoutValues(error: Error & { query: string }): string {
	const cause =
		error.cause instanceof Error ? (error.cause.stack ?? error.cause.message) : String(error.cause)
	return `Failed query (its values withheld): ${error.query}\n${cause}`
}

const isFailedQuery = (error: Error): error is Error & { query: string } =>
	'query' in error && 'params' in error && typeof error.query === 'string'

/** An error, with its stack, as a line safe to log. */
export function loggable(error: unknown): string {
	if (!(error instanceof Error)) return redactSecrets(String(error))
	if (isFailedQuery(error)) return redactSecrets(withoutValues(error))
	return redactSecrets(error.stack ?? `${error.name}: ${error.message}`)
}

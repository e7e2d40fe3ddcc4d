/**
 * A request's or an answer's body as text, never buffering more than `limitBytes`: a declared length above
 * it is refused before a byte is read, a body without one is counted as it arrives and cut off past it.
 * `tooLarge` is the error each side reports (a 413 to a caller, a failed attempt for an upstream).
 */
export async function readTextWithin(
	message: Request | Response,
	limitBytes: number,
	tooLarge: () => Error,
): Promise<string> {
	const declared = Number(message.headers.get('content-length') ?? Number.NaN)
	if (declared > limitBytes) {
		await message.body?.cancel().catch(() => {})
		throw tooLarge()
	}
	// A declared length within the limit is read in one go, without touching `body`, whose stream costs a
	// measurable share of a request; only a body of unknown length needs counting as it comes.
	if (Number.isFinite(declared)) return message.text()
	if (!message.body) return ''
	const reader = message.body.getReader()
	const parts: Uint8Array[] = []
	let size = 0
	for (;;) {
		const { done, value } = await reader.read()
		if (done) break
		size += value.byteLength
		if (size > limitBytes) {
			await reader.cancel().catch(() => {})
			throw tooLarge()
		}
		parts.push(value)
	}
	return Buffer.concat(parts, size).toString('utf8')
}

/**
 * Polls a condition the server reaches on its own (a file watcher, a background write, a thread switched
 * after an answer) every 20 ms; throws when it is not reached within `timeoutMs`.
 */
export async function until(condition: () => boolean | Promise<boolean>, timeoutMs: number) {
	const deadline = Date.now() + timeoutMs
	while (!(await condition())) {
		if (Date.now() > deadline) throw new Error(`condition not reached within ${timeoutMs} ms`)
		await Bun.sleep(20)
	}
}

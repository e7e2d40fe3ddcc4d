/**
 * Polls a condition the server reaches on its own (a file watcher, a background write, a thread switched
 * after an answer) every 20 ms; throws when it is not reached within `timeoutMs`. Every wait in the suite
 * goes through here: a test never sleeps, and never polls without a deadline.
 *
 * @param what what the test waits for, for the error message; @default the condition's source text
 */
export async function until(
	condition: () => boolean | Promise<boolean>,
	timeoutMs: number,
	what = condition.toString(),
): Promise<void> {
	const started = performance.now()
	while (!(await condition())) {
		if (performance.now() - started > timeoutMs) {
			throw new Error(`timed out after ${timeoutMs} ms waiting until ${what}`)
		}
		await Bun.sleep(20)
	}
}

/**
 * The open-loop generator's clock, in a worker thread: it sleeps (`Atomics.wait`, which takes fractional
 * milliseconds) until each scheduled send time and then wakes the main thread with the request's index.
 * Bun's timers round to whole milliseconds, which at 5,000 req/s would send requests in bursts of five.
 */
declare const self: Worker

/** What the main thread posts once: send `count` ticks, `intervalMs` apart, from `startEpochMs`. */
export interface MetronomeSpec {
	/** `performance.timeOrigin + performance.now()` of the first tick: both threads share that clock. */
	startEpochMs: number
	intervalMs: number
	count: number
}

self.onmessage = (event: MessageEvent<MetronomeSpec>) => {
	const { startEpochMs, intervalMs, count } = event.data
	const sleeper = new Int32Array(new SharedArrayBuffer(4))
	const start = startEpochMs - performance.timeOrigin
	for (let index = 0; index < count; index++) {
		const due = start + index * intervalMs
		for (let left = due - performance.now(); left > 0; left = due - performance.now()) {
			Atomics.wait(sleeper, 0, 0, left)
		}
		postMessage(index)
	}
}

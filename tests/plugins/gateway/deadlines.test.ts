import { describe, expect, it } from 'bun:test'
import { Deadlines } from '../../../src/plugins/gateway/deadlines'

describe('Deadlines', () => {
	it('aborts an attempt that outlives its time-out, marking it timed out', () => {
		const deadlines = new Deadlines()
		const attempt = deadlines.watch(100, new AbortController().signal)
		deadlines.sweep(performance.now() + 50)
		expect(attempt.signal.aborted).toBe(false)
		deadlines.sweep(performance.now() + 150)
		expect(attempt.signal.aborted).toBe(true)
		expect(attempt.timedOut).toBe(true)
	})

	it('aborts an attempt whose client left, without calling it a time-out', () => {
		const deadlines = new Deadlines()
		const client = new AbortController()
		const attempt = deadlines.watch(60_000, client.signal)
		client.abort()
		deadlines.sweep()
		expect(attempt.signal.aborted).toBe(true)
		expect(attempt.timedOut).toBe(false)
	})

	it('leaves a settled attempt alone', () => {
		const deadlines = new Deadlines()
		const attempt = deadlines.watch(100, new AbortController().signal)
		attempt.settle()
		deadlines.sweep(performance.now() + 1000)
		expect(attempt.signal.aborted).toBe(false)
	})

	it('aborts at once when the client is already gone', () => {
		const client = new AbortController()
		client.abort()
		expect(new Deadlines().watch(100, client.signal).signal.aborted).toBe(true)
	})

	it('fires on its own timer', async () => {
		const deadlines = new Deadlines(5)
		const attempt = deadlines.watch(10, new AbortController().signal)
		await new Promise((resolve) => attempt.signal.addEventListener('abort', resolve))
		expect(attempt.timedOut).toBe(true)
	})
})

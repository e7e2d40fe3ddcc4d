import { describe, expect, it } from 'bun:test'
import { Deadlines } from '../../../src/gateway/deadlines'

const live = () => new AbortController().signal

describe('Deadlines', () => {
	it('aborts an attempt with no answer past its first-byte limit, marking it so', () => {
		const deadlines = new Deadlines()
		const attempt = deadlines.watch(100, 10_000, live())
		deadlines.sweep(performance.now() + 50)
		expect(attempt.signal.aborted).toBe(false)
		deadlines.sweep(performance.now() + 150)
		expect(attempt.signal.aborted).toBe(true)
		expect(attempt.timedOut).toBe('first-byte')
	})

	it('gives an answer that began until the total limit, then aborts it as such', () => {
		const deadlines = new Deadlines()
		const attempt = deadlines.watch(100, 1000, live())
		attempt.began()
		deadlines.sweep(performance.now() + 500)
		expect(attempt.signal.aborted).toBe(false)
		deadlines.sweep(performance.now() + 1100)
		expect(attempt.signal.aborted).toBe(true)
		expect({ timedOut: attempt.timedOut, answering: attempt.answering }).toEqual({
			timedOut: 'total',
			answering: true,
		})
	})

	it('aborts an attempt whose client left, without calling it a time-out', () => {
		const deadlines = new Deadlines()
		const client = new AbortController()
		const attempt = deadlines.watch(60_000, 600_000, client.signal)
		client.abort()
		deadlines.sweep()
		expect(attempt.signal.aborted).toBe(true)
		expect(attempt.timedOut).toBeUndefined()
	})

	it('leaves a settled attempt alone', () => {
		const deadlines = new Deadlines()
		const attempt = deadlines.watch(100, 1000, live())
		attempt.settle()
		deadlines.sweep(performance.now() + 5000)
		expect(attempt.signal.aborted).toBe(false)
	})

	it('aborts at once when the client is already gone', () => {
		const client = new AbortController()
		client.abort()
		expect(new Deadlines().watch(100, 1000, client.signal).signal.aborted).toBe(true)
	})

	it('fires on its own timer', async () => {
		const deadlines = new Deadlines(5)
		const attempt = deadlines.watch(10, 1000, live())
		await new Promise((resolve) => attempt.signal.addEventListener('abort', resolve))
		expect(attempt.timedOut).toBe('first-byte')
	})
})

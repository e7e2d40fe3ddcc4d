import { describe, expect, it } from 'bun:test'
import { until } from './until'

describe('until', () => {
	it('resolves once the condition holds', async () => {
		let checks = 0
		await until(() => ++checks === 3, 1000)
		expect(checks).toBe(3)
	})

	it('waits for an async condition', async () => {
		let checks = 0
		await until(async () => ++checks === 2, 1000)
		expect(checks).toBe(2)
	})

	it('fails after the deadline, naming what it waited for', async () => {
		await expect(until(() => false, 50, 'the log is written')).rejects.toThrow(
			'timed out after 50 ms waiting until the log is written',
		)
	})

	it('names the condition by its source when not told what it waits for', async () => {
		const log = { pending: 1 }
		await expect(until(() => log.pending === 0, 30)).rejects.toThrow(
			'timed out after 30 ms waiting until () => log.pending === 0',
		)
	})
})

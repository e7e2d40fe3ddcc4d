import { describe, expect, it } from 'bun:test'
import { BatchQueue, type Deferred } from '../../src/lib/batch-queue'

interface Item extends Deferred<number> {
	value: number
}

function queueOf(run: (batch: Item[]) => Promise<void>) {
	const queue = new BatchQueue<Item>(run)
	const add = (value: number) =>
		new Promise<number>((resolve, reject) => queue.add({ value, resolve, reject }))
	return add
}

describe('BatchQueue', () => {
	it('runs what one turn adds as one batch, and what arrives meanwhile as the next', async () => {
		const batches: number[][] = []
		let release = () => {}
		const add = queueOf(async (batch) => {
			batches.push(batch.map((item) => item.value))
			if (batches.length === 1) await new Promise<void>((resolve) => (release = resolve))
			for (const item of batch) item.resolve(item.value * 10)
		})
		const first = [add(1), add(2)]
		await Promise.resolve()
		await Promise.resolve()
		const second = [add(3), add(4), add(5)]
		expect(batches).toEqual([[1, 2]])
		release()
		expect(await Promise.all([...first, ...second])).toEqual([10, 20, 30, 40, 50])
		expect(batches).toEqual([
			[1, 2],
			[3, 4, 5],
		])
		// Alone, an item waits for no other.
		expect(await add(6)).toBe(60)
		expect(batches.at(-1)).toEqual([6])
	})

	it('rejects the items of a batch whose run throws, and runs the next batch all the same', async () => {
		let runs = 0
		const add = queueOf(async (batch) => {
			runs++
			if (runs === 1) throw new Error('connection lost')
			for (const item of batch) item.resolve(item.value)
		})
		const failed = [add(1), add(2)]
		await expect(Promise.all(failed)).rejects.toThrow('connection lost')
		expect(await Promise.allSettled(failed)).toMatchObject([{ status: 'rejected' }, { status: 'rejected' }])
		expect(await add(3)).toBe(3)
	})
})

import { describe, expect, it } from 'bun:test'
import { InstanceRegistry } from '../../src/runtime/instances'
import { BACKENDS, openTestStore } from '../helpers/stores'

describe.each(BACKENDS)('the servers on one %s database', (backend) => {
	it('lists each with its rules revision, says which is silent, and forgets the one that left', async () => {
		await using test = await openTestStore(backend)
		let revision = 3
		let now = Date.UTC(2026, 11, 3, 12)
		const log = { pending: 0, dropped: 0 }
		const here = new InstanceRegistry(
			test.store,
			() => revision,
			log,
			() => now,
		)
		const there = new InstanceRegistry(
			await test.anotherInstance(),
			() => 3,
			{ pending: 7 },
			() => now,
		)
		await here.start()
		await there.start()
		revision = 4
		await here.stamp()
		expect(
			(await here.list())
				.map(({ rulesRevision, self, silent }) => ({ rulesRevision, self, silent }))
				.sort((a, b) => (a.rulesRevision ?? 0) - (b.rulesRevision ?? 0)),
		).toEqual([
			{ rulesRevision: 3, self: false, silent: false },
			{ rulesRevision: 4, self: true, silent: false },
		])
		now += 60_000
		log.dropped = 2
		await here.stamp()
		const listed = await here.list()
		expect(listed.find((instance) => !instance.self)).toMatchObject({
			silent: true,
			pendingRows: 7,
			droppedRows: 0,
		})
		expect(listed.find((instance) => instance.self)).toMatchObject({ silent: false, droppedRows: 2 })
		await there.stop()
		expect((await here.list()).map((instance) => instance.id)).toEqual([here.id])
		await here.stop()
	})
})

import { describe, expect, it } from 'bun:test'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describeUncleanStop, RUN_MARKER_FILE, RunMarker } from '../../src/runtime/run-marker'

const STARTED = new Date('2026-12-03T10:00:00Z')
const NOTICED = new Date('2026-12-03T10:05:00Z')

/** A fresh data folder, removed at disposal. */
function dataFolder() {
	const path = mkdtempSync(join(tmpdir(), 'switchyard-marker-'))
	return { path, [Symbol.dispose]: () => rmSync(path, { recursive: true, force: true }) }
}

describe('RunMarker', () => {
	it('finds nothing on a first start, and marks the run as running', () => {
		using dir = dataFolder()
		const marker = RunMarker.open(dir.path, STARTED, 123)
		expect(marker.uncleanStop).toBeNull()
		expect(JSON.parse(readFileSync(join(dir.path, RUN_MARKER_FILE), 'utf8'))).toEqual({
			startedAt: '2026-12-03T10:00:00.000Z',
			pid: 123,
		})
	})

	it('finds nothing after a clean stop, which removes the marker', () => {
		using dir = dataFolder()
		RunMarker.open(dir.path, STARTED, 123).close()
		expect(existsSync(join(dir.path, RUN_MARKER_FILE))).toBe(false)
		expect(RunMarker.open(dir.path, NOTICED, 456).uncleanStop).toBeNull()
	})

	it('reports the last run when it never closed, with when it started and when this run noticed', () => {
		using dir = dataFolder()
		RunMarker.open(dir.path, STARTED, 123)
		expect(RunMarker.open(dir.path, NOTICED, 456).uncleanStop).toEqual({
			startedAt: '2026-12-03T10:00:00.000Z',
			pid: 123,
			noticedAt: '2026-12-03T10:05:00.000Z',
		})
	})

	it.each<[string, string]>([
		['unreadable', '{"startedAt": "2026-12-'],
		['not a marker', '{"startedAt": "</li><script>alert(1)</script>", "pid": "1; rm"}'],
	])('still reports an unclean stop when the marker is %s, without what it cannot read', (_, content) => {
		using dir = dataFolder()
		writeFileSync(join(dir.path, RUN_MARKER_FILE), content)
		expect(RunMarker.open(dir.path, NOTICED, 456).uncleanStop).toEqual({
			startedAt: null,
			pid: null,
			noticedAt: '2026-12-03T10:05:00.000Z',
		})
	})

	it('leaves a marker that another start wrote since', () => {
		using dir = dataFolder()
		const mine = RunMarker.open(dir.path, STARTED, 123)
		RunMarker.open(dir.path, NOTICED, 456)
		mine.close()
		expect(existsSync(join(dir.path, RUN_MARKER_FILE))).toBe(true)
	})
})

describe('describeUncleanStop', () => {
	it('says which run stopped and that nobody knows how many log rows it lost', () => {
		expect(
			describeUncleanStop({
				startedAt: '2026-12-03T10:00:00.000Z',
				pid: 123,
				noticedAt: NOTICED.toISOString(),
			}),
		).toBe(
			'The last run (started 2026-12-03T10:00:00.000Z, pid 123) stopped without a clean shutdown: requests it answered in its last moments, and those in flight, may have no request log row; how many is not known.',
		)
		expect(describeUncleanStop({ startedAt: null, pid: null, noticedAt: NOTICED.toISOString() })).toStartWith(
			'The last run stopped without a clean shutdown:',
		)
	})
})

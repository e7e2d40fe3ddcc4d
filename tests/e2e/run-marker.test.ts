// The run marker as the server uses it, in its own process: killed, then started again on the same data.
import { describe, expect, it } from 'bun:test'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { RUN_MARKER_FILE } from '../../src/runtime/run-marker'
import { startServerProcess } from '../helpers/server-process'
import { until } from '../helpers/until'

const ENTRY = join(import.meta.dir, '..', '..', 'src/index.ts')

/** A fresh data folder, removed at disposal. */
function dataFolder() {
	const path = mkdtempSync(join(tmpdir(), 'switchyard-marker-'))
	return { path, [Symbol.dispose]: () => rmSync(path, { recursive: true, force: true }) }
}

/** The cost-integrity API as `token` sees it. */
async function integrity(origin: string, token: string) {
	const response = await fetch(`${origin}/api/analytics/integrity`, {
		headers: { authorization: `Bearer ${token}` },
	})
	expect(response.status).toBe(200)
	return (await response.json()) as { uncleanStop: unknown }
}

async function signupDeveloper(origin: string): Promise<string> {
	const response = await fetch(`${origin}/api/auth/signup`, {
		method: 'POST',
		headers: { 'content-type': 'application/json' },
		body: JSON.stringify({ email: 'dev@example.com', password: 'developer password' }),
	})
	expect(response.status).toBe(201)
	return ((await response.json()) as { token: string }).token
}

const UNCLEAN = 'stopped without a clean shutdown'

describe('the server process', () => {
	it('after SIGKILL, says at the next start that the last run stopped uncleanly, and tells admins', async () => {
		using dir = dataFolder()
		await using killed = await startServerProcess(ENTRY, {}, { dataDir: dir.path })
		const { pid } = killed.child
		expect(killed.stderr()).not.toContain(UNCLEAN)
		killed.child.kill('SIGKILL')
		await killed.child.exited

		await using server = await startServerProcess(ENTRY, {}, { dataDir: dir.path })
		await until(() => server.stderr().includes(UNCLEAN), 2000)
		expect(
			server
				.stderr()
				.split('\n')
				.filter((line) => line.includes(UNCLEAN)),
		).toEqual([
			expect.stringMatching(
				new RegExp(
					`^The last run \\(started \\S+, pid ${pid}\\) stopped without a clean shutdown: requests it answered in its last moments, and those in flight, may have no request log row; how many is not known\\.$`,
				),
			),
		])

		const { uncleanStop } = await integrity(server.origin, await server.adminToken())
		expect(uncleanStop).toEqual({ startedAt: expect.any(String), pid, noticedAt: expect.any(String) })
		const { startedAt, noticedAt } = uncleanStop as { startedAt: string; noticedAt: string }
		expect(server.stderr()).toContain(`(started ${startedAt}, pid ${pid})`)
		expect(Date.parse(startedAt)).toBeLessThan(Date.parse(noticedAt))
		expect(await integrity(server.origin, await signupDeveloper(server.origin))).toMatchObject({
			uncleanStop: null,
		})
		const page = await fetch(`${server.origin}/`, {
			headers: { authorization: `Bearer ${await server.adminToken()}` },
		})
		expect(await page.text()).toContain(`pid ${pid}) ${UNCLEAN}`)
	})

	it('after SIGTERM, leaves no marker and says nothing at the next start', async () => {
		using dir = dataFolder()
		await using stopped = await startServerProcess(ENTRY, {}, { dataDir: dir.path })
		stopped.child.kill('SIGTERM')
		expect(await stopped.child.exited).toBe(0)
		expect(existsSync(join(dir.path, RUN_MARKER_FILE))).toBe(false)

		await using server = await startServerProcess(ENTRY, {}, { dataDir: dir.path })
		expect(existsSync(join(dir.path, RUN_MARKER_FILE))).toBe(true)
		expect(await integrity(server.origin, await server.adminToken())).toMatchObject({ uncleanStop: null })
		expect(server.stderr()).not.toContain(UNCLEAN)
	})
})

import { describe, expect, it, setDefaultTimeout } from 'bun:test'
import { SQL } from 'bun'
import { HEARTBEAT_MS } from '../../src/runtime/instances'
import { startFakeUpstream } from '../helpers/fake-upstream'
import { startServerProcess } from '../helpers/server-process'
import { TEST_DATABASE_URL } from '../helpers/stores'
import { until } from '../helpers/until'

// Two server processes, a few thousand requests and a kill: well under a minute, on a loaded machine.
setDefaultTimeout(90_000)

const secret = (bytes: number) =>
	Buffer.from(crypto.getRandomValues(new Uint8Array(bytes))).toString('base64')

/** A database of its own on the test server (a process reads only DATABASE_URL), dropped afterwards. */
async function freshDatabase(url: string) {
	const name = `test_${crypto.randomUUID().replaceAll('-', '')}`
	const admin = new SQL(url, { max: 1 })
	await admin.unsafe(`CREATE DATABASE ${name}`)
	const own = new URL(url)
	own.pathname = `/${name}`
	return {
		url: own.toString(),
		async [Symbol.asyncDispose]() {
			await admin.unsafe(`DROP DATABASE ${name} WITH (FORCE)`)
			await admin.close()
		},
	}
}

describe('two server processes on one PostgreSQL database, one killed mid-load', () => {
	if (!TEST_DATABASE_URL) return
	const databaseUrl = TEST_DATABASE_URL

	it('loses at most the killed one’s unwritten rows, counts no request twice, and the other serves on', async () => {
		await using database = await freshDatabase(databaseUrl)
		await using upstream = await startFakeUpstream({ record: false })
		const env = {
			DATABASE_URL: database.url,
			JWT_SECRET: secret(48),
			ENCRYPTION_KEY: secret(32),
			OPENAI_BASE_URL: upstream.openaiBaseUrl,
			ANTHROPIC_BASE_URL: upstream.anthropicBaseUrl,
			OPENAI_API_KEY: 'sk-openai-test',
			ANTHROPIC_API_KEY: 'sk-ant-test',
		}
		// Started together: they take turns migrating and seeding the rules.
		const [victim, survivor] = await Promise.all([
			startServerProcess('src/index.ts', env),
			startServerProcess('src/index.ts', env),
		])
		await using _victim = victim
		await using _survivor = survivor
		const key = await survivor.createKey()

		const answered = { victim: new Map<string, number>(), survivor: new Map<string, number>() }
		let failed = 0
		let turn = 0
		let killedAt = 0
		const started = performance.now()
		const worker = async () => {
			while (performance.now() - started < 4500) {
				const target = turn++ % 2 === 0 ? victim : survivor
				const name = target === victim ? 'victim' : 'survivor'
				if (!killedAt && performance.now() - started > 3000) {
					killedAt = performance.now()
					victim.child.kill('SIGKILL')
				}
				try {
					const res = await fetch(`${target.origin}/v1/chat/completions`, {
						method: 'POST',
						headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
						body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }),
					})
					await res.arrayBuffer()
					if (res.status === 200)
						answered[name].set(res.headers.get('x-switchyard-request-id') ?? '', performance.now())
					else failed++
				} catch {
					failed++
				}
			}
		}
		await Promise.all(Array.from({ length: 8 }, worker))
		expect(killedAt).toBeGreaterThan(0)
		expect(answered.victim.size).toBeGreaterThan(50)
		expect(answered.survivor.size).toBeGreaterThan(answered.victim.size)

		const db = new SQL(database.url, { max: 1 })
		try {
			const logged = async () =>
				new Set(
					((await db`SELECT request_id FROM request_log`) as { request_id: string }[]).map(
						(row) => row.request_id,
					),
				)
			// Everything the survivor answered reaches the log.
			await until(async () => {
				const rows = await logged()
				return [...answered.survivor.keys()].every((id) => rows.has(id))
			}, 5000)
			const rows = await logged()
			const [counts] =
				(await db`SELECT count(*)::int AS total, count(DISTINCT request_id)::int AS distinct FROM request_log`) as {
					total: number
					distinct: number
				}[]
			expect(counts?.total).toBe(counts?.distinct)
			// Only the victim's unwritten buffer is lost: its latest rows. Everything it answered more than a
			// second before the kill had been written (batches go every 10 ms; a second allows for a loaded
			// machine), whatever the number of rows that makes.
			const lostIds = [...answered.victim.keys()].filter((id) => !rows.has(id))
			const lost = lostIds.length
			const oldestLost = Math.min(...lostIds.map((id) => answered.victim.get(id) ?? killedAt))
			expect(killedAt - oldestLost).toBeLessThan(1000)
			// What the victim left behind for the dashboard: its unwritten rows as of its last heartbeat, which
			// came at most a heartbeat (plus a loaded machine's delay) before the kill.
			const [left] = (await db`
				SELECT pending_rows, (extract(epoch FROM now() - last_seen_at) * 1000)::float8 AS silent_ms
				FROM instances WHERE pid = ${victim.child.pid}`) as { pending_rows: number; silent_ms: number }[]
			const sinceKill = performance.now() - killedAt
			expect(left?.silent_ms ?? Number.POSITIVE_INFINITY).toBeLessThan(sinceKill + HEARTBEAT_MS + 500)
			console.log(
				`the victim's last heartbeat came ${Math.round((left?.silent_ms ?? 0) - sinceKill)} ms before the kill, reporting ${left?.pending_rows} unwritten rows; ${lost} were lost`,
			)
			console.log(
				`killed mid-load: the survivor answered ${answered.survivor.size}, all logged; the victim ${answered.victim.size}, ${lost} not logged; ${failed} requests failed`,
			)
		} finally {
			await db.close()
		}
	})
})

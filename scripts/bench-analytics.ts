// bun run bench:analytics [rows] — fills a real SQLite file with 1,000,000 logged requests (by default),
// all inside a 30-day window and in time order as the gateway logs them, through the same writer the
// gateway uses (so the rollups are built as in production), then times the dashboard's queries. Targets:
// overview, each breakdown and a day by the hour under 100 ms, the first page of requests under 20 ms.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openSqlite } from '../db/client'
import { LoggedRequests } from '../src/analytics/logged-requests'
import { type BreakdownBy, type Scope, windowOf } from '../src/analytics/scope'
import { UsageReports } from '../src/analytics/usage-reports'
import { loadConfig } from '../src/config'
import { loadCatalog } from '../src/providers/catalog'
import { type LogRow, LogStore, type RequestLogEntry, toRow } from '../src/request-log/log-store'
import { DAY_MS } from '../src/request-log/rollup'

const ROWS = Number(process.argv[2] ?? 1_000_000)
const USERS = 20
const KEYS_PER_USER = 3
const RUNS = 15

const dir = mkdtempSync(join(tmpdir(), 'switchyard-bench-analytics-'))
try {
	const store = openSqlite(join(dir, 'bench.db'))
	const sqlite = store.sqlite
	if (!sqlite) throw new Error('not SQLite')
	for (let user = 1; user <= USERS; user++) {
		sqlite.run("INSERT INTO users (email, password_hash, role, created_at) VALUES (?, 'x', 'developer', 0)", [
			`user${user}@example.com`,
		])
		for (let key = 0; key < KEYS_PER_USER; key++) {
			sqlite.run(
				"INSERT INTO gateway_keys (user_id, name, prefix, key_hash, created_at) VALUES (?, ?, 'sy_x', ?, 0)",
				[user, `app-${user}-${key}`, `hash-${user}-${key}`],
			)
		}
	}
	const catalog = loadCatalog(loadConfig({}))
	// The same writer the gateway's log thread uses, called directly: rows and rollups alike.
	const writer = new LogStore(sqlite, null)
	let batch: LogRow[] = []
	const models = catalog.models.slice(0, 8)
	const tiers = ['simple', 'medium', 'complex']
	// An LCG in 32-bit integer arithmetic: in doubles its product outgrows 2^53 and loses the low bits, and
	// the draws fall into short cycles (30 days of requests came out as a tenth of the rollup rows they make).
	let seed = 7
	const random = () => {
		seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0
		return seed / 2 ** 32
	}
	const now = Date.now()
	const started = performance.now()
	for (let i = 0; i < ROWS; i++) {
		const user = 1 + Math.floor(random() * USERS)
		const model = models[Math.floor(random() * models.length)]
		const failed = random() < 0.03
		const promptTokens = failed ? 0 : Math.round(50 + random() * 3000)
		const completionTokens = failed ? 0 : Math.round(random() * 800)
		const entry: RequestLogEntry = {
			requestId: `req_${i}`,
			createdAt: new Date(now - 29.5 * DAY_MS + ((i + random()) / ROWS) * 29.5 * DAY_MS),
			userId: user,
			keyId: (user - 1) * KEYS_PER_USER + 1 + Math.floor(random() * KEYS_PER_USER),
			requestedModel: 'auto',
			model: failed ? null : (model?.qualifiedId ?? null),
			provider: failed ? null : (model?.provider ?? null),
			tier: tiers[i % 3],
			rule: 'default',
			status: failed ? 502 : 200,
			attempts: [
				{ model: model?.qualifiedId ?? '', provider: model?.provider ?? '', status: 200, latencyMs: 300 },
			],
			promptTokens,
			completionTokens,
			usageReported: !failed,
			costUsd: (promptTokens * 0.5 + completionTokens * 2) / 1_000_000,
			baselineCostUsd: (promptTokens * 2.5 + completionTokens * 10) / 1_000_000,
			latencyMs: Math.round(150 + random() ** 2 * 4000),
			features: {
				promptTokens,
				messages: 2,
				hasTools: false,
				hasImages: false,
				jsonMode: false,
				maxTokens: null,
			},
		}
		batch.push(toRow(entry, -1))
		if (batch.length >= 10_000) {
			writer.write(batch)
			batch = []
		}
	}
	writer.write(batch)
	sqlite.run('ANALYZE')
	console.log(
		`${ROWS.toLocaleString('en-US')} requests over 30 days, ${USERS} users, written in ${((performance.now() - started) / 1000).toFixed(1)} s`,
	)

	const analytics = new UsageReports(store, catalog)
	const loggedRequests = new LoggedRequests(store)
	const window = windowOf(30)
	const time = async (label: string, target: number, run: () => Promise<unknown>) => {
		const timings: number[] = []
		for (let i = 0; i < RUNS; i++) {
			const t0 = performance.now()
			await run()
			timings.push(performance.now() - t0)
		}
		timings.sort((a, b) => a - b)
		const median = timings[RUNS >> 1] ?? 0
		const worst = timings.at(-1) ?? 0
		const verdict = worst < target ? 'ok' : 'OVER'
		console.log(
			`  ${label.padEnd(44)} median ${median.toFixed(2).padStart(7)} ms   max ${worst.toFixed(2).padStart(7)} ms   (target < ${target} ms: ${verdict})`,
		)
	}
	const everyone: Scope = { userId: null }
	const oneUser: Scope = { userId: 3 }
	console.log('Queries (30-day window, every row inside it):')
	await time('overview, everyone', 100, () => analytics.overview(everyone, window))
	await time('overview, one user', 100, () => analytics.overview(oneUser, window))
	for (const by of ['day', 'model', 'provider', 'tier', 'key'] as BreakdownBy[]) {
		await time(`breakdown by ${by}, everyone`, 100, () => analytics.breakdown(everyone, by, window))
	}
	// Yesterday: a whole day of rows (about 1/30 of them), walked from the last one begun before it.
	await time('yesterday by the hour, everyone', 100, () => analytics.hourly(everyone, window.lastDay - 1))
	await time('yesterday by the hour, one user', 100, () => analytics.hourly(oneUser, window.lastDay - 1))
	await time('cost integrity, everyone', 100, () => analytics.integrity(everyone, window))
	await time('filter options, everyone', 100, () => analytics.filterOptions(everyone))
	await time('requests, first page of 50, everyone', 20, () => loggedRequests.requests(everyone, {}, 50))
	await time('requests, first page of 50, one user', 20, () => loggedRequests.requests(oneUser, {}, 50))
	await time('requests, first page, one user + model filter', 20, () =>
		loggedRequests.requests(oneUser, { model: models[2]?.qualifiedId }, 50),
	)
	await time('requests, first page, failed only', 20, () =>
		loggedRequests.requests(everyone, { status: 'error' }, 50),
	)
	await time('requests, page 200 deep (cursor)', 20, () =>
		loggedRequests.requests(everyone, {}, 50, ROWS - 10_000),
	)
	await time('one request in detail', 20, () => loggedRequests.request(everyone, ROWS >> 1))
	await store.close()
} finally {
	rmSync(dir, { recursive: true, force: true })
}

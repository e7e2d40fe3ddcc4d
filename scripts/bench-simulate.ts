// bun run bench:simulate [rows] — times POST /api/rules/simulate's replay over a request log of
// 100,000 rows (by default) in a real SQLite file, with the shipped default rules.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createDb } from '../db/client'
import { loadConfig } from '../src/config'
import { loadCatalog } from '../src/providers/catalog'
import { type LogRow, LogStore, type RequestLogEntry, toRow } from '../src/request-log/log-store'
import { compileRules } from '../src/rules/compile'
import defaultRules from '../src/rules/default-rules.json'
import type { RulesDocument } from '../src/rules/schema'
import { simulateRules } from '../src/rules/simulate'

const ROWS = Number(process.argv[2] ?? 100_000)
const RUNS = 5
const DAY = 24 * 60 * 60_000

const dir = mkdtempSync(join(tmpdir(), 'switchyard-bench-simulate-'))
try {
	const { sqlite } = createDb(join(dir, 'bench.db'))
	const catalog = loadCatalog(loadConfig({}))
	// The same writer the gateway's log thread uses, called directly: rows and rollups alike.
	const store = new LogStore(sqlite)
	let batch: LogRow[] = []
	const tiers = ['simple', 'medium', 'complex']
	const now = Date.now()
	let seed = 42
	const random = () => {
		seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31
		return seed / 2 ** 31
	}
	for (let i = 0; i < ROWS; i++) {
		const promptTokens = Math.round(20 + random() ** 3 * 30_000)
		const entry: RequestLogEntry = {
			requestId: `req_${i}`,
			createdAt: new Date(now - random() * 6.9 * DAY),
			userId: 1 + (i % 20),
			keyId: 1 + (i % 40),
			requestedModel: random() < 0.9 ? 'auto' : 'gpt-4o-mini',
			model: 'openai/gpt-4o-mini',
			provider: 'openai',
			tier: tiers[i % 3],
			rule: 'default',
			status: 200,
			attempts: [],
			promptTokens,
			completionTokens: Math.round(random() * 800),
			costUsd: random() / 100,
			latencyMs: 100,
			features: {
				promptTokens,
				messages: 1 + Math.floor(random() * 8),
				hasTools: random() < 0.2,
				hasImages: random() < 0.05,
				jsonMode: random() < 0.1,
				maxTokens: null,
			},
			// A third of the rows kept their text, as with LOG_PROMPT_TEXT switched on part of the time.
			promptText: i % 3 === 0 ? 'Summarize this article in three bullet points, please.' : null,
			systemText: i % 3 === 0 ? 'You are a helpful assistant.' : null,
		}
		batch.push(toRow(entry))
		if (batch.length >= 5000) {
			store.write(batch)
			batch = []
		}
	}
	store.write(batch)
	const compiled = compileRules(defaultRules as RulesDocument)
	const timings: number[] = []
	let result: ReturnType<typeof simulateRules> | undefined
	for (let run = 0; run < RUNS; run++) {
		const started = performance.now()
		result = simulateRules(sqlite, catalog, compiled, 7)
		timings.push(performance.now() - started)
	}
	timings.sort((a, b) => a - b)
	console.log(
		`simulate over ${ROWS.toLocaleString('en-US')} logged requests (${result?.requests} auto in the window)`,
	)
	console.log(
		`  evaluated ${result?.evaluated}, not evaluated ${result?.notEvaluated}, changed ${result?.changed}`,
	)
	console.log(
		`  median ${timings[RUNS >> 1]?.toFixed(0)} ms, best ${timings[0]?.toFixed(0)} ms, worst ${timings.at(-1)?.toFixed(0)} ms over ${RUNS} runs`,
	)
	sqlite.close()
} finally {
	rmSync(dir, { recursive: true, force: true })
}

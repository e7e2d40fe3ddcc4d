// bun run bench:simulate [rows] — times POST /api/rules/simulate's replay over a request log of
// 100,000 rows (by default) in a real SQLite file, with the shipped default rules. Every row has its
// text digest (LOG_TEXT_DIGEST, the default); a third also kept its text (LOG_PROMPT_TEXT).

import type { Database } from 'bun:sqlite'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openSqlite } from '../db/client'
import { loadConfig } from '../src/config'
import { TextDigester } from '../src/lib/text-digest'
import { loadCatalog } from '../src/providers/catalog'
import { type LogRow, LogStore, type RequestLogEntry, toRow } from '../src/request-log/log-store'
import { RowDigester } from '../src/request-log/text-digests'
import { compileRules } from '../src/rules/compile'
import defaultRules from '../src/rules/default-rules.json'
import type { RulesDocument } from '../src/rules/schema'
import { simulateRules } from '../src/rules/simulate'

const ROWS = Number(process.argv[2] ?? 100_000)
const RUNS = 5
const DAY = 24 * 60 * 60_000

const dir = mkdtempSync(join(tmpdir(), 'switchyard-bench-simulate-'))
try {
	const dataStore = openSqlite(join(dir, 'bench.db'))
	const sqlite = dataStore.sqlite as Database
	const catalog = loadCatalog(loadConfig({}))
	const compiled = compileRules(defaultRules as RulesDocument)
	const digestKey = crypto.getRandomValues(new Uint8Array(32))
	const rowDigester = new RowDigester(digestKey)
	rowDigester.define(0, compiled.textPatterns)
	const prompts = [
		'Summarize this article in three bullet points, please.',
		'What is the capital of France?',
		'Write a Python function that parses a CSV file and explain the trade-offs step by step.',
		'Prove that the square root of 2 is irrational.',
	]
	// The same writer the gateway's log thread uses, called directly: rows, rollups and digests alike.
	const store = new LogStore(sqlite, rowDigester)
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
		const prompt = prompts[i % prompts.length] ?? ''
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
			promptText: i % 3 === 0 ? prompt : null,
			systemText: i % 3 === 0 ? 'You are a helpful assistant.' : null,
			textDigest: {
				input: { lastUserMessage: prompt, system: 'You are a helpful assistant.', cut: false },
				patterns: compiled.textPatterns,
			},
		}
		batch.push(toRow(entry, 0))
		if (batch.length >= 5000) {
			store.write(batch)
			batch = []
		}
	}
	store.write(batch)
	const digester = new TextDigester(digestKey)
	const timings: number[] = []
	let result: Awaited<ReturnType<typeof simulateRules>> | undefined
	for (let run = 0; run < RUNS; run++) {
		const started = performance.now()
		result = await simulateRules(dataStore, catalog, compiled, 7, digester)
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

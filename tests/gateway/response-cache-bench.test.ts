import { describe, expect, it } from 'bun:test'
import { type CachedAnswer, ResponseCache } from '../../src/gateway/response-cache'
import { cacheKeys } from '../../src/gateway/response-cache-key'
import { hitResponse } from '../../src/gateway/response-cache-replay'
import { type CatalogModel, loadCatalog } from '../../src/providers/catalog'

const catalog = loadCatalog({
	catalogPath: undefined,
	openaiBaseUrl: 'http://localhost/v1',
	anthropicBaseUrl: 'http://localhost',
})
const MINI = catalog.model('openai/gpt-4o-mini') as CatalogModel
const RUNS = 10_000
const ENTRIES = 2_000
const NOW = Date.parse('2026-12-03T12:00:00Z')

/** The median of `RUNS` timings of `run(i)`, in microseconds; each timing includes the timer's own cost. */
function medianMicros(run: (i: number) => unknown): number {
	const times = new Float64Array(RUNS)
	for (let i = 0; i < 1_000; i++) run(i)
	for (let i = 0; i < RUNS; i++) {
		const start = performance.now()
		run(i)
		times[i] = performance.now() - start
	}
	times.sort()
	return (times[RUNS >> 1] ?? 0) * 1000
}

/** A conversation of about 4 KiB: a system prompt and a few turns. */
const conversation = (i: number) => ({
	model: 'auto',
	temperature: 0.2,
	messages: [
		{ role: 'system', content: 'You are a careful assistant for an accounting team. '.repeat(20) },
		{ role: 'user', content: `Question ${i}: summarise the quarter's invoices. `.repeat(30) },
		{ role: 'assistant', content: 'Here is the summary you asked for. '.repeat(20) },
		{ role: 'user', content: 'And the overdue ones?' },
	],
})

describe('ResponseCache speed', () => {
	it('serves a hit in well under 50 µs', async () => {
		const cache = new ResponseCache()
		const body = JSON.stringify({ id: 'chatcmpl-1', choices: [{ message: { content: 'x'.repeat(4000) } }] })
		const keys = Array.from({ length: ENTRIES }, (_, i) =>
			cacheKeys({ scope: 1, door: 'chat', body: conversation(i), nativeHeaders: {} })(MINI.qualifiedId),
		)
		const facts = {
			door: 'chat' as const,
			model: MINI,
			upstreamModel: 'gpt-4o-mini',
			usage: null,
			headers: {},
		}
		for (const key of keys) cache.setJson(key, facts, body, 60_000, NOW)
		// Spread over every entry, so that each get moves one to the recent end of the LRU.
		const order = Array.from({ length: RUNS + 1_000 }, (_, i) => keys[(i * 7919) % ENTRIES] ?? '')

		const get = medianMicros((i) => cache.get(order[i] ?? '', NOW))
		const bodies = Array.from({ length: RUNS + 1_000 }, (_, i) => conversation(i % ENTRIES))
		const key = medianMicros((i) =>
			cacheKeys({ scope: 1, door: 'chat', body: bodies[i] ?? {}, nativeHeaders: {} })(MINI.qualifiedId),
		)
		const entry = cache.get(keys[0] ?? '', NOW) as CachedAnswer
		const respond = medianMicros(() => hitResponse(entry, { 'x-switchyard-request-id': 'req_1' }))

		console.log(
			`response cache, median of ${RUNS}: get ${get.toFixed(2)} µs (${ENTRIES} entries); ` +
				`key of a ${JSON.stringify(conversation(0)).length}-byte body ${key.toFixed(2)} µs; ` +
				`hit response ${respond.toFixed(2)} µs`,
		)
		expect(cache.stats().hits).toBeGreaterThanOrEqual(RUNS)
		expect(get).toBeLessThan(50)
		expect(get + key + respond).toBeLessThan(100)
	})
})

// bun run test [bun test arguments] — the whole suite on SQLite and, when TEST_DATABASE_URL names a
// PostgreSQL server, the same suite again with every app on PostgreSQL (TEST_BACKEND=postgres). Ends with
// the two runs' totals added up, in bun test's own words, so CI reads one pass and one fail count.

const args = process.argv.slice(2)
const backends = process.env.TEST_DATABASE_URL ? (['sqlite', 'postgres'] as const) : (['sqlite'] as const)
if (backends.length === 1)
	console.log('TEST_DATABASE_URL is not set: the suite runs on SQLite only (see README, "Tests")')

let passed = 0
let failed = 0
let status = 0
for (const backend of backends) {
	console.log(`\n=== the suite on ${backend} ===`)
	const run = Bun.spawn(['bun', 'test', ...args], {
		env: { ...process.env, TEST_BACKEND: backend },
		stdout: 'pipe',
		stderr: 'pipe',
	})
	// bun test writes its results to stderr; both streams are passed through as they come.
	let tail = ''
	const relay = async (stream: ReadableStream<Uint8Array>, out: { write(text: string): unknown }) => {
		const decoder = new TextDecoder()
		const reader = stream.getReader()
		for (let read = await reader.read(); !read.done; read = await reader.read()) {
			const text = decoder.decode(read.value, { stream: true })
			out.write(text)
			tail = (tail + text).slice(-4000)
		}
	}
	await Promise.all([relay(run.stdout, process.stdout), relay(run.stderr, process.stderr)])
	const code = await run.exited
	passed += Number(tail.match(/^ *(\d+) pass$/m)?.[1] ?? 0)
	failed += Number(tail.match(/^ *(\d+) fail$/m)?.[1] ?? 0)
	if (code !== 0) status = code
}
console.log(`\nBoth backends (${backends.join(' and ')}):`)
console.log(` ${passed} pass`)
console.log(` ${failed} fail`)
process.exit(status)

/**
 * The benchmark's upstream: the test suite's fake OpenAI/Anthropic server as its own process, so it can be
 * pinned with `taskset` to the load core. It answers every request at once (`reply`), records nothing,
 * prints `READY {"url":…}` and runs until SIGTERM.
 */
import { startFakeUpstream } from '../../tests/helpers/fake-upstream'

const upstream = await startFakeUpstream({ record: false })
console.log(`READY ${JSON.stringify({ url: upstream.url })}`)

async function stop() {
	await upstream.stop()
	process.exit(0)
}
process.on('SIGTERM', () => void stop())
process.on('SIGINT', () => void stop())

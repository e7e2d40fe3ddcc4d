// Shutdown as production sees it: the server in its own process, stopped by a signal mid-stream.
import { Database } from 'bun:sqlite'
import { describe, expect, it, setDefaultTimeout } from 'bun:test'
import { testClock } from '../helpers/clock'
import { startFakeUpstream } from '../helpers/fake-upstream'
import { readEvents } from '../helpers/gateway'
import { startServerProcess } from '../helpers/server-process'

// A server process starting (its admin's argon2id hash included) on a loaded two-core machine takes seconds.
setDefaultTimeout(30_000)

const hello = [{ role: 'user' as const, content: 'Say hello' }]

describe('shutdown', () => {
	it('on SIGTERM stops taking requests, finishes the stream in flight, writes the log, then exits', async () => {
		await using upstream = await startFakeUpstream({ now: testClock })
		upstream.script('gpt-4o-mini', { kind: 'slow', firstByteMs: 0, chunkMs: 150 })
		await using server = await startServerProcess('src/index.ts', {
			OPENAI_API_KEY: 'sk-openai-test',
			OPENAI_BASE_URL: upstream.openaiBaseUrl,
		})
		const streaming = await fetch(`${server.origin}/v1/chat/completions`, {
			method: 'POST',
			headers: { authorization: `Bearer ${await server.createKey()}`, 'content-type': 'application/json' },
			body: JSON.stringify({ model: 'gpt-4o-mini', messages: hello, stream: true }),
		})
		expect(streaming.status).toBe(200)
		server.child.kill('SIGTERM')
		const events = await readEvents(streaming)
		expect(events.at(-1)).toBe('[DONE]')
		expect(await server.child.exited).toBe(0)
		const db = new Database(server.databasePath, { readonly: true })
		const rows = db.query('SELECT status, stream FROM request_log').all()
		db.close()
		expect(rows).toEqual([{ status: 200, stream: 1 }])
	})
})

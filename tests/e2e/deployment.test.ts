import { Database } from 'bun:sqlite'
import { describe, expect, test } from 'bun:test'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import OpenAI from 'openai'
import { startScriptDefaults } from '../../scripts/bench/switchyard'
import { buildServer } from '../../scripts/build'
import { startFakeUpstream } from '../helpers/fake-upstream'
import { startServerProcess } from '../helpers/server-process'
import { HTTP_CLIENT_THREAD, policies, SCHED_BATCH, SCHED_IDLE, WORKER_THREAD } from '../helpers/threads'
import { until } from '../helpers/until'

const ROOT = join(import.meta.dir, '..', '..')

/** `ENV NAME=value` pairs of the Dockerfile's runtime stage (continuation lines included). */
function dockerfileEnv(): Record<string, string> {
	const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8').replaceAll('\\\n', ' ')
	const runtime = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '))
	const env: Record<string, string> = {}
	for (const line of runtime.split('\n').filter((l) => l.startsWith('ENV '))) {
		for (const [, name = '', value = ''] of line.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=(\S+)/g))
			env[name] = value
	}
	return env
}

describe('runtime settings', () => {
	test('bun start and the Docker image leave the JavaScriptCore options to the server', () => {
		// src/runtime/tuning.ts sets them at boot, the same for every way of starting it.
		expect(startScriptDefaults(ROOT)).toEqual({})
		expect(Object.keys(dockerfileEnv()).filter((name) => name.startsWith('BUN_JSC_'))).toEqual([])
	})

	test('bun start and the Docker image run the bundle', () => {
		const { scripts } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
			scripts: Record<string, string>
		}
		expect(scripts.start).toStartWith('bun run build && ')
		expect(scripts.start).toEndWith(' bun dist/index.js')
		expect(readFileSync(join(ROOT, 'Dockerfile'), 'utf8')).toContain('CMD ["bun", "dist/index.js"]')
	})

	test('the Docker image carries the migrations of both databases, which the bundle applies at start', () => {
		const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8')
		expect(dockerfile).toContain('COPY db/migrations ./db/migrations\n')
		expect(dockerfile).toContain('COPY db/migrations-pg ./db/migrations-pg\n')
	})
})

/** One streamed completion, read to its end. */
async function streamOnce(openai: OpenAI) {
	const stream = await openai.chat.completions.create({
		model: 'auto',
		messages: [{ role: 'user', content: 'Hello, how are you?' }],
		stream: true,
	})
	let text = ''
	for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? ''
	// The default rules send a short chat to the simple tier's first model.
	expect(text).toBe('Hello from gpt-6-luna')
}

describe('the bundle', () => {
	test('serves the gateway and the dashboard, and its own writer thread writes the log', async () => {
		// Inside the project folder, as dist/ is: the bundle finds the migrations and assets from there.
		const outdir = mkdtempSync(join(ROOT, '.bundle-test-'))
		try {
			await using upstream = await startFakeUpstream()
			await using server = await startServerProcess(await buildServer(outdir), {
				OPENAI_API_KEY: 'sk-openai-test',
				OPENAI_BASE_URL: upstream.openaiBaseUrl,
			})
			const openai = new OpenAI({ apiKey: await server.createKey(), baseURL: `${server.origin}/v1` })
			const { data, response } = await openai.chat.completions
				.create({ model: 'auto', messages: [{ role: 'user', content: 'Hello, how are you?' }] })
				.withResponse()
			expect(data.choices[0]?.message.role).toBe('assistant')
			expect(response.headers.get('x-switchyard-rule')).toBe('short-chat')
			// Every upstream call goes through `fetch`, which starts Bun's HTTP client thread; the server switches
			// it to SCHED_BATCH (by `chrt`, in the background) after the first answer.
			await streamOnce(openai)
			const { pid } = server.child
			await until(() => policies(HTTP_CLIENT_THREAD, pid).includes(SCHED_BATCH), 3000)
			expect(policies(HTTP_CLIENT_THREAD, pid)).toEqual([SCHED_BATCH])
			await until(() => policies(WORKER_THREAD, pid).includes(SCHED_IDLE), 3000)
			expect(policies(WORKER_THREAD, pid)).toEqual([SCHED_IDLE])
			for (const asset of ['htmx.js', 'alpine.js', 'chart.js', 'app.js', 'app.css', 'favicon.svg'])
				expect((await fetch(`${server.origin}/assets/${asset}`)).status).toBe(200)
			const login = await fetch(`${server.origin}/login`)
			expect(login.status).toBe(200)
			expect(await login.text()).toContain('<form')

			server.child.kill('SIGTERM')
			expect(await server.child.exited).toBe(0)
			const db = new Database(server.databasePath, { readonly: true })
			const rows = db.query('SELECT status, rule FROM request_log').all()
			db.close()
			expect(rows).toEqual([
				{ status: 200, rule: 'short-chat' },
				{ status: 200, rule: 'short-chat' },
			])
			// The server writes the log itself only when its writer thread fails to load or dies.
			expect(server.stderr()).not.toContain('request log')
		} finally {
			rmSync(outdir, { recursive: true, force: true })
		}
	})
})

describe('the server process', () => {
	test('answers, and says once per thread what it costs, when chrt is missing', async () => {
		await using upstream = await startFakeUpstream()
		await using server = await startServerProcess(join(ROOT, 'src/index.ts'), {
			PATH: '/nonexistent',
			OPENAI_API_KEY: 'sk-openai-test',
			OPENAI_BASE_URL: upstream.openaiBaseUrl,
		})
		const openai = new OpenAI({ apiKey: await server.createKey(), baseURL: `${server.origin}/v1` })
		for (let call = 0; call < 2; call++) {
			const completion = await openai.chat.completions.create({
				model: 'auto',
				messages: [{ role: 'user', content: 'Hello, how are you?' }],
			})
			expect(completion.choices[0]?.message.role).toBe('assistant')
			await streamOnce(openai)
		}
		await until(() => /SCHED_BATCH/.test(server.stderr()) && /SCHED_IDLE/.test(server.stderr()), 3000)
		// Said once for each thread, not on every call.
		expect(server.stderr().match(/upstream calls: .*SCHED_BATCH.*chrt/g)).toHaveLength(1)
		expect(server.stderr().match(/request log: .*SCHED_IDLE.*chrt/g)).toHaveLength(1)
	})
})

import { describe, expect, it, setDefaultTimeout } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startFakeUpstream } from '../helpers/fake-upstream'
import { startServerProcess } from '../helpers/server-process'

// Two starts of a server process, a request cut off by SIGKILL: well under a minute.
setDefaultTimeout(60_000)

const secret = (bytes: number) =>
	Buffer.from(crypto.getRandomValues(new Uint8Array(bytes))).toString('base64')

describe('a budget across a server killed mid-request, on SQLite', () => {
	it('holds nothing reserved after the restart, and keeps what was spent', async () => {
		await using upstream = await startFakeUpstream({ record: false })
		const dataDir = mkdtempSync(join(tmpdir(), 'switchyard-budget-restart-'))
		const env = {
			JWT_SECRET: secret(48),
			ENCRYPTION_KEY: secret(32),
			OPENAI_BASE_URL: upstream.openaiBaseUrl,
			ANTHROPIC_BASE_URL: upstream.anthropicBaseUrl,
			OPENAI_API_KEY: 'sk-openai-test',
			ANTHROPIC_API_KEY: 'sk-ant-test',
		}
		try {
			const budgets = async (origin: string, token: string) => {
				const res = await fetch(`${origin}/api/budgets`, { headers: { authorization: `Bearer ${token}` } })
				return (await res.json()) as { spentUsd: number; reservedUsd: number }[]
			}
			let spent = 0
			{
				await using first = await startServerProcess('src/index.ts', env, { dataDir })
				const key = await first.createKey()
				const token = await first.adminToken()
				const put = await fetch(`${first.origin}/api/org/budgets`, {
					method: 'PUT',
					headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
					body: JSON.stringify([{ window: 'total', usd: 100 }]),
				})
				expect(put.status).toBe(200)
				const ask = (stream: boolean) =>
					fetch(`${first.origin}/v1/chat/completions`, {
						method: 'POST',
						headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
						body: JSON.stringify({
							model: 'gpt-4o-mini',
							max_tokens: 1000,
							stream,
							messages: [{ role: 'user', content: 'Tell me a long story' }],
						}),
					})
				await (await ask(false)).text()
				upstream.script('gpt-4o-mini', { kind: 'slow', firstByteMs: 0, chunkMs: 2000 })
				const streaming = await ask(true)
				const reader = streaming.body?.getReader()
				await reader?.read()
				const [during] = await budgets(first.origin, token)
				expect(during?.reservedUsd).toBeGreaterThan(0)
				spent = during?.spentUsd ?? 0
				expect(spent).toBeGreaterThan(0)
				first.child.kill('SIGKILL')
				await first.child.exited
				await reader?.cancel().catch(() => {})
			}
			await using second = await startServerProcess('src/index.ts', env, { dataDir })
			const [after] = await budgets(second.origin, await second.adminToken())
			expect(after?.reservedUsd).toBe(0)
			expect(after?.spentUsd).toBe(spent)
		} finally {
			rmSync(dataDir, { recursive: true, force: true })
		}
	})
})

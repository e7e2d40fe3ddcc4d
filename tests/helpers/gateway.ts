import { asc } from 'drizzle-orm'
import OpenAI from 'openai'
import { requestLog } from '../../db/schema'
import { makeApp, signupUser, type TestApp } from './app'
import { type FakeUpstream, startFakeUpstream } from './fake-upstream'

export type LogRow = typeof requestLog.$inferSelect

export interface GatewayHarness extends AsyncDisposable {
	t: TestApp
	upstream: FakeUpstream
	/** The gateway's OpenAI-compatible base URL, `http://127.0.0.1:<port>/v1`. */
	baseURL: string
	/** A gateway key of the signed-up user. */
	key: string
	userId: number
	/** The official OpenAI SDK pointed at the gateway, as a user would configure it. */
	openai: OpenAI
	/** Waits for buffered log rows to be written and returns every row, oldest first. */
	rows(): Promise<LogRow[]>
	fetch(path: string, init?: RequestInit): Promise<Response>
}

/**
 * The real server on a loopback port, in front of a fake upstream speaking both wire formats, with the
 * upstream's test keys as organisation keys and one signed-up user holding a gateway key.
 */
export async function startGateway(env: Record<string, string> = {}): Promise<GatewayHarness> {
	const upstream = await startFakeUpstream()
	const t = await makeApp({
		OPENAI_BASE_URL: upstream.openaiBaseUrl,
		ANTHROPIC_BASE_URL: upstream.anthropicBaseUrl,
		OPENAI_API_KEY: 'sk-openai-test',
		ANTHROPIC_API_KEY: 'sk-ant-test',
		UPSTREAM_TIMEOUT_MS: '5000',
		...env,
	})
	const { token, user } = await signupUser(t, 'dev@example.com')
	const created = await t.call('POST', '/api/keys', { token, body: { name: 'test' } })
	const { key } = (await created.json()) as { key: string }
	const server = t.app.listen({ port: 0, hostname: '127.0.0.1' }).server
	if (!server) throw new Error('the gateway did not start')
	const baseURL = `http://127.0.0.1:${server.port}/v1`
	return {
		t,
		upstream,
		baseURL,
		key,
		userId: user.id,
		openai: new OpenAI({ apiKey: key, baseURL, maxRetries: 0 }),
		async rows() {
			await t.deps.requestLog.flush()
			return t.deps.db.select().from(requestLog).orderBy(asc(requestLog.id)).all()
		},
		fetch(path, init = {}) {
			const headers = new Headers(init.headers)
			if (!headers.has('authorization')) headers.set('authorization', `Bearer ${key}`)
			if (init.body && !headers.has('content-type')) headers.set('content-type', 'application/json')
			return fetch(`${baseURL}${path}`, { ...init, headers })
		},
		async [Symbol.asyncDispose]() {
			await server.stop(true)
			await upstream.stop()
			await t.close()
		},
	}
}

/** Reads a server-sent event stream into its `data:` payloads. */
export async function readEvents(response: Response): Promise<string[]> {
	const text = await response.text()
	return text
		.split('\n\n')
		.map((block) => block.trim())
		.filter((block) => block.startsWith('data: '))
		.map((block) => block.slice(6))
}

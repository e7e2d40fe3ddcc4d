import { rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { asc } from 'drizzle-orm'
import OpenAI from 'openai'
import type { requestLog } from '../../db/schema'
import { makeApp, signupUser, type TestApp } from './app'
import { testClock } from './clock'
import { type FakeUpstream, type FakeUpstreamOptions, startFakeUpstream } from './fake-upstream'
import type { Backend } from './stores'

export type LogRow = typeof requestLog.$inferSelect

export interface GatewayHarness extends AsyncDisposable {
	t: TestApp
	upstream: FakeUpstream
	/** The gateway's OpenAI-compatible base URL, `http://127.0.0.1:<port>/v1`. */
	baseURL: string
	/** A gateway key of the signed-up user. */
	key: string
	/** The dashboard token of that user, the first account and so the admin. */
	token: string
	userId: number
	/** The official OpenAI SDK pointed at the gateway, as a user would configure it. */
	openai: OpenAI
	/** Waits for buffered log rows to be written and returns every row, oldest first. */
	rows(): Promise<LogRow[]>
	/** Live rules with one tier of these models and no rule, so `auto` tries exactly them, in order. */
	onlyTier(models: string[]): Promise<void>
	fetch(path: string, init?: RequestInit): Promise<Response>
}

export interface GatewayOptions {
	/** Also reach the OpenAI-compatible providers (Groq, Mistral, DeepSeek, Together) at the fake, with keys. */
	compatibleProviders?: boolean
	/** A CATALOG_PATH document merged over the shipped catalog, as an operator would write one. */
	catalog?: { providers?: object[]; models?: object[] }
	/** The keys the fake upstream accepts, per provider (its defaults otherwise). */
	upstreamKeys?: FakeUpstreamOptions['keys']
	/** The database, when the test is about one database's own machinery (the suite's otherwise). */
	backend?: Backend
}

const COMPATIBLE = ['groq', 'mistral', 'deepseek', 'together'] as const

/**
 * The real server on a loopback port, in front of a fake upstream speaking every provider's wire format,
 * with the upstream's test keys as organisation keys and one signed-up user holding a gateway key.
 */
export async function startGateway(
	env: Record<string, string> = {},
	options: GatewayOptions = {},
): Promise<GatewayHarness> {
	const upstream = await startFakeUpstream({ now: testClock, keys: options.upstreamKeys })
	const catalog = {
		providers: [...(options.catalog?.providers ?? [])],
		models: options.catalog?.models ?? [],
	}
	const keys: Record<string, string> = {}
	if (options.compatibleProviders) {
		for (const id of COMPATIBLE) {
			catalog.providers.push({ id, baseUrl: upstream.baseUrls[id] })
			keys[`${id.toUpperCase()}_API_KEY`] = `sk-${id}-test`
		}
	}
	const catalogPath = join(tmpdir(), `switchyard-catalog-${crypto.randomUUID()}.json`)
	const override = catalog.providers.length > 0 || catalog.models.length > 0
	if (override) writeFileSync(catalogPath, JSON.stringify(catalog))
	const t = await makeApp(
		{
			OPENAI_BASE_URL: upstream.openaiBaseUrl,
			ANTHROPIC_BASE_URL: upstream.anthropicBaseUrl,
			OPENAI_API_KEY: 'sk-openai-test',
			ANTHROPIC_API_KEY: 'sk-ant-test',
			UPSTREAM_TIMEOUT_MS: '5000',
			...keys,
			...(override && { CATALOG_PATH: catalogPath }),
			...env,
		},
		{ backend: options.backend },
	)
	if (override) rmSync(catalogPath, { force: true })
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
		token,
		userId: user.id,
		openai: new OpenAI({ apiKey: key, baseURL, maxRetries: 0 }),
		async onlyTier(models) {
			const rules = {
				version: 1,
				baseline: models[0],
				defaultTier: 'only',
				tiers: { only: { models } },
				rules: [],
			}
			const res = await t.call('PUT', '/api/rules', { token, body: rules })
			if (res.status !== 200) throw new Error(`rules not saved: ${await res.text()}`)
		},
		async rows() {
			await t.deps.requestLog.flush()
			const { db, tables } = t.deps.store
			return db.select().from(tables.requestLog).orderBy(asc(tables.requestLog.id))
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

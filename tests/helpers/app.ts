import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createApp } from '../../src/app'
import { loadConfig } from '../../src/config'
import { type AppDeps, closeDeps, createDeps } from '../../src/deps'
import { testClock } from './clock'
import { type Backend, freshSchema, SUITE_BACKEND } from './stores'

/** Cheap argon2id so suites can sign up many users; the algorithm is the production one. */
export const TEST_PASSWORD_COST = { memoryCost: 256, timeCost: 1 }

export interface TestApp extends AsyncDisposable {
	app: ReturnType<typeof createApp>
	deps: AppDeps
	dir: string
	/** The PostgreSQL schema the app lives in; undefined on SQLite. */
	postgresSchema?: string
	/** `app.handle` on a path, with JSON bodies encoded and `Authorization` set from `token`. */
	call(method: string, path: string, options?: CallOptions): Promise<Response>
	close(): Promise<void>
}

export interface CallOptions {
	token?: string
	cookie?: string
	body?: unknown
	headers?: Record<string, string>
}

const randomSecret = (bytes: number) =>
	Buffer.from(crypto.getRandomValues(new Uint8Array(bytes))).toString('base64')

export interface AppOptions {
	/**
	 * The database: the suite's (`TEST_BACKEND`, SQLite unless set to postgres) by default; a test of one
	 * database's own machinery (the SQLite writer thread, say) names it.
	 */
	backend?: Backend
	/**
	 * Another instance of that app's deployment: the same secrets and the same PostgreSQL schema (it leaves
	 * the schema to that app to drop). Only on PostgreSQL: one SQLite file has one server.
	 */
	joining?: TestApp
}

/**
 * A real app with its own random secrets, on a real SQLite file in a fresh temp folder, or on a fresh
 * schema of the test PostgreSQL server when the suite runs on PostgreSQL.
 */
export async function makeApp(env: Record<string, string> = {}, options: AppOptions = {}): Promise<TestApp> {
	const dir = mkdtempSync(join(tmpdir(), 'switchyard-test-'))
	const { joining } = options
	if (joining && !joining.postgresSchema) throw new Error('only an app on PostgreSQL can be joined')
	const postgres = joining
		? undefined
		: (options.backend ?? SUITE_BACKEND) === 'postgres'
			? await freshSchema()
			: undefined
	const schema = joining?.postgresSchema ?? postgres?.schema
	const config = loadConfig({
		DATABASE_PATH: join(dir, 'switchyard.db'),
		RULES_PATH: join(dir, 'rules.json'),
		JWT_SECRET: joining?.deps.config.jwtSecret ?? randomSecret(48),
		ENCRYPTION_KEY: joining?.deps.config.encryptionKey ?? randomSecret(32),
		...(schema && { DATABASE_URL: joining?.deps.config.databaseUrl ?? postgres?.url }),
		...env,
	})
	const deps = await createDeps(config, {
		passwordCost: TEST_PASSWORD_COST,
		clock: testClock,
		postgres: schema ? { schema, maxConnections: 4 } : undefined,
	})
	const app = createApp(deps)
	let closed = false
	const close = async () => {
		if (closed) return
		closed = true
		await closeDeps(deps)
		await postgres?.drop()
		rmSync(dir, { recursive: true, force: true })
	}
	return {
		app,
		deps,
		dir,
		postgresSchema: schema,
		close,
		call(method, path, options = {}) {
			const headers = new Headers(options.headers)
			if (options.token) headers.set('authorization', `Bearer ${options.token}`)
			if (options.cookie) headers.set('cookie', options.cookie)
			let body: string | undefined
			if (options.body !== undefined) {
				body = typeof options.body === 'string' ? options.body : JSON.stringify(options.body)
				if (!headers.has('content-type')) headers.set('content-type', 'application/json')
			}
			return app.handle(new Request(`http://localhost${path}`, { method, headers, body }))
		},
		async [Symbol.asyncDispose]() {
			await close()
		},
	}
}

export interface SignedUp {
	token: string
	cookie: string
	user: { id: number; email: string; role: 'admin' | 'developer' }
}

export async function signupUser(t: TestApp, email: string, password = 'correct horse'): Promise<SignedUp> {
	const res = await t.call('POST', '/api/auth/signup', { body: { email, password } })
	if (res.status !== 201) throw new Error(`signup failed: ${res.status} ${await res.text()}`)
	const { token, user } = (await res.json()) as { token: string; user: SignedUp['user'] }
	const cookie = (res.headers.get('set-cookie') ?? '').split(';')[0] ?? ''
	return { token, cookie, user }
}

/** Headers a browser sends with a same-origin form post or fetch. */
export const SAME_ORIGIN = { origin: 'http://localhost', 'sec-fetch-site': 'same-origin' }

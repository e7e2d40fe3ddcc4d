// Switchyard as its own process (`bun src/index.ts` or the bundle), for the tests that need the whole
// program: start-up, signals, the writer thread as it is loaded in production.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { collect, waitForLine } from '../../scripts/bench/processes'
import { createGatewayKey } from '../../scripts/bench/switchyard'

const ADMIN = { email: 'admin@example.com', password: 'admin password' }

export interface ServerProcess extends AsyncDisposable {
	readonly child: Bun.Subprocess<'ignore', 'pipe', 'pipe'>
	readonly origin: string
	readonly dataDir: string
	readonly databasePath: string
	/** A gateway key (`sy_…`) of the admin, created through the JSON API. */
	createKey(): Promise<string>
	/** A dashboard session token of the admin, for `Authorization: Bearer`. */
	adminToken(): Promise<string>
	/** Everything the server wrote to stderr so far. */
	stderr(): string
}

export interface ServerProcessOptions {
	/** A data folder to reuse, as a restart does; its owner removes it. @default a fresh one, removed at disposal */
	dataDir?: string
}

/**
 * Starts `bun <entry>` in development mode on a free port with a fresh data folder and an admin account,
 * and resolves once it says it is listening. Disposal kills it and removes the folder.
 */
export async function startServerProcess(
	entry: string,
	env: Record<string, string>,
	options: ServerProcessOptions = {},
): Promise<ServerProcess> {
	const dir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'switchyard-process-'))
	const databasePath = join(dir, 'switchyard.db')
	// This Bun by its path: the environment may hold a PATH of its own.
	const child = Bun.spawn([process.execPath, entry], {
		env: {
			PATH: process.env.PATH ?? '',
			PORT: '0',
			HOST: '127.0.0.1',
			DATABASE_PATH: databasePath,
			RULES_PATH: join(dir, 'rules.json'),
			ADMIN_EMAIL: ADMIN.email,
			ADMIN_PASSWORD: ADMIN.password,
			...env,
		},
		stdin: 'ignore',
		stdout: 'pipe',
		stderr: 'pipe',
	})
	const errors: string[] = []
	collect(child.stderr, errors)
	const dispose = async () => {
		child.kill('SIGKILL')
		await child.exited
		if (!options.dataDir) rmSync(dir, { recursive: true, force: true })
	}
	try {
		// Standard output goes to its own log: `stderr()` must hold only what the server reports as errors.
		const printed: string[] = []
		const [, origin = ''] = await waitForLine(child.stdout, /dashboard at (http:\/\/\S+)/, 30_000, printed)
		return {
			child,
			origin,
			dataDir: dir,
			databasePath,
			createKey: () => createGatewayKey(origin, ADMIN, 'process test'),
			adminToken: () => login(origin, ADMIN),
			stderr: () => errors.join(''),
			[Symbol.asyncDispose]: dispose,
		}
	} catch (error) {
		await dispose()
		throw new Error(`${error instanceof Error ? error.message : error}\n${errors.join('')}`)
	}
}

async function login(origin: string, credentials: { email: string; password: string }): Promise<string> {
	const response = await fetch(`${origin}/api/auth/login`, {
		method: 'POST',
		headers: { 'content-type': 'application/json' },
		body: JSON.stringify(credentials),
	})
	if (!response.ok) throw new Error(`login failed: ${response.status} ${await response.text()}`)
	return ((await response.json()) as { token: string }).token
}

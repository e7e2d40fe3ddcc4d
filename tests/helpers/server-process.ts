// Switchyard as its own process (`bun src/index.ts` or the bundle), for the tests that need the whole
// program: start-up, signals, the writer thread as it is loaded in production.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const ADMIN = { email: 'admin@example.com', password: 'admin password' }

export interface ServerProcess extends AsyncDisposable {
	readonly child: Bun.Subprocess<'ignore', 'pipe', 'pipe'>
	readonly origin: string
	readonly databasePath: string
	/** A gateway key (`sy_…`) of the admin, created through the JSON API. */
	createKey(): Promise<string>
	/** Everything the server wrote to stderr so far. */
	stderr(): string
}

/**
 * Starts `bun <entry>` in development mode on a free port with a fresh data folder and an admin account,
 * and resolves once it says it is listening. Disposal kills it and removes the folder.
 */
export async function startServerProcess(entry: string, env: Record<string, string>): Promise<ServerProcess> {
	const dir = mkdtempSync(join(tmpdir(), 'switchyard-process-'))
	const databasePath = join(dir, 'switchyard.db')
	const child = Bun.spawn(['bun', entry], {
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
	let errors = ''
	void child.stderr.pipeTo(
		new WritableStream({
			write(chunk) {
				errors += new TextDecoder().decode(chunk)
			},
		}),
	)
	const dispose = async () => {
		child.kill('SIGKILL')
		await child.exited
		rmSync(dir, { recursive: true, force: true })
	}
	try {
		const origin = await listeningOrigin(child.stdout)
		return {
			child,
			origin,
			databasePath,
			createKey: () => createKey(origin),
			stderr: () => errors,
			[Symbol.asyncDispose]: dispose,
		}
	} catch (error) {
		await dispose()
		throw new Error(`${error instanceof Error ? error.message : error}\n${errors}`)
	}
}

async function listeningOrigin(stdout: ReadableStream<Uint8Array>): Promise<string> {
	const reader = stdout.getReader()
	const decoder = new TextDecoder()
	let printed = ''
	for (;;) {
		const origin = /dashboard at (http:\/\/\S+)/.exec(printed)?.[1]
		if (origin) {
			reader.releaseLock()
			return origin
		}
		const { value, done } = await reader.read()
		if (done) throw new Error(`the server did not start: ${printed}`)
		printed += decoder.decode(value, { stream: true })
	}
}

async function createKey(origin: string): Promise<string> {
	const login = await fetch(`${origin}/api/auth/login`, {
		method: 'POST',
		headers: { 'content-type': 'application/json' },
		body: JSON.stringify(ADMIN),
	})
	const { token } = (await login.json()) as { token: string }
	const created = await fetch(`${origin}/api/keys`, {
		method: 'POST',
		headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
		body: JSON.stringify({ name: 'process test' }),
	})
	if (created.status !== 201)
		throw new Error(`creating a key failed: ${created.status} ${await created.text()}`)
	return ((await created.json()) as { key: string }).key
}

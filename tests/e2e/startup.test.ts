// Refusals at start-up as an operator meets them: the server process exits at once and says why.
import { describe, expect, it } from 'bun:test'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import defaultRules from '../../src/rules/default-rules.json'

const ENTRY = join(import.meta.dir, '..', '..', 'src/index.ts')

/** Runs the server with only `env` (and PATH) until it exits: its exit code and standard error. */
async function startAndExit(env: Record<string, string>) {
	// This Bun by its path: the environment may hold a PATH of its own.
	const child = Bun.spawn([process.execPath, ENTRY], {
		env: { PATH: process.env.PATH ?? '', ...env },
		stdout: 'ignore',
		stderr: 'pipe',
	})
	const [code, stderr] = await Promise.all([child.exited, new Response(child.stderr).text()])
	return { code, stderr }
}

/** A fresh data folder, removed at disposal. */
function dataFolder() {
	const path = mkdtempSync(join(tmpdir(), 'switchyard-startup-'))
	return { path, [Symbol.dispose]: () => rmSync(path, { recursive: true, force: true }) }
}

describe('starting the server with a bad value', () => {
	it('exits non-zero with one line naming the variable', async () => {
		const { code, stderr } = await startAndExit({ PORT: 'not-a-port' })
		expect(code).toBe(1)
		expect(stderr.trim().split('\n')).toEqual([
			'Configuration error: PORT must be a port number between 0 and 65535 (0: any free port) (got "not-a-port")',
		])
	})
})

describe('starting the server with an invalid rules file', () => {
	it('refuses to start, naming the bad field', async () => {
		using dir = dataFolder()
		const rulesPath = join(dir.path, 'rules.json')
		writeFileSync(rulesPath, JSON.stringify({ ...defaultRules, defaultTier: 'nowhere' }))
		const { code, stderr } = await startAndExit({
			PORT: '0',
			DATABASE_PATH: join(dir.path, 'switchyard.db'),
			RULES_PATH: rulesPath,
		})
		expect(code).toBe(1)
		expect(stderr.trim().split('\n')).toEqual([
			'Configuration error: the rules file is invalid (RULES_PATH):',
			'  /defaultTier: unknown tier "nowhere"; tiers: simple, medium, complex',
		])
	})
})

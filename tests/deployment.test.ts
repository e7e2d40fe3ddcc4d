import { describe, expect, test } from 'bun:test'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { startScriptDefaults } from '../scripts/bench/switchyard'

const ROOT = join(import.meta.dir, '..')

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
	test('bun start and the Docker image give the server the same runtime defaults', () => {
		const defaults = startScriptDefaults(ROOT)
		expect(defaults.BUN_JSC_forceRAMSize).toBe('536870912')
		const docker = dockerfileEnv()
		for (const [name, value] of Object.entries(defaults)) expect(docker[name]).toBe(value)
	})
})

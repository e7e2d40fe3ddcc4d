import { describe, expect, it } from 'bun:test'
import { resolve } from 'node:path'
import { ConfigError, loadConfig } from '../src/config'

function problemsOf(env: Record<string, string>): string[] {
	try {
		loadConfig(env)
	} catch (error) {
		if (error instanceof ConfigError) return error.problems
		throw error
	}
	return []
}

const KEY_32 = Buffer.alloc(32, 7).toString('base64')

describe('loadConfig', () => {
	it('applies the documented defaults', () => {
		const config = loadConfig({})
		expect(config).toMatchObject({
			port: 3000,
			host: '0.0.0.0',
			databasePath: resolve('./data/switchyard.db'),
			dataDir: resolve('./data'),
			rulesPath: resolve('./data/rules.json'),
			openaiBaseUrl: 'https://api.openai.com/v1',
			anthropicBaseUrl: 'https://api.anthropic.com',
			upstreamTimeoutMs: 60_000,
			upstreamTotalTimeoutMs: 600_000,
			upstreamMaxAnswerBytes: 33_554_432,
			trustProxy: false,
			logRetentionDays: 90,
			logPromptText: false,
			production: false,
			admin: undefined,
		})
	})

	it('reads every variable it is given', () => {
		const config = loadConfig({
			PORT: '8080',
			HOST: '127.0.0.1',
			OPENAI_BASE_URL: 'http://127.0.0.1:9999/v1/',
			UPSTREAM_TIMEOUT_MS: '1500',
			UPSTREAM_TOTAL_TIMEOUT_MS: '90000',
			UPSTREAM_MAX_ANSWER_BYTES: '1048576',
			TRUST_PROXY: 'true',
			LOG_RETENTION_DAYS: '30',
			LOG_PROMPT_TEXT: 'true',
			ENCRYPTION_KEY: KEY_32,
			ADMIN_EMAIL: 'Admin@Example.com',
			ADMIN_PASSWORD: 'long enough',
			OPENAI_API_KEY: 'sk-org',
		})
		expect(config).toMatchObject({
			port: 8080,
			host: '127.0.0.1',
			openaiBaseUrl: 'http://127.0.0.1:9999/v1',
			upstreamTimeoutMs: 1500,
			upstreamTotalTimeoutMs: 90_000,
			upstreamMaxAnswerBytes: 1_048_576,
			trustProxy: true,
			logRetentionDays: 30,
			logPromptText: true,
			encryptionKey: KEY_32,
			admin: { email: 'admin@example.com', password: 'long enough' },
			envKeys: { OPENAI_API_KEY: 'sk-org' },
		})
	})

	it('reads SIGNUP, open by default', () => {
		expect(loadConfig({}).signup).toBe('open')
		expect(loadConfig({ SIGNUP: 'invite' }).signup).toBe('invite')
		expect(loadConfig({ SIGNUP: 'closed' }).signup).toBe('closed')
	})

	it('treats empty variables as unset', () => {
		expect(loadConfig({ PORT: '', ADMIN_EMAIL: '' }).port).toBe(3000)
	})

	it.each([
		[{ PORT: 'abc' }, 'PORT'],
		[{ PORT: '3.5' }, 'PORT'],
		[{ PORT: '70000' }, 'PORT'],
		[{ OPENAI_BASE_URL: 'not a url' }, 'OPENAI_BASE_URL'],
		[{ ANTHROPIC_BASE_URL: 'ftp://example.com' }, 'ANTHROPIC_BASE_URL'],
		[{ ENCRYPTION_KEY: Buffer.alloc(16).toString('base64') }, 'ENCRYPTION_KEY'],
		[{ JWT_SECRET: 'short' }, 'JWT_SECRET'],
		[{ UPSTREAM_TIMEOUT_MS: '0' }, 'UPSTREAM_TIMEOUT_MS'],
		[{ UPSTREAM_TOTAL_TIMEOUT_MS: 'soon' }, 'UPSTREAM_TOTAL_TIMEOUT_MS'],
		[{ UPSTREAM_MAX_ANSWER_BYTES: '10' }, 'UPSTREAM_MAX_ANSWER_BYTES'],
		[{ TRUST_PROXY: 'yes' }, 'TRUST_PROXY'],
		[{ LOG_RETENTION_DAYS: 'forever' }, 'LOG_RETENTION_DAYS'],
		[{ LOG_PROMPT_TEXT: 'maybe' }, 'LOG_PROMPT_TEXT'],
		[{ SIGNUP: 'invite-only' }, 'SIGNUP'],
		[{ ADMIN_EMAIL: 'not-an-email', ADMIN_PASSWORD: 'long enough' }, 'ADMIN_EMAIL'],
		[{ ADMIN_EMAIL: 'admin@example.com' }, 'ADMIN_PASSWORD'],
		[{ ADMIN_PASSWORD: 'long enough' }, 'ADMIN_EMAIL'],
		[{ NODE_ENV: 'production', ENCRYPTION_KEY: KEY_32 }, 'JWT_SECRET'],
		[{ NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(40) }, 'ENCRYPTION_KEY'],
	])('refuses %j with one line naming %s', (env, variable) => {
		const problems = problemsOf(env)
		expect(problems).toHaveLength(1)
		expect(problems[0]).toStartWith(variable)
	})

	it('lists every bad variable at once', () => {
		expect(problemsOf({ PORT: 'x', OPENAI_BASE_URL: 'y' }).map((line) => line.split(' ')[0])).toEqual([
			'PORT',
			'OPENAI_BASE_URL',
		])
	})
})

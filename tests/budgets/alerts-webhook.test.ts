import { describe, expect, it } from 'bun:test'
import { createHmac } from 'node:crypto'
import type { DataStore } from '../../db/client'
import type { BudgetWindow } from '../../db/schema'
import {
	attemptDueAfter,
	BudgetAlerts,
	type BudgetAlertsOptions,
	MAX_ATTEMPTS,
} from '../../src/budgets/alerts'
import { type Budget, BudgetLedger } from '../../src/budgets/ledger'
import { describeWebhookUrl, scrubDeliveryError } from '../../src/budgets/webhook'
import { ConfigError, loadConfig } from '../../src/config'
import { BACKENDS, openTestStore } from '../helpers/stores'
import { until } from '../helpers/until'

const NOW = new Date('2026-12-03T12:00:00Z').getTime()
const DOLLAR = 1_000_000
const TIMEOUT_MS = 100
const KEY = Buffer.alloc(32, 9)
const SECRET = `whsec_${KEY.toString('base64')}`

type Answer = 'ok' | 'fail' | 'hang'

interface Received {
	headers: Record<string, string>
	body: unknown
	text: string
}

/** A webhook receiver on 127.0.0.1 that answers each POST with the next of `answers` (then 204s). */
function receiver(answers: Answer[] = []) {
	const received: Received[] = []
	const hanging: (() => void)[] = []
	const server = Bun.serve({
		port: 0,
		hostname: '127.0.0.1',
		async fetch(request) {
			const text = await request.text()
			received.push({ headers: Object.fromEntries(request.headers), body: JSON.parse(text), text })
			const answer = answers.shift() ?? 'ok'
			if (answer === 'fail') return new Response('down for maintenance', { status: 500 })
			if (answer === 'hang')
				return new Promise<Response>((resolve) => hanging.push(() => resolve(new Response('late'))))
			return new Response(null, { status: 204 })
		},
	})
	return {
		url: `http://127.0.0.1:${server.port}/hooks/budget`,
		received,
		[Symbol.dispose]() {
			for (const answer of hanging) answer()
			server.stop(true)
		},
	}
}

async function addUserAndKey(store: DataStore) {
	const { db, tables } = store
	const [user] = await db
		.insert(tables.users)
		.values({ email: 'dev@example.com', passwordHash: 'x', role: 'developer' })
		.returning({ id: tables.users.id })
	if (!user) throw new Error('no user')
	const [key] = await db
		.insert(tables.gatewayKeys)
		.values({ userId: user.id, name: 'app', prefix: 'sy_test', keyHash: crypto.randomUUID() })
		.returning({ id: tables.gatewayKeys.id })
	if (!key) throw new Error('no key')
	return { userId: user.id, keyId: key.id }
}

/** What console.warn and console.error printed while `act` ran. */
async function logsDuring(act: () => Promise<unknown>): Promise<string> {
	const logged: string[] = []
	const { warn, error } = console
	console.warn = (message: string) => logged.push(message)
	console.error = (message: string) => logged.push(message)
	try {
		await act()
	} finally {
		console.warn = warn
		console.error = error
	}
	return logged.join('\n')
}

describe('describeWebhookUrl', () => {
	it.each([
		['https://hooks.example.com/', 'https://hooks.example.com'],
		['https://hooks.slack.com/services/T0/B0/secret', 'https://hooks.slack.com/…'],
		['http://user:pass@127.0.0.1:8080/hook?token=abc', 'http://127.0.0.1:8080/…'],
		['not a url', '[the webhook URL]'],
	])('shows %s as %s', (url, shown) => {
		expect(describeWebhookUrl(url)).toBe(shown)
	})
})

describe('scrubDeliveryError', () => {
	it('masks the URL, its user info, query and path, other URLs past their origin, and key shapes', () => {
		const url = 'https://bot:pa55word-x@hooks.example.com/services/T0/tok3n-path?token=s3cr3t-query'
		const scrubbed = scrubDeliveryError(
			`request to ${url} failed; redirected to https://evil.example.net/steal?k=1; sent Bearer abcdefghijkl; s3cr3t-query`,
			url,
		)
		for (const secret of ['pa55word-x', 'tok3n-path', 's3cr3t-query', 'steal', 'abcdefghijkl'])
			expect(scrubbed).not.toContain(secret)
		expect(scrubbed).toContain('https://evil.example.net/…')
	})
})

describe('the budget webhook settings', () => {
	it('reads the URL and the signing secret', () => {
		expect(
			loadConfig({ BUDGET_WEBHOOK_URL: 'https://hooks.example.com/x', BUDGET_WEBHOOK_SECRET: SECRET })
				.budgetWebhook,
		).toEqual({ url: 'https://hooks.example.com/x', secret: SECRET })
		expect(loadConfig({}).budgetWebhook).toBeUndefined()
	})

	it('refuses a URL that is not http(s), a malformed secret, or a secret without a URL, never echoing them', () => {
		const problems = (env: Record<string, string>) => {
			try {
				loadConfig(env)
				return []
			} catch (error) {
				if (error instanceof ConfigError) return error.problems
				throw error
			}
		}
		expect(
			problems({ BUDGET_WEBHOOK_URL: 'ftp://token@files.example.com', BUDGET_WEBHOOK_SECRET: 'whsec_short' }),
		).toEqual([
			'BUDGET_WEBHOOK_URL must be an http(s) URL',
			'BUDGET_WEBHOOK_SECRET must be whsec_ and the base64 of 24 to 64 random bytes (echo whsec_$(openssl rand -base64 32))',
		])
		expect(problems({ BUDGET_WEBHOOK_SECRET: SECRET })).toEqual([
			'BUDGET_WEBHOOK_SECRET is set but BUDGET_WEBHOOK_URL is not',
		])
	})
})

describe.each(BACKENDS)('budget alert delivery on %s', (backend) => {
	async function setup() {
		const test = await openTestStore(backend)
		const { store } = test
		const principal = await addUserAndKey(store)
		const ledger = await BudgetLedger.open(store)
		const ledgers: BudgetLedger[] = [ledger]
		const services: BudgetAlerts[] = []
		let request = 0
		const clock = { now: NOW }
		return {
			store,
			principal,
			clock,
			budget: (window: BudgetWindow, limitMicros: number, scope: 'key' | 'user' = 'key') =>
				ledger.create({
					scope,
					scopeId: scope === 'key' ? principal.keyId : principal.userId,
					window,
					limitMicros,
					createdBy: principal.userId,
				}),
			async spend(budgets: Budget[], micros: number) {
				const id = `request-${++request}`
				const reserved = await ledger.reserve(id, budgets, micros, NOW, NOW + 60_000)
				if (!reserved.ok) throw new Error('the test spend was refused')
				await ledger.settle(id, micros)
			},
			/** An alerts service on this instance, or (`another`) on another one; its clock is `clock.now`. */
			async alerts(options: BudgetAlertsOptions = {}, another = false) {
				let on = store
				let onLedger = ledger
				if (another) {
					on = await test.anotherInstance()
					onLedger = await BudgetLedger.open(on)
					ledgers.push(onLedger)
				}
				const alerts = new BudgetAlerts(on, onLedger, {
					timeoutMs: TIMEOUT_MS,
					now: () => clock.now,
					...options,
				})
				services.push(alerts)
				return alerts
			},
			async row() {
				const rows = await store.db.select().from(store.tables.budgetAlerts)
				return rows.map(({ threshold, attempts, notifiedAt, lastError }) => ({
					threshold,
					attempts,
					notifiedAt,
					lastError,
				}))
			},
			async [Symbol.asyncDispose]() {
				await Promise.all(services.map((each) => each.stop()))
				await Promise.all(ledgers.map((each) => each.close()))
				await test[Symbol.asyncDispose]()
			},
		}
	}

	it('POSTs a new alert as signed JSON to the webhook', async () => {
		await using s = await setup()
		using hook = receiver()
		const budget = await s.budget('day', 10 * DOLLAR)
		const alerts = await s.alerts({ webhook: { url: hook.url, secret: SECRET } })
		await s.spend([budget], 8_500_000)
		await alerts.check([budget], NOW)
		await until(() => hook.received.length === 1, 5_000, 'the receiver has the alert')

		const [post] = hook.received
		expect(post?.body).toEqual({
			type: 'budget.threshold',
			threshold: 80,
			budget: { id: budget.id, scope: 'key', scopeId: s.principal.keyId, window: 'day', limitUsd: 10 },
			spentUsd: 8.5,
			windowStart: '2026-12-03T00:00:00.000Z',
			resetsAt: '2026-12-04T00:00:00.000Z',
			createdAt: '2026-12-03T12:00:00.000Z',
		})
		const id = `budget-${budget.id}-${Date.parse('2026-12-03T00:00:00Z')}-80`
		const timestamp = String(NOW / 1000)
		const mac = createHmac('sha256', KEY).update(`${id}.${timestamp}.${post?.text}`).digest('base64')
		expect(post?.headers).toMatchObject({
			'content-type': 'application/json',
			'webhook-id': id,
			'webhook-timestamp': timestamp,
			'webhook-signature': `v1,${mac}`,
		})
		await until(async () => (await s.row())[0]?.notifiedAt !== null, 5_000, 'the alert is marked delivered')
		expect(await s.row()).toEqual([
			{ threshold: 80, attempts: 1, notifiedAt: new Date(NOW), lastError: null },
		])
		expect((await alerts.list()).map((alert) => alert.delivery)).toEqual(['delivered'])
	})

	it('retries a failing receiver with backoff, and delivers once it recovers, never again after', async () => {
		await using s = await setup()
		using hook = receiver(['fail', 'hang', 'ok'])
		const budget = await s.budget('total', DOLLAR)
		const alerts = await s.alerts({ webhook: { url: hook.url } })
		await s.spend([budget], 900_000)
		await alerts.check([budget], NOW)
		// The check started the first attempt; this pass runs after it, when nothing is due yet.
		expect(await alerts.deliverPending(NOW)).toBe(0)
		expect(hook.received).toHaveLength(1)
		expect(await s.row()).toEqual([{ threshold: 80, attempts: 1, notifiedAt: null, lastError: 'HTTP 500' }])

		const second = NOW + attemptDueAfter(1, TIMEOUT_MS)
		expect(await alerts.deliverPending(second - 1)).toBe(0)
		expect(hook.received).toHaveLength(1)
		expect(await alerts.deliverPending(second)).toBe(0)
		expect(hook.received).toHaveLength(2)
		expect(await s.row()).toEqual([
			{ threshold: 80, attempts: 2, notifiedAt: null, lastError: `no answer within ${TIMEOUT_MS} ms` },
		])
		expect((await alerts.list()).map((alert) => [alert.delivery, alert.lastError])).toEqual([
			['pending', `no answer within ${TIMEOUT_MS} ms`],
		])

		const third = NOW + attemptDueAfter(2, TIMEOUT_MS)
		expect(await alerts.deliverPending(third - 1)).toBe(0)
		expect(await alerts.deliverPending(third)).toBe(1)
		expect(await s.row()).toEqual([
			{ threshold: 80, attempts: 3, notifiedAt: new Date(third), lastError: null },
		])

		for (const later of [third + 60_000, NOW + 3_600_000]) expect(await alerts.deliverPending(later)).toBe(0)
		expect(hook.received).toHaveLength(3)
		expect(new Set(hook.received.map((post) => post.headers['webhook-id'])).size).toBe(1)
	})

	it(`gives up after ${MAX_ATTEMPTS} failed attempts and keeps the last error`, async () => {
		await using s = await setup()
		using hook = receiver(Array.from({ length: 20 }, () => 'fail' as const))
		const budget = await s.budget('day', DOLLAR)
		const alerts = await s.alerts({ webhook: { url: hook.url } })
		await s.spend([budget], 800_000)
		const logs = await logsDuring(async () => {
			await alerts.check([budget], NOW)
			for (let attempt = 0; attempt <= MAX_ATTEMPTS; attempt++)
				await alerts.deliverPending(NOW + attemptDueAfter(attempt, TIMEOUT_MS))
			await alerts.deliverPending(NOW + 3_600_000)
		})
		expect(hook.received).toHaveLength(MAX_ATTEMPTS)
		expect(await s.row()).toEqual([
			{ threshold: 80, attempts: MAX_ATTEMPTS, notifiedAt: null, lastError: 'HTTP 500' },
		])
		expect((await alerts.list()).map((alert) => alert.delivery)).toEqual(['failed'])
		expect(logs).toContain(`gave up sending the 80 % alert of key ${s.principal.keyId}'s day budget`)
	})

	it('resumes undelivered alerts on another instance, each sent once however many instances deliver at once', async () => {
		await using s = await setup()
		using hook = receiver()
		const budgets = await Promise.all([
			s.budget('day', DOLLAR),
			s.budget('month', DOLLAR),
			s.budget('total', DOLLAR),
			s.budget('day', DOLLAR, 'user'),
			s.budget('total', DOLLAR, 'user'),
		])
		await s.spend(budgets, DOLLAR)
		// Recorded by an instance without the webhook (or one that stopped before sending).
		await (await s.alerts()).check(budgets, NOW)
		const one = await s.alerts({ webhook: { url: hook.url } })
		const two = await s.alerts({ webhook: { url: hook.url } }, true)
		const three = await s.alerts({ webhook: { url: hook.url } }, true)

		const delivered = await Promise.all(
			[one, two, three, one, two, three].map((each) => each.deliverPending(NOW)),
		)
		expect(delivered.reduce((sum, n) => sum + n, 0)).toBe(10)
		for (const later of [NOW + 60_000, NOW + 3_600_000])
			await Promise.all([one, two, three].map((each) => each.deliverPending(later)))
		const ids = hook.received.map((post) => post.headers['webhook-id'])
		expect(ids).toHaveLength(10)
		expect(new Set(ids).size).toBe(10)
		expect((await s.row()).every((row) => row.attempts === 1 && row.notifiedAt !== null)).toBe(true)
	})

	it('holds the next attempt off while a late one is in flight, on every instance', async () => {
		await using s = await setup()
		using hook = receiver(['hang', 'ok'])
		const budget = await s.budget('total', DOLLAR)
		await s.spend([budget], 800_000)
		// Recorded while no instance had the webhook: by the time one has, every attempt is overdue.
		await (await s.alerts()).check([budget], NOW)
		const late = NOW + 3_600_000
		const one = await s.alerts({ webhook: { url: hook.url } })
		const two = await s.alerts({ webhook: { url: hook.url } }, true)
		const first = one.deliverPending(late)
		await until(() => hook.received.length === 1, 5_000, 'the late first attempt is sent')
		// Counted from the creation, the second attempt would be due long ago: not while the first is in flight.
		expect(await two.deliverPending(late + 1)).toBe(0)
		expect(await first).toBe(0)
		expect(hook.received).toHaveLength(1)
		expect(await two.deliverPending(late + attemptDueAfter(1, TIMEOUT_MS) - 1)).toBe(0)
		expect(await two.deliverPending(late + attemptDueAfter(1, TIMEOUT_MS))).toBe(1)
		expect(hook.received).toHaveLength(2)
	})

	it('keeps the URL, its token and its credentials out of last_error and the logs', async () => {
		await using s = await setup()
		const closed = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: () => new Response() })
		const port = closed.port
		closed.stop(true)
		const url = `http://bot:pa55word-x@127.0.0.1:${port}/services/T0/tok3n-path?token=s3cr3t-query`
		const secrets = ['pa55word-x', 'tok3n-path', 's3cr3t-query']
		const budget = await s.budget('day', DOLLAR)
		await s.spend([budget], DOLLAR)

		const refused = await s.alerts({ webhook: { url } })
		const chatty = await s.alerts({
			webhook: { url },
			fetch: (target) =>
				Promise.reject(new Error(`request to ${target} failed, reason: connect ECONNREFUSED`)),
		})
		const logs = await logsDuring(async () => {
			await refused.check([budget], NOW)
			await refused.deliverPending(NOW)
			await chatty.deliverPending(NOW + attemptDueAfter(2, TIMEOUT_MS))
		})
		const rows = await s.row()
		expect(rows.map((row) => row.attempts)).toEqual([2, 2])
		const stored = rows.map((row) => row.lastError ?? '').join('\n')
		for (const secret of secrets) {
			expect(stored).not.toContain(secret)
			expect(logs).not.toContain(secret)
		}
		expect(stored).toContain('request to [redacted] failed')
		expect(logs).toContain(`http://127.0.0.1:${port}/…`)
	})

	it('records alerts without sending anything when no webhook is set', async () => {
		await using s = await setup()
		const budget = await s.budget('day', DOLLAR)
		const alerts = await s.alerts()
		alerts.start()
		await s.spend([budget], DOLLAR)
		await alerts.check([budget], NOW)
		expect(await alerts.deliverPending(NOW)).toBe(0)
		expect((await alerts.list()).map((alert) => [alert.threshold, alert.delivery, alert.attempts])).toEqual([
			[100, 'off', 0],
			[80, 'off', 0],
		])
	})

	it('delivers from its own loop once started', async () => {
		await using s = await setup()
		using hook = receiver()
		const budget = await s.budget('day', DOLLAR)
		await s.spend([budget], DOLLAR)
		await (await s.alerts()).check([budget], NOW)
		const alerts = await s.alerts({ webhook: { url: hook.url } })
		alerts.start()
		await until(() => hook.received.length === 2, 5_000, 'the loop sent both alerts')
		await alerts.stop()
		expect((await s.row()).every((row) => row.notifiedAt !== null)).toBe(true)
	})
})

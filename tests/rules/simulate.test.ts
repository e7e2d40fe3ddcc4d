import { describe, expect, it } from 'bun:test'
import type { RequestLogEntry } from '../../src/request-log/request-log'
import defaultRules from '../../src/rules/default-rules.json'
import type { RulesDocument } from '../../src/rules/schema'
import { makeApp, signupUser } from '../helpers/app'
import { features } from '../helpers/features'
import { startGateway } from '../helpers/gateway'

const DAY = 24 * 60 * 60_000

const PROPOSED: RulesDocument = {
	version: 1,
	baseline: 'openai/gpt-4o',
	defaultTier: 'medium',
	tiers: {
		simple: { models: ['openai/gpt-4o-mini'] },
		medium: { models: ['anthropic/claude-sonnet-5-5'] },
		complex: { models: ['openai/gpt-6.2-sol'] },
	},
	rules: [
		{ name: 'chatty', when: { messages: { gte: 3 } }, tier: 'simple' },
		{ name: 'short', when: { promptTokens: { lte: 200 } }, tier: 'simple' },
		{ name: 'proofs', when: { keywords: ['prove'] }, tier: 'complex' },
	],
}

function row(over: Partial<RequestLogEntry>): RequestLogEntry {
	return {
		requestId: crypto.randomUUID(),
		createdAt: new Date(),
		userId: 1,
		keyId: 1,
		requestedModel: 'auto',
		status: 200,
		attempts: [],
		latencyMs: 10,
		...over,
	}
}

describe('POST /api/rules/simulate', () => {
	it('replays logged auto requests through proposed rules, matching a hand-computed fixture', async () => {
		await using t = await makeApp()
		const { token } = await signupUser(t, 'admin@example.com')
		const log = t.deps.requestLog
		// 0: older than the window (rows reach the log in time order, so it comes first).
		log.record(
			row({ createdAt: new Date(Date.now() - 10 * DAY), tier: 'medium', features: features(), costUsd: 1 }),
		)
		// 1: short → simple (gpt-4o-mini: 1000 × 0.15 + 500 × 0.60 = 450 µ$), tier changes.
		log.record(
			row({
				tier: 'medium',
				rule: 'default',
				features: features(),
				promptTokens: 1000,
				completionTokens: 500,
				costUsd: 0.01,
			}),
		)
		// 2: chatty → simple, but 200k tokens exceed gpt-4o-mini's 128k window: incapable, out of the costs.
		const incapableAt = new Date()
		log.record(
			row({
				createdAt: incapableAt,
				tier: 'simple',
				rule: 'long-chat',
				features: features({ promptTokens: 200_000, messages: 3 }),
				promptTokens: 200_000,
				costUsd: 0.05,
			}),
		)
		// 3: chatty → simple (500 × 0.15 + 100 × 0.60 = 135 µ$), tier changes.
		log.record(
			row({
				tier: 'medium',
				rule: 'default',
				features: features({ promptTokens: 500, messages: 10, hasTools: true }),
				promptTokens: 500,
				completionTokens: 100,
				costUsd: 0.002,
			}),
		)
		// 4: a named model is not routed by rules.
		log.record(row({ requestedModel: 'gpt-4o-mini', features: features(), costUsd: 1 }))
		// 6: reaches the keyword rule without logged text: not evaluated.
		log.record(
			row({
				tier: 'medium',
				rule: 'default',
				features: features({ promptTokens: 900, hasImages: true }),
				costUsd: 0.003,
			}),
		)
		// 7: logged with its text (LOG_PROMPT_TEXT): the keyword rule holds → complex (900 × 2 + 100 × 10 = 2800 µ$).
		log.record(
			row({
				tier: 'complex',
				rule: 'proof',
				features: features({ promptTokens: 900 }),
				promptText: 'Please prove it.',
				systemText: '',
				promptTokens: 900,
				completionTokens: 100,
				costUsd: 0.004,
			}),
		)
		await log.flush()

		const res = await t.call('POST', '/api/rules/simulate', { token, body: { rules: PROPOSED, days: 7 } })
		expect(res.status).toBe(200)
		const result = (await res.json()) as Record<string, unknown>
		expect(result).toEqual({
			days: 7,
			requests: 5,
			evaluated: 4,
			notEvaluated: 1,
			// Row 6 kept neither text nor digest, so the keyword rule cannot be answered for it.
			notEvaluatedByRule: [{ rule: 'proofs', needs: 'keywords "prove"', requests: 1 }],
			textKept: { digest: 0, text: 1, neither: 4 },
			changed: 2,
			// What rows 1, 3 and 7 cost: $0.01 + $0.002 + $0.004.
			current: { costUsd: expect.closeTo(0.016, 12), byTier: { medium: 2, simple: 1, complex: 1 } },
			// What they would cost: 450 + 135 + 2800 µ$.
			proposed: { costUsd: expect.closeTo(0.003385, 12), byTier: { simple: 3, complex: 1 } },
			// $0.003385 - $0.016.
			costDeltaUsd: expect.closeTo(-0.012615, 12),
			incapable: 1,
			incapableRequests: [
				{
					id: 3,
					createdAt: incapableAt.toISOString(),
					tier: 'simple',
					reasons: ['openai/gpt-4o-mini: context window 128000 is smaller than the prompt (~200000 tokens)'],
				},
			],
			// Every auto request of the window by the rule that decided it: $0.01 + $0.002 + $0.003 of $0.069,
			// then $0.05 and $0.004.
			byRule: [
				{
					rule: 'default',
					requests: 3,
					costUsd: expect.closeTo(0.015, 12),
					costShare: expect.closeTo(0.217391, 6),
				},
				{ rule: 'long-chat', requests: 1, costUsd: 0.05, costShare: expect.closeTo(0.724638, 6) },
				{ rule: 'proof', requests: 1, costUsd: 0.004, costShare: expect.closeTo(0.057971, 6) },
			],
		})
	})

	it('answers 400 for days outside 1 to 90 and for invalid rules', async () => {
		await using t = await makeApp()
		const { token } = await signupUser(t, 'admin@example.com')
		for (const days of [0, 91, 1.5]) {
			const res = await t.call('POST', '/api/rules/simulate', { token, body: { rules: PROPOSED, days } })
			expect(res.status).toBe(400)
		}
		const invalid = await t.call('POST', '/api/rules/simulate', {
			token,
			body: { rules: { ...PROPOSED, tiers: {} } },
		})
		expect(invalid.status).toBe(400)
		expect(((await invalid.json()) as { errors: unknown[] }).errors).toEqual([
			{ path: '/tiers', message: 'define at least one tier' },
			{ path: '/defaultTier', message: 'unknown tier "medium"; no tiers are defined' },
			{ path: '/rules/0/tier', message: 'unknown tier "simple"; no tiers are defined' },
			{ path: '/rules/1/tier', message: 'unknown tier "simple"; no tiers are defined' },
			{ path: '/rules/2/tier', message: 'unknown tier "complex"; no tiers are defined' },
		])
	})

	describe('on default settings (no LOG_PROMPT_TEXT)', () => {
		// `code-block` of the shipped rules matches ``` on the last user message: live when these requests came.
		const proposal: RulesDocument = {
			...(defaultRules as RulesDocument),
			rules: [
				{ name: 'code', when: { matches: '```' }, tier: 'complex' },
				{ name: 'proofs', when: { keywords: ['prove', 'step by step'] }, tier: 'complex' },
				{ name: 'numbers', when: { matches: '\\d{3}' }, tier: 'simple' },
			],
		}
		const prompts = ['Please prove that 2+2=4', '```js\nconsole.log(1)\n```', 'hello there', 'call 555 now']

		it('replays keyword rules and the patterns live then from digests, and counts what a new pattern left undecided', async () => {
			await using g = await startGateway()
			for (const content of prompts)
				await g.openai.chat.completions.create({ model: 'auto', messages: [{ role: 'user', content }] })
			await g.t.deps.requestLog.flush()
			const stored = await g.rows()
			expect(stored).toHaveLength(4)
			for (const row of stored) {
				expect(row.promptText).toBeNull()
				expect(row.textDigest).toBeInstanceOf(Uint8Array)
				expect(Buffer.from(row.textDigest ?? []).toString('latin1')).not.toMatch(/prove|hello|console/)
			}

			const res = await g.t.call('POST', '/api/rules/simulate', { token: g.token, body: { rules: proposal } })
			expect(res.status).toBe(200)
			const result = (await res.json()) as Record<string, unknown>
			expect(result).toMatchObject({
				requests: 4,
				// The proof (keyword) and the code block (a pattern live then); the other two reach `numbers`.
				evaluated: 2,
				notEvaluated: 2,
				notEvaluatedByRule: [{ rule: 'numbers', needs: 'matches /\\d{3}/', requests: 2 }],
				textKept: { digest: 4, text: 0, neither: 0 },
				proposed: { byTier: { complex: 2 } },
			})
		})

		it('keeps no digest with LOG_TEXT_DIGEST=false, and then says every text rule is undecided', async () => {
			await using g = await startGateway({ LOG_TEXT_DIGEST: 'false' })
			await g.openai.chat.completions.create({ model: 'auto', messages: [{ role: 'user', content: 'hi' }] })
			await g.t.deps.requestLog.flush()
			const res = await g.t.call('POST', '/api/rules/simulate', { token: g.token, body: { rules: proposal } })
			expect(await res.json()).toMatchObject({
				requests: 1,
				evaluated: 0,
				notEvaluatedByRule: [{ rule: 'code', needs: 'matches /```/', requests: 1 }],
				textKept: { digest: 0, text: 0, neither: 1 },
			})
		})

		it('ignores digests made under another encryption key instead of reading them as "absent"', async () => {
			await using g = await startGateway()
			await g.openai.chat.completions.create({
				model: 'auto',
				messages: [{ role: 'user', content: 'prove it' }],
			})
			await g.t.deps.requestLog.flush()
			const { db, tables } = g.t.deps.store
			await db.update(tables.requestLog).set({ textDigest: Buffer.from('0100deadbeef', 'hex') })
			const res = await g.t.call('POST', '/api/rules/simulate', { token: g.token, body: { rules: proposal } })
			expect(await res.json()).toMatchObject({ evaluated: 0, textKept: { digest: 0, neither: 1 } })
		})
	})
})

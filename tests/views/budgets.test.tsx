import { describe, expect, it } from 'bun:test'
import type { BudgetAlertView, BudgetView } from '../../src/budgets/budget-views'
import { BudgetBar } from '../../src/views/components/budget-bar'
import {
	type BudgetGroup,
	BudgetStatusCard,
	type LabelledAlert,
	OrgBudgetsSection,
} from '../../src/views/fragments/budgets'
import { KeyRow } from '../../src/views/fragments/gateway-keys'
import { UsersSection } from '../../src/views/fragments/users'

const HOSTILE = '</td><script>alert(1)</script><img src=x onerror=alert(2)>'

const render = (node: JSX.Element) => String(node)

function expectEscaped(html: string) {
	expect(html).not.toContain('<script>')
	expect(html).not.toContain('<img src=x')
	expect(html).toContain('&lt;script&gt;')
}

const budget = (change: Partial<BudgetView> = {}): BudgetView => ({
	scope: 'key',
	id: 1,
	window: 'day',
	usd: 10,
	spentUsd: 2.5,
	reservedUsd: 1,
	remainingUsd: 6.5,
	percentSpent: 25,
	resetsAt: new Date('2026-12-04T00:00:00Z'),
	...change,
})

const hostileKey = {
	id: 1,
	ownerEmail: HOSTILE,
	name: HOSTILE,
	prefix: 'sy_abcdefgh',
	rateLimitPerMinute: 60,
	createdAt: new Date(0),
	lastUsedAt: null,
	revokedAt: null,
}

describe('budget views', () => {
	it('draws spent and reserved as separate parts of the bar, with the figures in words', () => {
		const html = render(<BudgetBar budget={budget()} />)
		expect(html).toContain('class="budget budget-ok" data-window="day"')
		expect(html).toContain('<span class="budget-spent" style="width: 25%"></span>')
		expect(html).toContain('<span class="budget-reserved" style="width: 10%"></span>')
		expect(html).toContain('$2.50 of $10.00')
		expect(html).toContain('$1.00 reserved in flight · resets 2026-12-04 00:00 UTC')
	})

	it.each([
		[budget({ spentUsd: 8.5, percentSpent: 85, reservedUsd: 0 }), 'budget-near', '85%', '0%'],
		[budget({ spentUsd: 12, percentSpent: 120, reservedUsd: 3 }), 'budget-over', '100%', '0%'],
		[budget({ usd: 0, spentUsd: 0, percentSpent: 100, reservedUsd: 0 }), 'budget-over', '100%', '0%'],
		[budget({ spentUsd: 9, percentSpent: 90, reservedUsd: 5 }), 'budget-near', '90%', '10%'],
	])('keeps the bar within its limit and colours it by level (%#)', (shown, level, spent, reserved) => {
		const html = render(<BudgetBar budget={shown} />)
		expect(html).toContain(`class="budget ${level}"`)
		expect(html).toContain(`<span class="budget-spent" style="width: ${spent}"></span>`)
		expect(html).toContain(`<span class="budget-reserved" style="width: ${reserved}"></span>`)
	})

	it('says a total never resets and a limit of 0 refuses everything', () => {
		const html = render(<BudgetBar budget={budget({ window: 'total', usd: 0, resetsAt: null })} />)
		expect(html).toContain('refuses every request')
		expect(html).toContain('never resets')
	})

	it('escapes a budget’s label', () => {
		expectEscaped(render(<BudgetBar budget={budget()} label={HOSTILE} />))
		expectEscaped(
			render(
				<BudgetStatusCard groups={[{ title: HOSTILE, budgets: [{ label: HOSTILE, budget: budget() }] }]} />,
			),
		)
	})

	it('escapes a key row with its budgets, and fills its limits form with the current values', () => {
		const html = render(<KeyRow gatewayKey={hostileKey} budgets={[budget({ usd: 0.000001 })]} />)
		expectEscaped(html)
		expect(html).toContain('hx-post="/keys/1/limits"')
		expect(html).toContain('name="rpm" type="number" min="1" step="1" value="60"')
		expect(html).toContain('name="tpm" type="number" min="1" step="1" value=""')
		expect(html).toContain(
			'name="day" type="number" min="0" step="0.000001" inputmode="decimal" value="0.000001"',
		)
		expect(html).toContain('name="month" type="number" min="0" step="0.000001" inputmode="decimal" value=""')
		const refused = render(<KeyRow gatewayKey={hostileKey} everyone limitsError={HOSTILE} />)
		expectEscaped(refused)
		expect(refused).toContain('<details class="limits-edit" open>')
		expect(refused).toContain('hx-post="/keys/1/limits?scope=all"')
	})

	it('shows a key’s tokens per minute, requests in flight and cache TTL, and fills their fields', () => {
		const limits = { tokensPerMinute: 1_250_000, maxConcurrent: 8, cacheTtlSeconds: 86_400 }
		const html = render(<KeyRow gatewayKey={hostileKey} limits={limits} limitsError={HOSTILE} />)
		expectEscaped(html)
		const shown = [...html.matchAll(/<li class="(limit-[a-z]+)">([^<]*)<\/li>/g)].map((match) => [
			match[1],
			match[2],
		])
		expect(shown).toEqual([
			['limit-rpm', '60 requests/min'],
			['limit-tpm', '1,250,000 tokens/min'],
			['limit-concurrency', '8 in flight at most'],
			['limit-cache', 'Cache TTL 86,400 s'],
		])
		expect(html).toContain('name="tpm" type="number" min="1" step="1" value="1250000"')
		expect(html).toContain('name="concurrency" type="number" min="1" step="1" value="8"')
		expect(html).toContain(
			'name="cacheTtlSeconds" type="number" min="1" step="1" value="86400" placeholder="off"',
		)
	})

	it('says a key without limits has none and its cache is off', () => {
		const html = render(<KeyRow gatewayKey={{ ...hostileKey, rateLimitPerMinute: null }} />)
		expect(html).toContain('<li class="limit-rpm">No request limit</li>')
		expect(html).toContain('<li class="limit-tpm">No token limit</li>')
		expect(html).toContain('<li class="limit-concurrency">No in-flight limit</li>')
		expect(html).toContain('<li class="limit-cache">Cache off</li>')
		expect(html).toContain('name="concurrency" type="number" min="1" step="1" value=""')
	})

	it('offers no limits form on a revoked key', () => {
		const html = render(
			<KeyRow gatewayKey={{ ...hostileKey, revokedAt: new Date(0) }} budgets={[budget()]} />,
		)
		expect(html).not.toContain('limits-form')
		expect(html).toContain('budget-bar')
	})

	it('escapes the users section’s budgets and errors, and the organisation’s section', () => {
		const users = [
			{
				id: 2,
				email: HOSTILE,
				role: 'developer' as const,
				active: true,
				createdAt: new Date(0),
				spentUsd30d: 1,
			},
		]
		const html = render(
			<UsersSection
				users={users}
				budgets={new Map([[2, [budget({ scope: 'user', id: 2 })]]])}
				budgetsError={{ userId: 2, message: HOSTILE }}
				selfId={1}
			/>,
		)
		expectEscaped(html)
		expect(html).toContain('hx-post="/users/2/budgets"')
		expectEscaped(render(<OrgBudgetsSection budgets={[budget({ scope: 'org', id: 0 })]} error={HOSTILE} />))
	})
})

const alert = (change: Partial<BudgetAlertView> = {}): BudgetAlertView => ({
	budgetId: 7,
	scope: 'key',
	scopeId: 1,
	window: 'day',
	threshold: 80,
	limitUsd: 1,
	spentUsd: 0.85,
	windowStart: new Date('2026-12-03T00:00:00Z'),
	resetsAt: new Date('2026-12-04T00:00:00Z'),
	createdAt: new Date('2026-12-03T10:15:00Z'),
	notifiedAt: null,
	attempts: 0,
	lastError: null,
	delivery: 'off',
	...change,
})

const card = (alerts: LabelledAlert[], groups: BudgetGroup[] = [{ title: 'Yours', budgets: [] }]) =>
	render(<BudgetStatusCard groups={groups} alerts={alerts} />)

describe('budget alerts on the budget card', () => {
	it('escapes the budget’s name and the webhook’s last error', () => {
		const html = card([
			{
				owner: HOSTILE,
				alert: alert({ threshold: 100, delivery: 'failed', attempts: 6, lastError: HOSTILE }),
			},
		])
		expectEscaped(html)
		expect(html).toContain(
			'<div class="budget-alert-error">Last error: &lt;/td&gt;&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;</div>',
		)
		expect(html).toContain('<li class="budget-alert budget-alert-100" data-threshold="100">')
	})

	it('says which threshold, which budget and window, when, and how far the webhook got', () => {
		const html = card([
			{
				owner: 'Key app',
				alert: alert({ threshold: 100, delivery: 'pending', attempts: 1, spentUsd: 1.02 }),
			},
			{
				owner: 'Organisation',
				alert: alert({
					window: 'month',
					windowStart: new Date('2026-12-01T00:00:00Z'),
					delivery: 'delivered',
					attempts: 1,
					notifiedAt: new Date('2026-12-03T10:15:02Z'),
				}),
			},
			{ owner: 'You', alert: alert({ window: 'total', windowStart: new Date(0), resetsAt: null }) },
		])
		const items = [...html.matchAll(/<li class="budget-alert[^"]*"[^>]*>(.*?)<\/li>/g)].map((match) =>
			(match[1] ?? '').replace(/<[^>]+>/g, '|').replace(/\|+/g, '|'),
		)
		expect(items).toEqual([
			'|100 %|Key app · daily budget of 2026-12-03|$1.02 of $1.00 · 2026-12-03 10:15 UTC|webhook pending (1 attempt so far)|',
			'|80 %|Organisation · monthly budget of 2026-12|$0.85 of $1.00 · 2026-12-03 10:15 UTC|webhook delivered 2026-12-03 10:15 UTC|',
			'|80 %|You · total budget|$0.85 of $1.00 · 2026-12-03 10:15 UTC|no webhook configured|',
		])
	})

	it('says when no budget has passed 80 %, and shows no alerts section without budgets or alerts', () => {
		const withBudget = card([], [{ title: 'Yours', budgets: [{ label: 'Key app', budget: budget() }] }])
		expect(withBudget).toContain('No budget has passed 80 % of its limit in the last 30 days.')
		expect(card([])).not.toContain('Recent alerts')
		expect(card([])).toContain('No budget applies to your requests.')
	})
})

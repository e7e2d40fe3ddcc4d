import { afterAll, beforeAll, describe, expect, it, setDefaultTimeout } from 'bun:test'
import type { Browser, Page } from 'playwright-core'
import { launchBrowser, screenshot, screenshotOf, watchPage } from '../../helpers/browser'
import { startGateway } from '../../helpers/gateway'

// A real Chromium on a loaded two-core machine: bun's default 5 s per test is too short for these flows.
setDefaultTimeout(90_000)

const HOSTILE_NAME = '<img src=x onerror=alert(1)>'

/** Elements wider than their box: the page itself, and each card and metric. */
function overflowing(page: Page) {
	return page.evaluate(() => {
		const found: string[] = []
		const root = document.documentElement
		if (root.scrollWidth > window.innerWidth + 1)
			found.push(`page: ${root.scrollWidth} > ${window.innerWidth}`)
		for (const card of document.querySelectorAll<HTMLElement>('.card, .metric')) {
			if (card.scrollWidth > card.clientWidth + 1) {
				const heading = card.querySelector('h2, .metric-label')?.textContent?.trim() ?? card.className
				found.push(`${heading}: ${card.scrollWidth} > ${card.clientWidth}`)
			}
		}
		return found
	})
}

/** The width of a key's day bar's spent and reserved parts, as percentages of the bar. */
function dayBar(page: Page, keyId: number) {
	return page.evaluate((id) => {
		const budget = document.querySelector(`#key-${id} .budget[data-window="day"]`)
		const bar = budget?.querySelector<HTMLElement>('.budget-bar')
		const part = (name: string) =>
			budget?.querySelector<HTMLElement>(name)?.getBoundingClientRect().width ?? 0
		const whole = bar?.getBoundingClientRect().width ?? 1
		return {
			spent: Math.round((part('.budget-spent') / whole) * 1000) / 10,
			reserved: Math.round((part('.budget-reserved') / whole) * 1000) / 10,
			figures: budget?.querySelector('.budget-figures')?.textContent ?? null,
		}
	}, keyId)
}

describe('budgets in a real browser', () => {
	let browser: Browser
	beforeAll(async () => {
		browser = await launchBrowser()
	})
	afterAll(async () => {
		await browser.close()
	})

	it('sets a key budget on the Keys page, and its bar moves with a gateway request', async () => {
		await using g = await startGateway()
		const origin = g.baseURL.replace(/\/v1$/, '')
		const [key] = await g.t.deps.gatewayKeys.list(g.userId)
		if (!key) throw new Error('no key')
		// A second user whose key name is hostile: the admin sees it in everyone's keys and the overview.
		const page = await browser.newPage({ viewport: { width: 1280, height: 900 } })
		const problems = watchPage(page)
		try {
			await page.goto(`${origin}/login`)
			await page.fill('input[name=email]', 'dev@example.com')
			await page.fill('input[name=password]', 'correct horse')
			await Promise.all([page.waitForURL(`${origin}/`), page.click('button[type=submit]')])
			await page.waitForSelector('#budget-status:has-text("No budget applies")')

			await page.goto(`${origin}/keys`)
			const row = `#gateway-keys #key-${key.id}`
			await page.click(`${row} summary`)
			await page.fill(`${row} input[name=day]`, '1')
			await page.fill(`${row} input[name=rpm]`, '120')
			await page.fill(`${row} input[name=tpm]`, '40000')
			await page.fill(`${row} input[name=concurrency]`, '3')
			await page.fill(`${row} input[name=cacheTtlSeconds]`, '600')
			await page.click(`${row} .limits-form button[type=submit]`)
			await page.waitForSelector(`${row} .budget[data-window="day"]`)
			expect(
				await page.$$eval(`${row} .limit-list li`, (items) => items.map((item) => item.textContent)),
			).toEqual(['120 requests/min', '40,000 tokens/min', '3 in flight at most', 'Cache TTL 600 s'])
			expect(await g.t.deps.gatewayKeys.authenticate(g.key)).toMatchObject({
				rateLimitPerMinute: 120,
				tokensPerMinute: 40_000,
				maxConcurrent: 3,
				cacheTtlSeconds: 600,
			})
			expect(await dayBar(page, key.id)).toEqual({ spent: 0, reserved: 0, figures: '$0.00 of $1.00' })

			// A refused amount shows in the row and leaves the budget as it was.
			await page.click(`${row} summary`)
			// The browser itself refuses more than six decimals (the field's step); the server refuses past $1bn.
			await page.fill(`${row} input[name=day]`, '2000000000')
			await page.click(`${row} .limits-form button[type=submit]`)
			await page.waitForSelector(`${row} .error-banner`)
			await expect(page.textContent(`${row} .error-banner`)).resolves.toContain('from 0 to 1000000000')
			expect(await dayBar(page, key.id)).toEqual({ spent: 0, reserved: 0, figures: '$0.00 of $1.00' })
			await expect(page.textContent(`${row} .limit-tpm`)).resolves.toBe('40,000 tokens/min')

			// Emptied, the three limits are gone again: no token limit, none in flight, the cache off.
			await page.fill(`${row} input[name=day]`, '1')
			await page.fill(`${row} input[name=tpm]`, '')
			await page.fill(`${row} input[name=concurrency]`, '')
			await page.fill(`${row} input[name=cacheTtlSeconds]`, '')
			await page.click(`${row} .limits-form button[type=submit]`)
			await page.waitForSelector(`${row} .limit-cache:has-text("Cache off")`)
			expect(
				await page.$$eval(`${row} .limit-list li`, (items) => items.map((item) => item.textContent)),
			).toEqual(['120 requests/min', 'No token limit', 'No in-flight limit', 'Cache off'])

			// gpt-4o-mini: (975,000 × $0.15 + 12,345 × $0.60) / 1M = $0.153657 of the $1 budget.
			g.upstream.script('gpt-4o-mini', { kind: 'reply', usage: { prompt: 975_000, completion: 12_345 } })
			await g.openai.chat.completions.create({
				model: 'gpt-4o-mini',
				messages: [{ role: 'user', content: 'Hi' }],
			})
			await g.t.deps.requestLog.flush()
			// A request still in flight holds its reservation: drawn after the spent part, in its own colour.
			const [budget] = await g.t.deps.budgets.list({ scope: 'key', scopeId: key.id })
			if (!budget) throw new Error('no budget')
			const now = Date.now()
			expect(await g.t.deps.budgets.reserve('req_in_flight', [budget], 200_000, now, now + 60_000)).toEqual({
				ok: true,
			})
			await page.reload()
			const moved = await dayBar(page, key.id)
			expect(moved.figures).toBe('$0.154 of $1.00')
			expect(moved.spent).toBeCloseTo(15.4, 0)
			expect(moved.reserved).toBeCloseTo(20, 0)
			await expect(page.textContent(`${row} .budget-detail`)).resolves.toStartWith('$0.20 reserved in flight')
			await screenshotOf(page.locator(row), 'budgets-key-row')
			await screenshot(page, 'budgets-keys-1280')

			// The overview's card draws the same budget.
			await page.goto(`${origin}/`)
			await page.waitForSelector('#budget-status .budget')
			await expect(page.textContent('#budget-status .budget-label')).resolves.toBe('Key test · Today (UTC)')
			await screenshotOf(page.locator('#budget-status'), 'budgets-overview-card')
			await g.t.deps.budgets.release('req_in_flight')

			// The Users page: the admin sets the organisation's budget.
			await page.goto(`${origin}/users`)
			await page.fill('#org-budgets input[name=month]', '250')
			await page.click('#org-budgets button[type=submit]')
			await page.waitForSelector('#org-budgets .budget[data-window="month"]')
			await expect(page.textContent('#org-budgets .budget-figures')).resolves.toBe('$0.00 of $250.00')
			expect(problems.filter((problem) => !problem.includes('422'))).toEqual([])
		} finally {
			await page.close()
		}
	})

	it('keeps the budget bars and forms inside their boxes at 390 and 1280 px, with hostile names escaped', async () => {
		await using g = await startGateway()
		const origin = g.baseURL.replace(/\/v1$/, '')
		const created = await g.t.call('POST', '/api/keys', { token: g.token, body: { name: HOSTILE_NAME } })
		const { id } = (await created.json()) as { id: number }
		const budgets = [
			{ window: 'day', usd: 12345.678901 },
			{ window: 'month', usd: 0 },
			{ window: 'total', usd: 999_999_999 },
		]
		// The widest limits there are: their figures must fit the row too.
		await g.t.call('PATCH', `/api/keys/${id}`, {
			token: g.token,
			body: { rpm: 1_000_000, tpm: 1_000_000_000, concurrency: 1000, cacheTtlSeconds: 2_592_000, budgets },
		})
		await g.t.call('PUT', `/api/users/${g.userId}/budgets`, { token: g.token, body: budgets })
		await g.t.call('PUT', '/api/org/budgets', { token: g.token, body: budgets })
		const problems: string[] = []
		for (const width of [390, 1280]) {
			const page = await browser.newPage({ viewport: { width, height: 900 } })
			const console = watchPage(page)
			try {
				await page.goto(`${origin}/login`)
				await page.fill('input[name=email]', 'dev@example.com')
				await page.fill('input[name=password]', 'correct horse')
				await Promise.all([page.waitForURL(`${origin}/`), page.click('button[type=submit]')])
				await page.waitForSelector('#budget-status .budget')
				expect(await page.$('#budget-status img')).toBeNull()
				for (const path of ['/', '/keys', '/users']) {
					if (path !== '/') await page.goto(`${origin}${path}`)
					else await page.waitForSelector('#budget-status .budget')
					// Open every limits form: its fields must fit too.
					await page.$$eval('details.limits-edit', (all: HTMLDetailsElement[]) => {
						for (const details of all) details.open = true
					})
					problems.push(...(await overflowing(page)).map((found) => `${width}px ${path}: ${found}`))
					const name = path === '/' ? 'overview' : path.slice(1)
					await screenshot(page, `budgets-${name}-${width}`)
					if (path === '/keys')
						await screenshotOf(page.locator(`#gateway-keys #key-${id}`), `budgets-key-limits-${width}`)
				}
				expect(await page.$('td img')).toBeNull()
				expect(console).toEqual([])
			} finally {
				await page.close()
			}
		}
		expect(problems).toEqual([])
	})
})

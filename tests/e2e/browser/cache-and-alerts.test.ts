import { afterAll, beforeAll, describe, expect, it, setDefaultTimeout } from 'bun:test'
import type { Browser, Page } from 'playwright-core'
import { launchBrowser, screenshot, screenshotOf, watchPage } from '../../helpers/browser'
import { type GatewayHarness, startGateway } from '../../helpers/gateway'
import { until } from '../../helpers/until'

// A real Chromium on a loaded two-core machine: bun's default 5 s per test is too short for these flows.
setDefaultTimeout(90_000)

/** Elements wider than their box: the page itself, and each card, metric and alert. */
function overflowing(page: Page) {
	return page.evaluate(() => {
		const found: string[] = []
		const root = document.documentElement
		if (root.scrollWidth > window.innerWidth + 1)
			found.push(`page: ${root.scrollWidth} > ${window.innerWidth}`)
		for (const box of document.querySelectorAll<HTMLElement>('.card, .metric, .budget-alert')) {
			if (box.scrollWidth > box.clientWidth + 1) {
				const heading = box.querySelector('h2, .metric-label')?.textContent?.trim() ?? box.className
				found.push(`${heading}: ${box.scrollWidth} > ${box.clientWidth}`)
			}
		}
		return found
	})
}

/** The same chat completion through the gateway, with the cache's TTL header: the second is a hit. */
function askCached(g: GatewayHarness) {
	return fetch(`${g.baseURL}/chat/completions`, {
		method: 'POST',
		headers: {
			authorization: `Bearer ${g.key}`,
			'content-type': 'application/json',
			'x-switchyard-cache-ttl': '60',
		},
		body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'What is a cache?' }] }),
	})
}

describe('the cache card and budget alerts in a real browser', () => {
	let browser: Browser
	beforeAll(async () => {
		browser = await launchBrowser()
	})
	afterAll(async () => {
		await browser.close()
	})

	it('shows a cache hit and its saving on the overview, and an alert past 80 % of a small budget', async () => {
		await using g = await startGateway()
		const origin = g.baseURL.replace(/\/v1$/, '')
		const [key] = await g.t.deps.gatewayKeys.list(g.userId)
		if (!key) throw new Error('no key')
		// A $0.18 day budget; the answer below costs (975,000 × $0.15 + 12,345 × $0.60) / 1M = $0.153657: 85 %.
		const patched = await g.t.call('PATCH', `/api/keys/${key.id}`, {
			token: g.token,
			body: { budgets: [{ window: 'day', usd: 0.18 }] },
		})
		expect(patched.status).toBe(200)
		g.upstream.script('gpt-4o-mini', { kind: 'reply', usage: { prompt: 975_000, completion: 12_345 } })

		const first = await askCached(g)
		expect(first.headers.get('x-switchyard-cache')).toBe('miss')
		expect(first.headers.get('x-switchyard-cost-usd')).toBe('0.15365700')
		await first.text()
		const second = await askCached(g)
		expect(second.headers.get('x-switchyard-cache')).toBe('hit')
		expect(second.headers.get('x-switchyard-cost-usd')).toBe('0.00000000')
		await second.text()
		expect(g.upstream.requests).toHaveLength(1)
		// The alert is checked after the spend is settled, off the request's path.
		await until(
			async () => (await g.t.deps.budgetAlerts.list({ budgetIds: undefined })).length > 0,
			10_000,
			'the 80 % alert is recorded',
		)

		const problems: string[] = []
		for (const width of [1280, 390]) {
			const page = await browser.newPage({ viewport: { width, height: 900 } })
			const console = watchPage(page)
			try {
				await page.goto(`${origin}/login`)
				await page.fill('input[name=email]', 'dev@example.com')
				await page.fill('input[name=password]', 'correct horse')
				await Promise.all([page.waitForURL(`${origin}/`), page.click('button[type=submit]')])

				await expect(page.textContent('#metric-requests .metric-value')).resolves.toBe('2')
				await expect(page.textContent('#metric-cache .metric-label')).resolves.toBe('Cache hit rate')
				await expect(page.textContent('#metric-cache .metric-value')).resolves.toBe('50.0%')
				await expect(page.textContent('#metric-cache .metric-detail')).resolves.toBe('1 hit · saved $0.154')
				// The hit cost nothing: spend is the first answer's alone.
				await expect(page.textContent('#metric-spend .metric-value')).resolves.toBe('$0.154')

				await page.waitForSelector('#budget-status .budget-alert', { state: 'visible' })
				const alerts = await page.$$eval('#budget-status .budget-alert', (items) =>
					items.map((item) => ({
						threshold: item.querySelector('.budget-alert-threshold')?.textContent,
						budget: item.querySelector('.budget-alert-budget')?.textContent,
						figures: item.querySelector('.budget-alert-detail')?.textContent?.split(' · ')[0],
						delivery: item.querySelector('.budget-alert-delivery')?.textContent,
					})),
				)
				const today = new Date().toISOString().slice(0, 10)
				expect(alerts).toEqual([
					{
						threshold: '80 %',
						budget: `Key test · daily budget of ${today}`,
						figures: '$0.154 of $0.18',
						delivery: 'no webhook configured',
					},
				])
				problems.push(...(await overflowing(page)).map((found) => `${width}px: ${found}`))
				await screenshot(page, `cache-alerts-overview-${width}`)
				await screenshotOf(page.locator('.metrics'), `cache-alerts-metrics-${width}`)
				await screenshotOf(page.locator('#budget-status'), `cache-alerts-budget-card-${width}`)

				// The requests page marks the hit, and its detail says what it saved.
				await page.goto(`${origin}/requests`)
				const badges = await page.$$eval('.requests-table tbody tr', (rows) =>
					rows.map((row) => row.querySelector('.badge.cache-hit')?.textContent ?? null),
				)
				expect(badges).toEqual(['cache hit', null])
				await page.click('.requests-table tbody tr:first-child td[data-label="Time"] a')
				await page.waitForSelector('#request-detail .request-detail', { state: 'visible' })
				await expect(page.textContent('#request-detail')).resolves.toContain(
					'Answered from the cache, saving $0.154',
				)
				problems.push(...(await overflowing(page)).map((found) => `${width}px requests: ${found}`))
				await screenshot(page, `cache-alerts-request-detail-${width}`)
				expect(console).toEqual([])
			} finally {
				await page.close()
			}
		}
		expect(problems).toEqual([])
	})
})

import { afterAll, beforeAll, describe, expect, it, setDefaultTimeout } from 'bun:test'
import type { Browser, Page } from 'playwright-core'
import { DAY_MS } from '../../../src/request-log/rollup'
import { launchBrowser, screenshot, watchPage } from '../../helpers/browser'
import { type GatewayHarness, startGateway } from '../../helpers/gateway'

// A real Chromium on a loaded two-core machine: bun's default 5 s per test is too short for these flows.
setDefaultTimeout(30_000)

async function logIn(page: Page, origin: string) {
	await page.goto(`${origin}/login`)
	await page.fill('input[name=email]', 'dev@example.com')
	await page.fill('input[name=password]', 'correct horse')
	await Promise.all([page.waitForURL(`${origin}/`), page.click('button[type=submit]')])
}

/** Three requests through the gateway today, and 60 logged three days ago (for the period switch and paging). */
async function traffic(g: GatewayHarness) {
	g.upstream.script('gpt-4o-mini', { kind: 'reply', usage: { prompt: 1200, completion: 300 } })
	await g.openai.chat.completions.create({
		model: 'gpt-4o-mini',
		messages: [{ role: 'user', content: 'Hi' }],
	})
	await g.openai.chat.completions.create({
		model: 'claude-haiku-4-5',
		messages: [{ role: 'user', content: 'Hi' }],
	})
	const stream = await g.openai.chat.completions.create({
		model: 'auto',
		messages: [{ role: 'user', content: 'Hi' }],
		stream: true,
	})
	for await (const _ of stream) {
		// drain
	}
	const [key] = await g.t.deps.gatewayKeys.list(g.userId)
	for (let i = 0; i < 60; i++) {
		g.t.deps.requestLog.record({
			requestId: `req_old_${i}`,
			createdAt: new Date(Date.now() - 3 * DAY_MS),
			userId: g.userId,
			keyId: key?.id ?? 1,
			requestedModel: 'auto',
			model: 'openai/gpt-4o-mini',
			provider: 'openai',
			tier: 'simple',
			status: i % 10 === 0 ? 502 : 200,
			attempts: [],
			promptTokens: 100,
			completionTokens: 20,
			usageReported: true,
			costUsd: 0.001,
			baselineCostUsd: 0.002,
			latencyMs: 200,
		})
	}
	await g.t.deps.requestLog.flush()
}

async function drawnPixels(page: Page): Promise<number> {
	return page.evaluate(() => {
		const canvas = document.querySelector<HTMLCanvasElement>('#cost-chart')
		const context = canvas?.getContext('2d')
		if (!canvas || !context) return 0
		const { data } = context.getImageData(0, 0, canvas.width, canvas.height)
		let drawn = 0
		for (let i = 3; i < data.length; i += 4) if ((data[i] ?? 0) > 0) drawn++
		return drawn
	})
}

describe('dashboard in a real browser', () => {
	let browser: Browser
	beforeAll(async () => {
		browser = await launchBrowser()
	})
	afterAll(async () => {
		await browser.close()
	})

	it('shows the right numbers, a drawn chart, a working period switch, and the requests with their detail', async () => {
		await using g = await startGateway()
		await traffic(g)
		const origin = g.baseURL.replace(/\/v1$/, '')
		const page = await browser.newPage({ viewport: { width: 1280, height: 900 } })
		const problems = watchPage(page)
		try {
			await logIn(page, origin)
			await expect(page.textContent('#metric-requests .metric-value')).resolves.toBe('63')
			// Today, per million tokens: gpt-4o-mini, 1200 × $0.15 + 300 × $0.60 = 360 µ$; claude-haiku-4-5,
			// "Hi" and 3 words, 1 × $1 + 3 × $5 = 16 µ$; auto → gpt-6-luna, 1 × $0.10 + 51 × $0.50 = 25.6 µ$:
			// $0.0004016. With the 60 older requests at $0.001: $0.0604016, shown to 4 places.
			await expect(page.textContent('#metric-spend .metric-value')).resolves.toBe('$0.0604')
			// Savings count routed requests only, against the reference gpt-6.2-sol at $2 / $10: today's auto
			// request 1 × $2 + 51 × $10 = 512 µ$ less its 25.6 µ$, and the 60 older routed ones 60 × ($0.002 −
			// $0.001): $0.0604864. The two named-model requests save nothing.
			await expect(page.textContent('#metric-savings .metric-value')).resolves.toBe('$0.0605')
			await expect(page.textContent('#metric-errors .metric-value')).resolves.toBe('9.5%')
			// The six 502s are upstream failures; no request was the caller's mistake.
			await expect(page.textContent('#metric-errors .metric-detail')).resolves.toBe('6 upstream · 0 client')
			await page.waitForFunction(() => document.querySelector('#cost-chart')?.getAttribute('height') !== null)
			expect(await drawnPixels(page)).toBeGreaterThan(500)
			await screenshot(page, 'overview')

			await page.click('a.segment:has-text("Today")')
			await page.waitForFunction(
				() => document.querySelector('#metric-requests .metric-value')?.textContent === '3',
			)
			expect(page.url()).toBe(`${origin}/?days=1`)
			// Today's three requests, $0.0004016, to 6 places below a cent.
			await expect(page.textContent('#metric-spend .metric-value')).resolves.toBe('$0.000402')
			expect(await drawnPixels(page)).toBeGreaterThan(0)
			await page.click('a.segment:has-text("30 days")')
			await page.waitForFunction(
				() => document.querySelector('#metric-requests .metric-value')?.textContent === '63',
			)

			await page.click('nav a[href="/requests"]')
			await page.waitForURL(`${origin}/requests`)
			expect(await page.$$eval('#requests-list tbody tr:not(.load-more)', (rows) => rows.length)).toBe(50)
			await page.click('#load-more a')
			await page.waitForFunction(() => document.querySelectorAll('#requests-list tbody tr').length === 63)
			await page.selectOption('select[name=status]', 'error')
			await page.waitForFunction(() => document.querySelectorAll('#requests-list tbody tr').length === 6)
			expect(page.url()).toContain('status=error')
			await page.selectOption('select[name=status]', '')
			await page.waitForFunction(() => document.querySelectorAll('#requests-list tbody tr').length === 51)
			await screenshot(page, 'requests')

			// Far down the list, a row's detail still opens in view, with its own URL, and closes back to the list.
			await page.evaluate(() => window.scrollTo(0, document.body.scrollHeight))
			const listUrl = page.url()
			await page.locator('#requests-list tbody tr:not(.load-more) td:first-child a').last().click()
			await page.waitForSelector('#request-detail .request-detail', { state: 'visible' })
			expect(page.url()).toMatch(new RegExp(`^${origin}/requests/\\d+$`))
			await expect(page.textContent('#request-detail h2')).resolves.toStartWith('Request req_')
			await expect(page.textContent('#request-detail')).resolves.toContain('Attempts')
			const box = await page.locator('#request-detail h2').boundingBox()
			expect(box && box.y >= 0 && box.y < 900).toBe(true)
			await screenshot(page, 'request-detail', false)
			await page.click('#request-detail [data-close-drawer]')
			await page.waitForSelector('#request-detail .request-detail', { state: 'detached' })
			await page.waitForURL(listUrl)
			expect(problems).toEqual([])
		} finally {
			await page.close()
		}
	})

	it('works on a phone-width screen and on full page loads of every page', async () => {
		await using g = await startGateway()
		await traffic(g)
		const origin = g.baseURL.replace(/\/v1$/, '')
		const page = await browser.newPage({ viewport: { width: 390, height: 844 }, isMobile: true })
		const problems = watchPage(page)
		try {
			await logIn(page, origin)
			const [first] = await g.rows()
			for (const [path, name] of [
				['/', 'phone-overview'],
				['/?days=30&scope=all', 'phone-overview-everyone'],
				['/requests', 'phone-requests'],
				[`/requests/${first?.id}`, 'phone-request-detail'],
				['/keys', 'phone-keys'],
				['/rules', 'phone-rules'],
			] as const) {
				const response = await page.goto(`${origin}${path}`)
				expect(response?.status()).toBe(200)
				const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)
				expect(overflow).toBeLessThanOrEqual(0)
				await screenshot(page, name, false)
			}
			await page.click('.menu-toggle')
			await page.waitForSelector('.nav.nav-open a[href="/requests"]', { state: 'visible' })
			expect(problems).toEqual([])
		} finally {
			await page.close()
		}
	})

	it('shows what to do next before the first request', async () => {
		await using g = await startGateway()
		const origin = g.baseURL.replace(/\/v1$/, '')
		const page = await browser.newPage()
		try {
			await logIn(page, origin)
			await expect(page.textContent('.quick-start')).resolves.toContain(`${origin}/v1`)
			// The cards at zero and the chart's frame are there from the start, next to the first-request snippet,
			// which knows the organisation's provider keys are set up.
			await expect(page.textContent('#metric-requests .metric-value')).resolves.toBe('0')
			await expect(page.textContent('#metric-spend .metric-value')).resolves.toBe('$0.00')
			expect(await page.isVisible('#cost-chart')).toBe(true)
			await expect(page.textContent('.quick-start')).resolves.toContain('OpenAI and Anthropic can be reached')
			await screenshot(page, 'empty-overview')
			await page.goto(`${origin}/requests`)
			await expect(page.textContent('.quick-start')).resolves.toContain('curl')
			await screenshot(page, 'empty-state')
		} finally {
			await page.close()
		}
	})
})

import { afterAll, beforeAll, describe, expect, it, setDefaultTimeout } from 'bun:test'
import type { Browser, Page } from 'playwright-core'
import { HOUR_MS } from '../../../src/analytics/usage-reports'
import { DAY_MS } from '../../../src/request-log/rollup'
import { launchBrowser, screenshot, watchPage } from '../../helpers/browser'
import { type GatewayHarness, startGateway } from '../../helpers/gateway'

// A real Chromium on a loaded two-core machine: bun's default 5 s per test is too short for these flows.
setDefaultTimeout(60_000)

async function logIn(page: Page, origin: string) {
	await page.goto(`${origin}/login`)
	await page.fill('input[name=email]', 'dev@example.com')
	await page.fill('input[name=password]', 'correct horse')
	await Promise.all([page.waitForURL(`${origin}/`), page.click('button[type=submit]')])
}

/**
 * Today, through the gateway: a routed request, one to a named model, one to a named model whose upstream
 * fails, and one refused before routing (a model the catalog does not know). Then, logged directly, a big
 * routed request at midnight, so the day has two hours with points and the cards hold long numbers.
 */
async function traffic(g: GatewayHarness) {
	const send = (model: string) =>
		g.openai.chat.completions.create({ model, messages: [{ role: 'user', content: 'Hi' }] }).then(
			() => 'answered',
			() => 'failed',
		)
	expect(await send('auto')).toBe('answered')
	expect(await send('gpt-4o-mini')).toBe('answered')
	g.upstream.script('claude-haiku-4-5', { kind: 'error', status: 503 })
	expect(await send('claude-haiku-4-5')).toBe('failed')
	expect(await send('no-such-model')).toBe('failed')
	const [key] = await g.t.deps.gatewayKeys.list(g.userId)
	const midnight = Math.floor(Date.now() / DAY_MS) * DAY_MS
	g.t.deps.requestLog.record({
		requestId: 'req_midnight',
		createdAt: new Date(midnight),
		userId: g.userId,
		keyId: key?.id ?? 1,
		requestedModel: 'auto',
		model: 'openai/gpt-4o-mini',
		provider: 'openai',
		tier: 'simple',
		rule: 'short-chat',
		status: 200,
		attempts: [],
		promptTokens: 12_345_678,
		completionTokens: 1_234_567,
		usageReported: true,
		costUsd: 123.45,
		baselineCostUsd: 1234.56,
		latencyMs: 12_345,
	})
	await g.t.deps.requestLog.flush()
}

/** How far the page, or any card's content, sticks out past its box, in pixels (0 when nothing does). */
function overflow(page: Page) {
	return page.evaluate(() => {
		const page = document.documentElement.scrollWidth - window.innerWidth
		const cards = [...document.querySelectorAll<HTMLElement>('.metric, .card')].map((card) => {
			const box = card.getBoundingClientRect()
			const children = [...card.querySelectorAll<HTMLElement>('*')].filter(
				(child) => child.offsetParent !== null,
			)
			const right = Math.max(box.right, ...children.map((child) => child.getBoundingClientRect().right))
			return Math.max(card.scrollWidth - card.clientWidth, right - box.right)
		})
		return Math.max(page, ...cards)
	})
}

describe('the overview, Today, in a real browser', () => {
	let browser: Browser
	beforeAll(async () => {
		browser = await launchBrowser()
	})
	afterAll(async () => {
		await browser.close()
	})

	it('draws the day by the hour and names explicit requests and failures before routing', async () => {
		await using g = await startGateway()
		await traffic(g)
		const origin = g.baseURL.replace(/\/v1$/, '')
		const page = await browser.newPage({ viewport: { width: 1280, height: 900 } })
		const problems = watchPage(page)
		try {
			await logIn(page, origin)
			await page.click('a.segment:has-text("Today")')
			await page.waitForURL(`${origin}/?days=1`)
			// The chart's heading, whichever card comes first (the budget card has its own).
			await page.waitForFunction(() =>
				[...document.querySelectorAll('h2')].some((heading) => heading.textContent?.includes('by hour')),
			)
			await page.waitForFunction(() => document.querySelector('#cost-chart')?.getAttribute('height') !== null)
			const chart = await page.evaluate(() => {
				const drawn = (
					window as unknown as { Chart: { getChart(id: string): { data: Record<string, unknown> } } }
				).Chart.getChart('cost-chart')
				const data = drawn?.data as { labels: string[]; datasets: { data: (number | null)[] }[] }
				return { labels: data.labels, cost: data.datasets[0]?.data ?? [] }
			})
			expect(chart.labels).toHaveLength(24)
			expect(chart.labels[0]).toBe('00:00')
			expect(chart.labels[23]).toBe('23:00')
			const hour = Math.floor((Date.now() % DAY_MS) / HOUR_MS)
			// Every hour up to now has a point; none after it does.
			expect(chart.cost.filter((value) => value !== null)).toHaveLength(hour + 1)
			expect(chart.cost[0]).toBeGreaterThanOrEqual(123.45)

			const tiers = await page.$$eval('td[data-label="Tier"]', (cells) =>
				cells.map((cell) => cell.textContent),
			)
			expect(tiers).toContain('explicit')
			expect(tiers).toContain('failed before routing, or named model failed')
			const models = await page.$$eval('td[data-label="Model"]', (cells) =>
				cells.map((cell) => cell.textContent),
			)
			expect(models).toContain('no model answered')
			for (const width of [390, 1280, 1920]) {
				await page.setViewportSize({ width, height: 900 })
				// Chart.js redraws for the new width on its next resize observation.
				await page.waitForFunction((w) => {
					const canvas = document.querySelector('#cost-chart')
					const frame = canvas?.parentElement?.getBoundingClientRect()
					return (
						window.innerWidth === w &&
						!!canvas &&
						!!frame &&
						canvas.getBoundingClientRect().width <= frame.width
					)
				}, width)
				expect(await overflow(page)).toBeLessThanOrEqual(0)
				await screenshot(page, `overview-today-${width}`)
			}

			await page.setViewportSize({ width: 1280, height: 900 })
			await page.click('nav a[href="/requests"]')
			await page.waitForURL(`${origin}/requests`)
			const listed = await page.$$eval('td[data-label="Tier"]', (cells) =>
				cells.map((cell) => cell.textContent),
			)
			// Newest first: the midnight request was logged last.
			expect(listed).toEqual(['simple', 'failed before routing', 'explicit', 'explicit', 'simple'])
			await page.selectOption('select[name=tier]', { label: 'failed before routing' })
			await page.waitForFunction(() => document.querySelectorAll('#requests-list tbody tr').length === 1)
			expect(page.url()).toContain('tier=_before-routing')
			await expect(page.textContent('#requests-list td[data-label="Model"]')).resolves.toContain(
				'no model (failed before routing)',
			)
			await screenshot(page, 'requests-failed-before-routing')
			expect(problems).toEqual([])
		} finally {
			await page.close()
		}
	})
})

import { afterAll, beforeAll, describe, expect, it, setDefaultTimeout } from 'bun:test'
import type { Browser, Page } from 'playwright-core'
import { signupUser } from '../../helpers/app'
import { launchBrowser, screenshot, watchPage } from '../../helpers/browser'
import { startGateway } from '../../helpers/gateway'

// Every page at four widths in a real Chromium: about a minute on a loaded two-core machine.
setDefaultTimeout(120_000)

const WIDTHS = [390, 800, 1280, 1920] as const

/** Elements wider than their box: the page itself, and each card, table cell and form control inside one. */
function overflowing(page: Page) {
	return page.evaluate(() => {
		const found: string[] = []
		const root = document.documentElement
		if (root.scrollWidth > window.innerWidth + 1)
			found.push(`page: ${root.scrollWidth} > ${window.innerWidth}`)
		for (const card of document.querySelectorAll<HTMLElement>('.card, .metric, .drawer')) {
			if (card.scrollWidth > card.clientWidth + 1) {
				const heading = card.querySelector('h1, h2, h3, .metric-label')?.textContent?.trim() ?? card.className
				found.push(`${heading}: ${card.scrollWidth} > ${card.clientWidth}`)
			}
		}
		return found
	})
}

describe('every dashboard page from 390 to 1920 px', () => {
	let browser: Browser
	beforeAll(async () => {
		browser = await launchBrowser()
	})
	afterAll(async () => {
		await browser.close()
	})

	it('keeps every card, table and form inside its box', async () => {
		await using g = await startGateway()
		await signupUser(g.t, 'second-person-with-a-long-address@example.com')
		await g.t.call('POST', '/api/invites', { token: g.token, body: { email: 'invitee@example.com' } })
		g.upstream.script('gpt-4o-mini', { kind: 'reply', usage: { prompt: 975_000, completion: 12_345 } })
		await g.openai.chat.completions.create({
			model: 'gpt-4o-mini',
			messages: [{ role: 'user', content: 'Hi' }],
		})
		for (const content of ['Prove it step by step', 'hello', '```js\nx\n```'])
			await g.openai.chat.completions.create({ model: 'auto', messages: [{ role: 'user', content }] })
		await g.openai.chat.completions
			.create({ model: 'nope', messages: [{ role: 'user', content: 'x' }] })
			.catch(() => {})
		await g.t.deps.requestLog.flush()
		const [request] = await g.rows()
		const origin = g.baseURL.replace(/\/v1$/, '')
		const pages = {
			overview: '/?days=30',
			today: '/?days=1',
			requests: '/requests',
			detail: `/requests/${request?.id}`,
			keys: '/keys',
			rules: '/rules',
			users: '/users',
		}

		const problems: string[] = []
		for (const width of WIDTHS) {
			const page = await browser.newPage({ viewport: { width, height: 900 } })
			const console = watchPage(page)
			try {
				await page.goto(`${origin}/login`)
				problems.push(...(await overflowing(page)).map((found) => `${width}px login: ${found}`))
				await page.fill('input[name=email]', 'dev@example.com')
				await page.fill('input[name=password]', 'correct horse')
				await Promise.all([page.waitForURL(`${origin}/`), page.click('button[type=submit]')])
				for (const [name, path] of Object.entries(pages)) {
					await page.goto(`${origin}${path}`)
					problems.push(...(await overflowing(page)).map((found) => `${width}px ${name}: ${found}`))
					await screenshot(page, `layout-${name}-${width}`, false)
				}
				expect(console).toEqual([])
			} finally {
				await page.close()
			}
		}
		expect(problems).toEqual([])
	})
})

import { afterAll, beforeAll, describe, expect, it, setDefaultTimeout } from 'bun:test'
import type { Browser } from 'playwright-core'
import { makeApp } from '../../helpers/app'
import { launchBrowser, screenshot, serve, signUpInBrowser, watchPage } from '../../helpers/browser'

setDefaultTimeout(30_000)

// A name that is not loopback for the browser, though it reaches this machine: a LAN address would do the same.
const LAN_NAME = 'switchyard.lan.test'

describe('the dashboard over plain HTTP', () => {
	let browser: Browser
	beforeAll(async () => {
		browser = await launchBrowser([`--host-resolver-rules=MAP ${LAN_NAME} 127.0.0.1`])
	})
	afterAll(async () => {
		await browser.close()
	})

	it('logs in from another machine, and warns that the connection is not encrypted', async () => {
		await using t = await makeApp()
		const server = serve(t)
		const page = await browser.newPage({ viewport: { width: 1280, height: 800 } })
		const problems = watchPage(page)
		try {
			const lanUrl = server.url.replace('127.0.0.1', LAN_NAME)
			// A Secure cookie would be dropped here, and the login would loop back to an empty form.
			await signUpInBrowser(page, lanUrl, 'ada@example.com')
			await expect(page.textContent('h1')).resolves.toBe('Overview')
			await page.waitForSelector('[data-plain-http-warning]', { state: 'visible' })
			await expect(page.textContent('[data-plain-http-warning]')).resolves.toContain('plain HTTP')
			await screenshot(page, 'plain-http-warning', false)

			// The same server by its loopback address: this machine, so no warning (and no session: another host).
			await page.goto(`${server.url}/login`, { waitUntil: 'load' })
			expect(await page.isVisible('[data-plain-http-warning]')).toBe(false)
			expect(problems).toEqual([])
		} finally {
			await page.close()
			await server.stop()
		}
	})
})

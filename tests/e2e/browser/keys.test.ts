import { afterAll, beforeAll, describe, expect, it, setDefaultTimeout } from 'bun:test'
import type { Browser } from 'playwright-core'
import { makeApp } from '../../helpers/app'
import { launchBrowser, screenshot, serve, signUpInBrowser, watchPage } from '../../helpers/browser'
import { startFakeUpstream } from '../../helpers/fake-upstream'

// A real Chromium on a loaded two-core machine: bun's default 5 s per test is too short for these flows.
setDefaultTimeout(30_000)

const HOSTILE_NAME = '<img src=x onerror=alert(1)>'

describe('keys page in a real browser', () => {
	let browser: Browser

	beforeAll(async () => {
		browser = await launchBrowser()
	})

	afterAll(async () => {
		await browser.close()
	})

	it('signs up, creates a key shown once, and revokes it in place', async () => {
		await using upstream = await startFakeUpstream({ keys: { openai: ['sk-browser-test-7777'] } })
		await using t = await makeApp({ OPENAI_BASE_URL: upstream.openaiBaseUrl })
		const server = serve(t)
		const context = await browser.newContext({ permissions: ['clipboard-read', 'clipboard-write'] })
		const page = await context.newPage()
		const problems = watchPage(page)
		try {
			await signUpInBrowser(page, server.url, 'ada@example.com')
			await expect(page.textContent('.header-user')).resolves.toContain('ada@example.com')

			await page.click('nav a[href="/keys"]')
			await page.waitForURL(`${server.url}/keys`)
			await page.fill('#gateway-keys input[name=name]', HOSTILE_NAME)
			await page.click('#gateway-keys button[type=submit]')
			const shown = await page.waitForSelector('#new-key-value', { state: 'visible' })
			const key = (await shown.textContent())?.trim() ?? ''
			expect(key).toMatch(/^sy_[A-Za-z0-9_-]{43}$/)
			await page.click('button[data-copy="#new-key-value"]')
			await page.waitForSelector('button[data-copy]:has-text("Copied")')
			expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(key)
			await expect(page.textContent('#gateway-keys tbody td[data-label=Name]')).resolves.toBe(HOSTILE_NAME)
			expect(await page.$('#gateway-keys tbody img')).toBeNull()
			await screenshot(page, 'keys-created')

			await page.reload()
			expect(await page.$('#new-key-value')).toBeNull()
			expect(await page.content()).not.toContain(key)
			await expect(page.textContent('#gateway-keys tbody td[data-label=Key]')).resolves.toBe(
				`${key.slice(0, 11)}…`,
			)

			await page.click('#gateway-keys tbody button.danger')
			await page.waitForSelector('#gateway-keys tbody tr.revoked')
			await expect(page.textContent('#gateway-keys tbody td[data-label=Status]')).resolves.toStartWith(
				'Revoked',
			)
			expect(t.deps.gatewayKeys.authenticate(key)).toBeNull()

			await page.fill('#provider-openai input[name=apiKey] >> nth=0', 'sk-browser-test-7777')
			await page.click('#provider-openai button[type=submit] >> nth=0')
			await page.waitForSelector('#provider-openai code')
			await expect(page.textContent('#provider-openai code')).resolves.toBe('…7777')
			await screenshot(page, 'keys-revoked')
			expect(problems).toEqual([])
		} finally {
			await context.close()
			await server.stop()
		}
	})

	it('shows a wrong password inline and logs in without JavaScript too', async () => {
		await using t = await makeApp()
		const server = serve(t)
		const context = await browser.newContext({ javaScriptEnabled: false })
		const page = await context.newPage()
		try {
			await page.goto(`${server.url}/signup`)
			await page.fill('input[name=email]', 'ada@example.com')
			await page.fill('input[name=password]', 'correct horse')
			await Promise.all([page.waitForURL(`${server.url}/`), page.click('button[type=submit]')])
			await page.click('.header-user button')
			await page.waitForURL(`${server.url}/login`)
			await page.fill('input[name=email]', 'ada@example.com')
			await page.fill('input[name=password]', 'wrong password')
			// The answer reloads the same URL. Without JavaScript, Playwright could lose track of that new
			// document when asked for its text before it loaded (1 run in 5 on a busy machine, hanging 30 s).
			await Promise.all([
				page.waitForResponse((response) => response.request().method() === 'POST'),
				page.click('button[type=submit]'),
			])
			await page.waitForLoadState('load')
			await expect(page.textContent('.error-banner')).resolves.toBe('Invalid email or password')
			await page.fill('input[name=password]', 'correct horse')
			await Promise.all([page.waitForURL(`${server.url}/`), page.click('button[type=submit]')])
		} finally {
			await context.close()
			await server.stop()
		}
	})

	it('shows a login error inline through htmx', async () => {
		await using t = await makeApp()
		const server = serve(t)
		const page = await browser.newPage()
		const problems = watchPage(page)
		try {
			await page.goto(`${server.url}/login`)
			await page.fill('input[name=email]', 'nobody@example.com')
			await page.fill('input[name=password]', 'wrong password')
			await page.click('button[type=submit]')
			await page.waitForSelector('.error-banner')
			await expect(page.textContent('.error-banner')).resolves.toBe('Invalid email or password')
			expect(page.url()).toBe(`${server.url}/login`)
			await screenshot(page, 'login-error')
			expect(problems.filter((p) => !p.includes('422'))).toEqual([])
		} finally {
			await page.close()
			await server.stop()
		}
	})
})

import { afterAll, beforeAll, describe, expect, it, setDefaultTimeout } from 'bun:test'
import type { Browser } from 'playwright-core'
import { makeApp, signupUser } from '../../helpers/app'
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
			expect(await t.deps.gatewayKeys.authenticate(key)).toBeNull()

			await page.fill('#provider-openai input[name=apiKey] >> nth=0', 'sk-browser-test-7777')
			await page.click('#provider-openai button[type=submit] >> nth=0')
			await page.waitForSelector('#provider-openai code')
			await expect(page.textContent('#provider-openai code')).resolves.toBe('…\u20607777')
			await expect(page.textContent('#provider-openai td[data-label="Requests use"]')).resolves.toStartWith(
				'Your key …7777',
			)
			await screenshot(page, 'keys-revoked')
			expect(problems).toEqual([])
		} finally {
			await context.close()
			await server.stop()
		}
	})

	it('checks a provider key on save, offers to save it anyway, and says which key each provider uses', async () => {
		await using upstream = await startFakeUpstream({
			keys: { openai: ['sk-org-key-1234', 'sk-my-own-key-7777'] },
		})
		await using t = await makeApp({
			OPENAI_BASE_URL: upstream.openaiBaseUrl,
			ANTHROPIC_API_KEY: 'sk-ant-from-env-wxyz',
		})
		const admin = await signupUser(t, 'admin@example.com')
		await t.call('PUT', '/api/provider-keys/openai', {
			token: admin.token,
			body: { apiKey: 'sk-org-key-1234', scope: 'org' },
		})
		const server = serve(t)
		const page = await browser.newPage({ viewport: { width: 1280, height: 900 } })
		const problems = watchPage(page)
		const inUse = (provider: string) =>
			page.textContent(`#provider-${provider} td[data-label="Requests use"]`)
		try {
			await signUpInBrowser(page, server.url, 'dev@example.com')
			await page.goto(`${server.url}/keys`)
			await expect(inUse('openai')).resolves.toStartWith('Organisation key …1234 (saved by an admin)')
			await expect(inUse('anthropic')).resolves.toBe(
				'Organisation key …wxyz from ANTHROPIC_API_KEY (environment)',
			)
			await expect(inUse('groq')).resolves.toBe('No key: requests to this provider fail')

			await page.fill('#provider-openai input[name=apiKey]', 'sk-a-wrong-key-0000')
			await page.click('#provider-openai button[type=submit]')
			await page.waitForSelector('#provider-keys .error-banner')
			await expect(page.textContent('#provider-keys .error-banner')).resolves.toStartWith(
				'OpenAI refused this key: Incorrect API key provided: [redacted].',
			)
			expect(await page.isVisible('#provider-openai input[name=verify]')).toBe(true)
			await expect(inUse('openai')).resolves.toStartWith('Organisation key …1234')
			expect(await page.content()).not.toContain('sk-a-wrong-key-0000')
			await screenshot(page, 'keys-check-refused')

			// Groq's real address is out of reach from the tests: the offline path, saved without checking.
			await page.fill('#provider-groq input[name=apiKey]', 'gsk_offline_key_5555')
			await page.click('#provider-groq button[type=submit]')
			await page.waitForSelector('#provider-keys .error-banner:has-text("Could not reach Groq")')
			await page.fill('#provider-groq input[name=apiKey]', 'gsk_offline_key_5555')
			await page.check('#provider-groq input[name=verify]')
			await page.click('#provider-groq button[type=submit]')
			await page.waitForSelector('#provider-groq code')
			await expect(inUse('groq')).resolves.toStartWith('Your key …5555')
			await expect(inUse('groq')).resolves.toContain('Saved without checking')

			await page.fill('#provider-openai input[name=apiKey]', 'sk-my-own-key-7777')
			await page.click('#provider-openai button[type=submit]')
			await page.waitForSelector('#provider-openai td[data-label="Your key"] code')
			await expect(inUse('openai')).resolves.toStartWith(
				"Your key …7777 (yours shadows the organisation's …1234)Checked with the provider when saved",
			)
			expect(await page.$('#provider-keys .error-banner')).toBeNull()
			await screenshot(page, 'keys-in-use')

			await page.setViewportSize({ width: 390, height: 844 })
			await page.reload()
			const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)
			expect(overflow).toBeLessThanOrEqual(0)
			await page.evaluate(() => document.querySelector('#provider-openai')?.scrollIntoView())
			await screenshot(page, 'phone-keys-in-use', false)
			expect(problems.filter((problem) => !problem.includes('422'))).toEqual([])
		} finally {
			await page.close()
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

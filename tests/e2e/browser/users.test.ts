import { afterAll, beforeAll, describe, expect, it, setDefaultTimeout } from 'bun:test'
import type { Browser } from 'playwright-core'
import { makeApp } from '../../helpers/app'
import { launchBrowser, screenshot, serve, signUpInBrowser, watchPage } from '../../helpers/browser'

setDefaultTimeout(30_000)

describe('users page in a real browser', () => {
	let browser: Browser
	beforeAll(async () => {
		browser = await launchBrowser()
	})
	afterAll(async () => {
		await browser.close()
	})

	it('invites a colleague by link, who signs up with it, and deactivates them', async () => {
		await using t = await makeApp({ SIGNUP: 'invite' })
		const server = serve(t)
		const admin = await browser.newPage({ viewport: { width: 1280, height: 900 } })
		const colleague = await browser.newPage({ viewport: { width: 390, height: 844 } })
		const adminProblems = watchPage(admin)
		const colleagueProblems = watchPage(colleague)
		try {
			await signUpInBrowser(admin, server.url, 'lead@example.com')
			await admin.click('nav a[href="/users"]')
			await admin.waitForURL(`${server.url}/users`)
			await admin.fill('#users input[name=email]', 'ada@example.com')
			await admin.click('#users button[type=submit]:has-text("Make an invite link")')
			const link = ((await (await admin.waitForSelector('#invite-url')).textContent()) ?? '').trim()
			expect(link).toStartWith(`${server.url}/signup?invite=`)
			await screenshot(admin, 'users-invite')

			// Without the link the sign-up page says why the form alone will not do.
			await colleague.goto(`${server.url}/signup`)
			await expect(colleague.textContent('form')).resolves.toContain('Sign-up is by invitation')
			await colleague.goto(link)
			await colleague.fill('input[name=email]', 'ada@example.com')
			await colleague.fill('input[name=password]', 'correct horse')
			await Promise.all([colleague.waitForURL(`${server.url}/`), colleague.click('button[type=submit]')])
			await expect(colleague.textContent('.header-user')).resolves.toContain('ada@example.com')

			await admin.reload()
			const row = admin.locator('#users tr', { hasText: 'ada@example.com' })
			await row.locator('button:has-text("Deactivate")').click()
			await admin.waitForSelector('#users tr:has-text("ada@example.com") td:has-text("deactivated")')
			await screenshot(admin, 'users-deactivated')

			// The colleague's session ended with the deactivation: the next page is the login form.
			await colleague.goto(`${server.url}/`)
			await colleague.waitForURL(`${server.url}/login`)
			expect([...adminProblems, ...colleagueProblems]).toEqual([])
		} finally {
			await admin.close()
			await colleague.close()
			await server.stop()
		}
	})
})

import { afterAll, beforeAll, describe, expect, it, setDefaultTimeout } from 'bun:test'
import type { Browser, Page } from 'playwright-core'
import { signupUser } from '../../helpers/app'
import { launchBrowser, screenshot, screenshotOf, watchPage } from '../../helpers/browser'
import { startGateway } from '../../helpers/gateway'

// A real Chromium on a loaded two-core machine: bun's default 5 s per test is too short for these flows.
setDefaultTimeout(30_000)

async function logIn(page: Page, origin: string, email: string) {
	await page.goto(`${origin}/login`)
	await page.fill('input[name=email]', email)
	await page.fill('input[name=password]', 'correct horse')
	await Promise.all([page.waitForURL(`${origin}/`), page.click('button[type=submit]')])
}

/** Replaces the editor's text the way typing does, so htmx's `input` trigger fires. */
async function setEditor(page: Page, text: string) {
	await page.fill('#rules-text', text)
}

describe('rules page in a real browser', () => {
	let browser: Browser
	beforeAll(async () => {
		browser = await launchBrowser()
	})
	afterAll(async () => {
		await browser.close()
	})

	it('shows an invalid edit inline, and a valid save changes routing', async () => {
		await using g = await startGateway()
		const origin = g.baseURL.replace(/\/v1$/, '')
		const page = await browser.newPage()
		const problems = watchPage(page)
		try {
			await logIn(page, origin, 'dev@example.com')
			await page.click('nav a[href="/rules"]')
			await page.waitForURL(`${origin}/rules`)
			const live = JSON.parse(await page.inputValue('#rules-text'))
			expect(live).toEqual(g.t.deps.rules.current().compiled.document)

			await setEditor(page, JSON.stringify({ ...live, defaultTier: 'nowhere' }, null, 2))
			await page.waitForSelector('#rules-errors li')
			await expect(page.textContent('#rules-errors li code')).resolves.toBe('/defaultTier')
			await screenshot(page, 'rules-invalid')
			await page.click('#rules-form button[type=submit]')
			await page.waitForSelector('#rules-errors li')
			expect(g.t.deps.rules.current().revision).toBe(1)

			const everythingToMini = {
				...live,
				defaultTier: 'cheap',
				tiers: { ...live.tiers, cheap: { models: ['openai/gpt-4o-mini'] } },
				rules: [],
			}
			await setEditor(page, JSON.stringify(everythingToMini, null, 2))
			await page.waitForSelector('#rules-errors .status-ok')
			await page.click('#rules-form button[type=submit]')
			await page.waitForSelector('text=Saved as revision 2')
			const answer = await g.openai.chat.completions.create({
				model: 'auto',
				messages: [{ role: 'user', content: 'Hi' }],
			})
			expect(answer.model).toBe('gpt-4o-mini')

			await page.fill('textarea[name=prompt]', 'Please prove Fermat’s little theorem step by step.')
			await page.click('form[action="/rules/test"] button[type=submit]')
			await page.waitForSelector('#rules-test-result strong')
			await expect(page.textContent('#rules-test-result')).resolves.toContain('cheap')

			await page.click('form[action="/rules/simulate"] button[type=submit]')
			await page.waitForSelector('#rules-simulation p')
			await expect(page.textContent('#rules-simulation')).resolves.toContain('auto requests')

			await page.click('button:has-text("Restore") >> nth=0')
			await page.waitForSelector('text=Saved as revision 3')
			expect(g.t.deps.rules.current().compiled.document).toEqual(live)
			await screenshot(page, 'rules-page')
			expect(problems.filter((p) => !p.includes('422'))).toEqual([])
		} finally {
			await page.close()
		}
	})

	it('simulates on default settings from text digests, and names each rule it could not replay', async () => {
		await using g = await startGateway()
		for (const content of [
			'Please prove that 2+2=4',
			'```js\nconsole.log(1)\n```',
			'hello there',
			'call 555',
		])
			await g.openai.chat.completions.create({ model: 'auto', messages: [{ role: 'user', content }] })
		const origin = g.baseURL.replace(/\/v1$/, '')
		for (const [width, name] of [
			[1280, 'rules-simulation'],
			[390, 'phone-rules-simulation'],
		] as const) {
			const page = await browser.newPage({ viewport: { width, height: 900 } })
			const problems = watchPage(page)
			try {
				await logIn(page, origin, 'dev@example.com')
				await page.goto(`${origin}/rules`)
				const live = JSON.parse(await page.inputValue('#rules-text'))
				const proposal = {
					...live,
					rules: [
						{ name: 'code', when: { matches: '```' }, tier: 'complex' },
						{ name: 'proofs', when: { keywords: ['prove', 'step by step'] }, tier: 'complex' },
						{ name: 'numbers', when: { matches: '\\d{3}' }, tier: 'simple' },
					],
				}
				await setEditor(page, JSON.stringify(proposal, null, 2))
				await page.waitForSelector('#rules-errors .status-ok')
				await page.click('form[action="/rules/simulate"] button[type=submit]')
				await page.waitForSelector('#rules-simulation h3.status-warn')
				const text = (await page.textContent('#rules-simulation')) ?? ''
				expect(text).toContain('2 evaluated, 2 not evaluated')
				expect(text).toContain('text digests for 4 of 4 (LOG_TEXT_DIGEST)')
				expect(text).toContain('2 requests could not be evaluated')
				expect(await page.textContent('#rules-simulation td[data-label="Needs"]')).toBe('matches /\\d{3}/')
				expect(text).toContain('cover the 2 evaluated requests')
				await page.locator('#rules-simulation').scrollIntoViewIfNeeded()
				const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)
				expect(overflow).toBeLessThanOrEqual(0)
				await screenshotOf(page.locator('#rules-simulation'), name)
				expect(problems).toEqual([])
			} finally {
				await page.close()
			}
		}
	})

	it('hides the page from developers, who get 403', async () => {
		await using g = await startGateway()
		await signupUser(g.t, 'second@example.com')
		const origin = g.baseURL.replace(/\/v1$/, '')
		const page = await browser.newPage()
		try {
			await logIn(page, origin, 'second@example.com')
			expect(await page.$('nav a[href="/rules"]')).toBeNull()
			const response = await page.goto(`${origin}/rules`)
			expect(response?.status()).toBe(403)
		} finally {
			await page.close()
		}
	})
})

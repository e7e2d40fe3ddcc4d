import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { type Browser, chromium, type Locator, type Page } from 'playwright-core'
import type { TestApp } from './app'

/** Debian's Chromium (`apt-get install chromium`); Playwright never downloads its own browser here. */
const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

// Without the background-networking flags Chromium keeps dialing Google on a machine with no network.
const CHROMIUM_FLAGS = [
	'--headless',
	'--no-sandbox',
	'--disable-gpu',
	'--disable-quic',
	'--no-first-run',
	'--disable-background-networking',
	'--disable-component-update',
	'--disable-sync',
]

export const ARTIFACTS_DIR = join(import.meta.dir, '..', 'artifacts')

/** `extraArgs`: more Chromium flags, such as `--host-resolver-rules` to reach loopback by another name. */
export function launchBrowser(extraArgs: string[] = []): Promise<Browser> {
	return chromium.launch({ executablePath: CHROMIUM_PATH, args: [...CHROMIUM_FLAGS, ...extraArgs] })
}

/** Serves the test app on a real loopback port for the browser. */
export function serve(t: TestApp): { url: string; stop: () => Promise<void> } {
	const server = t.app.listen({ port: 0, hostname: '127.0.0.1' }).server
	if (!server) throw new Error('the app did not start listening')
	return { url: `http://127.0.0.1:${server.port}`, stop: () => server.stop(true) }
}

/** Collects console errors, page errors and dialogs, which the tests expect to stay empty (but for confirms). */
export function watchPage(page: Page) {
	const problems: string[] = []
	page.on('console', (message) => {
		if (message.type() === 'error') problems.push(`console: ${message.text()}`)
	})
	page.on('pageerror', (error) => problems.push(`page error: ${error.message}`))
	page.on('dialog', async (dialog) => {
		if (dialog.type() === 'confirm') await dialog.accept()
		else {
			problems.push(`unexpected ${dialog.type()}: ${dialog.message()}`)
			await dialog.dismiss()
		}
	})
	return problems
}

/** Saves a CI artifact; `fullPage` (the default) captures the whole page, not only the viewport. */
export async function screenshot(page: Page, name: string, fullPage = true) {
	mkdirSync(ARTIFACTS_DIR, { recursive: true })
	await page.screenshot({ path: join(ARTIFACTS_DIR, `${name}.png`), fullPage })
}

/** Saves a CI artifact of one part of a page, readable where a whole-page capture would be thousands of pixels tall. */
export async function screenshotOf(locator: Locator, name: string) {
	mkdirSync(ARTIFACTS_DIR, { recursive: true })
	await locator.screenshot({ path: join(ARTIFACTS_DIR, `${name}.png`) })
}

export async function signUpInBrowser(
	page: Page,
	baseUrl: string,
	email: string,
	password = 'correct horse',
) {
	await page.goto(`${baseUrl}/signup`)
	await page.fill('input[name=email]', email)
	await page.fill('input[name=password]', password)
	await Promise.all([page.waitForURL(`${baseUrl}/`), page.click('button[type=submit]')])
}

import { describe, expect, it } from 'bun:test'
import { makeApp } from '../helpers/app'

describe('security headers', () => {
	it('hardens every dashboard page, even one whose query string mentions /v1/', async () => {
		await using t = await makeApp()
		for (const path of ['/login', '/login?next=/v1/models']) {
			const res = await t.call('GET', path, { headers: { accept: 'text/html' } })
			expect(res.status).toBe(200)
			expect(res.headers.get('content-security-policy')).toContain("default-src 'self'")
			expect(res.headers.get('x-frame-options')).toBe('DENY')
			expect(res.headers.get('x-content-type-options')).toBe('nosniff')
		}
	})

	it('leaves the OpenAI-compatible API alone', async () => {
		await using t = await makeApp()
		const res = await t.call('GET', '/v1/models')
		expect(res.status).toBe(401)
		expect(res.headers.get('content-security-policy')).toBeNull()
		expect(res.headers.get('x-frame-options')).toBeNull()
	})
})

import { describe, expect, it } from 'bun:test'
import { t } from 'elysia'
import { GatewayError } from '../../src/errors'
import { type ResponseSet, readForm, submitForm } from '../../src/plugins/forms'
import { makeApp, SAME_ORIGIN, signupUser } from '../helpers/app'

const Form = t.Object({
	name: t.String({ error: 'name is required' }),
	limit: t.Optional(t.Nullable(t.Integer({ minimum: 1, maximum: 90, error: 'limit must be from 1 to 90' }))),
	tools: t.Optional(t.Boolean()),
})

function refusalOf(action: () => unknown): { status: number; message: string; param: string | null } {
	try {
		action()
	} catch (error) {
		if (error instanceof GatewayError)
			return { status: error.status, message: error.message, param: error.param }
		throw error
	}
	throw new Error('the form was accepted')
}

describe('readForm', () => {
	it('converts the text a form sends to the schema’s numbers and booleans', () => {
		expect(readForm(Form, { name: 'ci', limit: '30', tools: '1' })).toEqual({
			name: 'ci',
			limit: 30,
			tools: true,
		})
	})

	it('counts an empty field as absent', () => {
		expect(readForm(Form, { name: 'ci', limit: '' })).toEqual({ name: 'ci' })
	})

	it('refuses a missing field in the schema’s own words, naming it', () => {
		expect(refusalOf(() => readForm(Form, { name: '' }))).toEqual({
			status: 400,
			message: 'name is required',
			param: 'name',
		})
	})

	it('refuses text that is not a number, with the message of the type it wraps', () => {
		expect(refusalOf(() => readForm(Form, { name: 'ci', limit: 'abc' }))).toEqual({
			status: 400,
			message: 'limit must be from 1 to 90',
			param: 'limit',
		})
	})

	it('refuses a fraction where a whole number belongs, instead of truncating it', () => {
		const Whole = t.Object({
			rpm: t.Optional(t.Nullable(t.Integer({ minimum: 1, error: 'rpm must be whole' }))),
		})
		expect(refusalOf(() => readForm(Whole, { rpm: '2.5' }))).toEqual({
			status: 400,
			message: 'rpm must be whole',
			param: 'rpm',
		})
		expect(readForm(Whole, { rpm: ' 3 ' })).toEqual({ rpm: 3 })
	})

	it('applies a number’s bounds to numeric text', () => {
		expect(refusalOf(() => readForm(Form, { name: 'ci', limit: '500' }))).toEqual({
			status: 400,
			message: 'limit must be from 1 to 90',
			param: 'limit',
		})
	})
})

describe('submitForm', () => {
	const fragment = (error: GatewayError) => `<p>${error.message}</p>`

	it('returns the action’s result when it succeeds', async () => {
		const set: ResponseSet = { headers: {} }
		expect(await submitForm(set, () => 'done', fragment)).toBe('done')
		expect(set).toEqual({ headers: {} })
	})

	it('re-renders the fragment with a 422 for a caller’s mistake', async () => {
		const set: ResponseSet = { headers: {} }
		const result = await submitForm(
			set,
			() => {
				throw new GatewayError(409, 'invalid_request_error', 'taken')
			},
			fragment,
		)
		expect(result).toBe('<p>taken</p>')
		expect(set).toEqual({ status: 422, headers: {} })
	})

	it('keeps a throttle’s 429 and its Retry-After', async () => {
		const set: ResponseSet = { headers: {} }
		await submitForm(
			set,
			() => {
				throw new GatewayError(429, 'rate_limit_error', 'slow down', { headers: { 'retry-after': '60' } })
			},
			fragment,
		)
		expect(set).toEqual({ status: 429, headers: { 'retry-after': '60' } })
	})

	it('lets a server error through to the error page', async () => {
		const failing = submitForm(
			{ headers: {} },
			() => {
				throw new GatewayError(500, 'api_error', 'broken')
			},
			fragment,
		)
		await expect(failing).rejects.toThrow('broken')
		await expect(
			submitForm({ headers: {} }, () => Promise.reject(new TypeError('bug')), fragment),
		).rejects.toThrow('bug')
	})
})

describe('dashboard forms', () => {
	const formPost = (cookie: string, fields: Record<string, string>) => ({
		cookie,
		body: new URLSearchParams(fields).toString(),
		headers: { ...SAME_ORIGIN, 'content-type': 'application/x-www-form-urlencoded', 'hx-request': 'true' },
	})

	it('show a bad rate limit next to the key form, and create nothing', async () => {
		await using t = await makeApp()
		const { cookie, token } = await signupUser(t, 'ada@example.com')
		const res = await t.call('POST', '/keys', formPost(cookie, { name: 'ci', rateLimitPerMinute: 'abc' }))
		expect(res.status).toBe(422)
		expect(await res.text()).toContain('rateLimitPerMinute must be a whole number of requests per minute')
		expect(await (await t.call('GET', '/api/keys', { token })).json()).toEqual([])
	})

	it('refuse a simulation period past the longest one, in the simulation’s place', async () => {
		await using t = await makeApp()
		const { cookie } = await signupUser(t, 'ada@example.com')
		const res = await t.call('POST', '/rules/simulate', formPost(cookie, { days: '500' }))
		expect(res.status).toBe(422)
		const html = await res.text()
		expect(html).toStartWith('<div id="rules-simulation" class="result">')
		expect(html).toContain('days must be an integer from 1 to 90')
	})
})

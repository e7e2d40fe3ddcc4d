import { describe, expect, it } from 'bun:test'
import { midStreamError } from '../../src/gateway/failures'
import { UpstreamError } from '../../src/providers/upstream-error'

describe('UpstreamError', () => {
	it('moves on after a 404 for the model, and returns a 404 for an item of the caller’s body', () => {
		expect(
			new UpstreamError('http', 404, 'The model does not exist', { code: 'model_not_found' }).retryable,
		).toBe(true)
		expect(new UpstreamError('http', 404, 'model: claude-x', { param: 'model' }).retryable).toBe(true)
		const item = new UpstreamError('http', 404, 'Item with id rs_1 not found.', {
			type: 'invalid_request_error',
			param: 'input',
		})
		expect(item.retryable).toBe(false)
		expect(item.status).toBe(404)
		expect(item.type).toBe('invalid_request_error')
	})
})

describe('midStreamError', () => {
	it('keeps an upstream 429 or 5xx, so a door can name the upstream’s error type', () => {
		expect(midStreamError(new UpstreamError('http', 529, 'Overloaded')).status).toBe(529)
		expect(midStreamError(new UpstreamError('http', 429, 'slow down')).status).toBe(429)
		expect(midStreamError(new UpstreamError('connection', 0, 'socket closed')).status).toBe(502)
		expect(midStreamError(new Error('anything')).type).toBe('upstream_error')
	})
})

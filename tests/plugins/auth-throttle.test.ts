import { describe, expect, it } from 'bun:test'
import { LoginThrottle } from '../../src/auth/login-throttle'

const WINDOW_MS = 15 * 60_000

/** A throttle on a clock the test moves by hand. */
function throttleAt(start = 1_000_000) {
	const clock = { now: start }
	return { clock, throttle: new LoginThrottle(10, WINDOW_MS, () => clock.now) }
}

describe('LoginThrottle', () => {
	it('locks an account at its tenth failure until the oldest one leaves the window', () => {
		const { clock, throttle } = throttleAt()
		for (let n = 0; n < 10; n++) {
			expect(throttle.recordFailure('ada@example.com', `198.51.100.${n}`)).toBe(0)
			clock.now += 1000
		}
		expect(throttle.accountRetryAfter('ada@example.com')).toBe(WINDOW_MS / 1000 - 10)
		clock.now += WINDOW_MS - 10_000
		expect(throttle.accountRetryAfter('ada@example.com')).toBe(0)
	})

	it('refuses wrong passwords from an address past its limit, with the wait before it frees', () => {
		const { clock, throttle } = throttleAt()
		for (let n = 0; n < 10; n++)
			expect(throttle.recordFailure(`guess${n}@example.com`, '203.0.113.7')).toBe(0)
		clock.now += 60_000
		expect(throttle.recordFailure('other@example.com', '203.0.113.7')).toBe(WINDOW_MS / 1000 - 60)
		expect(throttle.recordFailure('other@example.com', '203.0.113.8')).toBe(0)
	})

	it("clears an account's failures on a right password but keeps its address's", () => {
		const { throttle } = throttleAt()
		for (let n = 0; n < 9; n++) throttle.recordFailure('ada@example.com', '203.0.113.7')
		throttle.recordFailure('bob@example.com', '203.0.113.7')
		throttle.recordSuccess('ada@example.com')
		expect(throttle.accountRetryAfter('ada@example.com')).toBe(0)
		// The address's ten failures came at this same instant: it frees a whole window from now.
		expect(throttle.recordFailure('ada@example.com', '203.0.113.7')).toBe(WINDOW_MS / 1000)
	})
})

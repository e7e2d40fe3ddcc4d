import { describe, expect, it } from 'bun:test'
import type { BudgetWindow } from '../../db/schema'
import { microsToUsd, usdToMicros, windowReset, windowStart } from '../../src/budgets/windows'

const at = (iso: string) => new Date(iso).getTime()

describe('budget windows', () => {
	it.each([
		['day', '2026-12-03T12:34:56.789Z', '2026-12-03T00:00:00.000Z', '2026-12-04T00:00:00.000Z'],
		['day', '2026-12-03T00:00:00.000Z', '2026-12-03T00:00:00.000Z', '2026-12-04T00:00:00.000Z'],
		['day', '2026-12-03T23:59:59.999Z', '2026-12-03T00:00:00.000Z', '2026-12-04T00:00:00.000Z'],
		['day', '2026-12-31T23:59:59.999Z', '2026-12-31T00:00:00.000Z', '2027-01-01T00:00:00.000Z'],
		['day', '2028-02-28T08:00:00.000Z', '2028-02-28T00:00:00.000Z', '2028-02-29T00:00:00.000Z'],
		['month', '2026-12-03T12:00:00.000Z', '2026-12-01T00:00:00.000Z', '2027-01-01T00:00:00.000Z'],
		['month', '2026-11-30T23:59:59.999Z', '2026-11-01T00:00:00.000Z', '2026-12-01T00:00:00.000Z'],
		['month', '2026-12-01T00:00:00.000Z', '2026-12-01T00:00:00.000Z', '2027-01-01T00:00:00.000Z'],
		['month', '2028-02-29T12:00:00.000Z', '2028-02-01T00:00:00.000Z', '2028-03-01T00:00:00.000Z'],
		['total', '2026-12-03T12:00:00.000Z', '1970-01-01T00:00:00.000Z', null],
	] as const)('puts a %s budget at %s in the window from %s to %s (UTC)', (window, now, start, reset) => {
		expect({
			start: windowStart(window as BudgetWindow, at(now)).toISOString(),
			reset: windowReset(window as BudgetWindow, at(now))?.toISOString() ?? null,
		}).toEqual({ start, reset })
	})

	it('keeps UTC whatever the process time zone says', () => {
		// 2026-12-03T23:30 in UTC is already 2026-12-04 east of Greenwich and still 12-03 west of it.
		expect(windowStart('day', at('2026-12-03T23:30:00-05:00')).toISOString()).toBe('2026-12-04T00:00:00.000Z')
	})

	it.each([
		[1, 1_000_000],
		[0.05, 50_000],
		[0.000001, 1],
		[0.1 + 0.2, 300_000],
	])('turns $%d into %d micro-dollars', (usd, micros) => {
		expect(usdToMicros(usd)).toBe(micros)
		expect(microsToUsd(micros)).toBeCloseTo(usd, 9)
	})
})

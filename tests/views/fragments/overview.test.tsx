import { describe, expect, it } from 'bun:test'
import type { BreakdownRow, Integrity, Overview } from '../../../src/analytics/usage-reports'
import {
	BreakdownTable,
	type CostTrend,
	OverviewPanel,
	type OverviewProps,
} from '../../../src/views/fragments/overview'
import { expectEscaped, HOSTILE_ESCAPED, hostile } from '../../helpers/hostile'

const render = (node: JSX.Element) => String(node)

const overview: Overview = {
	requests: 3,
	errors: 1,
	upstreamErrors: 0,
	costUsd: 0.003,
	baselineCostUsd: 0.006,
	savingsUsd: 0.003,
	promptTokens: 300,
	completionTokens: 60,
	avgLatencyMs: 40,
	p95LatencyMs: 90,
	cacheHits: 1,
	cacheHitRate: 1 / 3,
	cacheSavingsUsd: 0.0015,
}

/** A breakdown row for `key`, a model, tier or key name that a user or an upstream chose. */
const row = (key: string | null): BreakdownRow => ({
	key,
	requests: 1,
	costUsd: 0.001,
	baselineCostUsd: 0.002,
	promptTokens: 100,
	completionTokens: 20,
	avgLatencyMs: 40,
})

const clean: Integrity = {
	unpricedRequests: 0,
	missingUsageRequests: 0,
	unpricedModels: [],
	uncleanStop: null,
}

describe('OverviewPanel', () => {
	it('escapes model and tier names in the breakdowns, and unpriced model names in the integrity list', async () => {
		const html = render(
			<OverviewPanel
				days={7}
				everyone
				isAdmin
				overview={overview}
				trend={{ unit: 'day', rows: [row('2026-12-03')] }}
				byModel={[row(hostile('model')), row('openai/gpt-4o-mini')]}
				byTier={[row(hostile('tier'))]}
				integrity={{ ...clean, unpricedRequests: 1, unpricedModels: [hostile('unpriced'), 'acme/other'] }}
				reference={hostile('reference')}
				baseUrl="http://localhost/v1"
				hasKeys
				readyProviders={[]}
			/>,
		)
		await expectEscaped(html, ['model', 'tier', 'unpriced', 'reference'])
		expect(html).toContain(`<td data-label="Model">${HOSTILE_ESCAPED}model</td>`)
		expect(html).toContain(`<span>${HOSTILE_ESCAPED}unpriced, acme/other</span>`)
	})
})

/** The panel with nothing but what a test sets. */
const panel = (props: Partial<OverviewProps>) =>
	render(
		<OverviewPanel
			days={7}
			everyone={false}
			isAdmin={false}
			overview={overview}
			trend={{ unit: 'day', rows: [] }}
			byModel={[]}
			byTier={[]}
			integrity={clean}
			reference="openai/gpt-6.2-sol"
			baseUrl="http://localhost/v1"
			hasKeys
			readyProviders={[]}
			{...props}
		/>,
	)

/** The chart's series, as the `costChart` component reads them from `data-series`. */
function chartSeries(html: string): {
	labels: string[]
	cost: (number | null)[]
	baseline: (number | null)[]
} {
	const [, attribute = ''] = /data-series="([^"]*)"/.exec(html) ?? []
	return JSON.parse(attribute.replaceAll('&#34;', '"').replaceAll('&quot;', '"'))
}

describe('OverviewPanel cache card', () => {
	it('shows the hit rate, the hits and what they saved, next to the savings', () => {
		const html = panel({})
		expect(html).toContain(
			'<div class="metric-label">Cache hit rate</div><div class="metric-value">33.3%</div><div class="metric-detail">1 hit · saved $0.0015</div>',
		)
		const order = [...html.matchAll(/id="metric-(\w+)"/g)].map((match) => match[1])
		expect(order).toEqual(['requests', 'spend', 'savings', 'cache', 'tokens', 'latency', 'errors'])
	})

	it('counts hits in the plural, and a period without requests at 0 %', () => {
		const html = panel({
			overview: { ...overview, requests: 0, cacheHits: 0, cacheHitRate: 0, cacheSavingsUsd: 0 },
		})
		expect(html).toContain(
			'<div class="metric-value">0.0%</div><div class="metric-detail">0 hits · saved $0.00</div>',
		)
	})
})

describe('OverviewPanel labels', () => {
	it('names a missing tier or model by what it means, never "none"', () => {
		const html = panel({
			byModel: [row('openai/gpt-4o-mini'), row(null)],
			byTier: [row('simple'), { ...row(null), answered: true }, { ...row(null), answered: false }],
		})
		expect(html).toContain('<td data-label="Tier">simple</td>')
		// A model answered without a tier: the caller named it.
		expect(html).toContain('<td data-label="Tier" class="absent">explicit</td>')
		// No tier and no answer: the daily totals cannot tell a refusal before routing from a named model that failed.
		expect(html).toContain(
			'<td data-label="Tier" class="absent">failed before routing, or named model failed</td>',
		)
		expect(html).toContain('<td data-label="Model" class="absent">no model answered</td>')
		expect(html).not.toContain('>none<')
	})
})

describe('OverviewPanel chart', () => {
	const hour = (h: number, costUsd: number): BreakdownRow => ({
		...row(`2026-12-03T${String(h).padStart(2, '0')}:00:00.000Z`),
		costUsd,
		baselineCostUsd: costUsd * 2,
	})

	it('draws a day by the hour: 24 hours on the axis, points up to the current hour only', () => {
		const trend: CostTrend = { unit: 'hour', rows: [hour(0, 0.5), hour(1, 0), hour(2, 0.25)] }
		const html = panel({ days: 1, trend })
		const series = chartSeries(html)
		expect(series.labels).toEqual(Array.from({ length: 24 }, (_, h) => `${String(h).padStart(2, '0')}:00`))
		expect(series.cost).toEqual([0.5, 0, 0.25, ...Array(21).fill(null)])
		expect(series.baseline).toEqual([1, 0, 0.5, ...Array(21).fill(null)])
		expect(html).toContain('<h2>Cost by hour today (UTC), and cost without routing</h2>')
	})

	it('draws longer periods by the day', () => {
		const trend: CostTrend = {
			unit: 'day',
			rows: [
				{ ...row('2026-12-02'), costUsd: 0.1 },
				{ ...row('2026-12-03'), costUsd: 0.2 },
			],
		}
		const series = chartSeries(panel({ trend }))
		expect(series).toEqual({
			labels: ['2026-12-02', '2026-12-03'],
			cost: [0.1, 0.2],
			baseline: [0.002, 0.002],
		})
		expect(panel({ trend })).toContain('<h2>Daily cost, and cost without routing</h2>')
	})
})

describe('BreakdownTable', () => {
	it('escapes the key names of a breakdown by key', async () => {
		const html = render(
			<BreakdownTable
				title="By key"
				label="Key"
				by="key"
				rows={[row(hostile('key')), row(hostile('other-key'))]}
			/>,
		)
		await expectEscaped(html, ['key', 'other-key'])
		expect(html).toContain(`<td data-label="Key">${HOSTILE_ESCAPED}key</td>`)
	})
})

import { describe, expect, it } from 'bun:test'
import type { BreakdownRow, Integrity, Overview } from '../../../src/analytics/usage-reports'
import { BreakdownTable, OverviewPanel, type OverviewProps } from '../../../src/views/fragments/overview'
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
				byDay={[row('2026-12-03')]}
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
			byDay={[]}
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

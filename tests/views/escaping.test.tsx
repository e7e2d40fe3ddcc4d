import { describe, expect, it } from 'bun:test'
import type { RequestDetail } from '../../src/analytics/logged-requests'
import { ErrorBanner } from '../../src/views/components/error-banner'
import { QuickStart } from '../../src/views/components/quick-start'
import { AuthForm } from '../../src/views/fragments/auth-form'
import { GatewayKeysSection, KeyRow } from '../../src/views/fragments/gateway-keys'
import { OverviewPanel } from '../../src/views/fragments/overview'
import { ProviderKeysSection } from '../../src/views/fragments/provider-keys'
import { RequestDetailView } from '../../src/views/fragments/requests'
import { Layout } from '../../src/views/layout'

const HOSTILE = '</td><script>alert(1)</script><img src=x onerror=alert(2)>'

const render = (node: JSX.Element) => String(node)

function expectEscaped(html: string) {
	expect(html).not.toContain('<script>')
	expect(html).not.toContain('<img src=x')
	expect(html).toContain('&lt;script&gt;')
}

const hostileKey = {
	id: 1,
	ownerEmail: HOSTILE,
	name: HOSTILE,
	prefix: 'sy_abcdefgh',
	rateLimitPerMinute: null,
	createdAt: new Date(0),
	lastUsedAt: null,
	revokedAt: null,
}

describe('views escape user-supplied strings', () => {
	it('escapes a key name in its row', () => {
		expectEscaped(render(<KeyRow gatewayKey={hostileKey} />))
	})

	it('escapes a key owner’s email in an admin’s list of every key', () => {
		const html = render(<KeyRow gatewayKey={hostileKey} everyone />)
		expectEscaped(html)
		expect(html).toContain('action="/keys/1/revoke?scope=all"')
	})

	it('escapes a freshly created key name and value', () => {
		expectEscaped(render(<GatewayKeysSection keys={[]} created={{ name: HOSTILE, key: 'sy_x' }} />))
	})

	it('escapes an error message', () => {
		expectEscaped(render(<ErrorBanner message={HOSTILE} />))
		expectEscaped(render(<GatewayKeysSection keys={[]} error={HOSTILE} />))
	})

	it('escapes the email shown in the header and in the login form', () => {
		expectEscaped(render(<Layout title="x" user={{ id: 1, email: HOSTILE, role: 'developer' }} />))
		const form = render(<AuthForm mode="login" email={`"><script>alert(1)</script>`} />)
		expect(form).not.toContain('"><script>')
	})

	it('escapes the page title', () => {
		expectEscaped(render(<Layout title={HOSTILE} />))
	})

	it('escapes a provider name and an error in the provider keys section', () => {
		const provider = { id: 'evil', name: HOSTILE, kind: 'openai' as const, baseUrl: 'https://x' }
		expectEscaped(render(<ProviderKeysSection providers={[provider]} keys={[]} isAdmin error={HOSTILE} />))
	})

	it('escapes the base URL shown in the quick start', () => {
		expectEscaped(render(<QuickStart baseUrl={`http://h/${HOSTILE}`} hasKeys={false} readyProviders={[]} />))
	})

	it('escapes provider names in the quick start, and says they need no provider key', () => {
		const html = render(
			<QuickStart baseUrl="http://h/v1" hasKeys={false} readyProviders={[HOSTILE, 'Anthropic']} />,
		)
		expectEscaped(html)
		expect(html).toContain('can already be reached, with the organisation&#x27;s provider keys.')
		expect(html).not.toContain('save a provider key')
	})
})

describe('the request detail', () => {
	const detail: RequestDetail = {
		id: 7,
		createdAt: '2026-12-03T10:00:00.000Z',
		door: 'chat',
		keyName: HOSTILE,
		userEmail: null,
		requestedModel: 'auto',
		model: 'openai/gpt-6-luna',
		provider: 'openai',
		tier: 'simple',
		rule: 'short-chat',
		status: 200,
		promptTokens: 30,
		completionTokens: 5,
		costUsd: 0.0000123,
		latencyMs: 40,
		attempts: [
			{
				model: 'anthropic/claude-haiku-5-5',
				provider: 'anthropic',
				status: 529,
				latencyMs: 6,
				error: HOSTILE,
				costUsd: 0.0000007,
			},
			{ model: 'openai/gpt-6-luna', provider: 'openai', status: 200, latencyMs: 20 },
		],
		error: null,
		cacheHit: false,
		cacheSavedUsd: 0,
		requestId: 'req_1',
		keyId: 1,
		userId: 1,
		upstreamModel: HOSTILE,
		stream: true,
		errorType: null,
		rulesRevision: 1,
		cachedTokens: 0,
		cacheWriteTokens: 0,
		usageReported: true,
		baselineCostUsd: 0.0001,
		ttftMs: 30,
		features: null,
		promptText: null,
		systemText: null,
		pin: HOSTILE,
	}

	it('escapes upstream text, and shows what a failed attempt was billed', () => {
		const html = render(<RequestDetailView request={detail} />)
		expectEscaped(html)
		expect(html).toContain('<td data-label="Billed">$0.0000007</td>')
	})
})

describe('the cost-integrity panel', () => {
	const empty = {
		requests: 0,
		errors: 0,
		upstreamErrors: 0,
		costUsd: 0,
		baselineCostUsd: 0,
		savingsUsd: 0,
		promptTokens: 0,
		completionTokens: 0,
		avgLatencyMs: 0,
		p95LatencyMs: 0,
		cacheHits: 0,
		cacheHitRate: 0,
		cacheSavingsUsd: 0,
	}
	const panel = (uncleanStop: { startedAt: string | null; pid: number | null; noticedAt: string } | null) =>
		render(
			<OverviewPanel
				days={7}
				everyone
				isAdmin
				overview={empty}
				trend={{ unit: 'day', rows: [] }}
				byModel={[]}
				byTier={[]}
				integrity={{ unpricedRequests: 0, missingUsageRequests: 0, unpricedModels: [], uncleanStop }}
				reference="openai/gpt-6.2-sol"
				baseUrl="http://localhost/v1"
				hasKeys
				readyProviders={[]}
			/>,
		)

	it('shows an unclean stop through the date formatter, even in a period without requests', () => {
		const html = panel({
			startedAt: '2026-12-03T10:00:00.000Z',
			pid: 123,
			noticedAt: '2026-12-03T10:05:00.000Z',
		})
		expect(html).toContain(
			'(started <span>2026-12-03 10:00 UTC</span>, pid 123) stopped without a clean shutdown',
		)
		expect(html).toContain('<span>2026-12-03 10:05 UTC</span>')
		expect(html).toContain('how many is not known')
		expect(panel(null)).not.toContain('cost-integrity')
	})

	it('never shows the raw text of a time', () => {
		const html = panel({ startedAt: HOSTILE, pid: null, noticedAt: HOSTILE })
		expect(html).not.toContain('<script>')
		expect(html).not.toContain('<img src=x')
	})
})

import { describe, expect, it } from 'bun:test'
import { ErrorBanner } from '../../src/views/components/error-banner'
import { QuickStart } from '../../src/views/components/quick-start'
import { AuthForm } from '../../src/views/fragments/auth-form'
import { GatewayKeysSection, KeyRow } from '../../src/views/fragments/gateway-keys'
import { ProviderKeysSection } from '../../src/views/fragments/provider-keys'
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
		expectEscaped(render(<QuickStart baseUrl={`http://h/${HOSTILE}`} hasKeys={false} />))
	})
})

import { describe, expect, it } from 'bun:test'
import type { RoutingPreview } from '../../src/rules/preview'
import type { SimulationResult } from '../../src/rules/simulate'
import { RULES_IDS, RuleErrors, RulesWorkspace } from '../../src/views/fragments/rules'
import { RoutingTestResult, SimulationView } from '../../src/views/fragments/rules-results'
import { RulesPage } from '../../src/views/pages/rules'
import { features } from '../helpers/features'

const HOSTILE = '</td><script>alert(1)</script><img src=x onerror=alert(2)>'
const ESCAPED = '&lt;/td&gt;&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;'

const render = (node: JSX.Element) => String(node)

/** Every place the hostile text was put comes out escaped, and none of it raw. */
function expectEscaped(html: string, places: number) {
	expect(html).not.toContain('<script>')
	expect(html).not.toContain('<img src=x')
	expect(html.split(ESCAPED).length - 1).toBe(places)
}

const preview: RoutingPreview = {
	tier: HOSTILE,
	rule: HOSTILE,
	candidates: [
		{ model: HOSTILE, provider: 'openai', skipped: HOSTILE },
		{ model: HOSTILE, provider: 'openai' },
	],
	features: features(),
	explanation: [{ name: HOSTILE, outcome: 'failed', reason: HOSTILE }],
	wouldCall: HOSTILE,
}

const simulation: SimulationResult = {
	days: 7,
	requests: 3,
	evaluated: 3,
	notEvaluated: 2,
	notEvaluatedByRule: [{ rule: HOSTILE, needs: HOSTILE, requests: 2 }],
	textKept: { digest: 3, text: 0, neither: 0 },
	changed: 1,
	current: { costUsd: 0.5, byTier: { [HOSTILE]: 3 } },
	proposed: { costUsd: 0.25, byTier: { cheap: 3 } },
	costDeltaUsd: -0.25,
	incapable: 1,
	incapableRequests: [{ id: 7, createdAt: '2026-12-01T10:00:00.000Z', tier: HOSTILE, reasons: [HOSTILE] }],
	byRule: [{ rule: HOSTILE, requests: 3, costUsd: 0.5, costShare: 1 }],
}

describe('the rules fragments', () => {
	it('escape a problem path and message next to the editor', () => {
		expectEscaped(render(<RuleErrors errors={[{ path: HOSTILE, message: HOSTILE }]} checked />), 2)
	})

	it('escape the edited text, its problems and the revision authors', () => {
		const html = render(
			<RulesWorkspace
				text={HOSTILE}
				errors={[{ path: '/tiers', message: HOSTILE }]}
				liveRevision={2}
				history={[{ revision: 1, createdAt: new Date(0), author: HOSTILE, source: 'api', rules: {} }]}
				summary={[{ name: HOSTILE, tier: HOSTILE, when: HOSTILE, enabled: false, description: HOSTILE }]}
			/>,
		)
		// text, problem, author; the rule's name (with "(disabled)"), tier, condition and description (its title)
		expect(html).toContain(`<td data-label="Rule">${ESCAPED} (disabled)</td>`)
		expectEscaped(html, 7)
	})

	it('escape a test result: tier, rule, candidates, skip reasons and the explanation', () => {
		const html = render(<RoutingTestResult outcome={{ kind: 'preview', preview, usedDraft: true }} />)
		// tier, rule, first call, two candidate models, one skip reason (prefixed), rule name and reason
		expect(html).toContain(`skipped: ${ESCAPED}`)
		expectEscaped(html, 8)
	})

	it('escape the message of a refused test and the problems of invalid edited rules', () => {
		expectEscaped(render(<RoutingTestResult outcome={{ kind: 'refused', message: HOSTILE }} />), 1)
		const invalid = render(
			<RoutingTestResult
				outcome={{ kind: 'invalid-rules', errors: [{ path: HOSTILE, message: HOSTILE }] }}
			/>,
		)
		expectEscaped(invalid, 2)
	})

	it('escape tier names and the reasons a request could not be served in a simulation', () => {
		const html = render(<SimulationView outcome={{ kind: 'result', result: simulation }} />)
		// the tier in the table, the incapable request's tier (inside its line), its reason, the rule's name,
		// and the undecided rule with what it needs
		expect(html).toContain(`→ ${ESCAPED}: `)
		expect(html).toContain(`<td data-label="Rule">${ESCAPED}</td><td data-label="Requests">3</td>`)
		expect(html).toContain('2 requests could not be evaluated')
		expectEscaped(html, 6)
	})

	it('never show a reassuring zero when no request could be evaluated', () => {
		const html = render(
			<SimulationView
				outcome={{
					kind: 'result',
					result: {
						...simulation,
						evaluated: 0,
						notEvaluated: 3,
						notEvaluatedByRule: [{ rule: 'code', needs: 'matches /```/', requests: 3 }],
						current: { costUsd: 0, byTier: {} },
						proposed: { costUsd: 0, byTier: {} },
						costDeltaUsd: 0,
						incapable: 0,
						incapableRequests: [],
					},
				}}
			/>,
		)
		expect(html).toContain('No request could be evaluated, so these rules have no cost to compare.')
		expect(html).toContain('3 requests could not be evaluated')
		expect(html).toContain('<code>matches /```/</code>')
		expect(html).not.toContain('$0.00')
		expect(html).not.toContain('Every evaluated request can be served')
	})

	it('escape the rules file path and the servers’ host names on the page', () => {
		const server = {
			id: 'a',
			host: HOSTILE,
			pid: 7,
			startedAt: new Date(0),
			lastSeenAt: new Date(0),
			rulesRevision: 1,
			pendingRows: 0,
			droppedRows: 0,
			self: true,
			silent: false,
		}
		const html = render(
			<RulesPage
				user={{ id: 1, email: 'admin@example.com', role: 'admin' }}
				workspace={{ text: '{}', errors: [], liveRevision: 1, history: [], summary: [] }}
				instances={[server, { ...server, id: 'b', rulesRevision: 0, self: false, silent: true }]}
				logPromptText={false}
				logTextDigest
				rulesPath={HOSTILE}
			/>,
		)
		expectEscaped(html, 3)
		expect(html).toContain('<span class="badge">this one</span>')
		expect(html).toContain('(silent: stopped without leaving)')
		expect(html).toContain('0 waiting · none dropped')
	})

	it('render the empty result slots with the ids the page forms target', () => {
		expect(render(<RoutingTestResult outcome={{ kind: 'empty' }} />)).toBe(
			`<div id="${RULES_IDS.testResult}"></div>`,
		)
		expect(render(<SimulationView outcome={{ kind: 'empty' }} />)).toBe(
			`<div id="${RULES_IDS.simulation}"></div>`,
		)
	})
})

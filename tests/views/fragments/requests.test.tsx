import { describe, expect, it } from 'bun:test'
import type { RequestDetail, RequestListItem } from '../../../src/analytics/logged-requests'
import {
	RequestDetailView,
	RequestFiltersForm,
	RequestRows,
	RequestsList,
} from '../../../src/views/fragments/requests'
import { expectEscaped, HOSTILE_ESCAPED, hostile, scriptsIn } from '../../helpers/hostile'

const render = (node: JSX.Element) => String(node)

/** A logged request whose every text came from a user or an upstream, each marked with its field. */
const listItem: RequestListItem = {
	id: 2,
	createdAt: '2026-12-03T10:00:00.000Z',
	keyName: hostile('key'),
	userEmail: hostile('email'),
	requestedModel: 'auto',
	model: hostile('model'),
	provider: 'openai',
	tier: hostile('tier'),
	rule: hostile('rule'),
	status: 502,
	promptTokens: 30,
	completionTokens: 5,
	costUsd: 0.0000123,
	latencyMs: 40,
	attempts: [],
	error: hostile('error'),
}

/** One that never reached a model: the list shows the model it asked for instead. */
const unanswered: RequestListItem = {
	...listItem,
	id: 1,
	keyName: null,
	requestedModel: hostile('requested'),
	model: null,
	tier: null,
}

describe('RequestsList', () => {
	it('escapes the key name, user email, model and tier of each row', async () => {
		const html = render(
			<RequestsList requests={[listItem, unanswered]} query={{ everyone: true }} pageSize={50} />,
		)
		await expectEscaped(html, ['key', 'email', 'model', 'tier', 'requested'])
	})
})

describe('RequestRows', () => {
	it('escapes the rows, and puts the filters in the next page’s link only percent-encoded', async () => {
		const query = { model: hostile('model'), tier: hostile('tier'), key: hostile('key'), everyone: false }
		const html = render(<RequestRows requests={[listItem, unanswered]} query={query} pageSize={2} />)
		await expectEscaped(html, ['key', 'model', 'tier', 'requested'])
		// HOSTILE, percent-encoded.
		const encoded = '%3C%2Ftd%3E%3Cscript%3Ealert%281%29%3C%2Fscript%3E'
		expect(html).toContain(
			`hx-get="/requests/rows?model=${encoded}model&tier=${encoded}tier&key=${encoded}key&before=1"`,
		)
	})
})

describe('RequestFiltersForm', () => {
	it('escapes model, tier and key names, and keeps a quote in an option value from closing it', async () => {
		const breakout = `"><script>alert(1)</script>`
		const html = render(
			<RequestFiltersForm
				query={{ model: breakout, tier: hostile('tier'), everyone: false }}
				options={{ models: [breakout], tiers: [hostile('tier')], keys: [{ id: 3, name: hostile('key') }] }}
				isAdmin={false}
			/>,
		)
		// An attribute escapes only the quote, which is all a quoted value needs: nothing in it becomes markup.
		expect(await scriptsIn(html)).toEqual([])
		expect(html).toContain(
			'<option value="&#34;><script>alert(1)</script>" selected>&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;</option>',
		)
		expect(html).toContain(
			`<option value="</td><script>alert(1)</script>tier" selected>${HOSTILE_ESCAPED}tier</option>`,
		)
		expect(html).toContain(`<option value="3">${HOSTILE_ESCAPED}key</option>`)
	})
})

describe('RequestDetailView', () => {
	const detail: RequestDetail = {
		...listItem,
		requestId: 'req_1',
		keyId: 1,
		userId: 1,
		requestedModel: hostile('requested'),
		upstreamModel: hostile('upstream'),
		stream: true,
		errorType: hostile('error-type'),
		rulesRevision: 4,
		cachedTokens: 0,
		cacheWriteTokens: 0,
		usageReported: true,
		baselineCostUsd: 0.0001,
		ttftMs: 30,
		attempts: [
			{
				model: hostile('attempt-model'),
				provider: 'anthropic',
				status: 529,
				latencyMs: 6,
				error: hostile('attempt'),
			},
		],
		features: { note: hostile('feature') },
		promptText: hostile('prompt'),
		systemText: hostile('system'),
	}

	it('escapes every text the user or the upstream wrote, and the logged prompt excerpts', async () => {
		const html = render(<RequestDetailView request={detail} />)
		await expectEscaped(html, [
			'key',
			'requested',
			'model',
			'upstream',
			'tier',
			'rule',
			'error-type',
			'error',
			'attempt-model',
			'attempt',
			'feature',
			'prompt',
			'system',
		])
		expect(html).toContain(`<code>system: ${HOSTILE_ESCAPED}system\nuser: ${HOSTILE_ESCAPED}prompt</code>`)
	})
})

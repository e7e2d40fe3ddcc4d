import { describe, expect, it } from 'bun:test'
import type { RequestDetail, RequestListItem } from '../../../src/analytics/logged-requests'
import {
	RequestDetailView,
	RequestFiltersForm,
	RequestRows,
	RequestsList,
	ROUTE_FILTERS,
} from '../../../src/views/fragments/requests'
import { expectEscaped, HOSTILE_ESCAPED, hostile, scriptsIn } from '../../helpers/hostile'

const render = (node: JSX.Element) => String(node)

/** A logged request whose every text came from a user or an upstream, each marked with its field. */
const listItem: RequestListItem = {
	id: 2,
	createdAt: '2026-12-03T10:00:00.000Z',
	door: 'messages',
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
	cacheHit: false,
	cacheSavedUsd: 0,
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
				options={{
					models: [breakout],
					tiers: [hostile('tier')],
					keys: [{ id: 3, name: hostile('key') }],
					unanswered: false,
					untiered: false,
					untieredUnanswered: false,
				}}
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

/** The three routes a request can take, as the log keeps them, and how the list and the detail word them. */
const routed: RequestListItem = {
	...listItem,
	id: 10,
	keyName: 'app',
	userEmail: null,
	requestedModel: 'auto',
	model: 'openai/gpt-4o-mini',
	tier: 'simple',
	rule: 'short-chat',
	status: 200,
	error: null,
}
const explicit: RequestListItem = {
	...routed,
	id: 11,
	requestedModel: 'gpt-4o-mini',
	tier: null,
	rule: 'explicit',
}
/** A named model whose every attempt failed: still explicit, and no model answered. */
const explicitFailed: RequestListItem = { ...explicit, id: 12, model: null, provider: null, status: 502 }
/** Refused before any route was chosen (here an unknown model): no rule, no tier, no model. */
const beforeRouting: RequestListItem = {
	...routed,
	id: 13,
	requestedModel: 'no-such-model',
	model: null,
	provider: null,
	tier: null,
	rule: null,
	status: 404,
}

const detailOf = (item: RequestListItem): RequestDetail => ({
	...item,
	requestId: `req_${item.id}`,
	keyId: 1,
	userId: 1,
	upstreamModel: item.model ? 'gpt-4o-mini-2024-07-18' : null,
	stream: false,
	errorType: null,
	rulesRevision: null,
	cachedTokens: 0,
	cacheWriteTokens: 0,
	usageReported: true,
	baselineCostUsd: 0,
	ttftMs: null,
	features: null,
	promptText: null,
	systemText: null,
	pin: null,
})

/** What every row's cell with this data-label holds, top to bottom. */
function cells(html: string, label: string): string[] {
	return [...html.matchAll(new RegExp(`<td data-label="${label}"[^>]*>(.*?)</td>`, 'g'))].map(
		(match) => match[1] ?? '',
	)
}

/** Answered from the response cache: $0, no usage, no attempt, and what it saved. */
const cached: RequestListItem = {
	...routed,
	id: 14,
	promptTokens: 0,
	completionTokens: 0,
	costUsd: 0,
	cacheHit: true,
	cacheSavedUsd: 0.000402,
}

describe('cache hits', () => {
	it('marks a cache hit in the list, and only a cache hit', () => {
		const html = render(
			<RequestsList requests={[cached, routed]} query={{ everyone: false }} pageSize={50} />,
		)
		expect(cells(html, 'Model')).toEqual([
			'<span>openai/gpt-4o-mini</span><span class="badge">auto</span><span class="badge cache-hit" title="Answered from the cache, saving $0.000402">cache hit</span>',
			'<span>openai/gpt-4o-mini</span><span class="badge">auto</span>',
		])
	})

	it('says in the detail that the cache answered, and what it saved, with no missing usage', () => {
		const html = render(<RequestDetailView request={{ ...detailOf(cached), usageReported: false }} />)
		expect(html).toContain('<dt>Cache</dt><dd>Answered from the cache, saving $0.000402</dd>')
		expect(html).toContain('No upstream was called: the cache answered.')
		expect(html).not.toContain('no usage reported')
		expect(render(<RequestDetailView request={detailOf(routed)} />)).not.toContain('<dt>Cache</dt>')
	})
})

describe('route labels', () => {
	it('says in the list whether a request was routed, named its model, or failed before routing', () => {
		const html = render(
			<RequestsList
				requests={[routed, explicit, explicitFailed, beforeRouting]}
				query={{ everyone: false }}
				pageSize={50}
			/>,
		)
		expect(cells(html, 'Tier')).toEqual(['simple', 'explicit', 'explicit', 'failed before routing'])
		expect(cells(html, 'Model')).toEqual([
			'<span>openai/gpt-4o-mini</span><span class="badge">auto</span>',
			'<span>openai/gpt-4o-mini</span>',
			'<span class="absent">no model answered</span><span class="hint asked">asked for gpt-4o-mini</span>',
			'<span class="absent">no model (failed before routing)</span><span class="hint asked">asked for no-such-model</span>',
		])
		expect(html).toContain('<td data-label="Tier" class="absent">explicit</td>')
		expect(html).not.toContain('>none<')
	})

	it.each([
		['a routed request', routed, 'simple', 'openai/gpt-4o-mini (gpt-4o-mini-2024-07-18)'],
		['an explicit one', explicit, 'explicit', 'openai/gpt-4o-mini (gpt-4o-mini-2024-07-18)'],
		['an explicit one that failed', explicitFailed, 'explicit', 'no model answered'],
		[
			'one that failed before routing',
			beforeRouting,
			'failed before routing',
			'no model (failed before routing)',
		],
	])('says the same in the detail of %s', (_, item, tier, answeredBy) => {
		const html = render(<RequestDetailView request={detailOf(item)} />)
		expect(html).toContain(`<dt>Tier</dt><dd>${tier}</dd>`)
		expect(html).toContain(`<dt>Answered by</dt><dd>${answeredBy}</dd>`)
	})

	it('offers the absent tier and model in the filters under the same words, as values no name can take', () => {
		const html = render(
			<RequestFiltersForm
				query={{ tier: ROUTE_FILTERS.explicit, everyone: false }}
				options={{
					models: ['openai/gpt-4o-mini'],
					tiers: ['explicit', 'simple'],
					keys: [],
					unanswered: true,
					untiered: true,
					untieredUnanswered: true,
				}}
				isAdmin={false}
			/>,
		)
		expect(html).toContain('<option value="_unanswered">no model answered</option>')
		// A tier may itself be called "explicit": its filter value is its name, the label's is not.
		expect(html).toContain('<option value="explicit">explicit</option>')
		expect(html).toContain('<option value="_explicit" selected>explicit</option>')
		expect(html).toContain('<option value="_before-routing">failed before routing</option>')
	})

	it('offers no absent value that never occurred', () => {
		const html = render(
			<RequestFiltersForm
				query={{ everyone: false }}
				options={{
					models: ['openai/gpt-4o-mini'],
					tiers: ['simple'],
					keys: [],
					unanswered: false,
					untiered: false,
					untieredUnanswered: false,
				}}
				isAdmin={false}
			/>,
		)
		expect(html).not.toContain('value="_')
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
		pin: hostile('pin'),
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
			'pin',
		])
		expect(html).toContain(`<code>system: ${HOSTILE_ESCAPED}system\nuser: ${HOSTILE_ESCAPED}prompt</code>`)
	})
})

describe('doors and session pins', () => {
	it('shows each request’s door as a badge in its own column, naming its endpoint', () => {
		const html = render(
			<RequestsList
				requests={[
					{ ...routed, door: 'chat' },
					{ ...routed, id: 14, door: 'responses' },
				]}
				query={{ everyone: false }}
				pageSize={50}
			/>,
		)
		expect(html).toContain('<th>Key</th><th>API</th><th>Model</th>')
		expect(cells(html, 'API')).toEqual([
			'<span class="badge door door-chat" title="POST /v1/chat/completions">chat</span>',
			'<span class="badge door door-responses" title="POST /v1/responses">responses</span>',
		])
	})

	it('shows the door’s endpoint in the detail, and the session pin only when one applied', () => {
		const pinned = render(
			<RequestDetailView
				request={{
					...detailOf(routed),
					door: 'messages',
					pin: 'session header s-1: pinned to x (tier hard)',
				}}
			/>,
		)
		expect(pinned).toContain('<dt>API</dt><dd>POST /v1/messages (messages)</dd>')
		expect(pinned).toContain('<dt>Session pin</dt><dd>session header s-1: pinned to x (tier hard)</dd>')
		const unpinned = render(<RequestDetailView request={detailOf(routed)} />)
		expect(unpinned).not.toContain('Session pin')
	})

	it('offers every door in the filters, the chosen one selected, and keeps it in the next page’s link', () => {
		const html = render(
			<RequestFiltersForm
				query={{ door: 'embeddings', everyone: false }}
				options={{
					models: [],
					tiers: [],
					keys: [],
					unanswered: false,
					untiered: false,
					untieredUnanswered: false,
				}}
				isAdmin={false}
			/>,
		)
		expect(html).toContain('<select name="door"><option value="">Any</option>')
		expect(html).toContain('<option value="chat">POST /v1/chat/completions</option>')
		expect(html).toContain('<option value="embeddings" selected>POST /v1/embeddings</option>')
		const rows = render(
			<RequestRows requests={[routed]} query={{ door: 'embeddings', everyone: false }} pageSize={1} />,
		)
		expect(rows).toContain('hx-get="/requests/rows?door=embeddings&before=10"')
	})
})

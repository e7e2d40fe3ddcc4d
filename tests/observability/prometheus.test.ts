import { describe, expect, it } from 'bun:test'
import { Registry } from '../../src/observability/prometheus'
import { parseExposition, sampleValue } from '../helpers/prometheus'

describe('Registry', () => {
	it('renders counters, gauges and histograms in the text format, HELP and TYPE first', () => {
		const r = new Registry()
		const requests = r.counter('app_requests_total', 'Requests.', ['door', 'code'])
		const depth = r.gauge('app_depth', 'Depth.')
		const latency = r.histogram('app_latency_seconds', 'Latency.', ['door'], [0.1, 1])
		r.observed('app_revision', 'Revision.', 'gauge', () => 7)
		requests.root.at('chat').at(200).inc()
		requests.root.at('chat').at(200).inc(2)
		depth.root.set(3)
		latency.root.at('chat').observe(0.05)
		latency.root.at('chat').observe(0.1)
		latency.root.at('chat').observe(5)
		expect(r.render()).toBe(
			[
				'# HELP app_requests_total Requests.',
				'# TYPE app_requests_total counter',
				'app_requests_total{door="chat",code="200"} 3',
				'# HELP app_depth Depth.',
				'# TYPE app_depth gauge',
				'app_depth 3',
				'# HELP app_latency_seconds Latency.',
				'# TYPE app_latency_seconds histogram',
				'app_latency_seconds_bucket{door="chat",le="0.1"} 2',
				'app_latency_seconds_bucket{door="chat",le="1"} 2',
				'app_latency_seconds_bucket{door="chat",le="+Inf"} 3',
				'app_latency_seconds_sum{door="chat"} 5.15',
				'app_latency_seconds_count{door="chat"} 3',
				'# HELP app_revision Revision.',
				'# TYPE app_revision gauge',
				'app_revision 7',
				'',
			].join('\n'),
		)
	})

	it('escapes label values so that no value can break a line or a label', () => {
		const r = new Registry()
		const hostile = 'a"b\\c\nd} 1\nfake_metric 9'
		r.counter('app_total', 'Help with a \\ and a\nline feed.', ['tier']).root.at(hostile).inc()
		const families = parseExposition(r.render())
		expect([...families.keys()]).toEqual(['app_total'])
		expect(sampleValue(families, 'app_total', { tier: hostile })).toBe(1)
	})

	it('keeps one series per label values, numbers and strings apart as keys but found again', () => {
		const r = new Registry()
		const counter = r.counter('app_total', 'Help.', ['code'])
		const first = counter.root.at(200)
		expect(counter.root.at(200)).toBe(first)
		first.inc()
		counter.root.at(200).inc()
		expect(sampleValue(parseExposition(r.render()), 'app_total', { code: '200' })).toBe(2)
	})

	it('leaves out an observed value that has none', () => {
		const r = new Registry()
		r.observed('app_revision', 'Revision.', 'gauge', () => null)
		expect(r.render()).toBe('')
	})

	it.each([
		['bad name', () => new Registry().counter('1app_total', 'x')],
		['bad label', () => new Registry().counter('app_total', 'x', ['a-b'])],
		['reserved label', () => new Registry().counter('app_total', 'x', ['__name'])],
		['le on a histogram', () => new Registry().histogram('app_seconds', 'x', ['le'], [1])],
		['unordered buckets', () => new Registry().histogram('app_seconds', 'x', [], [1, 0.5])],
		[
			'a name twice',
			() => {
				const r = new Registry()
				r.counter('app_total', 'x')
				r.gauge('app_total', 'x')
			},
		],
	])('refuses a %s', (_, make) => {
		expect(make).toThrow()
	})

	it('refuses a value for a label the family does not have', () => {
		const counter = new Registry().counter('app_total', 'x', ['door'])
		expect(() => counter.root.at('chat').at('extra')).toThrow()
	})
})

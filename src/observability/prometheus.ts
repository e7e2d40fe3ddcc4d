// A small Prometheus registry: counters, gauges and histograms with labels, rendered in the text
// exposition format 0.0.4 (https://prometheus.io/docs/instrumenting/exposition_formats/).
//
// Hand-written rather than prom-client because recording sits on the gateway's hot path: a series is
// found by walking one Map per label (`family.at(a).at(b)`), so a request that hits known series
// allocates nothing, where prom-client hashes a label object into a string on every call
// (docs/observability.md, "What it costs").

/** A label value as the caller has it: numbers (status codes) are keys as they are, turned into text once. */
export type LabelValue = string | number

export const EXPOSITION_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8'

/** Label values in the exposition format: backslash, double quote and line feed escaped. */
const escapeLabel = (value: string) => value.replace(/[\\"\n]/g, (c) => (c === '\n' ? '\\n' : `\\${c}`))

const escapeHelp = (text: string) => text.replace(/[\\\n]/g, (c) => (c === '\n' ? '\\n' : '\\\\'))

function formatNumber(value: number): string {
	if (Number.isNaN(value)) return 'NaN'
	if (value === Number.POSITIVE_INFINITY) return '+Inf'
	if (value === Number.NEGATIVE_INFINITY) return '-Inf'
	return String(value)
}

/** One node of a family's label tree: the series of its labels so far, and its children by next value. */
abstract class Node<Self extends Node<Self>> {
	private readonly children = new Map<LabelValue, Self>()

	constructor(
		protected readonly family: Family<Self>,
		/** `a="x",b="y"`, the labels from the root to here, ready to print. */
		readonly labels: string,
		readonly depth: number,
	) {}

	/** The child for the next label's value, created (and, as a full series, registered) the first time. */
	at(value: LabelValue): Self {
		let child = this.children.get(value)
		if (child === undefined) {
			child = this.family.child(this as unknown as Self, value)
			this.children.set(value, child)
		}
		return child
	}
}

type NodeFactory<N extends Node<N>> = (family: Family<N>, labels: string, depth: number) => N

abstract class Family<N extends Node<N>> {
	readonly root: N
	/** Every full series (a node with a value for each label), in creation order. */
	protected readonly series: N[] = []

	constructor(
		readonly name: string,
		readonly help: string,
		readonly labelNames: readonly string[],
		private readonly type: 'counter' | 'gauge' | 'histogram',
		private readonly node: NodeFactory<N>,
	) {
		this.root = node(this, '', 0)
		if (labelNames.length === 0) this.series.push(this.root)
	}

	protected abstract renderSeries(out: string[], node: N): void

	/** @internal the node below `parent` for `value`. */
	child(parent: N, value: LabelValue): N {
		const name = this.labelNames[parent.depth]
		if (name === undefined) throw new Error(`${this.name} has only ${this.labelNames.length} labels`)
		const pair = `${name}="${escapeLabel(String(value))}"`
		const node = this.node(this, parent.labels ? `${parent.labels},${pair}` : pair, parent.depth + 1)
		if (node.depth === this.labelNames.length) this.series.push(node)
		return node
	}

	render(out: string[]) {
		out.push(`# HELP ${this.name} ${escapeHelp(this.help)}`, `# TYPE ${this.name} ${this.type}`)
		for (const node of this.series) this.renderSeries(out, node)
	}
}

const sample = (name: string, labels: string, value: number) =>
	labels ? `${name}{${labels}} ${formatNumber(value)}` : `${name} ${formatNumber(value)}`

export class CounterNode extends Node<CounterNode> {
	value = 0

	inc(by = 1) {
		this.value += by
	}
}

/** A counter; its name should end in `_total`. */
export class Counter extends Family<CounterNode> {
	constructor(name: string, help: string, labelNames: readonly string[]) {
		super(
			name,
			help,
			labelNames,
			'counter',
			(family, labels, depth) => new CounterNode(family, labels, depth),
		)
	}

	protected renderSeries(out: string[], node: CounterNode) {
		out.push(sample(this.name, node.labels, node.value))
	}
}

/** A gauge set by the code: `set`, `inc`, `dec`. */
export class GaugeNode extends Node<GaugeNode> {
	value = 0

	set(value: number) {
		this.value = value
	}

	inc(by = 1) {
		this.value += by
	}

	dec(by = 1) {
		this.value -= by
	}
}

export class Gauge extends Family<GaugeNode> {
	constructor(name: string, help: string, labelNames: readonly string[]) {
		super(name, help, labelNames, 'gauge', (family, labels, depth) => new GaugeNode(family, labels, depth))
	}

	protected renderSeries(out: string[], node: GaugeNode) {
		out.push(sample(this.name, node.labels, node.value))
	}
}

/** A value kept elsewhere (a count, a depth, a time), read at each scrape; without labels. */
export class Observed {
	readonly labelNames: readonly string[] = []

	constructor(
		readonly name: string,
		readonly help: string,
		private readonly type: 'counter' | 'gauge',
		/** null: no value now (no rules revision yet); the metric is left out of the scrape. */
		private readonly read: () => number | null,
	) {}

	render(out: string[]) {
		const value = this.read()
		if (value === null) return
		out.push(`# HELP ${this.name} ${escapeHelp(this.help)}`, `# TYPE ${this.name} ${this.type}`)
		out.push(sample(this.name, '', value))
	}
}

/** One series of an `ObservedSet`: its label values, in the family's label order, and its value. */
export interface ObservedSample {
	readonly labels: readonly LabelValue[]
	readonly value: number
}

/**
 * Series kept elsewhere, read at each scrape with their labels: a set that changes as a whole (the
 * budgets an admin configured), so a series that is gone is gone from the scrape too.
 */
export class ObservedSet {
	constructor(
		readonly name: string,
		readonly help: string,
		readonly labelNames: readonly string[],
		private readonly read: () => readonly ObservedSample[],
	) {}

	render(out: string[]) {
		const samples = this.read()
		if (samples.length === 0) return
		out.push(`# HELP ${this.name} ${escapeHelp(this.help)}`, `# TYPE ${this.name} gauge`)
		for (const { labels, value } of samples) {
			const pairs = this.labelNames.map((name, i) => `${name}="${escapeLabel(String(labels[i] ?? ''))}"`)
			out.push(sample(this.name, pairs.join(','), value))
		}
	}
}

export class HistogramNode extends Node<HistogramNode> {
	/** Observations per bucket, not cumulative (the last one is +Inf); summed up when rendered. */
	readonly counts: Float64Array
	sum = 0
	count = 0

	constructor(
		family: Family<HistogramNode>,
		labels: string,
		depth: number,
		private readonly bounds: readonly number[],
	) {
		super(family, labels, depth)
		this.counts = new Float64Array(bounds.length + 1)
	}

	observe(value: number) {
		const bounds = this.bounds
		let i = 0
		while (i < bounds.length && value > (bounds[i] as number)) i++
		this.counts[i] = (this.counts[i] as number) + 1
		this.sum += value
		this.count++
	}
}

export class Histogram extends Family<HistogramNode> {
	private readonly bucketLabels: readonly string[]

	constructor(
		name: string,
		help: string,
		labelNames: readonly string[],
		/** Upper bounds, ascending; +Inf is added. */
		readonly bounds: readonly number[],
	) {
		for (let i = 1; i < bounds.length; i++) {
			if (!((bounds[i] as number) > (bounds[i - 1] as number))) {
				throw new Error(`${name}: bucket bounds must be strictly ascending`)
			}
		}
		super(
			name,
			help,
			labelNames,
			'histogram',
			(family, labels, depth) => new HistogramNode(family, labels, depth, bounds),
		)
		this.bucketLabels = [...bounds.map(formatNumber), '+Inf'].map((le) => `le="${le}"`)
	}

	protected renderSeries(out: string[], node: HistogramNode) {
		let cumulative = 0
		const prefix = node.labels ? `${node.labels},` : ''
		for (let i = 0; i < this.bucketLabels.length; i++) {
			cumulative += node.counts[i] as number
			out.push(`${this.name}_bucket{${prefix}${this.bucketLabels[i]}} ${cumulative}`)
		}
		out.push(sample(`${this.name}_sum`, node.labels, node.sum))
		out.push(sample(`${this.name}_count`, node.labels, node.count))
	}
}

type AnyFamily = Counter | Gauge | Histogram | Observed | ObservedSet

/** The metrics of one process, rendered in registration order. */
export class Registry {
	private readonly families: AnyFamily[] = []
	private readonly names = new Set<string>()

	counter(name: string, help: string, labelNames: readonly string[] = []): Counter {
		return this.add(new Counter(name, help, labelNames))
	}

	gauge(name: string, help: string, labelNames: readonly string[] = []): Gauge {
		return this.add(new Gauge(name, help, labelNames))
	}

	histogram(name: string, help: string, labelNames: readonly string[], bounds: readonly number[]): Histogram {
		return this.add(new Histogram(name, help, labelNames, bounds))
	}

	/** A value kept elsewhere, read when scraped: a count (`counter`, name ending in `_total`) or a gauge. */
	observed(name: string, help: string, type: 'counter' | 'gauge', read: () => number | null): Observed {
		return this.add(new Observed(name, help, type, read))
	}

	/** Gauges kept elsewhere, with labels, read when scraped. */
	observedSet(
		name: string,
		help: string,
		labelNames: readonly string[],
		read: () => readonly ObservedSample[],
	): ObservedSet {
		return this.add(new ObservedSet(name, help, labelNames, read))
	}

	/** The exposition text, ending with a line feed. */
	render(): string {
		const out: string[] = []
		for (const family of this.families) family.render(out)
		out.push('')
		return out.join('\n')
	}

	private add<F extends AnyFamily>(family: F): F {
		if (!/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(family.name) || this.names.has(family.name)) {
			throw new Error(`metric name ${family.name} is invalid or taken`)
		}
		for (const label of family.labelNames) {
			if (!/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(label) || label.startsWith('__') || label === 'le') {
				throw new Error(`${family.name}: label name ${label} is invalid`)
			}
		}
		this.names.add(family.name)
		this.families.push(family)
		return family
	}
}

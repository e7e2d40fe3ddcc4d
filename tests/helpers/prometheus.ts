// A strict reader of Prometheus' text exposition format 0.0.4, for tests: it refuses what Prometheus would
// refuse (a sample without HELP and TYPE, a bad name, a malformed label, an unparseable value).

export interface Sample {
	/** The sample's own name: `x_bucket`, `x_sum` and `x_count` for a histogram `x`. */
	name: string
	labels: Record<string, string>
	value: number
}

export interface Family {
	name: string
	help: string
	type: 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped'
	samples: Sample[]
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/

function parseValue(text: string, line: string): number {
	if (text === '+Inf') return Number.POSITIVE_INFINITY
	if (text === '-Inf') return Number.NEGATIVE_INFINITY
	if (text === 'NaN') return Number.NaN
	if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) throw new Error(`bad value in: ${line}`)
	return Number(text)
}

/** `a="x",b="y\"z"` → { a: 'x', b: 'y"z' } */
function parseLabels(text: string, line: string): Record<string, string> {
	const labels: Record<string, string> = {}
	let i = 0
	while (i < text.length) {
		const eq = text.indexOf('=', i)
		const name = text.slice(i, eq)
		if (eq < 0 || !LABEL_NAME.test(name) || text[eq + 1] !== '"') throw new Error(`bad label in: ${line}`)
		let value = ''
		let j = eq + 2
		for (; j < text.length && text[j] !== '"'; j++) {
			if (text[j] === '\\') {
				j++
				const escaped = text[j]
				if (escaped === 'n') value += '\n'
				else if (escaped === '\\' || escaped === '"') value += escaped
				else throw new Error(`bad escape in: ${line}`)
			} else value += text[j]
		}
		if (j >= text.length) throw new Error(`unterminated label value in: ${line}`)
		if (name in labels) throw new Error(`repeated label ${name} in: ${line}`)
		labels[name] = value
		i = j + 1
		if (text[i] === ',') i++
		else if (i < text.length) throw new Error(`bad label separator in: ${line}`)
	}
	return labels
}

function familyOf(sampleName: string, families: Map<string, Family>): Family | undefined {
	const exact = families.get(sampleName)
	if (exact) return exact
	const base = sampleName.replace(/_(bucket|sum|count)$/, '')
	const family = families.get(base)
	return family?.type === 'histogram' || family?.type === 'summary' ? family : undefined
}

/** Every metric family of a scrape, by name. Throws on anything Prometheus would not accept. */
export function parseExposition(text: string): Map<string, Family> {
	if (!text.endsWith('\n')) throw new Error('the exposition must end with a line feed')
	const families = new Map<string, Family>()
	for (const line of text.split('\n')) {
		if (line === '') continue
		const meta = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line)
		if (meta) {
			const [, kind, name = '', rest = ''] = meta
			if (!NAME.test(name)) throw new Error(`bad metric name in: ${line}`)
			const family = families.get(name) ?? { name, help: '', type: 'untyped', samples: [] }
			if (family.samples.length > 0) throw new Error(`${kind} after samples of ${name}`)
			if (kind === 'HELP') family.help = rest
			else family.type = rest as Family['type']
			families.set(name, family)
			continue
		}
		if (line.startsWith('#')) continue
		const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line)
		if (!sample) throw new Error(`bad sample line: ${line}`)
		const [, name = '', labelText = '', valueText = ''] = sample
		const family = familyOf(name, families)
		if (!family) throw new Error(`sample without HELP and TYPE: ${line}`)
		family.samples.push({ name, labels: parseLabels(labelText, line), value: parseValue(valueText, line) })
	}
	return families
}

/** The value of the one sample of `name` whose labels include `labels`; undefined when there is none. */
export function sampleValue(
	families: Map<string, Family>,
	name: string,
	labels: Record<string, string> = {},
): number | undefined {
	const family = familyOf(name, families)
	const matching = (family?.samples ?? []).filter(
		(sample) =>
			sample.name === name && Object.entries(labels).every(([key, value]) => sample.labels[key] === value),
	)
	if (matching.length > 1)
		throw new Error(`${matching.length} samples of ${name} match ${JSON.stringify(labels)}`)
	return matching[0]?.value
}

/** The sum of every sample of `name` whose labels include `labels`. */
export function sumOf(
	families: Map<string, Family>,
	name: string,
	labels: Record<string, string> = {},
): number {
	const family = familyOf(name, families)
	return (family?.samples ?? [])
		.filter(
			(sample) =>
				sample.name === name && Object.entries(labels).every(([key, value]) => sample.labels[key] === value),
		)
		.reduce((sum, sample) => sum + sample.value, 0)
}

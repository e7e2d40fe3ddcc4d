/**
 * From the per-round samples to the figures the benchmark reports: medians over rounds, Switchyard against
 * the floor paired round by round (so drift between rounds cancels), the targets, and the printed table.
 */
import { CONNECTIONS, type OpenLoopSample, type ThroughputSample } from './measure'
import { SCENARIO_NAMES, SCENARIOS, type ScenarioName, TARGETS, type TargetName } from './scenarios'
import { median } from './stats'

export const RATES = [1000, 5000] as const
export type Rate = (typeof RATES)[number]

/** Every sample, one per round, per scenario and target. */
export interface RoundData {
	throughput: Record<ScenarioName, Partial<Record<TargetName, ThroughputSample[]>>>
	latency: Record<ScenarioName, Record<Rate, Partial<Record<TargetName, OpenLoopSample[]>>>>
	ttfb: Record<ScenarioName, Partial<Record<TargetName, OpenLoopSample[]>>>
}

export interface ServerMemory {
	/** VmRSS once started and set up (admin login, gateway key) and settled for a moment. */
	idleMiB: number
	/** VmHWM at that point: the peak of start-up (Switchyard: argon2id password hashes). */
	startupPeakMiB: number
	/** VmHWM after the load, reset after start-up when the kernel allows (`peakReset`). */
	peakMiB: number
	afterMiB: number
}

export interface MemoryFigures {
	floor: ServerMemory
	switchyard: ServerMemory
	/** VmHWM was reset after start-up, so `peakMiB` is the peak under load alone. */
	peakReset: boolean
}

export interface LogCheck {
	/** Requests Switchyard received: wrk's and the open-loop generator's sends, warm-up included. */
	sent: number
	rows: number
	rowsByStatus: Record<string, number>
	exitCode: number | null
	pass: boolean
}

export interface Percentile3 {
	p50: number
	p99: number
	p999: number
}

export interface LatencyTarget extends Percentile3 {
	errors: number
	sent: number
	cpuUsPerRequest: number
	/** The generator's own lateness (p99, ms), included in the figures: the noise floor. */
	sendLagP99: number
}

export interface LatencyFigures {
	/** Medians over rounds of each round's percentiles, in ms. */
	targets: Partial<Record<TargetName, LatencyTarget>>
	/** Per round: target minus direct, then the median; in ms. */
	added: { floor: { p50: number; p99: number }; switchyard: { p50: number; p99: number } }
	/** Per round: Switchyard minus floor, then the median; in ms. */
	switchyardMinusFloor: Percentile3
}

export interface Summary {
	rounds: number
	throughput: Record<
		ScenarioName,
		{
			floor: number
			switchyard: number
			/** Median of the per-round ratios Switchyard / floor. */
			ratio: number
			cpuUsPerRequest: { floor: number; switchyard: number }
			errors: { floor: number; switchyard: number }
		}
	>
	latency: Record<ScenarioName, Record<Rate, LatencyFigures>>
	ttfb: Record<
		ScenarioName,
		{
			targets: Partial<Record<TargetName, { p50: number; p99: number; errors: number }>>
			switchyardMinusFloor: { p50: number; p99: number }
		}
	>
	memory: MemoryFigures & { peakRatio: number }
	log: LogCheck
	/** Median over every measurement of the CPU used by other work on the machine, in % of one core. */
	foreignCpuPct: number
}

export interface Verdict {
	name: string
	value: string
	target: string
	ok: boolean
}

export const errorsOf = (sample: OpenLoopSample) =>
	sample.errors.connect +
	sample.errors.status +
	sample.errors.closed +
	sample.errors.timeout +
	sample.errors.unsent

function paired<T>(a: T[] | undefined, b: T[] | undefined, f: (a: T, b: T) => number): number {
	if (!a || !b) return Number.NaN
	return median(a.map((x, round) => (b[round] === undefined ? Number.NaN : f(x, b[round] as T))))
}

const latencyOf = (sample: OpenLoopSample, key: keyof Percentile3) => sample.latencyMs?.[key] ?? Number.NaN

export function summarize(data: RoundData, rounds: number, memory: MemoryFigures, log: LogCheck): Summary {
	const throughput = {} as Summary['throughput']
	const latency = {} as Summary['latency']
	const ttfb = {} as Summary['ttfb']
	const foreign: number[] = []
	for (const scenario of SCENARIO_NAMES) {
		const t = data.throughput[scenario]
		for (const sample of [...(t.floor ?? []), ...(t.switchyard ?? [])]) foreign.push(sample.cpu.foreignPct)
		throughput[scenario] = {
			floor: median((t.floor ?? []).map((s) => s.requestsPerSecond)),
			switchyard: median((t.switchyard ?? []).map((s) => s.requestsPerSecond)),
			ratio: paired(t.switchyard, t.floor, (sy, fl) => sy.requestsPerSecond / fl.requestsPerSecond),
			cpuUsPerRequest: {
				floor: median((t.floor ?? []).map((s) => s.cpuUsPerRequest)),
				switchyard: median((t.switchyard ?? []).map((s) => s.cpuUsPerRequest)),
			},
			errors: {
				floor: (t.floor ?? []).reduce((sum, s) => sum + s.errors, 0),
				switchyard: (t.switchyard ?? []).reduce((sum, s) => sum + s.errors, 0),
			},
		}
		latency[scenario] = {} as Record<Rate, LatencyFigures>
		for (const rate of RATES) {
			const byTarget = data.latency[scenario][rate]
			const targets: LatencyFigures['targets'] = {}
			for (const [target, samples] of Object.entries(byTarget) as [TargetName, OpenLoopSample[]][]) {
				for (const sample of samples) foreign.push(sample.cpu.foreignPct)
				targets[target] = {
					p50: median(samples.map((s) => latencyOf(s, 'p50'))),
					p99: median(samples.map((s) => latencyOf(s, 'p99'))),
					p999: median(samples.map((s) => latencyOf(s, 'p999'))),
					errors: samples.reduce((sum, s) => sum + errorsOf(s), 0),
					sent: samples.reduce((sum, s) => sum + s.sent, 0),
					cpuUsPerRequest: median(samples.map((s) => s.cpuUsPerRequest)),
					sendLagP99: median(samples.map((s) => s.sendLagMs?.p99 ?? Number.NaN)),
				}
			}
			const added = (target: TargetName, key: keyof Percentile3) =>
				paired(byTarget[target], byTarget.direct, (x, d) => latencyOf(x, key) - latencyOf(d, key))
			const diff = (key: keyof Percentile3) =>
				paired(byTarget.switchyard, byTarget.floor, (sy, fl) => latencyOf(sy, key) - latencyOf(fl, key))
			latency[scenario][rate] = {
				targets,
				added: {
					floor: { p50: added('floor', 'p50'), p99: added('floor', 'p99') },
					switchyard: { p50: added('switchyard', 'p50'), p99: added('switchyard', 'p99') },
				},
				switchyardMinusFloor: { p50: diff('p50'), p99: diff('p99'), p999: diff('p999') },
			}
		}
		const streams = data.ttfb[scenario]
		const ttfbOf = (sample: OpenLoopSample, key: 'p50' | 'p99') => sample.ttfbMs?.[key] ?? Number.NaN
		const ttfbTargets: Summary['ttfb'][ScenarioName]['targets'] = {}
		for (const [target, samples] of Object.entries(streams) as [TargetName, OpenLoopSample[]][]) {
			ttfbTargets[target] = {
				p50: median(samples.map((s) => ttfbOf(s, 'p50'))),
				p99: median(samples.map((s) => ttfbOf(s, 'p99'))),
				errors: samples.reduce((sum, s) => sum + errorsOf(s), 0),
			}
		}
		ttfb[scenario] = {
			targets: ttfbTargets,
			switchyardMinusFloor: {
				p50: paired(streams.switchyard, streams.floor, (sy, fl) => ttfbOf(sy, 'p50') - ttfbOf(fl, 'p50')),
				p99: paired(streams.switchyard, streams.floor, (sy, fl) => ttfbOf(sy, 'p99') - ttfbOf(fl, 'p99')),
			},
		}
	}
	return {
		rounds,
		throughput,
		latency,
		ttfb,
		memory: { ...memory, peakRatio: memory.switchyard.peakMiB / memory.floor.peakMiB },
		log,
		foreignCpuPct: median(foreign),
	}
}

const ms = (value: number, sign = false) =>
	Number.isFinite(value) ? `${sign && value >= 0 ? '+' : ''}${value.toFixed(2)}` : '–'
const count = (value: number) => (Number.isFinite(value) ? Math.round(value).toLocaleString('en-US') : '–')
const pct = (value: number) => (Number.isFinite(value) ? `${(value * 100).toFixed(1)} %` : '–')

export function verdicts(summary: Summary): Verdict[] {
	const list: Verdict[] = []
	for (const scenario of SCENARIO_NAMES) {
		const t = summary.throughput[scenario]
		list.push({
			name: `${scenario}: max throughput / floor`,
			value: pct(t.ratio),
			target: '≥ 50 %',
			ok: t.ratio >= 0.5,
		})
		const at5000 = summary.latency[scenario][5000].switchyardMinusFloor
		list.push({
			name: `${scenario}: added p50 at 5,000 req/s, Switchyard − floor`,
			value: `${ms(at5000.p50, true)} ms`,
			target: '≤ 0.3 ms',
			ok: at5000.p50 <= 0.3,
		})
		list.push({
			name: `${scenario}: added p99 at 5,000 req/s, Switchyard − floor`,
			value: `${ms(at5000.p99, true)} ms`,
			target: '≤ 1 ms',
			ok: at5000.p99 <= 1,
		})
		const ttfb = summary.ttfb[scenario].switchyardMinusFloor.p50
		list.push({
			name: `${scenario}: streaming TTFB p50, Switchyard − floor`,
			value: `${ms(ttfb, true)} ms`,
			target: '≤ 0.5 ms',
			ok: ttfb <= 0.5,
		})
	}
	list.push({
		name: `peak memory (VmHWM${summary.memory.peakReset ? ' under load' : ''}) / floor`,
		value: `${summary.memory.peakRatio.toFixed(2)}×`,
		target: '≤ 2×',
		ok: summary.memory.peakRatio <= 2,
	})
	const errors = SCENARIO_NAMES.reduce((sum, scenario) => {
		const rates = RATES.reduce(
			(n, rate) => n + (summary.latency[scenario][rate].targets.switchyard?.errors ?? 0),
			0,
		)
		const streams = summary.ttfb[scenario].targets.switchyard?.errors ?? 0
		return sum + rates + streams + summary.throughput[scenario].errors.switchyard
	}, 0)
	list.push({
		name: 'Switchyard errors at every rate (non-2xx, timeouts, resets)',
		value: count(errors),
		target: '0',
		ok: errors === 0,
	})
	list.push({
		name: 'request_log rows = requests sent',
		value: `${count(summary.log.rows)} / ${count(summary.log.sent)}`,
		target: 'equal',
		ok: summary.log.pass,
	})
	return list
}

/** The open-loop percentile rows, in order, with their labels. */
const PERCENTILE_ROWS = [
	['p50', 'p50'],
	['p99', 'p99'],
	['p999', 'p99.9'],
] as const

/** Fixed-width columns: a label, then right-aligned cells. Trailing blank cells are trimmed away. */
function row(label: string, cells: string[], widths: number[]): string {
	return (label.padEnd(46) + cells.map((cell, i) => cell.padStart(widths[i] ?? 11)).join('')).trimEnd()
}

export function renderTable(summary: Summary, list: Verdict[]): string {
	const widths = [9, 10, 12, 14, 11, 7]
	const lines: string[] = []
	const head = (title: string, columns = ['direct', 'floor', 'Switchyard', 'Sy vs floor', 'target']) =>
		lines.push('', title, row('', columns, widths))
	/** The target and outcome cells of the verdict named `name`; blank for a row that has none. */
	const verdictFor = (name: string) => {
		const found = list.find((v) => v.name === name)
		return found ? [found.target, found.ok ? 'ok' : 'MISS'] : ['', '']
	}
	for (const scenario of SCENARIO_NAMES) {
		head(SCENARIOS[scenario].title)
		const t = summary.throughput[scenario]
		lines.push(
			row(
				`  max throughput, ${CONNECTIONS} connections (req/s)`,
				[
					'',
					count(t.floor),
					count(t.switchyard),
					pct(t.ratio),
					...verdictFor(`${scenario}: max throughput / floor`),
				],
				widths,
			),
			row(
				'  server CPU per request at max (µs)',
				['', count(t.cpuUsPerRequest.floor), count(t.cpuUsPerRequest.switchyard), ''],
				widths,
			),
		)
		for (const rate of RATES) {
			const l = summary.latency[scenario][rate]
			const cell = (target: TargetName, key: keyof Percentile3) => ms(l.targets[target]?.[key] ?? Number.NaN)
			const prefix = `  ${rate.toLocaleString('en-US')} req/s open loop`
			const indent = ' '.repeat(prefix.length + 2)
			lines.push(
				...PERCENTILE_ROWS.map(([key, label], i) =>
					row(
						`${i === 0 ? `${prefix}: ` : indent}${label} (ms)`,
						[
							...TARGETS.map((target) => cell(target, key)),
							ms(l.switchyardMinusFloor[key], true),
							...verdictFor(
								`${scenario}: added ${key} at ${rate.toLocaleString('en-US')} req/s, Switchyard − floor`,
							),
						],
						widths,
					),
				),
				row(
					`${indent}added over direct p50 (ms)`,
					['', ms(l.added.floor.p50, true), ms(l.added.switchyard.p50, true)],
					widths,
				),
				row(
					`${indent}added over direct p99 (ms)`,
					['', ms(l.added.floor.p99, true), ms(l.added.switchyard.p99, true)],
					widths,
				),
				row(
					`${indent}errors / sent`,
					TARGETS.map(
						(target) =>
							`${count(l.targets[target]?.errors ?? Number.NaN)}/${count(l.targets[target]?.sent ?? Number.NaN)}`,
					),
					widths,
				),
				row(
					`${indent}server CPU per request (µs)`,
					TARGETS.map((target) =>
						target === 'direct' ? '' : count(l.targets[target]?.cpuUsPerRequest ?? Number.NaN),
					),
					widths,
				),
				row(
					`${indent}generator lag p99 (ms)`,
					TARGETS.map((target) => ms(l.targets[target]?.sendLagP99 ?? Number.NaN)),
					widths,
				),
			)
		}
		const s = summary.ttfb[scenario]
		lines.push(
			...(['p50', 'p99'] as const).map((key) =>
				row(
					`  streaming TTFB ${key} (ms)`,
					[
						...TARGETS.map((target) => ms(s.targets[target]?.[key] ?? Number.NaN)),
						ms(s.switchyardMinusFloor[key], true),
						...verdictFor(`${scenario}: streaming TTFB ${key}, Switchyard − floor`),
					],
					widths,
				),
			),
		)
	}
	const m = summary.memory
	head('Memory (MiB)', ['', 'floor', 'Switchyard', 'Sy / floor', 'target'])
	lines.push(
		row(
			'  idle VmRSS, after start-up',
			['', m.floor.idleMiB.toFixed(1), m.switchyard.idleMiB.toFixed(1)],
			widths,
		),
		row(
			'  start-up peak VmHWM',
			['', m.floor.startupPeakMiB.toFixed(1), m.switchyard.startupPeakMiB.toFixed(1)],
			widths,
		),
		row(
			`  peak VmHWM${m.peakReset ? ' under load' : ', start-up included'}`,
			[
				'',
				m.floor.peakMiB.toFixed(1),
				m.switchyard.peakMiB.toFixed(1),
				`${m.peakRatio.toFixed(2)}×`,
				...verdictFor(`peak memory (VmHWM${m.peakReset ? ' under load' : ''}) / floor`),
			],
			widths,
		),
		row(
			'  VmRSS after the load',
			['', m.floor.afterMiB.toFixed(1), m.switchyard.afterMiB.toFixed(1)],
			widths,
		),
	)
	lines.push('', 'Targets')
	for (const v of list) lines.push(`  ${v.ok ? 'ok  ' : 'MISS'}  ${v.name}: ${v.value} (target ${v.target})`)
	const byStatus = Object.entries(summary.log.rowsByStatus)
		.map(([status, n]) => `${status}: ${count(n)}`)
		.join(', ')
	lines.push(
		'',
		`Request log: ${count(summary.log.sent)} requests sent to Switchyard, ${count(summary.log.rows)} rows after ` +
			`SIGTERM (${byStatus || 'none'}), exit code ${summary.log.exitCode}: ${summary.log.pass ? 'PASS' : 'FAIL'}`,
		`Other work on the machine during the measurements: median ${summary.foreignCpuPct.toFixed(1)} % of a core` +
			(summary.foreignCpuPct > 5 ? ' (a busy machine: figures are noisier than usual)' : ''),
	)
	return lines.join('\n')
}

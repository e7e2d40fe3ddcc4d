/**
 * From the per-round samples to the figures the benchmark reports: medians over rounds, Switchyard against
 * the floor paired round by round (so drift between rounds cancels), the targets, and the printed table.
 */
import { CONNECTIONS, type OpenLoopSample, type ThroughputSample } from './measure'
import { SCENARIO_NAMES, SCENARIOS, type ScenarioName, TARGETS, type TargetName } from './scenarios'
import { median } from './stats'

export const RATES = [1000, 5000] as const
export type Rate = (typeof RATES)[number]

/**
 * The ways the benchmark runs Switchyard: on SQLite (the default, `switchyard`), and with `--postgres` on
 * PostgreSQL as one instance (`pg1`) and as two instances behind round robin (`pg2`).
 */
export type Deployment = 'switchyard' | 'pg1' | 'pg2'
export const DEPLOYMENTS: Record<Deployment, { title: string; short: string; instances: number }> = {
	switchyard: { title: 'Switchyard on SQLite (one process, the default)', short: 'SQLite', instances: 1 },
	pg1: { title: 'Switchyard on PostgreSQL, one instance', short: 'PG ×1', instances: 1 },
	pg2: {
		title: 'Switchyard on PostgreSQL, two instances (round robin), both on the server core',
		short: 'PG ×2',
		instances: 2,
	},
}
/** What a measurement runs against: a reference (direct, floor) or a deployment of Switchyard. */
export type Measured = Exclude<TargetName, 'switchyard'> | Deployment

/** Every sample, one per round, per scenario and target. */
export interface RoundData<K extends string = TargetName> {
	throughput: Record<ScenarioName, Partial<Record<K, ThroughputSample[]>>>
	latency: Record<ScenarioName, Record<Rate, Partial<Record<K, OpenLoopSample[]>>>>
	ttfb: Record<ScenarioName, Partial<Record<K, OpenLoopSample[]>>>
}

/** The samples of direct, floor and `deployment` (as `switchyard`): what the one-deployment table reads. */
export function viewOf(data: RoundData<Measured>, deployment: Deployment): RoundData {
	const pick = <T>(bucket: Partial<Record<Measured, T[]>>): Partial<Record<TargetName, T[]>> => ({
		...(bucket.direct && { direct: bucket.direct }),
		...(bucket.floor && { floor: bucket.floor }),
		...(bucket[deployment] && { switchyard: bucket[deployment] }),
	})
	const view = { throughput: {}, latency: {}, ttfb: {} } as RoundData
	for (const scenario of SCENARIO_NAMES) {
		view.throughput[scenario] = pick(data.throughput[scenario])
		view.latency[scenario] = {
			1000: pick(data.latency[scenario][1000]),
			5000: pick(data.latency[scenario][5000]),
		}
		view.ttfb[scenario] = pick(data.ttfb[scenario])
	}
	return view
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
	/** The instance with the highest peak, when there are several. */
	switchyard: ServerMemory
	/** Every instance, when there are several. */
	instances?: ServerMemory[]
	/** VmHWM was reset after start-up, so `peakMiB` is the peak under load alone. */
	peakReset: boolean
}

export interface LogCheck {
	/** Requests Switchyard received: wrk's and the open-loop generator's sends, warm-up included. */
	sent: number
	rows: number
	rowsByStatus: Record<string, number>
	/** The first non-zero exit code of the instances, or 0 when every one exited with 0. */
	exitCode: number | null
	/** Every instance's, in order. */
	exitCodes?: (number | null)[]
	/** What the servers said on stdout or stderr about errors, failed or dropped log writes. */
	complaints?: string[]
	/** The database's size after the run: the SQLite file and its WAL, or the PostgreSQL database. */
	databaseBytes?: number
	pass: boolean
}

/** PostgreSQL's CPU per request (µs): its connections to the benchmark's database, and its own processes. */
export interface PostgresCost {
	backends: number
	background: number
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
	postgresUsPerRequest?: PostgresCost
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
			/** Switchyard's requests' cost on PostgreSQL, when it runs there. */
			postgresUsPerRequest?: PostgresCost
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

/** PostgreSQL's CPU per request: medians over the samples that measured it; undefined for none. */
function postgresOf(samples: readonly (ThroughputSample | OpenLoopSample)[]): PostgresCost | undefined {
	const measured = samples.flatMap((s) => (s.postgresUsPerRequest ? [s.postgresUsPerRequest] : []))
	if (measured.length === 0) return undefined
	return {
		backends: median(measured.map((m) => m.backends)),
		background: median(measured.map((m) => m.background)),
	}
}

/** Per round `f(a, b)`, then the median over rounds. */
export function paired<T>(a: T[] | undefined, b: T[] | undefined, f: (a: T, b: T) => number): number {
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
			postgresUsPerRequest: postgresOf(t.switchyard ?? []),
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
					postgresUsPerRequest: postgresOf(samples),
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

/**
 * Fixed-width columns: a label, then right-aligned cells. Trailing blank cells are trimmed away. A cell
 * wider than its column keeps one space before it, so that two figures never run together.
 */
function row(label: string, cells: string[], widths: number[]): string {
	const padded = cells.map((cell, i) => {
		const width = widths[i] ?? 11
		return cell.length >= width ? ` ${cell}` : cell.padStart(width)
	})
	return (label.padEnd(46) + padded.join('')).trimEnd()
}

/** PostgreSQL's CPU per request as one cell: its connections + its own processes. */
const postgresCell = (cost: PostgresCost | undefined) =>
	cost ? `${count(cost.backends)} + ${count(cost.background)}` : ''

/** Memory cells: one figure, or one per instance (`a / b`). */
const memoryCell = (m: MemoryFigures, key: keyof ServerMemory) =>
	m.instances && m.instances.length > 1
		? m.instances.map((instance) => instance[key].toFixed(1)).join(' / ')
		: m.switchyard[key].toFixed(1)

/**
 * The table of one deployment against the references. `heading`, when given, comes first: the SQLite
 * run's table has none when it is the only one, as before PostgreSQL runs existed.
 */
export function renderTable(summary: Summary, list: Verdict[], heading?: string): string {
	const widths = [9, 10, 12, 14, 11, 7]
	const lines: string[] = heading ? ['', `== ${heading} ==`] : []
	const postgres = SCENARIO_NAMES.some((scenario) => summary.throughput[scenario].postgresUsPerRequest)
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
		if (postgres)
			lines.push(
				row(
					'  PostgreSQL CPU per request at max (µs)',
					['', '', postgresCell(t.postgresUsPerRequest)],
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
				...(postgres
					? [
							row(
								`${indent}PostgreSQL CPU per request (µs)`,
								['', '', postgresCell(l.targets.switchyard?.postgresUsPerRequest)],
								widths,
							),
						]
					: []),
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
	// Two instances' figures (`a / b`) need a wider Switchyard column.
	const memoryWidths = m.instances && m.instances.length > 1 ? [9, 10, 16, 12, 11, 7] : widths
	lines.push('', 'Memory (MiB)', row('', ['', 'floor', 'Switchyard', 'Sy / floor', 'target'], memoryWidths))
	lines.push(
		row(
			'  idle VmRSS, after start-up',
			['', m.floor.idleMiB.toFixed(1), memoryCell(m, 'idleMiB')],
			memoryWidths,
		),
		row(
			'  start-up peak VmHWM',
			['', m.floor.startupPeakMiB.toFixed(1), memoryCell(m, 'startupPeakMiB')],
			memoryWidths,
		),
		row(
			`  peak VmHWM${m.peakReset ? ' under load' : ', start-up included'}`,
			[
				'',
				m.floor.peakMiB.toFixed(1),
				memoryCell(m, 'peakMiB'),
				`${m.peakRatio.toFixed(2)}×`,
				...verdictFor(`peak memory (VmHWM${m.peakReset ? ' under load' : ''}) / floor`),
			],
			memoryWidths,
		),
		row('  VmRSS after the load', ['', m.floor.afterMiB.toFixed(1), memoryCell(m, 'afterMiB')], memoryWidths),
	)
	if (m.instances && m.instances.length > 1)
		lines.push('  (one figure per instance; the ratio and its target take the higher peak)')
	if (postgres)
		lines.push(
			'',
			'PostgreSQL CPU: its connections to the benchmark’s database + its own processes (WAL writer,',
			'checkpointer, background writer, autovacuum; these serve the server’s other databases too).',
		)
	lines.push('', 'Targets')
	for (const v of list) lines.push(`  ${v.ok ? 'ok  ' : 'MISS'}  ${v.name}: ${v.value} (target ${v.target})`)
	const byStatus = Object.entries(summary.log.rowsByStatus)
		.map(([status, n]) => `${status}: ${count(n)}`)
		.join(', ')
	const log = summary.log
	const several = (log.exitCodes?.length ?? 1) > 1
	lines.push(
		'',
		`Request log: ${count(log.sent)} requests sent to Switchyard, ${count(log.rows)} rows after ` +
			`SIGTERM${several ? ' of every instance' : ''} (${byStatus || 'none'}), ` +
			(several ? `exit codes ${log.exitCodes?.join(', ')}` : `exit code ${log.exitCode}`) +
			`: ${log.pass ? 'PASS' : 'FAIL'}`,
		...(log.complaints ?? []).map((line) => `  the server said: ${line.trim()}`),
		`Other work on the machine during the measurements: median ${summary.foreignCpuPct.toFixed(1)} % of a core` +
			(summary.foreignCpuPct > 5 ? ' (a busy machine: figures are noisier than usual)' : ''),
	)
	return lines.join('\n')
}

const signed = (value: number) =>
	Number.isFinite(value) ? `${value >= 0 ? '+' : ''}${value.toFixed(0)}` : '–'
const allCpu = (sample: ThroughputSample | OpenLoopSample) =>
	sample.cpuUsPerRequest +
	(sample.postgresUsPerRequest
		? sample.postgresUsPerRequest.backends + sample.postgresUsPerRequest.background
		: 0)

/**
 * What PostgreSQL costs per request: SQLite and the PostgreSQL deployments side by side, with each
 * PostgreSQL deployment against SQLite paired round by round (the same minute of a drifting machine).
 */
export function renderPostgresCost(
	data: RoundData<Measured>,
	summaries: Partial<Record<Deployment, Summary>>,
): string {
	const deployments = (['switchyard', 'pg1', 'pg2'] as const).filter((d) => summaries[d])
	const against = deployments.filter((d) => d !== 'switchyard')
	const widths = [10, 10, 15, ...against.map(() => 14)]
	const columns = [
		...deployments.map((d) => DEPLOYMENTS[d].short),
		...against.map((d) => `${DEPLOYMENTS[d].short.slice(3)} vs SQLite`),
	]
	const lines: string[] = [
		'',
		'== What PostgreSQL costs per request: SQLite against PostgreSQL, one and two instances ==',
		'("vs SQLite": per round, then the median over rounds; throughput as PostgreSQL / SQLite)',
	]
	/** A row: one cell per deployment, then one per PostgreSQL deployment against SQLite. */
	const line = (label: string, cell: (d: Deployment) => string, versus: (d: Deployment) => string) =>
		lines.push(row(label, [...deployments.map(cell), ...against.map(versus)], widths))
	const none = () => ''
	for (const scenario of SCENARIO_NAMES) {
		lines.push('', SCENARIOS[scenario].title, row('', columns, widths))
		const t = data.throughput[scenario]
		line(
			'  max throughput (req/s)',
			(d) => count(summaries[d]?.throughput[scenario].switchyard ?? Number.NaN),
			(d) => pct(paired(t[d], t.switchyard, (pg, sq) => pg.requestsPerSecond / sq.requestsPerSecond)),
		)
		line('  max throughput / floor', (d) => pct(summaries[d]?.throughput[scenario].ratio ?? Number.NaN), none)
		line(
			'  Switchyard CPU per request at max (µs)',
			(d) => count(summaries[d]?.throughput[scenario].cpuUsPerRequest.switchyard ?? Number.NaN),
			(d) => signed(paired(t[d], t.switchyard, (pg, sq) => pg.cpuUsPerRequest - sq.cpuUsPerRequest)),
		)
		line(
			'  PostgreSQL CPU per request at max (µs)',
			(d) =>
				d === 'switchyard' ? '–' : postgresCell(summaries[d]?.throughput[scenario].postgresUsPerRequest),
			none,
		)
		line(
			'  both, per request at max (µs)',
			(d) => count(median((t[d] ?? []).map(allCpu))),
			(d) => signed(paired(t[d], t.switchyard, (pg, sq) => allCpu(pg) - allCpu(sq))),
		)
		for (const rate of RATES) {
			const l = data.latency[scenario][rate]
			const prefix = `  ${rate.toLocaleString('en-US')} req/s:`
			const of = (d: Deployment) => summaries[d]?.latency[scenario][rate]
			for (const key of ['p50', 'p99'] as const)
				line(
					`${prefix} added over direct ${key} (ms)`,
					(d) => ms(of(d)?.added.switchyard[key] ?? Number.NaN, true),
					(d) =>
						ms(
							paired(l[d], l.switchyard, (pg, sq) => latencyOf(pg, key) - latencyOf(sq, key)),
							true,
						),
				)
			line(
				`${prefix} Switchyard CPU per request (µs)`,
				(d) => count(of(d)?.targets.switchyard?.cpuUsPerRequest ?? Number.NaN),
				(d) => signed(paired(l[d], l.switchyard, (pg, sq) => pg.cpuUsPerRequest - sq.cpuUsPerRequest)),
			)
			line(
				`${prefix} PostgreSQL CPU per request (µs)`,
				(d) => (d === 'switchyard' ? '–' : postgresCell(of(d)?.targets.switchyard?.postgresUsPerRequest)),
				none,
			)
			line(
				`${prefix} errors / sent`,
				(d) => {
					const target = of(d)?.targets.switchyard
					return `${count(target?.errors ?? Number.NaN)}/${count(target?.sent ?? Number.NaN)}`
				},
				none,
			)
		}
		const streams = data.ttfb[scenario]
		const ttfb50 = (sample: OpenLoopSample) => sample.ttfbMs?.p50 ?? Number.NaN
		line(
			'  streaming TTFB p50, Switchyard − floor (ms)',
			(d) => ms(summaries[d]?.ttfb[scenario].switchyardMinusFloor.p50 ?? Number.NaN, true),
			(d) =>
				ms(
					paired(streams[d], streams.switchyard, (pg, sq) => ttfb50(pg) - ttfb50(sq)),
					true,
				),
		)
	}
	lines.push('', 'Each instance, and the request log', row('', columns, widths))
	const memory = (d: Deployment, key: keyof ServerMemory) => {
		const m = summaries[d]?.memory
		return m ? memoryCell(m, key) : '–'
	}
	line('  idle VmRSS, after start-up (MiB)', (d) => memory(d, 'idleMiB'), none)
	line('  peak VmHWM under load (MiB)', (d) => memory(d, 'peakMiB'), none)
	line('  VmRSS after the load (MiB)', (d) => memory(d, 'afterMiB'), none)
	line(
		'  database after the run (MiB)',
		(d) => ((summaries[d]?.log.databaseBytes ?? Number.NaN) / 2 ** 20).toFixed(1),
		none,
	)
	line(
		'  database bytes per logged request',
		(d) => {
			const log = summaries[d]?.log
			return log?.databaseBytes ? count(log.databaseBytes / Math.max(1, log.rows)) : '–'
		},
		none,
	)
	line(
		'  request_log rows = requests sent',
		(d) => {
			const log = summaries[d]?.log
			return log ? (log.pass ? 'PASS' : 'FAIL') : '–'
		},
		none,
	)
	line(
		'  other work on the machine (% of a core)',
		(d) => (summaries[d]?.foreignCpuPct ?? Number.NaN).toFixed(1),
		none,
	)
	return lines.join('\n')
}

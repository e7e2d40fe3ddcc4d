/** Percentiles and medians for the benchmark: exact, over every sample (sorting is cheap at these counts). */

export interface Percentiles {
	count: number
	mean: number
	p50: number
	p90: number
	p99: number
	p999: number
	max: number
}

/** Nearest-rank percentiles of the first `count` values (sorted in place), in the values' unit. */
export function percentiles(values: Float64Array, count = values.length): Percentiles | null {
	if (count === 0) return null
	const sorted = values.subarray(0, count).sort()
	const at = (p: number) => sorted[Math.min(count - 1, Math.max(0, Math.ceil(p * count) - 1))] ?? Number.NaN
	let sum = 0
	for (const value of sorted) sum += value
	return {
		count,
		mean: sum / count,
		p50: at(0.5),
		p90: at(0.9),
		p99: at(0.99),
		p999: at(0.999),
		max: sorted[count - 1] ?? Number.NaN,
	}
}

/** The median of the finite values, or NaN when there are none. */
export function median(values: readonly number[]): number {
	const finite = values.filter(Number.isFinite).sort((a, b) => a - b)
	if (finite.length === 0) return Number.NaN
	const middle = finite.length >> 1
	return finite.length % 2 === 1
		? (finite[middle] as number)
		: ((finite[middle - 1] as number) + (finite[middle] as number)) / 2
}

/** Least-squares slope of y over x. */
export function slope(points: readonly { x: number; y: number }[]): number {
	const n = points.length
	if (n < 2) return Number.NaN
	const meanX = points.reduce((sum, p) => sum + p.x, 0) / n
	const meanY = points.reduce((sum, p) => sum + p.y, 0) / n
	let num = 0
	let den = 0
	for (const p of points) {
		num += (p.x - meanX) * (p.y - meanY)
		den += (p.x - meanX) ** 2
	}
	return den === 0 ? Number.NaN : num / den
}

/** Formatting for views: every value that reaches HTML as text goes through one of these or `safe`. */

export function formatDateTime(value: Date | string | number | null | undefined): string {
	if (value === null || value === undefined) return '—'
	const date = value instanceof Date ? value : new Date(value)
	if (Number.isNaN(date.getTime())) return '—'
	return `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`
}

/**
 * One rule for money: cents from a dollar up ($12.35); below it three significant digits, at least to the
 * cent, without zeros past the cents ($0.0604, $0.000402, $0.50, $0.001 and not $0.001000); $0.00 for nothing.
 */
export function formatUsd(value: number): string {
	if (value === 0) return '$0.00'
	const abs = Math.abs(value)
	const rounded = Number(abs.toPrecision(3))
	const text = rounded >= 1 ? abs.toFixed(2) : rounded.toFixed(9).replace(/(\.\d\d\d*?)0+$/, '$1')
	return `${value < 0 ? '-' : ''}$${text}`
}

export function formatInteger(value: number): string {
	return Math.round(value).toLocaleString('en-US')
}

export function formatPercent(ratio: number): string {
	return `${(ratio * 100).toFixed(1)}%`
}

export function formatMs(value: number): string {
	return value >= 1000 ? `${(value / 1000).toFixed(2)} s` : `${Math.round(value)} ms`
}

/** Formatting for views: every value that reaches HTML as text goes through one of these or `safe`. */

export function formatDateTime(value: Date | string | number | null | undefined): string {
	if (value === null || value === undefined) return '—'
	const date = value instanceof Date ? value : new Date(value)
	if (Number.isNaN(date.getTime())) return '—'
	return `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`
}

export function formatUsd(value: number): string {
	if (value === 0) return '$0.00'
	const abs = Math.abs(value)
	const digits = abs >= 1 ? 2 : abs >= 0.01 ? 4 : 6
	return `${value < 0 ? '-' : ''}$${abs.toFixed(digits)}`
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

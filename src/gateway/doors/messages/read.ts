// Reading an untrusted Anthropic request: every accessor checks the shape it expects and otherwise throws
// a 400 naming the field the way the rest of the gateway does (`messages[2].content[0].type`).
import { badRequest } from '../../../errors'

export type Json = Record<string, unknown>

export const isRecord = (value: unknown): value is Json =>
	typeof value === 'object' && value !== null && !Array.isArray(value)

/** What a value is, for an error message: a string only in short, as it may be long or secret. */
function kind(value: unknown): string {
	if (value === null) return 'null'
	if (Array.isArray(value)) return 'an array'
	if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)
	return typeof value === 'object' ? 'an object' : `a ${typeof value}`
}

export function invalid(param: string, expected: string, value: unknown): never {
	throw badRequest(`${param}: expected ${expected}, got ${kind(value)}`, param)
}

export function record(value: unknown, param: string): Json {
	return isRecord(value) ? value : invalid(param, 'an object', value)
}

export function list(value: unknown, param: string): unknown[] {
	return Array.isArray(value) ? value : invalid(param, 'an array', value)
}

export function text(value: unknown, param: string): string {
	return typeof value === 'string' ? value : invalid(param, 'a string', value)
}

/** An optional field: absent and null are the same, as in Anthropic's API. */
export function optionalText(value: unknown, param: string): string | undefined {
	return value === undefined || value === null ? undefined : text(value, param)
}

export function optionalBoolean(value: unknown, param: string): boolean | undefined {
	if (value === undefined || value === null) return undefined
	return typeof value === 'boolean' ? value : invalid(param, 'a boolean', value)
}

export function optionalNumber(
	value: unknown,
	param: string,
	range: { min: number; max?: number; integer?: boolean },
): number | undefined {
	if (value === undefined || value === null) return undefined
	const { min, max, integer } = range
	const what = `${integer ? 'an integer' : 'a number'} ${max === undefined ? `of at least ${min}` : `from ${min} to ${max}`}`
	if (typeof value !== 'number' || !Number.isFinite(value)) return invalid(param, what, value)
	if ((integer && !Number.isInteger(value)) || value < min || (max !== undefined && value > max)) {
		throw badRequest(`${param}: expected ${what}, got ${value}`, param)
	}
	return value
}

/** The `type` of a content block or tool, which every variant must have. */
export const typeOf = (value: Json, param: string): string => text(value.type, `${param}.type`)

/** `cache_control` travels as-is: the chat form carries it where transform.ts reads it back. */
export function cacheControl(value: Json, param: string): { cache_control?: Json } {
	const cache = value.cache_control
	if (cache === undefined || cache === null) return {}
	return { cache_control: record(cache, `${param}.cache_control`) }
}

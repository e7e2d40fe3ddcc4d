import type { Static, TSchema } from '@sinclair/typebox'
import { type TypeCheck, TypeCompiler } from '@sinclair/typebox/compiler'
import { Value } from '@sinclair/typebox/value'
import { badRequest, GatewayError, toParam } from '../errors'
import { isHtmx } from './request-info'

/** The part of Elysia's `set` a form handler writes. */
export interface ResponseSet {
	status?: number | string
	headers: Record<string, string | number>
}

type Html = string | Promise<string>

const checkers = new WeakMap<TSchema, TypeCheck<TSchema>>()

function checkerFor(schema: TSchema): TypeCheck<TSchema> {
	let checker = checkers.get(schema)
	if (!checker) {
		checker = TypeCompiler.Compile(schema)
		checkers.set(schema, checker)
	}
	return checker
}

/**
 * A dashboard form's fields, checked with the same `t` schema as the JSON API's body. A form sends every
 * field as text and an empty input as `''`: empty fields count as absent, and text is converted to the
 * schema's numbers and booleans before the check. The first problem is a 400 naming the field, in the
 * schema's own words (its `error` option).
 */
export function readForm<Schema extends TSchema>(schema: Schema, body: unknown): Static<Schema> {
	const properties: Record<string, TSchema> = schema.properties ?? {}
	const present = Object.entries(body && typeof body === 'object' ? body : {}).filter(
		([, text]) => text !== '',
	)
	// TypeBox's conversion truncates "2.5" to the integer 2: such text is kept, for the check to refuse.
	const notWhole = present.filter(([name, text]) => takesInteger(properties[name]) && !isWholeText(text))
	const converted = {
		...(Value.Convert(schema, Object.fromEntries(present)) as Record<string, unknown>),
		...Object.fromEntries(notWhole),
	}
	const value = Object.fromEntries(
		Object.entries(converted).map(([name, field]) => [name, asNumberWhereExpected(properties[name], field)]),
	)
	const checker = checkerFor(schema)
	if (checker.Check(value)) return value as Static<Schema>
	const first = checker.Errors(value).First()
	const param = toParam(first?.path)
	const message = first ? customMessage(first.schema) : undefined
	throw badRequest(message ?? `${param ?? 'the form'}: ${first?.message ?? 'is invalid'}`, param)
}

/**
 * Numeric text as the number a field takes. Elysia's numbers also accept numeric text (which TypeBox's
 * conversion therefore leaves as text) and check their bounds only when decoding it: as a number, the
 * value meets its bounds in the check itself.
 */
function asNumberWhereExpected(schema: TSchema | undefined, value: unknown): unknown {
	if (!schema || typeof value !== 'string' || !takesNumber(schema)) return value
	const number = Number(value)
	return value.trim() !== '' && Number.isFinite(number) ? number : value
}

const takesInteger = (schema: TSchema | undefined): boolean =>
	schema !== undefined &&
	(schema.type === 'integer' || (Array.isArray(schema.anyOf) && schema.anyOf.some(takesInteger)))

const isWholeText = (text: unknown) => typeof text !== 'string' || /^\s*[-+]?\d+\s*$/.test(text)

const takesNumber = (schema: TSchema): boolean =>
	schema.type === 'number' ||
	schema.type === 'integer' ||
	(Array.isArray(schema.anyOf) && schema.anyOf.some(takesNumber))

/** The schema's own words for a field: its `error` option, or that of a type it wraps (optional, nullable). */
function customMessage(schema: TSchema): string | undefined {
	if (typeof schema.error === 'string') return schema.error
	const members: TSchema[] = Array.isArray(schema.anyOf) ? schema.anyOf : []
	for (const member of members) {
		const message = customMessage(member)
		if (message) return message
	}
	return undefined
}

/** A field as the form sent it, unchecked: to show a refused form again with what the person typed. */
export function submittedText(body: unknown, name: string): string | undefined {
	if (!body || typeof body !== 'object' || !(name in body)) return undefined
	return String((body as Record<string, unknown>)[name])
}

/**
 * Runs a dashboard form's action. A caller's mistake (any `GatewayError` below 500, the form check's
 * included) re-renders the form's fragment with it: 422, which htmx swaps, or 429 with its `Retry-After`
 * for a throttled form. Anything else goes on to the error page.
 */
export async function submitForm<Result>(
	set: ResponseSet,
	action: () => Result | Promise<Result>,
	refused: (error: GatewayError) => Html | Promise<Html>,
): Promise<Result | Html> {
	try {
		return await action()
	} catch (error) {
		if (!(error instanceof GatewayError) || error.status >= 500) throw error
		set.status = error.status === 429 ? 429 : 422
		Object.assign(set.headers, error.headers)
		return await refused(error)
	}
}

/** The fragment for htmx, which swaps it in place; the whole page for a request that wants one. */
export const fragmentOrPage = (request: Request, fragment: () => Html, page: () => Html): Html =>
	isHtmx(request) ? fragment() : page()

/**
 * After a dashboard form succeeds: htmx swaps the returned fragment in place, a plain form post
 * (no JavaScript) is sent back to the page with a 303.
 */
export function formSuccess(
	request: Request,
	set: ResponseSet,
	fragment: () => Html,
	location: string,
): Html {
	if (isHtmx(request)) return fragment()
	set.status = 303
	set.headers.location = location
	return ''
}

/** After a form that leaves the page (login, logout): htmx follows `HX-Redirect`, a plain post a 303. */
export function redirectAfterForm(request: Request, set: ResponseSet, location: string): '' {
	if (isHtmx(request)) set.headers['hx-redirect'] = location
	else {
		set.status = 303
		set.headers.location = location
	}
	return ''
}

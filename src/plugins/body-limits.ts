import { Elysia } from 'elysia'
import { API_BODY_LIMIT_BYTES, parseJson, readBounded } from '../lib/json-body'

/**
 * Every body Elysia parses (the dashboard and its JSON API; the gateway reads its own) goes through the
 * budgets: JSON and forms within `API_BODY_LIMIT_BYTES`, JSON within `MAX_JSON_DEPTH`.
 */
export const bodyLimitsPlugin = () =>
	new Elysia({ name: 'body-limits' }).onParse(
		{ as: 'global' },
		async function parseWithinBudget({ request, contentType }) {
			const type = contentType.split(';')[0]?.trim().toLowerCase()
			if (type === 'application/json') {
				const text = await readBounded(request, API_BODY_LIMIT_BYTES)
				return text.trim() === '' ? {} : parseJson(text)
			}
			if (type === 'application/x-www-form-urlencoded') {
				const text = await readBounded(request, API_BODY_LIMIT_BYTES)
				return Object.fromEntries(new URLSearchParams(text))
			}
			return undefined
		},
	)

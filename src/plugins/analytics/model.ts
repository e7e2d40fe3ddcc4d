import { t } from 'elysia'
import { DOORS, type Door } from '../../../db/schema'
import type { RequestFilters } from '../../analytics/logged-requests'
import { MAX_DAYS } from '../../analytics/scope'
import { type RequestQuery, ROUTE_FILTERS } from '../../views/fragments/requests'

export const DEFAULT_DAYS = 7
export const DEFAULT_PAGE = 50
const MAX_PAGE = 200

const days = t.Optional(
	t.Integer({
		minimum: 1,
		maximum: MAX_DAYS,
		error: `days must be an integer from 1 to ${MAX_DAYS}`,
		param: 'days',
	}),
)
export const scope = t.Optional(t.UnionEnum(['mine', 'all'], { error: 'scope must be "mine" or "all"' }))
const requestFilters = {
	status: t.Optional(
		t.String({
			pattern: '^(ok|error|[1-5][0-9][0-9])?$',
			error: 'status must be ok, error or an HTTP status',
		}),
	),
	model: t.Optional(t.String()),
	tier: t.Optional(t.String()),
	key: t.Optional(
		t.Union([t.Integer({ minimum: 1 }), t.Literal('')], { error: 'key must be a key id', param: 'key' }),
	),
	door: t.Optional(
		// Literals, not t.UnionEnum: Elysia fills a missing UnionEnum query field with its first value.
		t.Union([...DOORS.map((door) => t.Literal(door)), t.Literal('')], {
			error: `door must be one of ${DOORS.join(', ')}`,
			param: 'door',
		}),
	),
	scope,
}

export const AnalyticsModel = {
	window: t.Object({ days, scope }),
	breakdown: t.Object({
		by: t.UnionEnum(['day', 'model', 'provider', 'tier', 'key'], {
			error: 'by must be one of day, model, provider, tier, key',
		}),
		days,
		scope,
	}),
	requests: t.Object({
		limit: t.Optional(
			t.Integer({ minimum: 1, maximum: MAX_PAGE, error: `limit must be from 1 to ${MAX_PAGE}` }),
		),
		before: t.Optional(t.Integer({ minimum: 1, error: 'before must be a request id' })),
		...requestFilters,
	}),
	id: t.Object({ id: t.Integer({ minimum: 1, error: 'the request id must be a number' }) }),
}

/** A tier filter: a tier's name, or why requests have none (`ROUTE_FILTERS`). */
function tierFilter(tier: string | undefined): Pick<RequestFilters, 'tier' | 'untiered'> {
	if (!tier) return {}
	if (tier === ROUTE_FILTERS.explicit) return { untiered: 'explicit' }
	if (tier === ROUTE_FILTERS.beforeRouting) return { untiered: 'before-routing' }
	return { tier }
}

/** The service's filters from the validated query: empty fields mean no filter. */
export function toFilters(query: {
	status?: string
	model?: string
	tier?: string
	key?: number | ''
	door?: Door | ''
}): RequestFilters {
	const status = query.status || undefined
	return {
		status: status === 'ok' || status === 'error' ? status : status ? Number(status) : undefined,
		model: query.model === ROUTE_FILTERS.unanswered ? null : query.model || undefined,
		...tierFilter(query.tier),
		keyId: typeof query.key === 'number' ? query.key : undefined,
		door: query.door || undefined,
	}
}

/** The query as the Requests page shows it back in its filter form and links. */
export function toRequestQuery(query: {
	status?: string
	model?: string
	tier?: string
	key?: number | ''
	door?: Door | ''
	scope?: string
}): RequestQuery {
	return {
		status: query.status || undefined,
		model: query.model || undefined,
		tier: query.tier || undefined,
		key: query.key ? String(query.key) : undefined,
		door: query.door || undefined,
		everyone: query.scope === 'all',
	}
}

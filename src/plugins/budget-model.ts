import { t } from 'elysia'
import {
	MAX_CACHE_TTL_SECONDS,
	MAX_CONCURRENT,
	MAX_RATE_LIMIT,
	MAX_TOKENS_PER_MINUTE,
} from '../keys/gateway-keys'

// Not t.UnionEnum: Elysia would fill an absent one with its first value.
const window = t.Union([t.Literal('day'), t.Literal('month'), t.Literal('total')], {
	error: 'window must be "day", "month" or "total"',
})

const entry = t.Object({
	window,
	usd: t.Number({ minimum: 0, error: 'usd must be a number of dollars, 0 or more' }),
})

/** The most alerts one `GET /api/budget-alerts` answers (the store's own ceiling). */
export const MAX_ALERTS_PAGE = 500

/** A whole-number limit from 1 to `max`, as `PATCH /api/keys/:id` takes it; empty for none. */
const wholeLimit = (what: string, max: number) =>
	t.Optional(t.Integer({ minimum: 1, maximum: max, error: `${what} is a whole number from 1 to ${max}` }))

const dollars = (what: string) =>
	t.Optional(t.Number({ minimum: 0, error: `${what} must be a number of dollars, 0 or more` }))

export const BudgetsModel = {
	entry,
	/** `PUT /api/users/:id/budgets` and `PUT /api/org/budgets`: every budget of the scope, one per window. */
	entries: t.Array(entry, { maxItems: 3, error: 'budgets are a list of at most 3 {window, usd}' }),
	/** `all`: every budget, for an admin. */
	listScope: t.Object({
		scope: t.Optional(
			t.Union([t.Literal('mine'), t.Literal('all')], { error: 'scope must be "mine" or "all"' }),
		),
	}),
	/** `GET /api/budget-alerts`: an admin sees everyone's unless `scope=mine`; a developer their own. */
	alerts: t.Object({
		since: t.Optional(
			t.String({
				pattern: '^\\d{4}-\\d{2}-\\d{2}',
				error: 'since must be an ISO 8601 date or date and time, such as 2026-12-01T00:00:00Z',
				param: 'since',
			}),
		),
		limit: t.Optional(
			t.Integer({
				minimum: 1,
				maximum: MAX_ALERTS_PAGE,
				error: `limit must be a whole number from 1 to ${MAX_ALERTS_PAGE}`,
				param: 'limit',
			}),
		),
		scope: t.Optional(
			t.Union([t.Literal('mine'), t.Literal('all')], { error: 'scope must be "mine" or "all"' }),
		),
	}),
	/** The dashboard's budget form: one field per window, empty for none. */
	form: t.Object({
		day: dollars('The daily budget'),
		month: dollars('The monthly budget'),
		total: dollars('The total budget'),
	}),
	/**
	 * The Keys page's limits form: the budgets, the requests and tokens per minute, the requests in flight and
	 * the cache's time to live, each empty for none (the cache: off).
	 */
	keyLimitsForm: t.Object({
		rpm: wholeLimit('Requests per minute', MAX_RATE_LIMIT),
		tpm: wholeLimit('Tokens per minute', MAX_TOKENS_PER_MINUTE),
		concurrency: wholeLimit('Requests in flight', MAX_CONCURRENT),
		cacheTtlSeconds: wholeLimit('The cache TTL in seconds', MAX_CACHE_TTL_SECONDS),
		day: dollars('The daily budget'),
		month: dollars('The monthly budget'),
		total: dollars('The total budget'),
	}),
}

import { t } from 'elysia'
import { MAX_RATE_LIMIT } from '../../keys/gateway-keys'

// Not t.UnionEnum: Elysia would fill an absent one with its first value.
const window = t.Union([t.Literal('day'), t.Literal('month'), t.Literal('total')], {
	error: 'window must be "day", "month" or "total"',
})

const entry = t.Object({
	window,
	usd: t.Number({ minimum: 0, error: 'usd must be a number of dollars, 0 or more' }),
})

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
	/** The dashboard's budget form: one field per window, empty for none. */
	form: t.Object({
		day: dollars('The daily budget'),
		month: dollars('The monthly budget'),
		total: dollars('The total budget'),
	}),
	/** The Keys page's limits form: the budgets and the requests per minute, empty for none. */
	keyLimitsForm: t.Object({
		rpm: t.Optional(
			t.Integer({
				minimum: 1,
				maximum: MAX_RATE_LIMIT,
				error: `Requests per minute is a whole number from 1 to ${MAX_RATE_LIMIT}`,
			}),
		),
		day: dollars('The daily budget'),
		month: dollars('The monthly budget'),
		total: dollars('The total budget'),
	}),
}

import { t } from 'elysia'
import { MAX_RATE_LIMIT } from '../../keys/gateway-keys'
import { BudgetsModel } from '../budgets/model'

/** In the SPEC, not built yet: refused with 400 rather than ignored (README, "Where this differs from the SPEC"). */
const notYet = t.Optional(t.Unknown())

export const KeysModel = {
	create: t.Object({
		name: t.String({ error: 'name is required' }),
		rateLimitPerMinute: t.Optional(
			t.Nullable(
				t.Integer({ minimum: 1, error: 'rateLimitPerMinute must be a whole number of requests per minute' }),
			),
		),
	}),
	/** `all`: every user's keys, for an admin. Not t.UnionEnum, which Elysia would fill in when absent. */
	listScope: t.Object({
		scope: t.Optional(
			t.Union([t.Literal('mine'), t.Literal('all')], { error: 'scope must be "mine" or "all"' }),
		),
	}),
	/** `PATCH /api/keys/:id`; `null` clears a limit, and `budgets` replaces the key's budgets. */
	update: t.Object({
		name: t.Optional(t.String({ error: 'name must be a string' })),
		/** `null` arrives here as `[]` (see `nullBudgetsAsNone`), so a bad entry is reported at its own path. */
		budgets: t.Optional(
			t.Array(BudgetsModel.entry, { maxItems: 3, error: 'budgets are a list of at most 3 {window, usd}' }),
		),
		rpm: t.Optional(
			t.Nullable(
				t.Integer({
					minimum: 1,
					maximum: MAX_RATE_LIMIT,
					error: `rpm must be a whole number of requests per minute from 1 to ${MAX_RATE_LIMIT}`,
				}),
			),
		),
		tpm: notYet,
		concurrency: notYet,
		cacheTtlSeconds: notYet,
	}),
	idParam: t.Object({ id: t.Numeric({ error: 'the key id must be a number' }) }),
	providerParam: t.Object({ provider: t.String() }),
	saveProviderKey: t.Object({
		apiKey: t.String({ error: 'apiKey is required' }),
		scope: t.Optional(t.UnionEnum(['user', 'org'], { error: 'scope must be "user" or "org"' })),
		/** false: save without asking the provider first (offline, or deliberately). @default true */
		verify: t.Optional(t.Boolean({ error: 'verify must be true or false' })),
	}),
	scope: t.Object({
		scope: t.Optional(t.UnionEnum(['user', 'org'], { error: 'scope must be "user" or "org"' })),
	}),
}

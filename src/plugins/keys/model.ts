import { t } from 'elysia'
import {
	MAX_CACHE_TTL_SECONDS,
	MAX_CONCURRENT,
	MAX_RATE_LIMIT,
	MAX_TOKENS_PER_MINUTE,
} from '../../keys/gateway-keys'
import { BudgetsModel } from '../budget-model'

/** A key's limit: a whole number from 1 to `maximum`, or `null` for none. */
const limit = (name: string, unit: string, maximum: number) =>
	t.Optional(
		t.Nullable(
			t.Integer({
				minimum: 1,
				maximum,
				error: `${name} must be a whole number of ${unit} from 1 to ${maximum}`,
			}),
		),
	)

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
		tpm: limit('tpm', 'tokens per minute', MAX_TOKENS_PER_MINUTE),
		concurrency: limit('concurrency', 'requests in flight', MAX_CONCURRENT),
		cacheTtlSeconds: limit('cacheTtlSeconds', 'seconds', MAX_CACHE_TTL_SECONDS),
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

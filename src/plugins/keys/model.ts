import { t } from 'elysia'

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

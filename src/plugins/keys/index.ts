import { Elysia } from 'elysia'
import { scopeFor } from '../../analytics/scope'
import type { PublicUser } from '../../auth/accounts'
import { type BudgetEntry, budgetsBy, toLedgerEntries, withLimits } from '../../budgets/budget-views'
import type { BudgetLedger } from '../../budgets/ledger'
import { BUDGET_WINDOWS } from '../../budgets/windows'
import type { Config } from '../../config'
import { type GatewayError, notFound } from '../../errors'
import type { GatewayKeyStore, GatewayKeyView } from '../../keys/gateway-keys'
import { KEY_CHECK_CODES, KEY_CHECK_TIMEOUT_MS, ProviderKeyChecker } from '../../keys/key-check'
import type { ProviderKeyVault } from '../../keys/provider-keys'
import type { Catalog } from '../../providers/catalog'
import { type CreatedKey, GatewayKeysSection, KeyRow } from '../../views/fragments/gateway-keys'
import { type ProviderKeyForm, ProviderKeysSection } from '../../views/fragments/provider-keys'
import { KeysPage } from '../../views/pages/keys'
import { BudgetsModel } from '../budget-model'
import { formSuccess, fragmentOrPage, readForm, submitForm, submittedText } from '../forms'
import { type SessionDeps, sessionPlugin } from '../session'
import { KeysModel } from './model'

export interface KeysDeps extends SessionDeps {
	gatewayKeys: GatewayKeyStore
	providerKeys: ProviderKeyVault
	catalog: Catalog
	config: Pick<Config, 'upstreamTimeoutMs'>
	budgets: BudgetLedger
}

/** A change to a key's name and limits (`PATCH /api/keys/:id`, the Keys page's limits form). */
interface KeyChange {
	name?: string
	/** Replaces the key's budgets; `null` or `[]` removes them. */
	budgets?: BudgetEntry[] | null
	rpm?: number | null
	tpm?: number | null
	concurrency?: number | null
	cacheTtlSeconds?: number | null
}

/**
 * `budgets: null` clears a key's budgets, as `[]` does. Made `[]` before validation: as a nullable list,
 * TypeBox would report a bad entry at `budgets` rather than at `budgets[i].usd`.
 */
function nullBudgetsAsNone({ body }: { body: unknown }) {
	if (body && typeof body === 'object' && 'budgets' in body && body.budgets === null)
		(body as { budgets: unknown }).budgets = []
}

/** Whose keys a request is about: the caller's, or with `scope=all` everyone's, which only an admin may ask. */
function ownerOf(user: PublicUser, scope: 'mine' | 'all' | undefined): number | null {
	return scopeFor(user, scope).userId
}

/** Gateway keys and provider keys: the JSON API and the dashboard's Keys page with its forms. */
export const keysPlugin = (deps: KeysDeps) => {
	const { gatewayKeys, providerKeys, catalog, budgets } = deps
	const keyedProviders = catalog.providers.filter((provider) => provider.keyEnv)
	// A check waits for the provider's first byte no longer than the gateway's own calls do.
	const keyChecker = new ProviderKeyChecker({
		timeoutMs: Math.min(KEY_CHECK_TIMEOUT_MS, deps.config.upstreamTimeoutMs),
	})

	async function findKey(owner: number | null, keyId: number): Promise<GatewayKeyView> {
		const found = (await gatewayKeys.list(owner)).find((key) => key.id === keyId)
		if (!found) throw notFound('No such key')
		return found
	}

	const budgetsOf = (keys: readonly GatewayKeyView[]) =>
		budgetsBy(
			budgets,
			'key',
			keys.map((key) => key.id),
		)

	/** What the rows of these keys show beside them: their budgets and their other limits, by key id. */
	const rowsOf = async (keys: readonly GatewayKeyView[]) => ({
		budgets: await budgetsOf(keys),
		limits: await gatewayKeys.limitsOf(keys.map((key) => key.id)),
	})

	/** One key's row, with its budgets and limits read afresh. */
	const keyRow = async (gatewayKey: GatewayKeyView, everyone: boolean, limitsError?: string) => {
		const rows = await rowsOf([gatewayKey])
		return KeyRow({
			gatewayKey,
			everyone,
			budgets: rows.budgets.get(gatewayKey.id),
			limits: rows.limits.get(gatewayKey.id),
			limitsError,
		})
	}

	/**
	 * Sets a key's name and limits. Every value is checked before anything is written, so a 400 changes
	 * nothing; the name and request limit change in one statement, then the budgets are replaced.
	 */
	async function updateKey(
		owner: number | null,
		by: number,
		keyId: number,
		change: KeyChange,
	): Promise<{ key: GatewayKeyView; budgets: Awaited<ReturnType<typeof budgetsOf>> }> {
		const entries =
			change.budgets === undefined ? undefined : toLedgerEntries(change.budgets ?? [], 'budgets')
		const { name, rpm, tpm, concurrency, cacheTtlSeconds } = change
		const limits = {
			...(rpm !== undefined && { rateLimitPerMinute: rpm }),
			...(tpm !== undefined && { tokensPerMinute: tpm }),
			...(concurrency !== undefined && { maxConcurrent: concurrency }),
			...(cacheTtlSeconds !== undefined && { cacheTtlSeconds }),
		}
		const key =
			name !== undefined || Object.keys(limits).length > 0
				? await gatewayKeys.update(owner, keyId, { name, ...limits })
				: await findKey(owner, keyId)
		if (entries) await budgets.replace('key', keyId, entries, by, 'budgets')
		return { key, budgets: await budgetsOf([key]) }
	}

	async function page(
		user: PublicUser,
		shown: {
			created?: CreatedKey
			gatewayError?: string
			providerError?: string
			refusedForm?: ProviderKeyForm
		},
	) {
		const own = await gatewayKeys.list(user.id)
		const everyonesKeys = user.role === 'admin' ? await gatewayKeys.list(null) : undefined
		const rows = await rowsOf(everyonesKeys ?? own)
		return KeysPage({
			user,
			gatewayKeys: own,
			keyBudgets: rows.budgets,
			keyLimits: rows.limits,
			providers: keyedProviders,
			providerKeys: await providerKeys.list(user),
			keysInUse: await providerKeys.keysInUse(user),
			everyonesKeys,
			...shown,
		})
	}

	/** The gateway-keys section after a form, with the key just created or the caller's mistake. */
	const gatewaySection = async (
		request: Request,
		user: PublicUser,
		shown: { created?: CreatedKey; error?: string },
	) => {
		const keys = await gatewayKeys.list(user.id)
		const rows = await rowsOf(keys)
		return fragmentOrPage(
			request,
			() => GatewayKeysSection({ keys, ...rows, ...shown }),
			() => page(user, { created: shown.created, gatewayError: shown.error }),
		)
	}

	const providerSection = async (user: PublicUser, error?: string, refusedForm?: ProviderKeyForm) =>
		ProviderKeysSection({
			providers: keyedProviders,
			keys: await providerKeys.list(user),
			keysInUse: await providerKeys.keysInUse(user),
			isAdmin: user.role === 'admin',
			error,
			refusedForm,
		})

	/** The form a failed key check refused, which then offers to save without checking. */
	const refusedCheck = (error: GatewayError, provider: string, body: unknown): ProviderKeyForm | undefined =>
		error.code && KEY_CHECK_CODES.includes(error.code)
			? { provider, scope: submittedText(body, 'scope') === 'org' ? 'org' : 'user' }
			: undefined

	/** A provider-key form (save or remove): its section again, with the caller's mistake shown inline. */
	const providerForm = (
		request: Request,
		set: { status?: number | string; headers: Record<string, string | number> },
		user: PublicUser,
		change: () => unknown,
		refusedForm: (error: GatewayError) => ProviderKeyForm | undefined = () => undefined,
	) =>
		submitForm(
			set,
			async () => {
				await change()
				return formSuccess(request, set, () => providerSection(user), '/keys')
			},
			(error) =>
				fragmentOrPage(
					request,
					() => providerSection(user, error.message, refusedForm(error)),
					() => page(user, { providerError: error.message, refusedForm: refusedForm(error) }),
				),
		)

	return (
		new Elysia({ name: 'keys' })
			.use(sessionPlugin(deps))
			// JSON API
			.get('/api/keys', ({ auth, query }) => gatewayKeys.list(ownerOf(auth.user, query.scope)), {
				session: 'user',
				query: KeysModel.listScope,
			})
			.post(
				'/api/keys',
				({ auth, body, set }) => {
					set.status = 201
					return gatewayKeys.create(auth.user.id, body.name, body.rateLimitPerMinute)
				},
				{ session: 'user', body: KeysModel.create },
			)
			.delete(
				'/api/keys/:id',
				async ({ auth, params, query, set }) => {
					await gatewayKeys.revoke(ownerOf(auth.user, query.scope), params.id)
					set.status = 204
				},
				{ session: 'user', params: KeysModel.idParam, query: KeysModel.listScope },
			)
			.patch(
				'/api/keys/:id',
				async ({ auth, params, query, body }) => {
					const owner = ownerOf(auth.user, query.scope)
					const updated = await updateKey(owner, auth.user.id, params.id, body)
					const limits = await gatewayKeys.limits(owner, params.id)
					return {
						...withLimits(updated.key, updated.budgets.get(updated.key.id) ?? []),
						tpm: limits.tokensPerMinute,
						concurrency: limits.maxConcurrent,
						cacheTtlSeconds: limits.cacheTtlSeconds,
					}
				},
				{
					session: 'user',
					params: KeysModel.idParam,
					query: KeysModel.listScope,
					body: KeysModel.update,
					transform: nullBudgetsAsNone,
				},
			)
			.get(
				'/api/provider-keys',
				async ({ auth }) =>
					(await providerKeys.list(auth.user)).map(({ provider, scope, last4, createdAt, source }) => ({
						provider,
						scope,
						last4,
						createdAt,
						source,
					})),
				{ session: 'user' },
			)
			.get('/api/provider-keys/in-use', ({ auth }) => providerKeys.keysInUse(auth.user), {
				session: 'user',
			})
			.put(
				'/api/provider-keys/:provider',
				({ auth, params, body, request }) =>
					providerKeys.save(
						auth.user,
						params.provider,
						body.apiKey,
						body.scope ?? 'user',
						body.verify === false ? undefined : keyChecker.verifier(request.signal),
					),
				{ session: 'user', params: KeysModel.providerParam, body: KeysModel.saveProviderKey },
			)
			.delete(
				'/api/provider-keys/:provider',
				async ({ auth, params, query, set }) => {
					await providerKeys.remove(auth.user, params.provider, query.scope ?? 'user')
					set.status = 204
				},
				{ session: 'user', params: KeysModel.providerParam, query: KeysModel.scope },
			)
			// Dashboard page and the fragments its forms swap
			.get('/keys', ({ auth }) => page(auth.user, {}), { session: 'user' })
			.post(
				'/keys',
				({ auth, body, request, set }) =>
					submitForm(
						set,
						async () => {
							const form = readForm(KeysModel.create, body)
							const created = await gatewayKeys.create(auth.user.id, form.name, form.rateLimitPerMinute)
							return gatewaySection(request, auth.user, { created })
						},
						(error) => gatewaySection(request, auth.user, { error: error.message }),
					),
				{ session: 'user' },
			)
			.post(
				'/keys/:id/revoke',
				async ({ auth, params, query, request, set }) => {
					const revoked = await gatewayKeys.revoke(ownerOf(auth.user, query.scope), params.id)
					if (query.scope === 'all') return formSuccess(request, set, () => keyRow(revoked, true), '/keys')
					const keys = await gatewayKeys.list(auth.user.id)
					const rows = await rowsOf(keys)
					return formSuccess(request, set, () => GatewayKeysSection({ keys, ...rows }), '/keys')
				},
				{ session: 'user', params: KeysModel.idParam, query: KeysModel.listScope },
			)
			.post(
				'/keys/:id/limits',
				async ({ auth, params, query, body, request, set }) => {
					const owner = ownerOf(auth.user, query.scope)
					const everyone = query.scope === 'all'
					return submitForm(
						set,
						async () => {
							const form = readForm(BudgetsModel.keyLimitsForm, body)
							const entries: BudgetEntry[] = []
							for (const window of BUDGET_WINDOWS) {
								const usd = form[window]
								if (usd !== undefined) entries.push({ window, usd })
							}
							// An empty field clears its limit: the form always sends them all.
							const updated = await updateKey(owner, auth.user.id, params.id, {
								rpm: form.rpm ?? null,
								tpm: form.tpm ?? null,
								concurrency: form.concurrency ?? null,
								cacheTtlSeconds: form.cacheTtlSeconds ?? null,
								budgets: entries,
							})
							return formSuccess(request, set, () => keyRow(updated.key, everyone), '/keys')
						},
						async (error) => {
							const key = await findKey(owner, params.id)
							return fragmentOrPage(
								request,
								() => keyRow(key, everyone, error.message),
								() => page(auth.user, { gatewayError: error.message }),
							)
						},
					)
				},
				{ session: 'user', params: KeysModel.idParam, query: KeysModel.listScope },
			)
			.post(
				'/provider-keys/:provider',
				({ auth, params, body, request, set }) =>
					providerForm(
						request,
						set,
						auth.user,
						() => {
							const form = readForm(KeysModel.saveProviderKey, body)
							const verify = form.verify === false ? undefined : keyChecker.verifier(request.signal)
							return providerKeys.save(auth.user, params.provider, form.apiKey, form.scope ?? 'user', verify)
						},
						(error) => refusedCheck(error, params.provider, body),
					),
				{ session: 'user', params: KeysModel.providerParam },
			)
			.post(
				'/provider-keys/:provider/delete',
				({ auth, params, body, request, set }) =>
					providerForm(request, set, auth.user, () => {
						const form = readForm(KeysModel.scope, body)
						return providerKeys.remove(auth.user, params.provider, form.scope ?? 'user')
					}),
				{ session: 'user', params: KeysModel.providerParam },
			)
	)
}

import { and, eq, isNull, or, sql } from 'drizzle-orm'
import type { DataStore } from '../../db/client'
import type { KeyScope } from '../../db/schema'
import type { PublicUser } from '../auth/accounts'
import { badRequest, forbidden, notFound } from '../errors'
import { decryptSecret, encryptSecret } from '../lib/crypto'
import type { Catalog, CatalogProvider } from '../providers/catalog'
import type { KeyVerifier } from './key-check'

const MAX_KEY_LENGTH = 1000

export interface ProviderKeyView {
	provider: string
	scope: KeyScope
	last4: string
	createdAt: Date | null
	/** `env` for an organisation key that comes from the environment (it cannot be changed here). */
	source: 'dashboard' | 'env'
}

/**
 * Where the key of a call comes from, in the order the gateway looks: the caller's own saved key, the
 * organisation's saved key, the organisation's key from the environment; `keyless` for a provider that
 * takes none (a local Ollama or vLLM).
 */
export type KeySource = 'user' | 'org' | 'env' | 'keyless'

/** A usable provider key for a call, and where it came from. */
export interface ResolvedKey {
	apiKey: string
	scope: KeyScope
	source: KeySource
}

/** How a saved key was checked when it was saved: by the provider, or not (saved without checking). */
export interface KeyCheckRecord {
	checked: boolean
	at: Date
}

/**
 * Which key a user's requests to one provider carry, and why: the resolution the gateway makes, explained.
 * `none`: there is no key, and requests to this provider fail.
 */
export interface KeyInUse {
	provider: string
	source: KeySource | 'none'
	/** The last four characters of the key in use; null for `none` and `keyless`. */
	last4: string | null
	/** For `env`: the variable the key comes from. */
	envVar: string | null
	/** For the caller's own key: the organisation key it stands in front of, if there is one. */
	shadows: { source: 'org' | 'env'; last4: string; envVar: string | null } | null
	/**
	 * How the saved key in use was checked when saved. Kept in memory: null after a restart, for keys saved
	 * by another instance, and for environment keys.
	 */
	check: KeyCheckRecord | null
	/** A saved key was passed over because it cannot be decrypted (ENCRYPTION_KEY changed). */
	unreadable: boolean
}

/** What `save` stored. */
export interface SavedKey {
	provider: string
	scope: KeyScope
	last4: string
	/** False when it was saved without asking the provider. */
	checked: boolean
}

const last4 = (apiKey: string) => apiKey.slice(-4)

/** One saved key's place: the organisation's (`userId` null) or one user's, for one provider. */
const checkSlot = (providerId: string, userId: number | null) => `${providerId}\u0000${userId ?? 'org'}`

/**
 * Provider keys, encrypted at rest with AES-256-GCM. The gateway resolves a key per call (own key
 * first, then the organisation's saved key, then the environment's); decrypted keys are cached in
 * memory and dropped whenever a key is saved or removed.
 */
export class ProviderKeyVault {
	/** Per user, per provider: Maps keyed by number then id, so a lookup builds no string. */
	private readonly decrypted = new Map<number, Map<string, ResolvedKey | null>>()
	/** How each saved key was checked, by `checkSlot`; memory only (no migration for it, and it may be lost). */
	private readonly checks = new Map<string, KeyCheckRecord>()

	private unsubscribe: (() => Promise<void>) | undefined

	private constructor(
		private readonly store: DataStore,
		private readonly encryptionKey: CryptoKey,
		private readonly catalog: Catalog,
		private readonly envKeys: Readonly<Record<string, string>>,
	) {}

	/** Every instance forgets its decrypted keys when any instance saves or removes one. */
	static async open(
		store: DataStore,
		encryptionKey: CryptoKey,
		catalog: Catalog,
		envKeys: Readonly<Record<string, string>>,
	): Promise<ProviderKeyVault> {
		const vault = new ProviderKeyVault(store, encryptionKey, catalog, envKeys)
		vault.unsubscribe = await store.subscribe('provider-keys', () => vault.decrypted.clear())
		return vault
	}

	async close() {
		await this.unsubscribe?.()
	}

	async list(user: PublicUser): Promise<ProviderKeyView[]> {
		const { db, tables } = this.store
		const { providerKeys } = tables
		const rows = await db
			.select({
				provider: providerKeys.provider,
				scope: providerKeys.scope,
				last4: providerKeys.last4,
				createdAt: providerKeys.createdAt,
			})
			.from(providerKeys)
			.where(or(eq(providerKeys.scope, 'org'), eq(providerKeys.userId, user.id)))
			.orderBy(providerKeys.provider, providerKeys.scope)
		const views: ProviderKeyView[] = rows.map(({ provider, scope, last4, createdAt }) => ({
			provider,
			scope,
			last4,
			createdAt,
			source: 'dashboard',
		}))
		for (const provider of this.catalog.providers) {
			const fromEnv = provider.keyEnv ? this.envKeys[provider.keyEnv] : undefined
			const savedOrg = views.some((view) => view.provider === provider.id && view.scope === 'org')
			if (fromEnv && !savedOrg) {
				views.push({
					provider: provider.id,
					scope: 'org',
					last4: last4(fromEnv),
					createdAt: null,
					source: 'env',
				})
			}
		}
		return views
	}

	/**
	 * Saves `apiKey` after `verify` (when given) has checked it with the provider: a key the provider refuses,
	 * or cannot be asked about, is not saved. Everything the caller can get wrong is checked first, so a
	 * refused request never reaches the provider.
	 */
	async save(
		user: PublicUser,
		providerId: string,
		apiKey: string,
		scope: KeyScope = 'user',
		verify?: KeyVerifier,
	): Promise<SavedKey> {
		const provider = this.checkProvider(providerId)
		if (scope === 'org' && user.role !== 'admin') throw forbidden('Only an admin can set organisation keys')
		const trimmed = apiKey.trim()
		if (!trimmed) throw badRequest('Paste the API key', 'apiKey')
		if (trimmed.length > MAX_KEY_LENGTH || /\s/.test(trimmed))
			throw badRequest('That does not look like an API key', 'apiKey')
		if (verify) await verify(provider, trimmed)
		const secret = Buffer.from(await encryptSecret(this.encryptionKey, trimmed))
		const userId = scope === 'user' ? user.id : null
		const { db, tables } = this.store
		const { providerKeys } = tables
		// One statement replaces the key: the partial unique index of its scope names the one it replaces.
		await db
			.insert(providerKeys)
			.values({ provider: providerId, scope, userId, secret, last4: last4(trimmed) })
			.onConflictDoUpdate({
				target: scope === 'user' ? [providerKeys.userId, providerKeys.provider] : [providerKeys.provider],
				// As the index says it, literally: SQLite matches a partial index's WHERE by its text, not a parameter.
				targetWhere: sql.raw(scope === 'user' ? "scope = 'user'" : "scope = 'org'"),
				set: { secret, last4: last4(trimmed), createdAt: new Date() },
			})
		this.checks.set(checkSlot(providerId, userId), { checked: Boolean(verify), at: new Date() })
		await this.forgetDecrypted()
		return { provider: providerId, scope, last4: last4(trimmed), checked: Boolean(verify) }
	}

	async remove(user: PublicUser, providerId: string, scope: KeyScope = 'user') {
		this.checkProvider(providerId)
		if (scope === 'org' && user.role !== 'admin')
			throw forbidden('Only an admin can remove organisation keys')
		const { db, tables } = this.store
		await db
			.delete(tables.providerKeys)
			.where(this.ownedBy(providerId, scope, scope === 'user' ? user.id : null))
		this.checks.delete(checkSlot(providerId, scope === 'user' ? user.id : null))
		await this.forgetDecrypted()
	}

	/** Here at once, and on the other instances as soon as they hear of it. */
	private async forgetDecrypted() {
		this.decrypted.clear()
		await this.store.publish('provider-keys', '*')
	}

	/**
	 * For every catalog provider, the key `user`'s requests carry and why, found by the gateway's own
	 * `resolve`: their own key, then the organisation's saved key, then the environment's.
	 */
	async keysInUse(user: PublicUser): Promise<KeyInUse[]> {
		const saved = await this.list(user)
		return Promise.all(
			this.catalog.providers.map(async (provider): Promise<KeyInUse> => {
				const resolved = await this.resolve(user.id, provider.id)
				const source = resolved?.source ?? 'none'
				const own = saved.find((key) => key.provider === provider.id && key.scope === 'user')
				const org = saved.find((key) => key.provider === provider.id && key.scope === 'org')
				const envVar = provider.keyEnv && this.envKeys[provider.keyEnv] ? provider.keyEnv : null
				// `list` gives the organisation's saved key, or else the environment's.
				const orgKey = org
					? org.source === 'env'
						? { source: 'env' as const, last4: org.last4, envVar }
						: { source: 'org' as const, last4: org.last4, envVar: null }
					: null
				return {
					provider: provider.id,
					source,
					last4: resolved && source !== 'keyless' ? last4(resolved.apiKey) : null,
					envVar: source === 'env' ? envVar : null,
					shadows: source === 'user' ? orgKey : null,
					check:
						source === 'user' || source === 'org'
							? (this.checks.get(checkSlot(provider.id, source === 'user' ? user.id : null)) ?? null)
							: null,
					unreadable:
						(own !== undefined && source !== 'user') ||
						(org?.source === 'dashboard' && source !== 'user' && source !== 'org'),
				}
			}),
		)
	}

	/**
	 * The key already resolved for `userId` and `providerId` (null: there is none), or undefined when it
	 * has to be looked up with `resolve`. The gateway asks this first: a cache hit then costs no await.
	 */
	cached(userId: number, providerId: string): ResolvedKey | null | undefined {
		return this.decrypted.get(userId)?.get(providerId)
	}

	/** The catalog providers `userId` can call: with their own key or the organisation's, in catalog order. */
	async reachableProviders(userId: number): Promise<CatalogProvider[]> {
		const keys = await Promise.all(
			this.catalog.providers.map((provider) => this.resolve(userId, provider.id)),
		)
		return this.catalog.providers.filter((_, i) => keys[i] !== null)
	}

	/** The key a call for `userId` to `providerId` uses, or null when there is none. */
	async resolve(userId: number, providerId: string): Promise<ResolvedKey | null> {
		const cached = this.cached(userId, providerId)
		if (cached !== undefined) return cached
		const resolved = (await this.fromDatabase(userId, providerId)) ?? this.fromEnvironment(providerId)
		let forUser = this.decrypted.get(userId)
		if (!forUser) {
			forUser = new Map()
			this.decrypted.set(userId, forUser)
		}
		forUser.set(providerId, resolved)
		return resolved
	}

	/** The caller's own saved key, else the organisation's; a key that cannot be decrypted is passed over. */
	private async fromDatabase(userId: number, providerId: string): Promise<ResolvedKey | null> {
		const { db, tables } = this.store
		const { providerKeys } = tables
		const rows = await db
			.select({ scope: providerKeys.scope, userId: providerKeys.userId, secret: providerKeys.secret })
			.from(providerKeys)
			.where(eq(providerKeys.provider, providerId))
		const candidates = [
			rows.find((r) => r.scope === 'user' && r.userId === userId),
			rows.find((r) => r.scope === 'org'),
		]
		for (const row of candidates) {
			if (!row) continue
			try {
				const apiKey = await decryptSecret(this.encryptionKey, new Uint8Array(row.secret))
				return { apiKey, scope: row.scope, source: row.scope }
			} catch {
				console.warn(
					`A stored ${providerId} key cannot be decrypted: was ENCRYPTION_KEY changed? Save it again.`,
				)
			}
		}
		return null
	}

	private fromEnvironment(providerId: string): ResolvedKey | null {
		const provider = this.catalog.provider(providerId)
		if (!provider) return null
		// A keyless provider (a local Ollama or vLLM) is always reachable.
		if (!provider.keyEnv) return { apiKey: 'none', scope: 'org', source: 'keyless' }
		const apiKey = this.envKeys[provider.keyEnv]
		return apiKey ? { apiKey, scope: 'org', source: 'env' } : null
	}

	private checkProvider(providerId: string): CatalogProvider {
		const provider = this.catalog.provider(providerId)
		if (!provider) throw notFound(`Unknown provider "${providerId}"`)
		return provider
	}

	private ownedBy(providerId: string, scope: KeyScope, userId: number | null) {
		const { providerKeys } = this.store.tables
		return and(
			eq(providerKeys.provider, providerId),
			eq(providerKeys.scope, scope),
			userId === null ? isNull(providerKeys.userId) : eq(providerKeys.userId, userId),
		)
	}
}

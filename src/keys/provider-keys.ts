import { and, eq, isNull, or } from 'drizzle-orm'
import type { Db } from '../../db/client'
import { type KeyScope, providerKeys } from '../../db/schema'
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

/** A usable provider key for a call, and where it came from. */
export interface ResolvedKey {
	apiKey: string
	scope: KeyScope
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

/**
 * Provider keys, encrypted at rest with AES-256-GCM. The gateway resolves a key per call (own key
 * first, then the organisation's saved key, then the environment's); decrypted keys are cached in
 * memory and dropped whenever a key is saved or removed.
 */
export class ProviderKeyVault {
	/** Per user, per provider: Maps keyed by number then id, so a lookup builds no string. */
	private readonly decrypted = new Map<number, Map<string, ResolvedKey | null>>()

	constructor(
		private readonly db: Db,
		private readonly encryptionKey: CryptoKey,
		private readonly catalog: Catalog,
		private readonly envKeys: Readonly<Record<string, string>>,
	) {}

	list(user: PublicUser): ProviderKeyView[] {
		const rows = this.db
			.select({
				provider: providerKeys.provider,
				scope: providerKeys.scope,
				last4: providerKeys.last4,
				createdAt: providerKeys.createdAt,
			})
			.from(providerKeys)
			.where(or(eq(providerKeys.scope, 'org'), eq(providerKeys.userId, user.id)))
			.orderBy(providerKeys.provider, providerKeys.scope)
			.all()
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
		this.db.transaction((tx) => {
			tx.delete(providerKeys)
				.where(this.ownedBy(providerId, scope, userId))
				.run()
			tx.insert(providerKeys)
				.values({ provider: providerId, scope, userId, secret, last4: last4(trimmed) })
				.run()
		})
		this.decrypted.clear()
		return { provider: providerId, scope, last4: last4(trimmed), checked: Boolean(verify) }
	}

	remove(user: PublicUser, providerId: string, scope: KeyScope = 'user') {
		this.checkProvider(providerId)
		if (scope === 'org' && user.role !== 'admin')
			throw forbidden('Only an admin can remove organisation keys')
		this.db
			.delete(providerKeys)
			.where(this.ownedBy(providerId, scope, scope === 'user' ? user.id : null))
			.run()
		this.decrypted.clear()
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

	private async fromDatabase(userId: number, providerId: string): Promise<ResolvedKey | null> {
		const rows = this.db
			.select({ scope: providerKeys.scope, userId: providerKeys.userId, secret: providerKeys.secret })
			.from(providerKeys)
			.where(eq(providerKeys.provider, providerId))
			.all()
		const row =
			rows.find((r) => r.scope === 'user' && r.userId === userId) ?? rows.find((r) => r.scope === 'org')
		if (!row) return null
		try {
			return { apiKey: await decryptSecret(this.encryptionKey, new Uint8Array(row.secret)), scope: row.scope }
		} catch {
			console.warn(
				`A stored ${providerId} key cannot be decrypted: was ENCRYPTION_KEY changed? Save it again.`,
			)
			return null
		}
	}

	private fromEnvironment(providerId: string): ResolvedKey | null {
		const provider = this.catalog.provider(providerId)
		if (!provider) return null
		// A keyless provider (a local Ollama or vLLM) is always reachable.
		if (!provider.keyEnv) return { apiKey: 'none', scope: 'org' }
		const apiKey = this.envKeys[provider.keyEnv]
		return apiKey ? { apiKey, scope: 'org' } : null
	}

	private checkProvider(providerId: string): CatalogProvider {
		const provider = this.catalog.provider(providerId)
		if (!provider) throw notFound(`Unknown provider "${providerId}"`)
		return provider
	}

	private ownedBy(providerId: string, scope: KeyScope, userId: number | null) {
		return and(
			eq(providerKeys.provider, providerId),
			eq(providerKeys.scope, scope),
			userId === null ? isNull(providerKeys.userId) : eq(providerKeys.userId, userId),
		)
	}
}

import { describe, expect, it } from 'bun:test'
import { loadConfig } from '../../src/config'
import { ProviderKeyVault } from '../../src/keys/provider-keys'
import { importEncryptionKey } from '../../src/lib/crypto'
import { loadCatalog } from '../../src/providers/catalog'
import { BACKENDS, openTestStore } from '../helpers/stores'
import { until } from '../helpers/until'

const ENCRYPTION_KEY = Buffer.alloc(32, 7).toString('base64')

describe.each(BACKENDS)('provider keys on %s, seen from two instances', (backend) => {
	it('saves, replaces and removes a key that every instance then uses', async () => {
		await using test = await openTestStore(backend)
		const { db, tables } = test.store
		const [ada] = await db
			.insert(tables.users)
			.values({ email: 'ada@example.com', passwordHash: 'x', role: 'admin' })
			.returning()
		if (!ada) throw new Error('no user')
		const user = { id: ada.id, email: ada.email, role: ada.role }
		const catalog = loadCatalog(loadConfig({}))
		const key = await importEncryptionKey(ENCRYPTION_KEY)
		const here = await ProviderKeyVault.open(test.store, key, catalog, {})
		const there = await ProviderKeyVault.open(await test.anotherInstance(), key, catalog, {})
		try {
			expect(await there.resolve(ada.id, 'openai')).toBeNull()
			await here.save(user, 'openai', 'sk-own-1111')
			await until(async () => (await there.resolve(ada.id, 'openai'))?.apiKey === 'sk-own-1111', 1000)
			await here.save(user, 'openai', 'sk-org-2222', 'org')
			await here.save(user, 'openai', 'sk-own-3333')
			await until(async () => (await there.resolve(ada.id, 'openai'))?.apiKey === 'sk-own-3333', 1000)
			expect((await there.list(user)).map((view) => [view.scope, view.last4])).toEqual([
				['org', '2222'],
				['user', '3333'],
			])
			await here.remove(user, 'openai')
			await until(async () => (await there.resolve(ada.id, 'openai'))?.apiKey === 'sk-org-2222', 1000)
		} finally {
			await Promise.all([here.close(), there.close()])
		}
	})
})

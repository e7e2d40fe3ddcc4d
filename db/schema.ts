import { sql } from 'drizzle-orm'
import { blob, index, integer, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core'

export type Role = 'admin' | 'developer'
export type KeyScope = 'user' | 'org'

const createdAt = () =>
	integer('created_at', { mode: 'timestamp_ms' })
		.notNull()
		.$defaultFn(() => new Date())

export const users = sqliteTable('users', {
	id: integer('id').primaryKey({ autoIncrement: true }),
	email: text('email').notNull().unique(),
	passwordHash: text('password_hash').notNull(),
	role: text('role').$type<Role>().notNull(),
	createdAt: createdAt(),
})

export const sessions = sqliteTable(
	'sessions',
	{
		id: text('id').primaryKey(),
		userId: integer('user_id')
			.notNull()
			.references(() => users.id, { onDelete: 'cascade' }),
		createdAt: createdAt(),
		expiresAt: integer('expires_at', { mode: 'timestamp_ms' }).notNull(),
	},
	(table) => [index('sessions_user_id_idx').on(table.userId)],
)

export const gatewayKeys = sqliteTable(
	'gateway_keys',
	{
		id: integer('id').primaryKey({ autoIncrement: true }),
		userId: integer('user_id')
			.notNull()
			.references(() => users.id, { onDelete: 'cascade' }),
		name: text('name').notNull(),
		prefix: text('prefix').notNull(),
		keyHash: text('key_hash').notNull(),
		createdAt: createdAt(),
		lastUsedAt: integer('last_used_at', { mode: 'timestamp_ms' }),
		revokedAt: integer('revoked_at', { mode: 'timestamp_ms' }),
	},
	(table) => [
		uniqueIndex('gateway_keys_key_hash_idx').on(table.keyHash),
		index('gateway_keys_user_id_idx').on(table.userId),
	],
)

export const providerKeys = sqliteTable(
	'provider_keys',
	{
		id: integer('id').primaryKey({ autoIncrement: true }),
		provider: text('provider').notNull(),
		scope: text('scope').$type<KeyScope>().notNull(),
		/** Null for organisation keys. */
		userId: integer('user_id').references(() => users.id, { onDelete: 'cascade' }),
		/** AES-256-GCM: IV ‖ ciphertext ‖ tag. */
		secret: blob('secret', { mode: 'buffer' }).notNull(),
		last4: text('last4').notNull(),
		createdAt: createdAt(),
	},
	(table) => [
		uniqueIndex('provider_keys_user_idx').on(table.userId, table.provider).where(sql`scope = 'user'`),
		uniqueIndex('provider_keys_org_idx').on(table.provider).where(sql`scope = 'org'`),
	],
)

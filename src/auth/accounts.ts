import { count, eq } from 'drizzle-orm'
import type { Db } from '../../db/client'
import { type Role, users } from '../../db/schema'
import { badRequest, GatewayError } from '../errors'

export interface PublicUser {
	id: number
	email: string
	role: Role
}

export interface PasswordHasher {
	hash(password: string): Promise<string>
	verify(password: string, hash: string): Promise<boolean>
}

/** argon2id through Bun.password; tests pass a cheaper cost, production keeps Bun's defaults. */
export function argon2idHasher(cost: { memoryCost?: number; timeCost?: number } = {}): PasswordHasher {
	return {
		hash: (password) => Bun.password.hash(password, { algorithm: 'argon2id', ...cost }),
		verify: (password, hash) => Bun.password.verify(password, hash),
	}
}

export const MIN_PASSWORD_LENGTH = 8
// argon2 hashes whatever it is given; a cap stops a megabyte password from being a cheap denial of service.
const MAX_PASSWORD_LENGTH = 1024
const EMAIL_PATTERN = /^[^\s@]+@[^\s@]+\.[^\s@]+$/

export const normalizeEmail = (email: string) => email.trim().toLowerCase()

function checkCredentials(email: string, password: string) {
	if (!EMAIL_PATTERN.test(email) || email.length > 254)
		throw badRequest('Enter a valid email address', 'email')
	if (password.length < MIN_PASSWORD_LENGTH) {
		throw badRequest(`The password must have at least ${MIN_PASSWORD_LENGTH} characters`, 'password')
	}
	if (password.length > MAX_PASSWORD_LENGTH) {
		throw badRequest(`The password must have at most ${MAX_PASSWORD_LENGTH} characters`, 'password')
	}
}

const toPublicUser = (row: PublicUser): PublicUser => ({ id: row.id, email: row.email, role: row.role })

/**
 * Creates an account. Without a configured admin, the first account becomes the admin; the count and
 * the insert share one transaction so two simultaneous first signups cannot both win.
 */
export async function signup(
	db: Db,
	hasher: PasswordHasher,
	input: { email: string; password: string },
	options: { adminConfigured: boolean },
): Promise<PublicUser> {
	const email = normalizeEmail(input.email)
	checkCredentials(email, input.password)
	const passwordHash = await hasher.hash(input.password)
	return db.transaction((tx) => {
		if (tx.select({ id: users.id }).from(users).where(eq(users.email, email)).get()) {
			throw new GatewayError(409, 'invalid_request_error', 'An account with this email already exists', {
				param: 'email',
				code: 'email_taken',
			})
		}
		const existing = tx.select({ n: count() }).from(users).get()?.n ?? 0
		const role: Role = !options.adminConfigured && existing === 0 ? 'admin' : 'developer'
		const row = tx.insert(users).values({ email, passwordHash, role }).returning().get()
		return toPublicUser(row)
	})
}

let dummyHash: Promise<string> | undefined

/** Checks a password; unknown emails cost the same hash time, so timing does not reveal accounts. */
export async function verifyCredentials(
	db: Db,
	hasher: PasswordHasher,
	input: { email: string; password: string },
): Promise<PublicUser | null> {
	const email = normalizeEmail(input.email)
	const row = db.select().from(users).where(eq(users.email, email)).get()
	if (!row) {
		dummyHash ??= hasher.hash('switchyard-timing-equaliser')
		await hasher.verify(input.password, await dummyHash)
		return null
	}
	return (await hasher.verify(input.password, row.passwordHash)) ? toPublicUser(row) : null
}

/** Creates `ADMIN_EMAIL` at start when absent, and makes sure it holds the admin role. */
export async function ensureAdmin(
	db: Db,
	hasher: PasswordHasher,
	admin: { email: string; password: string },
) {
	const email = normalizeEmail(admin.email)
	const existing = db.select().from(users).where(eq(users.email, email)).get()
	if (existing) {
		if (existing.role !== 'admin')
			db.update(users).set({ role: 'admin' }).where(eq(users.id, existing.id)).run()
		return
	}
	const passwordHash = await hasher.hash(admin.password)
	db.insert(users).values({ email, passwordHash, role: 'admin' }).run()
	console.log(`Created admin account ${email}`)
}

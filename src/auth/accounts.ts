import { count, eq, lt } from 'drizzle-orm'
import { type DataStore, isUniqueViolation, type Tables } from '../../db/client'
import type { Role } from '../../db/schema'
import type { SignupPolicy } from '../config'
import { badRequest, GatewayError, notFound } from '../errors'
import type { Invites } from './invites'
import type { LoginThrottle } from './login-throttle'

export interface PublicUser {
	id: number
	email: string
	role: Role
}

/** A user as the admin's Users page and `GET /api/users` show them. */
export interface UserView extends PublicUser {
	active: boolean
	createdAt: Date
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

/** The columns of a `UserView`, for the list and for an update's answer. */
const userView = ({ users }: Tables) => ({
	id: users.id,
	email: users.email,
	role: users.role,
	active: users.active,
	createdAt: users.createdAt,
})

const emailTaken = () =>
	new GatewayError(409, 'invalid_request_error', 'An account with this email already exists', {
		param: 'email',
		code: 'email_taken',
	})

let dummyHash: Promise<string> | undefined

function refuseWhileThrottled(retryAfterSeconds: number) {
	if (retryAfterSeconds > 0) {
		throw new GatewayError(429, 'rate_limit_error', 'Too many failed logins; try again later', {
			code: 'rate_limit_exceeded',
			headers: { 'retry-after': String(retryAfterSeconds) },
		})
	}
}

function refuseWithoutInvite(policy: SignupPolicy) {
	if (policy === 'closed') {
		throw new GatewayError(403, 'permission_error', 'Sign-up is closed: ask an admin for an account', {
			code: 'signup_closed',
		})
	}
	if (policy === 'invite') {
		throw new GatewayError(403, 'permission_error', 'Sign-up needs an invite link from an admin', {
			param: 'invite',
			code: 'invite_required',
		})
	}
}

/** The people who use the dashboard: sign-up, log-in (throttled) and the configured admin. */
export class Accounts {
	constructor(
		private readonly store: DataStore,
		private readonly hasher: PasswordHasher,
		private readonly throttle: LoginThrottle,
		/** With `ADMIN_EMAIL` set, nobody becomes admin by signing up first. */
		private readonly adminConfigured: boolean,
		private readonly invites: Invites,
		/** `SIGNUP`: who may create an account besides the very first person (the admin). */
		readonly signupPolicy: SignupPolicy,
	) {}

	/** The sign-up form tells the first person that their account will be the admin. */
	async isFirstAccount(): Promise<boolean> {
		return !this.adminConfigured && (await this.countUsers()) === 0
	}

	private async countUsers(): Promise<number> {
		const { db, tables } = this.store
		const [row] = await db.select({ n: count() }).from(tables.users)
		return row?.n ?? 0
	}

	/**
	 * Creates an account, as `SIGNUP` allows: anyone (`open`), holders of a valid invite (`invite`, and any
	 * invite given under `open`), or nobody (`closed`) — except the very first account when no admin is
	 * configured, which becomes the admin. An invite gives its role and works once.
	 *
	 * Each step is one statement, so it holds on both databases and across instances without a transaction:
	 * the invite is taken before the insert (and given back if the insert fails), the email's unique index
	 * refuses a second account, and the first account is the one with the lowest id: of two sign-ups racing
	 * to be first, the other is treated as a later one.
	 */
	async signup(input: { email: string; password: string; invite?: string }): Promise<PublicUser> {
		const email = normalizeEmail(input.email)
		checkCredentials(email, input.password)
		const passwordHash = await this.hasher.hash(input.password)
		const { db, tables } = this.store
		const { users } = tables
		if ((await db.select({ id: users.id }).from(users).where(eq(users.email, email))).length > 0)
			throw emailTaken()
		const invite = input.invite ? await this.invites.claim(input.invite, email) : null
		try {
			const maybeFirst = !this.adminConfigured && (await this.countUsers()) === 0
			if (!maybeFirst && !invite) refuseWithoutInvite(this.signupPolicy)
			const role: Role = maybeFirst ? 'admin' : (invite?.role ?? 'developer')
			const [row] = await db.insert(users).values({ email, passwordHash, role }).returning()
			if (!row) throw new Error('the new account was not returned')
			if (maybeFirst && (await this.wasBeaten(row.id))) return await this.secondComer(row.id, invite)
			if (invite) await this.invites.markUsedBy(invite.id, row.id)
			return toPublicUser(row)
		} catch (error) {
			if (invite) await this.invites.release(invite.id)
			throw isUniqueViolation(error) ? emailTaken() : error
		}
	}

	/** Whether another account, made at the same moment, has a lower id than this one. */
	private async wasBeaten(userId: number): Promise<boolean> {
		const { db, tables } = this.store
		const earlier = await db
			.select({ id: tables.users.id })
			.from(tables.users)
			.where(lt(tables.users.id, userId))
			.limit(1)
		return earlier.length > 0
	}

	/** Lost the race to be first: what a later sign-up would have been, or no account at all. */
	private async secondComer(userId: number, invite: { id: number; role: Role } | null): Promise<PublicUser> {
		const { db, tables } = this.store
		const { users } = tables
		if (!invite && this.signupPolicy !== 'open') {
			await db.delete(users).where(eq(users.id, userId))
			refuseWithoutInvite(this.signupPolicy)
		}
		if (invite) await this.invites.markUsedBy(invite.id, userId)
		const [row] = await db
			.update(users)
			.set({ role: invite?.role ?? 'developer' })
			.where(eq(users.id, userId))
			.returning()
		if (!row) throw new Error('the new account was not returned')
		return toPublicUser(row)
	}

	/** The account for these credentials, or a 401; failures from one account or address are throttled (429). */
	async logIn(input: { email: string; password: string }, clientAddress: string): Promise<PublicUser> {
		const account = normalizeEmail(input.email)
		// Refused before the password check: a locked account gives no answer about its password.
		refuseWhileThrottled(this.throttle.accountRetryAfter(account))
		const user = await this.verifyCredentials(input)
		if (!user) {
			refuseWhileThrottled(this.throttle.recordFailure(account, clientAddress))
			throw new GatewayError(401, 'authentication_error', 'Invalid email or password', {
				code: 'invalid_credentials',
			})
		}
		// Again after it: guesses sent together all pass the first check, and the ones answered after the
		// account's tenth failure must not tell which password was right.
		refuseWhileThrottled(this.throttle.accountRetryAfter(account))
		this.throttle.recordSuccess(account)
		return user
	}

	/** Checks a password; unknown emails cost the same hash time, so timing does not reveal accounts. */
	private async verifyCredentials(input: { email: string; password: string }): Promise<PublicUser | null> {
		const email = normalizeEmail(input.email)
		const { db, tables } = this.store
		const [row] = await db.select().from(tables.users).where(eq(tables.users.email, email))
		if (!row) {
			dummyHash ??= this.hasher.hash('switchyard-timing-equaliser')
			await this.hasher.verify(input.password, await dummyHash)
			return null
		}
		if (!(await this.hasher.verify(input.password, row.passwordHash))) return null
		// Said only to whoever knows the password: anyone else learns nothing about the account.
		if (!row.active) {
			throw new GatewayError(403, 'permission_error', 'This account is deactivated: ask an admin', {
				code: 'account_deactivated',
			})
		}
		return toPublicUser(row)
	}

	async list(): Promise<UserView[]> {
		const { db, tables } = this.store
		return db.select(userView(tables)).from(tables.users).orderBy(tables.users.id)
	}

	/**
	 * An admin's change to another user's role or access. An admin cannot demote or deactivate themselves,
	 * so the organisation never loses its last way in by accident.
	 */
	async update(
		adminId: number,
		userId: number,
		change: { role?: Role; active?: boolean },
	): Promise<UserView> {
		if (change.role === undefined && change.active === undefined)
			throw badRequest('Nothing to change: send role or active')
		if (userId === adminId && (change.role === 'developer' || change.active === false)) {
			throw badRequest(
				'You cannot demote or deactivate yourself; ask another admin',
				change.role ? 'role' : 'active',
			)
		}
		const { db, tables } = this.store
		const [updated] = await db
			.update(tables.users)
			.set(change)
			.where(eq(tables.users.id, userId))
			.returning(userView(tables))
		if (!updated) throw notFound('No such user')
		return updated
	}

	/** Creates `ADMIN_EMAIL` at start when absent, and makes sure it holds the admin role. */
	async ensureAdmin(admin: { email: string; password: string }) {
		const email = normalizeEmail(admin.email)
		const { db, tables } = this.store
		const { users } = tables
		const passwordHash = await this.hasher.hash(admin.password)
		// One statement, so instances starting together create it once between them.
		const created = await db
			.insert(users)
			.values({ email, passwordHash, role: 'admin' })
			.onConflictDoNothing({ target: users.email })
			.returning({ id: users.id })
		if (created.length > 0) console.log(`Created admin account ${email}`)
		else await db.update(users).set({ role: 'admin' }).where(eq(users.email, email))
	}
}

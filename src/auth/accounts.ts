import { count, eq } from 'drizzle-orm'
import type { Db } from '../../db/client'
import { type Role, users } from '../../db/schema'
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
const USER_VIEW = {
	id: users.id,
	email: users.email,
	role: users.role,
	active: users.active,
	createdAt: users.createdAt,
}

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
		private readonly db: Db,
		private readonly hasher: PasswordHasher,
		private readonly throttle: LoginThrottle,
		/** With `ADMIN_EMAIL` set, nobody becomes admin by signing up first. */
		private readonly adminConfigured: boolean,
		private readonly invites: Invites,
		/** `SIGNUP`: who may create an account besides the very first person (the admin). */
		readonly signupPolicy: SignupPolicy,
	) {}

	/** The sign-up form tells the first person that their account will be the admin. */
	isFirstAccount(): boolean {
		return !this.adminConfigured && (this.db.select({ n: count() }).from(users).get()?.n ?? 0) === 0
	}

	/**
	 * Creates an account, as `SIGNUP` allows: anyone (`open`), holders of a valid invite (`invite`, and any
	 * invite given under `open`), or nobody (`closed`) — except the very first account when no admin is
	 * configured, which becomes the admin. An invite gives its role and works once. The checks and the insert
	 * share one transaction, so two simultaneous sign-ups cannot both be first or both use one invite.
	 */
	async signup(input: { email: string; password: string; invite?: string }): Promise<PublicUser> {
		const email = normalizeEmail(input.email)
		checkCredentials(email, input.password)
		const passwordHash = await this.hasher.hash(input.password)
		return this.db.transaction((tx) => {
			if (tx.select({ id: users.id }).from(users).where(eq(users.email, email)).get()) {
				throw new GatewayError(409, 'invalid_request_error', 'An account with this email already exists', {
					param: 'email',
					code: 'email_taken',
				})
			}
			const first = !this.adminConfigured && (tx.select({ n: count() }).from(users).get()?.n ?? 0) === 0
			const invite = input.invite ? this.invites.redeem(tx, input.invite, email) : null
			if (!first && !invite) refuseWithoutInvite(this.signupPolicy)
			const role: Role = first ? 'admin' : (invite?.role ?? 'developer')
			const row = tx.insert(users).values({ email, passwordHash, role }).returning().get()
			if (invite) this.invites.markUsed(tx, invite.id, row.id)
			return toPublicUser(row)
		})
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
		const row = this.db.select().from(users).where(eq(users.email, email)).get()
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

	list(): UserView[] {
		return this.db.select(USER_VIEW).from(users).orderBy(users.id).all()
	}

	/**
	 * An admin's change to another user's role or access. An admin cannot demote or deactivate themselves,
	 * so the organisation never loses its last way in by accident.
	 */
	update(adminId: number, userId: number, change: { role?: Role; active?: boolean }): UserView {
		if (change.role === undefined && change.active === undefined)
			throw badRequest('Nothing to change: send role or active')
		if (userId === adminId && (change.role === 'developer' || change.active === false)) {
			throw badRequest(
				'You cannot demote or deactivate yourself; ask another admin',
				change.role ? 'role' : 'active',
			)
		}
		const updated = this.db.update(users).set(change).where(eq(users.id, userId)).returning(USER_VIEW).get()
		if (!updated) throw notFound('No such user')
		return updated
	}

	/** Creates `ADMIN_EMAIL` at start when absent, and makes sure it holds the admin role. */
	async ensureAdmin(admin: { email: string; password: string }) {
		const email = normalizeEmail(admin.email)
		const existing = this.db.select().from(users).where(eq(users.email, email)).get()
		if (existing) {
			if (existing.role !== 'admin')
				this.db.update(users).set({ role: 'admin' }).where(eq(users.id, existing.id)).run()
			return
		}
		const passwordHash = await this.hasher.hash(admin.password)
		this.db.insert(users).values({ email, passwordHash, role: 'admin' }).run()
		console.log(`Created admin account ${email}`)
	}
}

import { and, eq, gt, isNull } from 'drizzle-orm'
import type { Db } from '../../db/client'
import { invites, type Role } from '../../db/schema'
import { GatewayError } from '../errors'
import { randomBase64Url, sha256Hex } from '../lib/crypto'

/** How long an invite link works. */
export const INVITE_TTL_MS = 7 * 24 * 60 * 60_000

/** The transaction `Accounts.signup` runs in, or the database itself. */
type Writer = Pick<Db, 'select' | 'update'>

const refused = (message: string, code: string) =>
	new GatewayError(403, 'permission_error', message, { param: 'invite', code })

/** Sign-up links an admin makes: a random token shown once in the link, stored as its SHA-256 only. */
export class Invites {
	constructor(private readonly db: Db) {}

	create(createdBy: number, options: { email?: string; role?: Role } = {}, now = Date.now()) {
		const token = randomBase64Url(32)
		const expiresAt = new Date(now + INVITE_TTL_MS)
		this.db
			.insert(invites)
			.values({
				tokenHash: sha256Hex(token),
				email: options.email?.trim().toLowerCase() || null,
				role: options.role ?? 'developer',
				createdBy,
				expiresAt,
			})
			.run()
		return { token, expiresAt }
	}

	/**
	 * The role an unused, unexpired invite gives this email, marking it used by `userId`; a 403 otherwise.
	 * Runs inside the sign-up's transaction, so one invite makes one account even when two sign-ups race.
	 */
	redeem(tx: Writer, token: string, email: string, now = new Date()): { id: number; role: Role } {
		const invite = tx
			.select({ id: invites.id, email: invites.email, role: invites.role })
			.from(invites)
			.where(and(eq(invites.tokenHash, sha256Hex(token)), isNull(invites.usedAt), gt(invites.expiresAt, now)))
			.get()
		if (!invite)
			throw refused(
				'This invite link is not valid: it was used, has expired or was mistyped',
				'invite_invalid',
			)
		if (invite.email && invite.email !== email) {
			throw refused('This invite is for another email address', 'invite_invalid')
		}
		return { id: invite.id, role: invite.role }
	}

	markUsed(tx: Writer, inviteId: number, userId: number, now = new Date()) {
		tx.update(invites).set({ usedAt: now, usedBy: userId }).where(eq(invites.id, inviteId)).run()
	}
}

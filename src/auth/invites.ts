import { and, eq, gt, isNull } from 'drizzle-orm'
import type { DataStore } from '../../db/client'
import type { Role } from '../../db/schema'
import { GatewayError } from '../errors'
import { randomBase64Url, sha256Hex } from '../lib/crypto'

/** How long an invite link works. */
export const INVITE_TTL_MS = 7 * 24 * 60 * 60_000

const refused = (message: string, code: string) =>
	new GatewayError(403, 'permission_error', message, { param: 'invite', code })

/** Sign-up links an admin makes: a random token shown once in the link, stored as its SHA-256 only. */
export class Invites {
	constructor(private readonly store: DataStore) {}

	async create(createdBy: number, options: { email?: string; role?: Role } = {}, now = Date.now()) {
		const { db, tables } = this.store
		const token = randomBase64Url(32)
		const expiresAt = new Date(now + INVITE_TTL_MS)
		await db.insert(tables.invites).values({
			tokenHash: sha256Hex(token),
			email: options.email?.trim().toLowerCase() || null,
			role: options.role ?? 'developer',
			createdBy,
			expiresAt,
		})
		return { token, expiresAt }
	}

	/**
	 * Takes an unused, unexpired invite for this email and answers the role it gives; a 403 otherwise. The
	 * taking is one statement, so of two sign-ups racing for one invite exactly one gets it. A sign-up that
	 * then fails gives it back (`release`).
	 */
	async claim(token: string, email: string, now = new Date()): Promise<{ id: number; role: Role }> {
		const { db, tables } = this.store
		const { invites } = tables
		const tokenHash = sha256Hex(token)
		const [claimed] = await db
			.update(invites)
			.set({ usedAt: now })
			.where(and(eq(invites.tokenHash, tokenHash), isNull(invites.usedAt), gt(invites.expiresAt, now)))
			.returning({ id: invites.id, email: invites.email, role: invites.role })
		if (!claimed)
			throw refused(
				'This invite link is not valid: it was used, has expired or was mistyped',
				'invite_invalid',
			)
		if (claimed.email && claimed.email !== email) {
			await this.release(claimed.id)
			throw refused('This invite is for another email address', 'invite_invalid')
		}
		return { id: claimed.id, role: claimed.role }
	}

	async release(inviteId: number) {
		const { db, tables } = this.store
		await db.update(tables.invites).set({ usedAt: null, usedBy: null }).where(eq(tables.invites.id, inviteId))
	}

	async markUsedBy(inviteId: number, userId: number) {
		const { db, tables } = this.store
		await db.update(tables.invites).set({ usedBy: userId }).where(eq(tables.invites.id, inviteId))
	}
}

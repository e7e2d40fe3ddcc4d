import { t } from 'elysia'

// Not t.UnionEnum: Elysia fills an absent optional UnionEnum with its first value, and a PATCH that
// only deactivates would also demote.
const role = t.Union([t.Literal('developer'), t.Literal('admin')], {
	error: 'role must be "developer" or "admin"',
})

export const UsersModel = {
	idParam: t.Object({ id: t.Numeric({ error: 'the user id must be a number' }) }),
	update: t.Object({
		role: t.Optional(role),
		active: t.Optional(t.Boolean({ error: 'active must be true or false' })),
	}),
	invite: t.Object({
		/** Only this address may use the invite. */
		email: t.Optional(t.String({ format: 'email', error: 'email must be an email address' })),
		role: t.Optional(role),
	}),
}

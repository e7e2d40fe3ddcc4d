import { t } from 'elysia'

export const UsersModel = {
	invite: t.Object({
		/** Only this address may use the invite. */
		email: t.Optional(t.String({ format: 'email', error: 'email must be an email address' })),
		role: t.Optional(t.UnionEnum(['developer', 'admin'], { error: 'role must be "developer" or "admin"' })),
	}),
}

import { t } from 'elysia'

export const AuthModel = {
	credentials: t.Object({
		email: t.String({ error: 'email is required' }),
		password: t.String({ error: 'password is required' }),
	}),
	signup: t.Object({
		email: t.String({ error: 'email is required' }),
		password: t.String({ error: 'password is required' }),
		/** The token of an invite link (its `invite` query parameter). */
		invite: t.Optional(t.String({ maxLength: 100, error: 'invite must be the token of an invite link' })),
	}),
}

export type Credentials = typeof AuthModel.credentials.static
export type SignupInput = typeof AuthModel.signup.static

/** An invite link's token as the sign-up page received it; anything else in its place is ignored. */
export const inviteToken = (value: unknown) =>
	typeof value === 'string' && /^[A-Za-z0-9_-]{1,100}$/.test(value) ? value : undefined

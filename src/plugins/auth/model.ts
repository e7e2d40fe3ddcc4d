import { t } from 'elysia'

export const AuthModel = {
	credentials: t.Object({
		email: t.String({ error: 'email is required' }),
		password: t.String({ error: 'password is required' }),
	}),
}

export type Credentials = typeof AuthModel.credentials.static

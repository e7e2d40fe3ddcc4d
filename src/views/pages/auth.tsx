import { AuthForm, type AuthMode } from '../fragments/auth-form'
import { Layout } from '../layout'

export function AuthPage(props: { mode: AuthMode; email?: string; error?: string; firstAccount?: boolean }) {
	return (
		<Layout title={props.mode === 'login' ? 'Log in' : 'Sign up'}>
			<AuthForm {...props} />
		</Layout>
	)
}

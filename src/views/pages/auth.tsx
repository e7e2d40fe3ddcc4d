import { AuthForm } from '../fragments/auth-form'
import { Layout } from '../layout'

export function AuthPage(props: Parameters<typeof AuthForm>[0]) {
	return (
		<Layout title={props.mode === 'login' ? 'Log in' : 'Sign up'}>
			<AuthForm {...props} />
		</Layout>
	)
}

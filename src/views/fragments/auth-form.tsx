import { ErrorBanner } from '../components/error-banner'

export type AuthMode = 'login' | 'signup'

interface AuthFormProps {
	mode: AuthMode
	email?: string
	error?: string
	/** Shown on the signup form when this account will become the admin. */
	firstAccount?: boolean
	/** The token of the invite link the sign-up page was opened with, posted with the form. */
	invite?: string
	/** Why the form alone may not be enough (sign-up by invitation, or closed). */
	notice?: string
}

const COPY = {
	login: { action: '/login', submit: 'Log in', other: '/signup', otherText: 'No account yet? Sign up' },
	signup: {
		action: '/signup',
		submit: 'Create account',
		other: '/login',
		otherText: 'Have an account? Log in',
	},
} as const

/** Posts with htmx (swapping itself on a 422) and, without JavaScript, as a plain form. */
export function AuthForm({ mode, email = '', error, firstAccount, invite, notice }: AuthFormProps) {
	const copy = COPY[mode]
	return (
		<form
			class="card auth-card"
			method="post"
			action={copy.action}
			hx-post={copy.action}
			hx-target="this"
			hx-swap="outerHTML"
		>
			<h1>{mode === 'login' ? 'Log in to Switchyard' : 'Create your Switchyard account'}</h1>
			{firstAccount ? <p class="hint">The first account becomes the administrator.</p> : ''}
			{notice ? (
				<p class="hint" safe>
					{notice}
				</p>
			) : (
				''
			)}
			{invite ? <input type="hidden" name="invite" value={invite} /> : ''}
			{error ? <ErrorBanner message={error} /> : ''}
			<label>
				Email
				<input type="email" name="email" value={email} autocomplete="email" required autofocus />
			</label>
			<label>
				Password
				<input
					type="password"
					name="password"
					autocomplete={mode === 'login' ? 'current-password' : 'new-password'}
					minlength="8"
					required
				/>
			</label>
			<button type="submit" class="primary">
				{copy.submit}
			</button>
			<p class="hint">
				<a href={copy.other}>{copy.otherText}</a>
			</p>
		</form>
	)
}

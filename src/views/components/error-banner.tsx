export function ErrorBanner({ message }: { message: string }) {
	return (
		<div class="error-banner" role="alert" safe>
			{message}
		</div>
	)
}

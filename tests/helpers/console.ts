/** What `act` wrote with console.error, one entry per call, instead of printing it. */
export function errorsLoggedDuring(act: () => void): string[] {
	const logged: string[] = []
	const original = console.error
	console.error = (message: string) => logged.push(message)
	try {
		act()
	} finally {
		console.error = original
	}
	return logged
}

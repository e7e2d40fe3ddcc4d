/** What `act` wrote with console.error, one entry per call, instead of printing it. */
export async function errorsLoggedDuring(act: () => void | Promise<void>): Promise<string[]> {
	const logged: string[] = []
	const original = console.error
	console.error = (message: string) => logged.push(message)
	try {
		await act()
	} finally {
		console.error = original
	}
	return logged
}

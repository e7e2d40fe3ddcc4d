import { expect } from 'bun:test'

/** Closes a table cell and opens a script when a view pastes it into HTML as it is. */
export const HOSTILE = '</td><script>alert(1)</script>'

/** HOSTILE escaped as text: what a view must write instead. */
export const HOSTILE_ESCAPED = '&lt;/td&gt;&lt;script&gt;alert(1)&lt;/script&gt;'

/** HOSTILE followed by the name of the field it is put in, so that each field is seen escaped on its own. */
export const hostile = (field: string) => `${HOSTILE}${field}`

/** The script elements an HTML parser finds in `html`, by their text: what a hostile value could add. */
export async function scriptsIn(html: string): Promise<string[]> {
	const scripts: string[] = []
	const rewriter = new HTMLRewriter().on('script', {
		element() {
			scripts.push('')
		},
		text(chunk) {
			scripts[scripts.length - 1] += chunk.text
		},
	})
	await rewriter.transform(new Response(html)).text()
	return scripts
}

/**
 * Asserts that no hostile value broke out of its text: HOSTILE never appears as it is, no script element
 * was made, and each of `fields` is shown escaped.
 */
export async function expectEscaped(html: string, fields: string[]) {
	expect(html).not.toContain(HOSTILE)
	expect(await scriptsIn(html)).toEqual([])
	for (const field of fields) expect(html).toContain(`${HOSTILE_ESCAPED}${field}`)
}

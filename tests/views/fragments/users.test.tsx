import { describe, expect, it } from 'bun:test'
import { UsersSection } from '../../../src/views/fragments/users'
import { expectEscaped, HOSTILE_ESCAPED, hostile } from '../../helpers/hostile'

const render = (node: JSX.Element) => String(node)

describe('UsersSection', () => {
	it('escapes emails, the invite link and its address, and an error', async () => {
		const html = render(
			<UsersSection
				users={[
					{
						id: 1,
						email: hostile('email'),
						role: 'admin',
						active: true,
						createdAt: new Date(0),
						spentUsd30d: 0,
					},
				]}
				selfId={2}
				invite={{ url: hostile('url'), expiresAt: new Date(0), email: hostile('invitee'), role: 'developer' }}
				error={hostile('error')}
			/>,
		)
		await expectEscaped(html, ['email', 'url', 'invitee', 'error'])
		expect(html).toContain(`<td data-label="Email">${HOSTILE_ESCAPED}email</td>`)
	})
})

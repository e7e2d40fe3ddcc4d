import { describe, expect, it } from 'bun:test'
import { DrizzleQueryError } from 'drizzle-orm/errors'
import { loggable } from '../../src/lib/redact'

describe('a loggable error', () => {
	it('keeps a failed statement and the database’s words, never the values it carried', () => {
		const cause = new Error('insert or update on table "sessions" violates foreign key constraint')
		const error = new DrizzleQueryError(
			'insert into "sessions" ("id", "user_id") values ($1, $2)',
			['lY4eMpa4u_1AYf6xnsKUuzUmp7XzlbnwUHck758YPFQ', 3],
			cause,
		)
		const line = loggable(error)
		expect(line).toContain('insert into "sessions" ("id", "user_id") values ($1, $2)')
		expect(line).toContain('violates foreign key constraint')
		expect(line).not.toContain('lY4eMpa4u_1AYf6xnsKUuzUmp7XzlbnwUHck758YPFQ')
	})

	it('masks key shapes in any other error', () => {
		expect(
			loggable(new Error('upstream said: Incorrect API key provided: sk-proj-abcdefghij1234')),
		).not.toContain('sk-proj-abcdefghij1234')
	})
})

import { t } from 'elysia'
import { MAX_DAYS } from '../../analytics/scope'

const days = t.Integer({
	minimum: 1,
	maximum: MAX_DAYS,
	error: `days must be an integer from 1 to ${MAX_DAYS}`,
})
/** A checkbox: sent as its value when ticked, absent when not. */
const checkbox = t.Optional(t.Boolean())

export const RulesModel = {
	test: t.Object({
		request: t.Record(t.String(), t.Unknown()),
		rules: t.Optional(t.Unknown()),
		/** A session id, as `x-switchyard-session` sends it: the preview then says what its pin does. */
		session: t.Optional(t.String({ minLength: 1, maxLength: 500, error: 'session must be a session id' })),
	}),
	simulate: t.Object({ rules: t.Unknown(), days: t.Optional(days) }),
	revision: t.Object({ revision: t.Numeric({ error: 'the revision must be a number' }) }),
	/** The editor's text, for the validate and save forms. */
	editorForm: t.Object({ rules: t.String({ error: 'the rules document is empty' }) }),
	testForm: t.Object({
		prompt: t.String({ error: 'write a user message to test' }),
		system: t.Optional(t.String()),
		tools: checkbox,
		image: checkbox,
		json: checkbox,
		/** Test the editor's text instead of the live rules. */
		draft: checkbox,
		rules: t.Optional(t.String()),
	}),
	simulateForm: t.Object({ days: t.Optional(days), rules: t.Optional(t.String()) }),
}

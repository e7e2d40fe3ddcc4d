import { Elysia } from 'elysia'
import type { PublicUser } from '../../auth/accounts'
import type { Config } from '../../config'
import type { GatewayError } from '../../errors'
import { type SessionDeps as PinDeps, previewSession } from '../../gateway/sessions'
import { rulesJsonSchema } from '../../rules/schema'
import type { RulesStore } from '../../rules/store'
import { RulesValidationError } from '../../rules/store'
import { problemsOf, type RulesWorkbench, sampleRequest, type Workspace } from '../../rules/workbench'
import type { InstanceRegistry } from '../../runtime/instances'
import { RuleErrors, RulesWorkspace } from '../../views/fragments/rules'
import { type Refusal, RoutingTestResult, SimulationView } from '../../views/fragments/rules-results'
import { RulesPage } from '../../views/pages/rules'
import { fragmentOrPage, readForm, submitForm, submittedText } from '../forms'
import { type SessionDeps, sessionPlugin } from '../session'
import { RulesModel } from './model'

export interface RulesDeps extends SessionDeps, Pick<PinDeps, 'catalog' | 'sessionPins'> {
	workbench: RulesWorkbench
	rules: Pick<RulesStore, 'path' | 'current' | 'history'>
	config: Pick<Config, 'logPromptText' | 'logTextDigest'>
	instances: Pick<InstanceRegistry, 'list'>
}

/** What stopped a dashboard test or simulation, for the fragment that shows it. */
const refusalOf = (error: GatewayError): Refusal =>
	error instanceof RulesValidationError
		? { kind: 'invalid-rules', errors: error.errors }
		: { kind: 'refused', message: error.message }

/** The routing rules: the admin's JSON API and the Rules page (editor, history, test, simulation). */
export const rulesPlugin = (deps: RulesDeps) => {
	const { workbench, rules } = deps

	const page = async (user: PublicUser, workspace: Workspace) =>
		RulesPage({
			user,
			workspace,
			instances: await deps.instances.list(),
			logPromptText: deps.config.logPromptText,
			logTextDigest: deps.config.logTextDigest,
			rulesPath: rules.path,
		})

	const workspaceView = (request: Request, user: PublicUser, workspace: Workspace) =>
		fragmentOrPage(
			request,
			() => RulesWorkspace(workspace),
			() => page(user, workspace),
		)

	/** The edited rules a test or a simulation should use: none (the live rules) when not asked for. */
	const draftOf = (text: string | undefined) => (text ? workbench.parseDraft(text) : undefined)

	return (
		new Elysia({ name: 'rules' })
			.use(sessionPlugin(deps))
			// JSON API
			.get('/api/rules/schema', () => rulesJsonSchema())
			.get('/api/rules', () => rules.current().compiled.document, { session: 'admin' })
			.get('/api/instances', () => deps.instances.list(), { session: 'admin' })
			.put('/api/rules', async ({ body, auth }) => ({ revision: await workbench.save(body, auth.user) }), {
				session: 'admin',
			})
			.get(
				'/api/rules/history',
				async () =>
					(await rules.history()).map(({ revision, createdAt, author, rules }) => ({
						revision,
						createdAt,
						author,
						rules,
					})),
				{ session: 'admin' },
			)
			.post(
				'/api/rules/history/:revision/restore',
				async ({ params, auth }) => ({ revision: await workbench.restore(params.revision, auth.user) }),
				{ session: 'admin', params: RulesModel.revision },
			)
			.post(
				'/api/rules/test',
				async function testRules({ body, auth }) {
					const preview = await workbench.preview(auth.user, body.request, body.rules, 'request.')
					if (!body.session) return preview
					const session = await previewSession(deps, auth.user.id, body.session, preview.wouldCall)
					// The pinned model goes first, as the gateway would call it (unless the turn escalates).
					const wouldCall = session.outcome === 'stays' ? session.pinnedModel : preview.wouldCall
					return { ...preview, wouldCall, session }
				},
				{ session: 'admin', body: RulesModel.test },
			)
			.post('/api/rules/simulate', ({ body }) => workbench.simulate(body.days ?? 7, body.rules), {
				session: 'admin',
				body: RulesModel.simulate,
			})
			// Dashboard page and the fragments its forms swap
			.get('/rules', async ({ auth }) => page(auth.user, await workbench.workspace()), { session: 'admin' })
			.post(
				'/rules/validate',
				({ body }) =>
					RuleErrors({
						errors: workbench.problems(readForm(RulesModel.editorForm, body).rules),
						checked: true,
					}),
				{ session: 'admin' },
			)
			.post(
				'/rules/save',
				({ body, auth, request, set }) => {
					const text = submittedText(body, 'rules') ?? ''
					return submitForm(
						set,
						async () => {
							const form = readForm(RulesModel.editorForm, body)
							const savedRevision = await workbench.save(workbench.parseDraft(form.rules), auth.user)
							return workspaceView(request, auth.user, await workbench.workspace({ savedRevision }))
						},
						async (error) =>
							workspaceView(
								request,
								auth.user,
								await workbench.workspace({ text, errors: problemsOf(error) }),
							),
					)
				},
				{ session: 'admin' },
			)
			.post(
				'/rules/history/:revision/restore',
				async ({ params, auth, request }) => {
					const savedRevision = await workbench.restore(params.revision, auth.user)
					return workspaceView(request, auth.user, await workbench.workspace({ savedRevision }))
				},
				{ session: 'admin', params: RulesModel.revision },
			)
			.post(
				'/rules/test',
				({ body, auth, set }) =>
					submitForm(
						set,
						async () => {
							const form = readForm(RulesModel.testForm, body)
							const usedDraft = Boolean(form.draft && form.rules)
							const draft = usedDraft ? draftOf(form.rules) : undefined
							const preview = await workbench.preview(auth.user, sampleRequest(form), draft)
							return RoutingTestResult({ outcome: { kind: 'preview', preview, usedDraft } })
						},
						(error) => RoutingTestResult({ outcome: refusalOf(error) }),
					),
				{ session: 'admin' },
			)
			.post(
				'/rules/simulate',
				({ body, set }) =>
					submitForm(
						set,
						async () => {
							const form = readForm(RulesModel.simulateForm, body)
							const result = await workbench.simulate(form.days ?? 7, draftOf(form.rules))
							return SimulationView({ outcome: { kind: 'result', result } })
						},
						(error) => SimulationView({ outcome: refusalOf(error) }),
					),
				{ session: 'admin' },
			)
	)
}

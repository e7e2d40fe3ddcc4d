import { Elysia, t } from 'elysia'
import { MAX_DAYS } from '../../analytics/service'
import type { PublicUser } from '../../auth/accounts'
import type { AppDeps } from '../../deps'
import { badRequest, GatewayError } from '../../errors'
import { checkChatRequest } from '../../gateway/chat-request'
import type { CatalogModel } from '../../providers/catalog'
import type { ChatRequest } from '../../providers/types'
import { type CompiledRules, compileRules } from '../../rules/compile'
import { previewRouting } from '../../rules/preview'
import { rulesJsonSchema } from '../../rules/schema'
import { simulateRules } from '../../rules/simulate'
import { RulesValidationError, serializeRules } from '../../rules/store'
import { type RuleError, validateRules } from '../../rules/validate'
import { RoutingPreviewView, RuleErrors, RulesWorkspace, SimulationView } from '../../views/fragments/rules'
import { RulesPage } from '../../views/pages/rules'
import { formValue, isHtmx } from '../request-info'
import { sessionPlugin } from '../session'

const RulesModel = {
	test: t.Object({ request: t.Record(t.String(), t.Unknown()), rules: t.Optional(t.Unknown()) }),
	simulate: t.Object({
		rules: t.Unknown(),
		days: t.Optional(
			t.Integer({ minimum: 1, maximum: MAX_DAYS, error: `days must be an integer from 1 to ${MAX_DAYS}` }),
		),
	}),
	revision: t.Object({ revision: t.Numeric({ error: 'the revision must be a number' }) }),
}

/** Parses the editor's text; JSON syntax errors are reported like validation errors, at the document root. */
function parseDraft(text: string): { ok: true; value: unknown } | { ok: false; errors: RuleError[] } {
	try {
		return { ok: true, value: JSON.parse(text) }
	} catch (error) {
		return { ok: false, errors: [{ path: '', message: `not valid JSON: ${(error as Error).message}` }] }
	}
}

/** A chat-completion body for the "test a prompt" form, with the kinds of content a rule can look at. */
function sampleRequest(body: unknown): Record<string, unknown> {
	const prompt = formValue(body, 'prompt')
	const system = formValue(body, 'system')
	const content = formValue(body, 'image')
		? [
				{ type: 'text', text: prompt },
				{ type: 'image_url', image_url: { url: 'https://example.com/image.png' } },
			]
		: prompt
	return {
		model: 'auto',
		messages: [...(system ? [{ role: 'system', content: system }] : []), { role: 'user', content }],
		...(formValue(body, 'tools')
			? { tools: [{ type: 'function', function: { name: 'example_tool', parameters: { type: 'object' } } }] }
			: {}),
		...(formValue(body, 'json') ? { response_format: { type: 'json_object' } } : {}),
	}
}

export const rulesPlugin = (deps: AppDeps) => {
	const { rules, catalog } = deps

	/** The live rules, or a proposed document (a 400 `{errors}` when it is invalid). */
	function compileProposal(proposed: unknown): CompiledRules {
		if (proposed === undefined) return rules.current().compiled
		const result = validateRules(proposed, catalog)
		if (!result.ok) throw new RulesValidationError(result.errors)
		return compileRules(result.document)
	}

	async function keysOf(user: PublicUser) {
		const reachable = new Set<string>()
		for (const provider of catalog.providers) {
			if (await deps.providerKeys.resolve(user.id, provider.id)) reachable.add(provider.id)
		}
		return (providerId: string) => reachable.has(providerId)
	}

	/** What a model's adapter refuses in this request (a forced tool choice, a prefill, …), in its words. */
	function refusalOf(request: ChatRequest) {
		return (model: CatalogModel) => {
			const provider = catalog.provider(model.provider)
			if (!provider) return undefined
			try {
				deps.adapters[provider.kind].prepare(request, model, provider)
				return undefined
			} catch (error) {
				if (error instanceof GatewayError) return error.message
				throw error
			}
		}
	}

	function workspace(text: string, errors: RuleError[] = [], savedRevision?: number) {
		return { text, errors, savedRevision, liveRevision: rules.current().revision, history: rules.history() }
	}

	const liveText = () => serializeRules(rules.current().compiled.document)

	function renderWorkspace(request: Request, user: PublicUser, props: ReturnType<typeof workspace>) {
		if (isHtmx(request)) return <RulesWorkspace {...props} />
		return (
			<RulesPage
				user={user}
				workspace={props}
				logPromptText={deps.config.logPromptText}
				rulesPath={rules.path}
			/>
		)
	}

	return (
		new Elysia({ name: 'rules' })
			.use(sessionPlugin(deps))
			// JSON API
			.get('/api/rules/schema', () => rulesJsonSchema())
			.get('/api/rules', () => rules.current().compiled.document, { session: 'admin' })
			.put('/api/rules', ({ body, auth }) => ({ revision: rules.save(body, auth.user) }), {
				session: 'admin',
			})
			.get(
				'/api/rules/history',
				() =>
					rules
						.history()
						.map(({ revision, createdAt, author, rules }) => ({ revision, createdAt, author, rules })),
				{ session: 'admin' },
			)
			.post(
				'/api/rules/history/:revision/restore',
				({ params, auth }) => ({ revision: rules.restore(params.revision, auth.user) }),
				{ session: 'admin', params: RulesModel.revision },
			)
			.post(
				'/api/rules/test',
				async ({ body, auth }) => {
					const compiled = compileProposal(body.rules)
					let request: ReturnType<typeof checkChatRequest>
					try {
						request = checkChatRequest(body.request)
					} catch (error) {
						if (error instanceof GatewayError && error.param) {
							throw badRequest(
								error.message.replace(`'${error.param}'`, `'request.${error.param}'`),
								`request.${error.param}`,
							)
						}
						throw error
					}
					return previewRouting(compiled, catalog, request, await keysOf(auth.user), refusalOf(request))
				},
				{ session: 'admin', body: RulesModel.test },
			)
			.post(
				'/api/rules/simulate',
				async ({ body }) => {
					const compiled = compileProposal(body.rules)
					await deps.requestLog.flush()
					return simulateRules(deps.sqlite, catalog, compiled, body.days ?? 7)
				},
				{ session: 'admin', body: RulesModel.simulate },
			)
			// Dashboard page and the fragments its forms swap
			.get(
				'/rules',
				({ auth }) => (
					<RulesPage
						user={auth.user}
						workspace={workspace(liveText())}
						logPromptText={deps.config.logPromptText}
						rulesPath={rules.path}
					/>
				),
				{ session: 'admin' },
			)
			.post(
				'/rules/validate',
				({ body }) => {
					const draft = parseDraft(formValue(body, 'rules'))
					const errors = draft.ok ? validateRules(draft.value, catalog) : draft
					return <RuleErrors errors={errors.ok ? [] : errors.errors} checked />
				},
				{ session: 'admin' },
			)
			.post(
				'/rules/save',
				({ body, auth, request, set }) => {
					const text = formValue(body, 'rules')
					const draft = parseDraft(text)
					try {
						if (!draft.ok) throw new RulesValidationError(draft.errors)
						const revision = rules.save(draft.value, auth.user)
						return renderWorkspace(request, auth.user, workspace(liveText(), [], revision))
					} catch (error) {
						if (!(error instanceof RulesValidationError)) throw error
						set.status = 422
						return renderWorkspace(request, auth.user, workspace(text, error.errors))
					}
				},
				{ session: 'admin' },
			)
			.post(
				'/rules/history/:revision/restore',
				({ params, auth, request }) => {
					const revision = rules.restore(params.revision, auth.user)
					return renderWorkspace(request, auth.user, workspace(liveText(), [], revision))
				},
				{ session: 'admin', params: RulesModel.revision },
			)
			.post(
				'/rules/test',
				async ({ body, auth, set }) => {
					const useDraft = Boolean(formValue(body, 'draft')) && formValue(body, 'rules') !== ''
					const draft = useDraft ? parseDraft(formValue(body, 'rules')) : undefined
					try {
						if (draft && !draft.ok) throw new RulesValidationError(draft.errors)
						const compiled = compileProposal(draft?.ok ? draft.value : undefined)
						const request = checkChatRequest(sampleRequest(body))
						const preview = previewRouting(
							compiled,
							catalog,
							request,
							await keysOf(auth.user),
							refusalOf(request),
						)
						return <RoutingPreviewView preview={preview} usedDraft={useDraft} />
					} catch (error) {
						if (!(error instanceof RulesValidationError)) throw error
						set.status = 422
						return (
							<div id="rules-test-result">
								<p class="status-bad">
									The edited rules are invalid; fix them or untick "use the edited rules".
								</p>
								<RuleErrors errors={error.errors} checked />
							</div>
						)
					}
				},
				{ session: 'admin' },
			)
			.post(
				'/rules/simulate',
				async ({ body, set }) => {
					const days = Number(formValue(body, 'days') || 7)
					if (!Number.isInteger(days) || days < 1 || days > MAX_DAYS) {
						throw badRequest(`days must be an integer from 1 to ${MAX_DAYS}`, 'days')
					}
					const text = formValue(body, 'rules')
					const draft = text ? parseDraft(text) : undefined
					try {
						if (draft && !draft.ok) throw new RulesValidationError(draft.errors)
						const compiled = compileProposal(draft?.ok ? draft.value : undefined)
						await deps.requestLog.flush()
						return <SimulationView result={simulateRules(deps.sqlite, catalog, compiled, days)} />
					} catch (error) {
						if (!(error instanceof RulesValidationError)) throw error
						set.status = 422
						return (
							<div id="rules-simulation">
								<p class="status-bad">The edited rules are invalid:</p>
								<RuleErrors errors={error.errors} checked />
							</div>
						)
					}
				},
				{ session: 'admin' },
			)
	)
}

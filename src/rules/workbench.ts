import type { DataStore } from '../../db/client'
import { badRequest, GatewayError } from '../errors'
import type { ProviderKeyVault } from '../keys/provider-keys'
import type { TextDigester } from '../lib/text-digest'
import type { Catalog, CatalogModel } from '../providers/catalog'
import { checkChatRequest } from '../providers/chat-request'
import type { ProviderAdapters } from '../providers/index'
import type { ChatRequest } from '../providers/types'
import type { RequestLog } from '../request-log/request-log'
import { type CompiledRules, compileRules } from './compile'
import { describeWhen } from './describe'
import { previewRouting, type RoutingPreview } from './preview'
import { type SimulationResult, simulateRules } from './simulate'
import {
	type RevisionView,
	type RuleAuthor,
	type RulesStore,
	RulesValidationError,
	serializeRules,
} from './store'
import { type RuleError, validateRules } from './validate'

export interface WorkbenchDeps {
	rules: RulesStore
	catalog: Catalog
	providerKeys: ProviderKeyVault
	adapters: ProviderAdapters
	requestLog: Pick<RequestLog, 'flush'>
	store: DataStore
	/** Reads the log's text digests (the same key the log writes them with). */
	textDigester: TextDigester
}

/** What the "Test a prompt" form describes; `sampleRequest` turns it into a chat request. */
export interface PromptSample {
	prompt: string
	system?: string
	tools?: boolean
	image?: boolean
	json?: boolean
}

/** The editor's state after a load, a save or a restore. */
export interface Workspace {
	text: string
	errors: RuleError[]
	liveRevision: number
	history: RevisionView[]
	/** Set after a save or a restore. */
	savedRevision?: number
	/** The live rules in order, each in one readable line. */
	summary: RuleSummary[]
}

export interface RuleSummary {
	name: string
	tier: string
	/** The condition, as `describeWhen` reads it. */
	when: string
	enabled: boolean
	description?: string
}

/** A chat-completion body with the kinds of content a rule can look at. */
export function sampleRequest(sample: PromptSample): Record<string, unknown> {
	const content = sample.image
		? [
				{ type: 'text', text: sample.prompt },
				{ type: 'image_url', image_url: { url: 'https://example.com/image.png' } },
			]
		: sample.prompt
	return {
		model: 'auto',
		messages: [
			...(sample.system ? [{ role: 'system', content: sample.system }] : []),
			{ role: 'user', content },
		],
		...(sample.tools
			? { tools: [{ type: 'function', function: { name: 'example_tool', parameters: { type: 'object' } } }] }
			: {}),
		...(sample.json ? { response_format: { type: 'json_object' } } : {}),
	}
}

function checkSample(body: Record<string, unknown>, fieldPrefix: string): ChatRequest {
	try {
		return checkChatRequest(body)
	} catch (error) {
		if (fieldPrefix && error instanceof GatewayError && error.param) {
			const field = `${fieldPrefix}${error.param}`
			throw badRequest(error.message.replace(`'${error.param}'`, `'${field}'`), field)
		}
		throw error
	}
}

/** The problems to show in the editor for a refused save: the rules' own, or the one the error names. */
export const problemsOf = (error: GatewayError): RuleError[] =>
	error instanceof RulesValidationError ? error.errors : [{ path: error.param ?? '', message: error.message }]

/**
 * The admin's tools around the live rules: check a draft, see where a request would go, replay the log
 * through a draft, save and restore. A draft is the editor's text or a parsed document; an invalid one is a
 * `RulesValidationError` listing every problem with its path.
 */
export class RulesWorkbench {
	constructor(private readonly deps: WorkbenchDeps) {}

	/** The editor's text as a document; a JSON syntax error is reported like a validation error, at the root. */
	parseDraft(text: string): unknown {
		try {
			return JSON.parse(text)
		} catch (error) {
			throw new RulesValidationError([{ path: '', message: `not valid JSON: ${(error as Error).message}` }])
		}
	}

	/** Every problem in the editor's text, none when it is valid. */
	problems(text: string): RuleError[] {
		try {
			const result = validateRules(this.parseDraft(text), this.deps.catalog)
			return result.ok ? [] : result.errors
		} catch (error) {
			if (error instanceof RulesValidationError) return error.errors
			throw error
		}
	}

	/** The live rules when nothing is proposed, else the proposed document compiled. */
	compile(proposed: unknown): CompiledRules {
		if (proposed === undefined) return this.deps.rules.current().compiled
		const result = validateRules(proposed, this.deps.catalog)
		if (!result.ok) throw new RulesValidationError(result.errors)
		return compileRules(result.document)
	}

	/**
	 * Where a chat request body would go under the proposed (or live) rules, with the candidates this user's
	 * keys reach and what each adapter refuses. A bad body is a 400 naming its field under `fieldPrefix`
	 * (the JSON API's `request.messages`).
	 */
	async preview(
		user: { id: number },
		body: Record<string, unknown>,
		proposed?: unknown,
		fieldPrefix = '',
	): Promise<RoutingPreview> {
		const compiled = this.compile(proposed)
		const request = checkSample(body, fieldPrefix)
		return previewRouting(
			compiled,
			this.deps.catalog,
			request,
			await this.reachable(user),
			this.refusalOf(request),
		)
	}

	/** The logged `auto` requests of the last `days` replayed through the proposed (or live) rules. */
	async simulate(days: number, proposed?: unknown): Promise<SimulationResult> {
		const compiled = this.compile(proposed)
		await this.deps.requestLog.flush()
		return simulateRules(this.deps.store, this.deps.catalog, compiled, days, this.deps.textDigester)
	}

	save(document: unknown, author: RuleAuthor): Promise<number> {
		return this.deps.rules.save(document, author)
	}

	restore(revision: number, author: RuleAuthor): Promise<number> {
		return this.deps.rules.restore(revision, author)
	}

	/** The editor showing `text` (the live document by default) and the revision history. */
	async workspace(
		shown: { text?: string; errors?: RuleError[]; savedRevision?: number } = {},
	): Promise<Workspace> {
		const { rules } = this.deps
		return {
			text: shown.text ?? serializeRules(rules.current().compiled.document),
			errors: shown.errors ?? [],
			savedRevision: shown.savedRevision,
			liveRevision: rules.current().revision,
			history: await rules.history(),
			summary: rules.current().compiled.document.rules.map((rule) => ({
				name: rule.name,
				tier: rule.tier,
				when: describeWhen(rule.when),
				enabled: rule.enabled !== false,
				description: rule.description,
			})),
		}
	}

	private async reachable(user: { id: number }) {
		const reachable = new Set(
			(await this.deps.providerKeys.reachableProviders(user.id)).map((provider) => provider.id),
		)
		return (providerId: string) => reachable.has(providerId)
	}

	/** What a model's adapter refuses in this request (a forced tool choice, a prefill, …), in its words. */
	private refusalOf(request: ChatRequest) {
		return (model: CatalogModel) => {
			const provider = this.deps.catalog.provider(model.provider)
			if (!provider) return undefined
			try {
				this.deps.adapters[provider.kind].prepare(request, model, provider)
				return undefined
			} catch (error) {
				if (error instanceof GatewayError) return error.message
				throw error
			}
		}
	}
}

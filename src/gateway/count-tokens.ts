// `POST /v1/messages/count_tokens`, which Claude Code calls before its turns: Anthropic's own free count
// when the request would go to an Anthropic model, an estimate otherwise. It spends nothing and is not
// logged as a request.
import type { Principal } from '../keys/gateway-keys'
import type { ProviderKeyVault } from '../keys/provider-keys'
import { parseJsonObject, readGatewayBody } from '../lib/json-body'
import { loggable } from '../lib/redact'
import type { Catalog, CatalogModel } from '../providers/catalog'
import type { NativeApis } from '../providers/index'
import { extractFeatures } from '../rules/features'
import type { LiveRules } from '../rules/store'
import type { Deadlines } from './deadlines'
import { estimateMessagesTokens, messagesForRules } from './doors/messages'
import type { GatewayDeps } from './pipeline'

export interface CountTokensDeps {
	catalog: Catalog
	rules: LiveRules
	providerKeys: Pick<ProviderKeyVault, 'resolve'>
	natives: Pick<NativeApis, 'countTokens'>
	deadlines: Pick<Deadlines, 'watch'>
	config: Pick<GatewayDeps['config'], 'upstreamTimeoutMs' | 'upstreamTotalTimeoutMs'>
}

/** The models the request would be sent to, in order: the rules' tier for `auto`, else the named one. */
function candidates(deps: CountTokensDeps, body: Record<string, unknown>): CatalogModel[] {
	const chat = messagesForRules(body)
	if (chat.model !== 'auto')
		return deps.catalog.model(chat.model) ? [deps.catalog.model(chat.model) as CatalogModel] : []
	const live = deps.rules.current()
	const { features, text } = extractFeatures(chat)
	const { tier } = live.compiled.classify(features, text)
	return (live.compiled.document.tiers[tier]?.models ?? []).flatMap((id) => deps.catalog.model(id) ?? [])
}

const json = (body: string, estimated: boolean) =>
	new Response(body, {
		headers: { 'content-type': 'application/json', 'x-switchyard-estimated': String(estimated) },
	})

export async function countTokens(deps: CountTokensDeps, principal: Principal, request: Request) {
	const body = parseJsonObject(await readGatewayBody(request))
	const estimate = () => json(JSON.stringify({ input_tokens: estimateMessagesTokens(body) }), true)
	const [model] = candidates(deps, body)
	const provider = model && deps.catalog.provider(model.provider)
	if (!model || provider?.kind !== 'anthropic') return estimate()
	const key = await deps.providerKeys.resolve(principal.userId, model.provider)
	if (!key) return estimate()
	const headers: Record<string, string> = {}
	for (const name of ['anthropic-version', 'anthropic-beta']) {
		const value = request.headers.get(name)
		if (value) headers[name] = value
	}
	const { upstreamTimeoutMs, upstreamTotalTimeoutMs } = deps.config
	const attempt = deps.deadlines.watch(upstreamTimeoutMs, upstreamTotalTimeoutMs, request.signal)
	try {
		const target = { provider, model, apiKey: key.apiKey }
		return json(await deps.natives.countTokens({ body, headers }, target, attempt), false)
	} catch (error) {
		// A count is advice: when Anthropic cannot give it, the estimate stands in.
		console.warn(`count_tokens: Anthropic's count failed, estimating instead: ${loggable(error)}`)
		return estimate()
	} finally {
		attempt.settle()
	}
}

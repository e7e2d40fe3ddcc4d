// A front door: the API a request comes in through. The pipeline is the same for every door (keys, limits,
// rules, fallback, log, cost, headers); a door only reads its wire format and writes its answers.
import type { GatewayError } from '../../errors'
import type { Principal } from '../../keys/gateway-keys'
import type { Door } from '../../observability/gateway-metrics'
import type { CatalogModel, ProviderKind } from '../../providers/catalog'
import type { ChatRequest, ChatResponse, NativeApi } from '../../providers/types'
import type { StreamEncoder } from './encoder'

/** A request as a door read it. */
export interface DoorRequest {
	/** The request as Chat Completions: what the rules see, and what translated upstreams receive. */
	chat: ChatRequest
	/**
	 * Why the request cannot be translated for other providers (a server tool only the door's own provider
	 * runs), or null: then only the door's own provider is tried.
	 */
	untranslatable: GatewayError | null
	/** The body for the door's own provider, untouched but for what Switchyard resolves (stored turns). */
	native: Record<string, unknown>
	/** Headers the door forwards to its own provider (Anthropic's version and betas). */
	nativeHeaders: Record<string, string>
	/** The body as the caller sent it, for what an answer echoes. */
	sent: Record<string, unknown>
}

/** What a door's answer needs to know about its request. */
export interface AnswerContext {
	requestId: string
	principal: Principal
	request: DoorRequest
	/** The catalog model answering, as `<provider>/<id>`. */
	model: string
}

export interface FrontDoor {
	readonly name: Door
	/** The API of this kind of provider that speaks the door's format, if any: there the body goes untouched. */
	nativeApi(kind: ProviderKind): NativeApi | undefined
	/** Reads and checks a body; throws a `GatewayError` naming the field that is wrong. */
	parse(raw: Record<string, unknown>, principal: Principal, headers: Headers): Promise<DoorRequest>
	/** A translated answer in the door's format. `raw` is the upstream's own text when it is `response`. */
	render(response: ChatResponse, raw: string | undefined, context: AnswerContext): string
	/** A translated stream in the door's format. */
	encoder(context: AnswerContext): StreamEncoder
	/** The door's error body, or undefined for OpenAI's shape. */
	errorBody(error: GatewayError): unknown
	/** The door's own body without thinking blocks, for a model other than the one that wrote them. */
	withoutThinking?(native: Record<string, unknown>): Record<string, unknown>
	/** An answer that completed, in the door's format: what a door keeps of it (stored responses). */
	completed?(answer: Record<string, unknown>, context: AnswerContext): Promise<void>
}

/** Why a door cannot use a model: the embeddings door takes embedding models, every other door chat ones. */
export function wrongKind(door: FrontDoor, model: CatalogModel): string | null {
	const embedding = model.kind === 'embedding'
	if (door.name === 'embeddings') return embedding ? null : 'not an embedding model'
	return embedding ? 'an embedding model: use /v1/embeddings' : null
}

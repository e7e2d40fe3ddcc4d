// Sessions that stay on one model. Routing a conversation's turns independently would change its model
// mid-conversation: Claude's thinking signatures are tied to the model that wrote them (the next turn is
// a 400 elsewhere) and every switch throws the provider's prompt cache away. So a conversation, once
// routed, stays on the model that served it; a later turn may escalate to a stronger tier, never drop.
import type { Config } from '../config'
import { sha256Hex } from '../lib/crypto'
import { loggable } from '../lib/redact'
import type { Catalog, CatalogModel } from '../providers/catalog'
import type { ChatRequest } from '../providers/types'
import { listPrice } from '../rules/reference'
import type { LiveRules } from '../rules/store'
import type { Exchange, Route } from './exchange'
import type { PinChoice, SessionPin, SessionPins } from './session-pins'

/** Where a conversation recognised by its opening messages was recognised from. */
const OPENING = 'conversation opening'

/** A recognised conversation: a key that never holds the raw id, and where it was recognised from. */
export interface Session {
	key: string
	source: string
}

/** Claude Code's `metadata.user_id` ends with its session id (`…_account__session_<uuid>`). */
const CLAUDE_CODE_USER_ID = /_session_([0-9a-f-]{8,64})$/i

function claudeCodeSession(headers: Headers, body: Record<string, unknown>): string | null {
	const header = headers.get('x-claude-code-session-id')
	if (header) return header
	const metadata = body.metadata
	const userId =
		metadata && typeof metadata === 'object' ? (metadata as Record<string, unknown>).user_id : undefined
	return typeof userId === 'string' ? (CLAUDE_CODE_USER_ID.exec(userId)?.[1] ?? null) : null
}

/** The text a message's content holds, whatever its shape. */
function textOf(content: unknown): string {
	if (typeof content === 'string') return content
	if (!Array.isArray(content)) return ''
	return content
		.map((part) => (part && typeof part === 'object' && 'text' in part ? String(part.text) : ''))
		.join('\n')
}

/**
 * The conversation's opening: its system prompt and first user message, which every later turn repeats.
 * Null when there is no user message to recognise it by.
 */
function opening(chat: ChatRequest): string | null {
	const system: string[] = []
	for (const message of chat.messages) {
		if (message.role === 'system' || message.role === 'developer') system.push(textOf(message.content))
		else if (message.role === 'user') return `${system.join('\n')}\u0000${textOf(message.content)}`
	}
	return null
}

/**
 * Which conversation a request belongs to: an explicit `x-switchyard-session` header, Claude Code's or
 * Codex's own session id, or else a hash of its opening messages.
 */
export function sessionOf(
	headers: Headers,
	body: Record<string, unknown>,
	chat: ChatRequest,
): Session | null {
	const found = (source: string, id: string): Session => ({ key: sha256Hex(`${source}\u0000${id}`), source })
	const explicit = headers.get('x-switchyard-session')
	if (explicit) return found('x-switchyard-session header', explicit)
	const claudeCode = claudeCodeSession(headers, body)
	if (claudeCode) return found('Claude Code session', claudeCode)
	const codex = headers.get('session_id') ?? headers.get('conversation_id')
	if (codex) return found('Codex session', codex)
	const start = opening(chat)
	return start === null ? null : found(OPENING, start)
}

/**
 * The pins of conversations recognised only by their opening, after their first turn: kept in this
 * process, not written. Most such "conversations" are single requests, and a database write for each
 * would cost every `auto` request (docs/performance.md, "Sessions"); a conversation that does continue is
 * written from its second turn on. Bounded: past `capacity` the oldest is forgotten.
 */
export class OpeningPins {
	private readonly pins = new Map<string, SessionPin>()

	constructor(private readonly capacity = 50_000) {}

	find(userId: number, key: string, now = Date.now()): SessionPin | null {
		const pin = this.pins.get(`${userId}:${key}`)
		return pin && pin.expiresAt.getTime() > now ? pin : null
	}

	remember(userId: number, key: string, choice: PinChoice, idleMs: number, now = Date.now()) {
		const id = `${userId}:${key}`
		const earlier = this.pins.get(id)
		this.pins.delete(id)
		if (this.pins.size >= this.capacity) {
			const oldest = this.pins.keys().next()
			if (!oldest.done) this.pins.delete(oldest.value)
		}
		const createdAt = earlier?.model === choice.model ? earlier.createdAt : new Date(now)
		this.pins.set(id, { ...choice, createdAt, lastSeenAt: new Date(now), expiresAt: new Date(now + idleMs) })
	}
}

export interface SessionDeps {
	config: Pick<Config, 'sessionIdleMs'>
	catalog: Catalog
	rules: LiveRules
	sessionPins: Pick<SessionPins, 'find' | 'pin' | 'touch'>
	openingPins: OpeningPins
}

/** The session of a routed request, and the model it was pinned to when it came (null: none yet). */
export interface SessionState extends Session {
	pinnedModel: string | null
	/** The first turn of a conversation known only by its opening: its pin stays in this process. */
	local: boolean
}

/** A turn the rules send to a stronger model than its session's leaves the pin: it escalates. */
const escalates = (decided: CatalogModel | undefined, pinned: CatalogModel) =>
	decided !== undefined && listPrice(decided) > listPrice(pinned)

const isFirstTurn = (chat: ChatRequest) => !chat.messages.some((message) => message.role === 'assistant')

/**
 * The route of a routed (`auto`) request in a session: its pinned model first, then the pinned tier's
 * others for fallback, unless the rules now choose a stronger tier (escalation: routed as decided). A
 * conversation recognised only by its opening has no pin on its first turn, so that turn skips the read.
 */
export async function routeInSession(
	deps: SessionDeps,
	exchange: Exchange,
	route: Route,
	session: Session,
	chat: ChatRequest,
): Promise<Route> {
	const opening = session.source === OPENING
	const local = opening && isFirstTurn(chat)
	exchange.session = { ...session, pinnedModel: null, local }
	if (local) return route
	const { userId } = exchange.principal
	const pin =
		(opening ? deps.openingPins.find(userId, session.key) : null) ??
		(await deps.sessionPins.find(userId, session.key))
	const pinned = pin ? deps.catalog.model(pin.model) : undefined
	if (!pin || !pinned || deps.catalog.retiredOn(pinned)) return route
	exchange.session.pinnedModel = pin.model
	if (escalates(route.candidates[0], pinned)) {
		exchange.pin = `${session.source}: escalated from ${pin.model} (tier ${pin.tier ?? 'none'}) to tier ${route.tier}`
		return route
	}
	const tierModels = pin.tier ? (deps.rules.current().compiled.document.tiers[pin.tier]?.models ?? []) : []
	const others = tierModels.flatMap((id) => (id === pin.model ? [] : (deps.catalog.model(id) ?? [])))
	exchange.pin = `${session.source}: stays on ${pin.model} (tier ${pin.tier ?? 'none'}, pinned ${pin.createdAt.toISOString()}); the rules chose tier ${route.tier}`
	return { ...route, candidates: [pinned, ...others], tier: pin.tier ?? route.tier }
}

/**
 * After a model answered a request in a session: the pin is extended when that model was the pinned one,
 * and moved to it otherwise (first turn, escalation, or a fallback). Never awaited by the request.
 */
export function rememberModel(deps: SessionDeps, exchange: Exchange, model: CatalogModel) {
	const session = exchange.session
	if (!session) return
	const { userId } = exchange.principal
	const idleMs = deps.config.sessionIdleMs
	const choice = {
		model: model.qualifiedId,
		tier: exchange.route?.tier ?? null,
		reason: exchange.pin ?? `${session.source}: first answered by ${model.qualifiedId}`,
	}
	if (session.source === OPENING) deps.openingPins.remember(userId, session.key, choice, idleMs)
	if (session.local) return
	const saved =
		session.pinnedModel === model.qualifiedId
			? deps.sessionPins.touch(userId, session.key, idleMs)
			: deps.sessionPins.pin(userId, session.key, choice, idleMs)
	saved.catch((error) =>
		console.error(`[${exchange.requestId}] could not keep the session pin: ${loggable(error)}`),
	)
}

/** What `/api/rules/test` says of a session: its pin, and what this request would do with it. */
export interface SessionPreview {
	source: string
	pinnedModel: string | null
	pinnedTier: string | null
	pinnedAt: Date | null
	expiresAt: Date | null
	/** `none`: no live pin (routed as decided, then pinned); `stays` on the pin; `escalates` past it. */
	outcome: 'none' | 'stays' | 'escalates'
}

/** The caller's pin for the session named `sessionId` (as `x-switchyard-session` names it), and its effect. */
export async function previewSession(
	deps: Pick<SessionDeps, 'catalog' | 'sessionPins'>,
	userId: number,
	sessionId: string,
	decidedModel: string | null,
): Promise<SessionPreview> {
	const session = sessionOf(
		new Headers({ 'x-switchyard-session': sessionId }),
		{},
		{ model: '', messages: [] },
	)
	const source = session?.source ?? 'x-switchyard-session header'
	const pin = session ? await deps.sessionPins.find(userId, session.key) : null
	const pinned = pin ? deps.catalog.model(pin.model) : undefined
	if (!pin || !pinned) {
		return { source, pinnedModel: null, pinnedTier: null, pinnedAt: null, expiresAt: null, outcome: 'none' }
	}
	const decided = decidedModel ? deps.catalog.model(decidedModel) : undefined
	return {
		source,
		pinnedModel: pin.model,
		pinnedTier: pin.tier,
		pinnedAt: pin.createdAt,
		expiresAt: pin.expiresAt,
		outcome: escalates(decided, pinned) ? 'escalates' : 'stays',
	}
}

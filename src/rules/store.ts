import { desc, eq } from 'drizzle-orm'
import type { DataStore } from '../../db/client'
import type { RevisionSource } from '../../db/schema'
import { GatewayError } from '../errors'
import { fileExists, fileSignature, readText, writeFileAtomic } from '../lib/files'
import type { Catalog, CatalogModel } from '../providers/catalog'
import { type CompiledRules, compileRules } from './compile'
import defaultRules from './default-rules.json'
import { referenceModel } from './reference'
import type { RulesDocument } from './schema'
import { type RuleError, validateRules } from './validate'

/** The advisory lock under which the first PostgreSQL instance seeds the rules (any number nothing else takes). */
const SEED_LOCK = 0x5357_5255

/** @default 500 ms: a hand edit of the file is live well within two seconds */
const POLL_INTERVAL_MS = 500
const FULL_READ_EVERY = 10

export interface LiveRulesState {
	readonly compiled: CompiledRules
	/** The revision in the database that holds this document. */
	readonly revision: number
	/** What a routed request would have cost without routing is priced at this model (`referenceModel`). */
	readonly reference: CatalogModel | null
}

/** What the gateway needs: the rules in force right now. */
export interface LiveRules {
	current(): LiveRulesState
}

export interface RevisionView {
	revision: number
	createdAt: Date
	author: string
	source: RevisionSource
	rules: unknown
}

export interface RuleAuthor {
	id: number
	email: string
}

/** A rules document refused by validation; the API answers it as 400 `{ errors: [{ path, message }] }`. */
export class RulesValidationError extends GatewayError {
	constructor(readonly errors: RuleError[]) {
		super(400, 'invalid_request_error', `The rules are invalid: ${errors.map(describeError).join('; ')}`, {
			code: 'invalid_rules',
			body: { errors },
		})
		this.name = 'RulesValidationError'
	}
}

/** A path holds the document's own keys; written as `\uXXXX`, a control character in one cannot break a log line. */
const printablePath = (path: string) =>
	path.replace(/\p{Cc}/gu, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)

export const describeError = (error: RuleError) => `${printablePath(error.path) || '/'}: ${error.message}`

export const serializeRules = (document: unknown) => `${JSON.stringify(document, null, '\t')}\n`

/**
 * The live routing rules, kept in one of two places:
 *
 * - **SQLite: the file.** `RULES_PATH` is the source of truth: created from the shipped defaults on first
 *   start, rewritten atomically by `save`, and watched, so a hand edit takes effect within a second; an
 *   invalid edit is refused with a logged error and the last valid rules stay in force.
 * - **PostgreSQL: the database.** The latest revision is live on every instance. A save inserts a revision
 *   and announces it on the `rules` channel; every instance compiles it within the milliseconds a NOTIFY
 *   takes. The file, if there is one, only seeds an empty database.
 *
 * Either way, every document that becomes live is kept as a revision in the database.
 */
export class RulesStore implements LiveRules {
	private state: LiveRulesState
	/** The file's content as last read or written, so each edit is handled once. */
	private lastContent: string
	private lastStat = ''
	private polls = 0
	private lastProblem = ''
	private timer: ReturnType<typeof setInterval> | undefined
	private unsubscribe: (() => Promise<void>) | undefined
	private readonly listeners: (() => void)[] = []

	private constructor(
		private readonly store: DataStore,
		private readonly catalog: Catalog,
		/** The rules file; null when the rules live in the database (PostgreSQL). */
		readonly path: string | null,
		initial: { state: LiveRulesState; content: string },
	) {
		this.state = initial.state
		this.lastContent = initial.content
	}

	/**
	 * Loads (or first creates) the live rules. Invalid rules at start are a `RulesValidationError`: the
	 * server refuses to start rather than route with rules nobody meant.
	 */
	static async open(store: DataStore, catalog: Catalog, path: string): Promise<RulesStore> {
		if (store.dialect === 'postgres') return RulesStore.openShared(store, catalog, path)
		if (!fileExists(path)) writeFileAtomic(path, serializeRules(defaultRules))
		const content = readText(path)
		const document = parseAndValidate(content, catalog)
		const latest = await latestRevision(store)
		const revision =
			latest && sameDocument(latest.document, document)
				? latest.id
				: await insertRevision(
						store,
						document,
						latest ? { author: 'rules file', source: 'file' } : { author: 'defaults', source: 'initial' },
					)
		return new RulesStore(store, catalog, path, {
			state: liveState(document, revision, catalog),
			content,
		}).listen()
	}

	/** The database holds the rules; the file (or else the defaults) seeds it the first time. */
	private static async openShared(store: DataStore, catalog: Catalog, seedPath: string): Promise<RulesStore> {
		let latest = await latestRevision(store)
		if (!latest && store.postgres) {
			const seed = parseAndValidate(
				fileExists(seedPath) ? readText(seedPath) : serializeRules(defaultRules),
				catalog,
			)
			// Instances starting together on an empty database seed it once: the first takes the lock and
			// inserts, the others find the revision when it is their turn.
			await store.postgres.begin(async (tx) => {
				await tx`SELECT pg_advisory_xact_lock(${SEED_LOCK})`
				const [existing] = await tx`SELECT id FROM rule_revisions LIMIT 1`
				if (!existing)
					await tx`INSERT INTO rule_revisions (created_at, author, source, document)
						VALUES (now(), 'defaults', 'initial', ${JSON.stringify(seed)})`
			})
			latest = await latestRevision(store)
		}
		if (!latest) throw new Error('the first rules revision was not stored')
		const document = parseAndValidate(JSON.stringify(latest.document), catalog)
		return new RulesStore(store, catalog, null, {
			state: liveState(document, latest.id, catalog),
			content: '',
		}).listen()
	}

	/** Adopts the revisions other instances announce (on SQLite, other stores of this process). */
	private async listen(): Promise<RulesStore> {
		this.unsubscribe = await this.store.subscribe('rules', () => {
			this.adoptLatest().catch((error) => console.error('rules: could not load the latest revision', error))
		})
		return this
	}

	current(): LiveRulesState {
		return this.state
	}

	/**
	 * Validates, records a revision and makes it live for the next request: on this instance at once, on
	 * the others when they hear of it. With a file, the file is rewritten atomically first.
	 */
	async save(candidate: unknown, author: RuleAuthor, source: RevisionSource = 'api'): Promise<number> {
		const result = validateRules(candidate, this.catalog)
		if (!result.ok) throw new RulesValidationError(result.errors)
		const content = serializeRules(result.document)
		if (this.path) writeFileAtomic(this.path, content)
		const revision = await insertRevision(this.store, result.document, {
			author: author.email,
			authorId: author.id,
			source,
		})
		this.adopt(result.document, revision)
		this.lastContent = content
		await this.store.publish('rules', String(revision))
		return revision
	}

	async history(limit = 100): Promise<RevisionView[]> {
		const { db, tables } = this.store
		const rows = await db
			.select()
			.from(tables.ruleRevisions)
			.orderBy(desc(tables.ruleRevisions.id))
			.limit(limit)
		return rows.map((row) => ({
			revision: row.id,
			createdAt: row.createdAt,
			author: row.author,
			source: row.source,
			rules: row.document,
		}))
	}

	/** Makes an old revision live again, as a new revision (validated against today's catalog). */
	async restore(revision: number, author: RuleAuthor): Promise<number> {
		const { db, tables } = this.store
		const [row] = await db.select().from(tables.ruleRevisions).where(eq(tables.ruleRevisions.id, revision))
		if (!row) throw new GatewayError(404, 'not_found_error', `No rules revision ${revision}`)
		return this.save(row.document, author, 'restore')
	}

	/** Starts watching the file for hand edits (in the database, changes are announced instead). */
	watch() {
		if (!this.path) return
		this.timer ??= setInterval(() => {
			this.reloadIfChanged().catch((error) => console.error('rules: could not reload the file', error))
		}, POLL_INTERVAL_MS)
		this.timer.unref?.()
	}

	async close() {
		if (this.timer) clearInterval(this.timer)
		this.timer = undefined
		await this.unsubscribe?.()
	}

	/**
	 * Makes the newest revision in the database live, when it is newer than this instance's: after another
	 * instance announced a save, or after a dropped connection (RESYNC) that may have hidden one. Rules that
	 * this instance's catalog refuses (a rolling upgrade, say) are logged and the current ones stay.
	 */
	async adoptLatest(): Promise<void> {
		const latest = await latestRevision(this.store)
		if (!latest || latest.id <= this.state.revision) return
		const result = validateRules(latest.document, this.catalog)
		if (!result.ok) {
			this.refuse(`revision ${latest.id} is not valid here:\n${result.errors.map(describeError).join('\n')}`)
			return
		}
		this.adopt(result.document, latest.id)
		console.log(`rules: revision ${latest.id} is live`)
	}

	/** Checks the file once; returns what happened (the watcher calls it, and so can tests). */
	async reloadIfChanged(): Promise<'unchanged' | 'reloaded' | 'refused'> {
		if (!this.path) return 'unchanged'
		// Reading the file twice a second competes with the log writer for the disk; a stat is enough to see
		// that nothing moved. Every tenth poll reads anyway, for an edit that kept both size and mtime.
		const stat = fileSignature(this.path)
		if (stat === this.lastStat && ++this.polls % FULL_READ_EVERY !== 0) return 'unchanged'
		this.lastStat = stat
		let content: string
		try {
			content = readText(this.path)
		} catch (error) {
			return this.refuse(`cannot read ${this.path} (${(error as Error).message})`)
		}
		if (content === this.lastContent) return 'unchanged'
		this.lastContent = content
		try {
			const document = parseAndValidate(content, this.catalog)
			const revision = await insertRevision(this.store, document, { author: 'rules file', source: 'file' })
			this.adopt(document, revision)
			this.lastProblem = ''
			console.log(`rules: reloaded ${this.path} as revision ${revision}`)
			return 'reloaded'
		} catch (error) {
			const problems =
				error instanceof RulesValidationError ? error.errors.map(describeError) : [String(error)]
			return this.refuse(`refused the edit of ${this.path}:\n${problems.map((p) => `  ${p}`).join('\n')}`)
		}
	}

	/** Calls `listener` each time other rules become live here. */
	onChange(listener: () => void) {
		this.listeners.push(listener)
	}

	private adopt(document: RulesDocument, revision: number) {
		// A slower announcement of an older save must not undo a newer one.
		if (revision < this.state.revision) return
		this.state = liveState(document, revision, this.catalog)
		for (const listener of this.listeners) listener()
	}

	/** Logs why the rules were not taken, once per distinct problem (the watcher polls twice a second). */
	private refuse(problem: string): 'refused' {
		if (problem !== this.lastProblem) {
			console.error(`rules: ${problem}\nThe last valid rules stay in force.`)
			this.lastProblem = problem
		}
		return 'refused'
	}
}

const liveState = (document: RulesDocument, revision: number, catalog: Catalog): LiveRulesState => ({
	compiled: compileRules(document),
	revision,
	reference: referenceModel(document, catalog) ?? null,
})

function parseAndValidate(content: string, catalog: Catalog): RulesDocument {
	let parsed: unknown
	try {
		parsed = JSON.parse(content)
	} catch (error) {
		throw new RulesValidationError([{ path: '', message: `not valid JSON (${(error as Error).message})` }])
	}
	const result = validateRules(parsed, catalog)
	if (!result.ok) throw new RulesValidationError(result.errors)
	return result.document
}

const sameDocument = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b)

async function insertRevision(
	store: DataStore,
	document: RulesDocument,
	by: { author: string; authorId?: number; source: RevisionSource },
): Promise<number> {
	const { db, tables } = store
	const [row] = await db
		.insert(tables.ruleRevisions)
		.values({ document, author: by.author, authorId: by.authorId ?? null, source: by.source })
		.returning({ id: tables.ruleRevisions.id })
	if (!row) throw new Error('the rules revision was not stored')
	return row.id
}

async function latestRevision(store: DataStore) {
	const { db, tables } = store
	const [row] = await db.select().from(tables.ruleRevisions).orderBy(desc(tables.ruleRevisions.id)).limit(1)
	return row
}

import { desc, eq } from 'drizzle-orm'
import type { Db } from '../../db/client'
import { type RevisionSource, ruleRevisions } from '../../db/schema'
import { GatewayError } from '../errors'
import { fileExists, fileSignature, readText, writeFileAtomic } from '../lib/files'
import type { Catalog, CatalogModel } from '../providers/catalog'
import { type CompiledRules, compileRules } from './compile'
import defaultRules from './default-rules.json'
import { referenceModel } from './reference'
import type { RulesDocument } from './schema'
import { type RuleError, validateRules } from './validate'

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
 * The live routing rules. `RULES_PATH` is the source of truth: created from the shipped defaults on
 * first start, rewritten atomically by `save`, and watched, so a hand edit takes effect within a
 * second; an invalid edit is refused with a logged error and the last valid rules stay in force. Every
 * document that becomes live is kept as a revision in the database.
 */
export class RulesStore implements LiveRules {
	private state: LiveRulesState
	/** The file's content as last read or written, so each edit is handled once. */
	private lastContent: string
	private lastStat = ''
	private polls = 0
	private lastProblem = ''
	private timer: ReturnType<typeof setInterval> | undefined

	private constructor(
		private readonly db: Db,
		private readonly catalog: Catalog,
		readonly path: string,
		initial: { state: LiveRulesState; content: string },
	) {
		this.state = initial.state
		this.lastContent = initial.content
	}

	/**
	 * Loads (or first creates) the rules file. An invalid file at start is a `RulesValidationError`: the
	 * server refuses to start rather than route with rules nobody meant.
	 */
	static open(db: Db, catalog: Catalog, path: string): RulesStore {
		if (!fileExists(path)) writeFileAtomic(path, serializeRules(defaultRules))
		const content = readText(path)
		const document = parseAndValidate(content, catalog)
		const latest = db.select().from(ruleRevisions).orderBy(desc(ruleRevisions.id)).limit(1).get()
		const revision =
			latest && sameDocument(latest.document, document)
				? latest.id
				: insertRevision(
						db,
						document,
						latest ? { author: 'rules file', source: 'file' } : { author: 'defaults', source: 'initial' },
					)
		return new RulesStore(db, catalog, path, {
			state: liveState(document, revision, catalog),
			content,
		})
	}

	current(): LiveRulesState {
		return this.state
	}

	/** Validates, writes the file atomically, records a revision and makes it live for the next request. */
	save(candidate: unknown, author: RuleAuthor, source: RevisionSource = 'api'): number {
		const result = validateRules(candidate, this.catalog)
		if (!result.ok) throw new RulesValidationError(result.errors)
		const content = serializeRules(result.document)
		writeFileAtomic(this.path, content)
		const revision = insertRevision(this.db, result.document, {
			author: author.email,
			authorId: author.id,
			source,
		})
		this.state = liveState(result.document, revision, this.catalog)
		this.lastContent = content
		return revision
	}

	history(limit = 100): RevisionView[] {
		return this.db
			.select()
			.from(ruleRevisions)
			.orderBy(desc(ruleRevisions.id))
			.limit(limit)
			.all()
			.map((row) => ({
				revision: row.id,
				createdAt: row.createdAt,
				author: row.author,
				source: row.source,
				rules: row.document,
			}))
	}

	/** Makes an old revision live again, as a new revision (validated against today's catalog). */
	restore(revision: number, author: RuleAuthor): number {
		const row = this.db.select().from(ruleRevisions).where(eq(ruleRevisions.id, revision)).get()
		if (!row) throw new GatewayError(404, 'not_found_error', `No rules revision ${revision}`)
		return this.save(row.document, author, 'restore')
	}

	/** Starts watching the file for hand edits. */
	watch() {
		this.timer ??= setInterval(() => this.reloadIfChanged(), POLL_INTERVAL_MS)
		this.timer.unref?.()
	}

	close() {
		if (this.timer) clearInterval(this.timer)
		this.timer = undefined
	}

	/** Checks the file once; returns what happened (the watcher calls it, and so can tests). */
	reloadIfChanged(): 'unchanged' | 'reloaded' | 'refused' {
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
			const revision = insertRevision(this.db, document, { author: 'rules file', source: 'file' })
			this.state = liveState(document, revision, this.catalog)
			this.lastProblem = ''
			console.log(`rules: reloaded ${this.path} as revision ${revision}`)
			return 'reloaded'
		} catch (error) {
			const problems =
				error instanceof RulesValidationError ? error.errors.map(describeError) : [String(error)]
			return this.refuse(`refused the edit of ${this.path}:\n${problems.map((p) => `  ${p}`).join('\n')}`)
		}
	}

	/** Logs why the file was not taken, once per distinct problem (the watcher polls twice a second). */
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

function insertRevision(
	db: Db,
	document: RulesDocument,
	by: { author: string; authorId?: number; source: RevisionSource },
): number {
	return db
		.insert(ruleRevisions)
		.values({ document, author: by.author, authorId: by.authorId ?? null, source: by.source })
		.returning({ id: ruleRevisions.id })
		.get().id
}

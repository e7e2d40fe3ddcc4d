import { and, eq, lt } from 'drizzle-orm'
import type { DataStore } from '../../db/client'

/** A Responses API turn to keep (`store: true`). */
export interface StoredResponse {
	/** The id the caller was given (`resp_…`). */
	id: string
	userId: number
	keyId: number
	/** The catalog model that answered, as `<provider>/<id>`. */
	model: string
	/** Every input item of the turn, earlier turns' included. */
	input: unknown[]
	/** The turn's output items. */
	output: unknown[]
	createdAt: Date
}

/** What a later turn's `previous_response_id` continues from. */
export type EarlierTurn = Pick<StoredResponse, 'input' | 'output' | 'model'>

/**
 * Responses kept for `previous_response_id`. A response is visible only to the user whose key made it:
 * another user's id reads as absent, so the caller answers 404 either way, as OpenAI does. Kept for
 * LOG_RETENTION_DAYS, pruned by the request log's daily retention job.
 */
export class StoredResponses {
	constructor(private readonly store: DataStore) {}

	async save(response: StoredResponse): Promise<void> {
		const { db, tables } = this.store
		await db.insert(tables.storedResponses).values(response)
	}

	/** The user's stored response, or null when there is none of that id or it is another user's. */
	async find(id: string, userId: number): Promise<EarlierTurn | null> {
		const { db, tables } = this.store
		const { storedResponses: responses } = tables
		const [row] = await db
			.select({ input: responses.input, output: responses.output, model: responses.model })
			.from(responses)
			.where(and(eq(responses.id, id), eq(responses.userId, userId)))
		return row ?? null
	}

	/** Deletes the responses made before `before`; answers how many. */
	async prune(before: Date): Promise<number> {
		const { db, tables } = this.store
		const { storedResponses: responses } = tables
		const deleted = await db
			.delete(responses)
			.where(lt(responses.createdAt, before))
			.returning({ id: responses.id })
		return deleted.length
	}
}

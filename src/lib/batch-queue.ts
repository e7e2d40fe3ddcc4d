/** A promise's two ends, kept with the work queued for it. */
export interface Deferred<T> {
	resolve(value: T): void
	reject(error: unknown): void
}

/**
 * Runs queued work in batches, one batch at a time: what arrives while a batch runs waits for the next, so
 * under load each database statement serves many requests, and alone a request waits for nothing. A batch
 * whose run throws rejects every item of it not yet settled.
 */
export class BatchQueue<T extends Deferred<never>> {
	private queued: T[] = []
	private running: Promise<void> | undefined

	constructor(private readonly run: (batch: T[]) => Promise<void>) {}

	add(item: T) {
		this.queued.push(item)
		this.running ??= this.drain()
	}

	private async drain() {
		// Whatever the current turn queues goes into the first batch.
		await Promise.resolve()
		while (this.queued.length > 0) {
			const batch = this.queued
			this.queued = []
			try {
				await this.run(batch)
			} catch (error) {
				for (const item of batch) item.reject(error)
			}
		}
		this.running = undefined
	}
}

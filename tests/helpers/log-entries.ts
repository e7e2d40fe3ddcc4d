import type { RequestLogEntry } from '../../src/request-log/log-store'

/** The fewest fields a log entry needs, for user 1's key 1. */
export const minimalEntry = (requestId: string): RequestLogEntry => ({
	requestId,
	createdAt: new Date(),
	userId: 1,
	keyId: 1,
	status: 200,
	attempts: [],
	latencyMs: 1,
})

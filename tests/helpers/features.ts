import type { RequestFeatures } from '../../src/rules/features'

/** The features of a short plain chat: one message, 100 tokens, no tools, images or JSON mode. */
export function features(overrides: Partial<RequestFeatures> = {}): RequestFeatures {
	return {
		promptTokens: 100,
		messages: 1,
		hasTools: false,
		hasImages: false,
		jsonMode: false,
		maxTokens: null,
		...overrides,
	}
}

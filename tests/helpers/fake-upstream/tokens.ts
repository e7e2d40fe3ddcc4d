import { EFFORTS, type Effort } from './models'
import type { ToolCall } from './types'
import { isRecord } from './wire'

/**
 * Every text of the prompt in order: system or instructions, then each message's (or Responses input
 * item's) text. Tool definitions and tool call arguments are not counted.
 */
export function promptTexts(body: unknown): string[] {
	const texts: string[] = []
	const add = (content: unknown): void => {
		if (typeof content === 'string') {
			texts.push(content)
		} else if (Array.isArray(content)) {
			for (const part of content) {
				if (!isRecord(part)) continue
				if (typeof part.text === 'string') texts.push(part.text)
				if (part.content !== undefined) add(part.content)
			}
		}
	}
	if (!isRecord(body)) return texts
	add(body.system)
	add(body.instructions)
	if (Array.isArray(body.messages)) {
		for (const message of body.messages) if (isRecord(message)) add(message.content)
	}
	if (typeof body.input === 'string') {
		texts.push(body.input)
	} else if (Array.isArray(body.input)) {
		for (const item of body.input) {
			if (!isRecord(item)) continue
			add(item.content)
			add(item.output)
		}
	}
	return texts
}

/** Prompt tokens from the texts of `promptTexts`: characters / 4, rounded up, at least 1. */
export function tokensOf(texts: readonly string[]): number {
	let chars = 0
	for (const text of texts) chars += text.length
	return Math.max(1, Math.ceil(chars / 4))
}

/**
 * The default prompt count: characters of every text in system (or instructions) and messages (or
 * Responses input) / 4, rounded up, at least 1.
 */
export function countPromptTokens(body: unknown): number {
	return tokensOf(promptTexts(body))
}

/** The default completion count: words of the text, plus (name + arguments length) / 4 per tool call, min 1. */
export function countCompletionTokens(text: string | null, toolCalls: ToolCall[]) {
	let tokens = text ? text.split(/\s+/).filter(Boolean).length : 0
	for (const call of toolCalls) tokens += Math.ceil((call.name.length + call.arguments.length) / 4)
	return Math.max(1, tokens)
}

/** Reasoning tokens at an effort: 16 per step above `none`, so every level on is > 0 and they differ. */
export function reasoningTokens(effort: Effort | null): number {
	return effort === null ? 0 : 16 * EFFORTS.indexOf(effort)
}

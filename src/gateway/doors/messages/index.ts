// The Anthropic Messages front door (`POST /v1/messages`, `/v1/messages/count_tokens`) for models that are
// not Anthropic's: pure translation between Anthropic's Messages API, version 2026-10-21 (the one
// @anthropic-ai/sdk 1.x and Claude Code send), and the canonical Chat Completions types. No I/O.
//
// What this relies on, read 2026-12-03:
// - Streaming: https://docs.claude.com/en/api/messages-streaming — event flow message_start, content blocks
//   (start, deltas, stop; `index` = position in the final content), message_delta (its usage counts are
//   cumulative), message_stop; `error` events mid-stream (overloaded_error ~ HTTP 529).
// - Errors: https://docs.claude.com/en/api/errors — 400 invalid_request_error (also other 4xx), 401
//   authentication_error, 403 permission_error, 404 not_found_error, 413 request_too_large, 429
//   rate_limit_error, 500 api_error, 529 overloaded_error; body `{type: 'error', error: {type, message}}`.
// - Gateways: https://code.claude.com/docs/en/llm-gateway-protocol and .../llm-gateway-rollout — Claude
//   Code speaks /v1/messages (count_tokens optional), streams SSE, forwards anthropic-version/-beta.
// - Shapes: @anthropic-ai/sdk 1.14.0 types (resources/messages, resources/shared: billing_error 402,
//   timeout_error 504, `error.details.error_code`) and lib/MessageStream.js (how message_delta usage is read).
export { chatToMessage } from './answer'
export { anthropicError, anthropicErrorType } from './errors'
export { estimateMessagesTokens, messagesForRules, messagesToChat } from './request'
export { createMessagesEncoder } from './stream'

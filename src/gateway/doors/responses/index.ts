// The OpenAI Responses API front door (`POST /v1/responses`), as pure translation to and from the canonical
// Chat Completions format. Formats checked on 2026-12-03 against:
// - OpenAI API reference, Responses: https://developers.openai.com/api/reference/resources/responses
// - OpenAI streaming guide: https://developers.openai.com/api/docs/guides/streaming-responses?api-mode=responses
// - Open Responses specification (items, streaming, errors): https://openresponses.org/specification and its
//   schema (github.com/openresponses/openresponses, schema/events.tsp, ResponseResource.json)
// - OpenAI function calling guide (functions are strict by default in Responses):
//   https://developers.openai.com/api/docs/guides/function-calling
// - openai-node 7.57.0 types (resources/responses/responses.d.ts) and its ResponseStream accumulator, which the
//   tests run every encoded stream through.

export { OPENAI_ONLY } from './items'
export { chatToResponse, responseOutputItems } from './output'
export { responsesForRules, responsesToChat } from './request'
export { createResponsesEncoder } from './stream'

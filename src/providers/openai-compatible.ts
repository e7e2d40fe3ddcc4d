// Any server speaking the OpenAI wire format (Groq, Mistral, DeepSeek, Together, a local Ollama or vLLM):
// the OpenAI adapter with the provider's base URL, and `max_tokens` left as it is.
import { createOpenAIAdapter } from './openai'

export const createOpenAICompatibleAdapter = () => createOpenAIAdapter({ renameMaxTokens: false })

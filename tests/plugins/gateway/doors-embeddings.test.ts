import { describe, expect, it } from 'bun:test'
import OpenAI from 'openai'
import { loggedRequests, received, switchyardHeaders } from '../../helpers/doors'
import { embed } from '../../helpers/fake-upstream'
import { startGateway } from '../../helpers/gateway'

// `POST /v1/embeddings` as a user of the `openai` SDK sees it, against the running gateway and the fake.

/** The vector the fake gives this model and input: the same input, the same vector. */
const vectorOf = (model: string, input: string, dimensions: number) =>
	embed(`${model}\0${JSON.stringify(input)}`, dimensions)

describe('POST /v1/embeddings', () => {
	it('embeds with floats, priced and logged with door embeddings', async () => {
		await using g = await startGateway()
		const { data, response } = await g.openai.embeddings
			.create({
				model: 'openai/text-embedding-3-small',
				input: ['first text', 'second'],
				encoding_format: 'float',
			})
			.withResponse()
		expect(data.data.map(({ index, embedding }) => ({ index, embedding }))).toEqual([
			{ index: 0, embedding: vectorOf('text-embedding-3-small', 'first text', 1536) },
			{ index: 1, embedding: vectorOf('text-embedding-3-small', 'second', 1536) },
		])
		expect(data.model).toBe('text-embedding-3-small')
		expect(data.usage.prompt_tokens).toBeGreaterThan(0)
		expect(received(g, 'openai-embeddings')[0]?.body).toEqual({
			model: 'text-embedding-3-small',
			input: ['first text', 'second'],
			encoding_format: 'float',
		})
		expect(switchyardHeaders(response.headers)).toEqual({
			'x-switchyard-request-id': expect.stringMatching(/^req_/),
			'x-switchyard-provider': 'openai',
			'x-switchyard-model': 'openai/text-embedding-3-small',
			'x-switchyard-rule': 'explicit',
			'x-switchyard-attempts': '1',
			'x-switchyard-cost-usd': expect.stringMatching(/^0\.\d{8}$/),
		})
		expect(Number(response.headers.get('x-switchyard-cost-usd'))).toBeGreaterThan(0)
		const [row] = await loggedRequests(g)
		expect(row).toMatchObject({
			door: 'embeddings',
			model: 'openai/text-embedding-3-small',
			status: 200,
			promptTokens: data.usage.prompt_tokens,
			completionTokens: 0,
		})
		expect(row?.costUsd).toBeGreaterThan(0)
	})

	it('relays base64, the SDK’s default encoding, which it decodes to the same numbers', async () => {
		await using g = await startGateway()
		const data = await g.openai.embeddings.create({
			model: 'text-embedding-3-large',
			input: 'a text',
			dimensions: 256,
		})
		expect(received(g, 'openai-embeddings')[0]?.body.encoding_format).toBe('base64')
		expect(data.data[0]?.embedding).toEqual(vectorOf('text-embedding-3-large', 'a text', 256))
		const raw = await g.openai.embeddings.create({
			model: 'text-embedding-3-large',
			input: 'a text',
			dimensions: 256,
			encoding_format: 'base64',
		})
		expect(typeof raw.data[0]?.embedding).toBe('string')
	})

	it('refuses auto, a chat model and an Anthropic model with 400, calling no upstream', async () => {
		await using g = await startGateway()
		const refusal = (model: string) =>
			g.openai.embeddings.create({ model, input: 'a text' }).catch((error) => error)
		const auto = await refusal('auto')
		expect(auto).toBeInstanceOf(OpenAI.BadRequestError)
		expect(auto.param).toBe('model')
		const chat = await refusal('openai/gpt-6-luna')
		expect(chat).toBeInstanceOf(OpenAI.BadRequestError)
		expect(chat.error).toMatchObject({ param: 'model', code: 'model_incapable' })
		expect(chat.message).toContain('not an embedding model')
		const anthropic = await refusal('anthropic/claude-haiku-5-5')
		expect(anthropic).toBeInstanceOf(OpenAI.BadRequestError)
		expect(anthropic.error).toMatchObject({ param: 'model', code: 'model_incapable' })
		const unknown = await refusal('openai/text-embedding-9')
		expect(unknown).toBeInstanceOf(OpenAI.NotFoundError)
		expect(g.upstream.requests).toHaveLength(0)
		const rows = await loggedRequests(g)
		expect(rows.map(({ door, status }) => ({ door, status }))).toEqual([
			{ door: 'embeddings', status: 400 },
			{ door: 'embeddings', status: 400 },
			{ door: 'embeddings', status: 400 },
			{ door: 'embeddings', status: 404 },
		])
	})

	it('refuses an embedding model on the chat door', async () => {
		await using g = await startGateway()
		const refused = await g.openai.chat.completions
			.create({ model: 'openai/text-embedding-3-small', messages: [{ role: 'user', content: 'Hi' }] })
			.catch((error) => error)
		expect(refused).toBeInstanceOf(OpenAI.BadRequestError)
		expect(refused.message).toContain('/v1/embeddings')
	})

	it('passes an upstream refusal on as the caller’s error', async () => {
		await using g = await startGateway()
		const refused = await g.openai.embeddings
			.create({ model: 'text-embedding-3-small', input: 'a text', dimensions: 99_999 })
			.catch((error) => error)
		expect(refused).toBeInstanceOf(OpenAI.BadRequestError)
		expect(refused.error).toMatchObject({ param: 'dimensions', code: 'invalid_value' })
	})
})

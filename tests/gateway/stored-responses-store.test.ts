import { describe, expect, it } from 'bun:test'
import { type StoredResponse, StoredResponses } from '../../src/gateway/stored-responses'
import { BACKENDS, openTestStore } from '../helpers/stores'

const T0 = Date.parse('2026-12-03T12:00:00Z')

/** A second turn: its input holds the first turn's too, with keys in an order jsonb would not keep. */
const turn = (id: string, userId: number, createdAt: number): StoredResponse => ({
	id,
	userId,
	keyId: userId * 10,
	model: 'openai/gpt-5-mini',
	input: [
		{ type: 'message', role: 'user', content: 'Hi </script>' },
		{ type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'Hello' }] },
		{ role: 'user', type: 'message', content: 'And then?' },
	],
	output: [
		{ type: 'reasoning', id: 'rs_1', summary: [] },
		{ type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'Then this.' }] },
	],
	createdAt: new Date(createdAt),
})

describe.each(BACKENDS)('StoredResponses on %s', (backend) => {
	it('gives its owner the input, output and model of a stored response, as saved', async () => {
		await using test = await openTestStore(backend)
		const responses = new StoredResponses(test.store)
		const saved = turn('resp_1', 1, T0)
		await responses.save(saved)
		const found = await responses.find('resp_1', 1)
		expect(found).toEqual({ input: saved.input, output: saved.output, model: saved.model })
		expect(JSON.stringify(found?.input)).toBe(JSON.stringify(saved.input))
	})

	it('answers null for another user’s response, as for one that does not exist', async () => {
		await using test = await openTestStore(backend)
		const responses = new StoredResponses(test.store)
		await responses.save(turn('resp_1', 1, T0))
		expect(await responses.find('resp_1', 2)).toBeNull()
		expect(await responses.find('resp_nope', 1)).toBeNull()
	})

	it('prunes the responses made before a date and keeps the later ones', async () => {
		await using test = await openTestStore(backend)
		const responses = new StoredResponses(test.store)
		await responses.save(turn('resp_old', 1, T0 - 1))
		await responses.save(turn('resp_new', 1, T0))
		expect(await responses.prune(new Date(T0))).toBe(1)
		expect(await responses.find('resp_old', 1)).toBeNull()
		expect(await responses.find('resp_new', 1)).not.toBeNull()
	})
})

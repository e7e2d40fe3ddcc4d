import { describe, expect, it } from 'bun:test'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadConfig } from '../../src/config'
import { loadCatalog } from '../../src/providers/catalog'
import defaultRules from '../../src/rules/default-rules.json'
import type { RulesDocument } from '../../src/rules/schema'
import { RulesStore } from '../../src/rules/store'
import { BACKENDS, openTestStore } from '../helpers/stores'
import { until } from '../helpers/until'

const catalog = loadCatalog(loadConfig({}))
const ADMIN = { id: 1, email: 'admin@example.com' }
const everythingSimple = (): RulesDocument => ({
	...(defaultRules as RulesDocument),
	rules: [],
	defaultTier: 'simple',
})

describe.each(BACKENDS)('the live rules on %s, seen from two instances', (backend) => {
	it('makes a save on one instance live on the other within a second, as the same revision', async () => {
		await using test = await openTestStore(backend)
		const dir = mkdtempSync(join(tmpdir(), 'switchyard-rules-'))
		try {
			const here = await RulesStore.open(test.store, catalog, join(dir, 'rules.json'))
			const there = await RulesStore.open(await test.anotherInstance(), catalog, join(dir, 'rules.json'))
			try {
				expect(there.current().revision).toBe(here.current().revision)
				const revision = await here.save(everythingSimple(), ADMIN)
				expect(here.current().revision).toBe(revision)
				await until(() => there.current().revision === revision, 1000)
				expect(there.current().compiled.document.defaultTier).toBe('simple')
				expect((await there.history())[0]).toMatchObject({ revision, author: ADMIN.email, source: 'api' })
			} finally {
				await Promise.all([here.close(), there.close()])
			}
		} finally {
			rmSync(dir, { recursive: true, force: true })
		}
	})

	it('keeps a document’s keys in the order they were written', async () => {
		await using test = await openTestStore(backend)
		const dir = mkdtempSync(join(tmpdir(), 'switchyard-rules-'))
		try {
			const rules = await RulesStore.open(test.store, catalog, join(dir, 'rules.json'))
			try {
				const document = {
					...everythingSimple(),
					rules: [
						{
							name: 'z',
							when: { tools: undefined, hasTools: true, promptTokens: { lte: 5 } },
							tier: 'simple',
						},
					],
				}
				const revision = await rules.save(JSON.parse(JSON.stringify(document)), ADMIN)
				const [stored] = await rules.history(1)
				expect(stored?.revision).toBe(revision)
				expect(JSON.stringify(stored?.rules)).toBe(JSON.stringify(rules.current().compiled.document))
				const storedRules = stored?.rules as RulesDocument | undefined
				expect(Object.keys(storedRules?.rules[0]?.when ?? {})).toEqual(['hasTools', 'promptTokens'])
			} finally {
				await rules.close()
			}
		} finally {
			rmSync(dir, { recursive: true, force: true })
		}
	})
})

describe('the live rules on PostgreSQL', () => {
	if (!BACKENDS.includes('postgres')) return
	it('seeds an empty database from the rules file once, and reads the database after that', async () => {
		await using test = await openTestStore('postgres')
		const dir = mkdtempSync(join(tmpdir(), 'switchyard-rules-'))
		try {
			const path = join(dir, 'rules.json')
			writeFileSync(path, JSON.stringify(everythingSimple()))
			const first = await RulesStore.open(test.store, catalog, path)
			expect(first.path).toBeNull()
			expect(first.current().compiled.document.defaultTier).toBe('simple')
			writeFileSync(path, JSON.stringify(defaultRules))
			const second = await RulesStore.open(await test.anotherInstance(), catalog, path)
			expect(second.current().revision).toBe(first.current().revision)
			expect(second.current().compiled.document.defaultTier).toBe('simple')
			await Promise.all([first.close(), second.close()])
		} finally {
			rmSync(dir, { recursive: true, force: true })
		}
	})
})

describe('the live rules on PostgreSQL, first start', () => {
	if (!BACKENDS.includes('postgres')) return
	it('seeds an empty database once when several instances start together', async () => {
		await using test = await openTestStore('postgres')
		const dir = mkdtempSync(join(tmpdir(), 'switchyard-rules-'))
		try {
			const stores = [test.store, ...(await Promise.all([1, 2, 3].map(() => test.anotherInstance())))]
			const opened = await Promise.all(
				stores.map((store) => RulesStore.open(store, catalog, join(dir, 'rules.json'))),
			)
			expect(new Set(opened.map((rules) => rules.current().revision))).toEqual(new Set([1]))
			expect(await opened[0]?.history()).toHaveLength(1)
			await Promise.all(opened.map((rules) => rules.close()))
		} finally {
			rmSync(dir, { recursive: true, force: true })
		}
	})
})

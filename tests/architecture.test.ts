import { describe, expect, it } from 'bun:test'
import { dirname, join, relative, resolve } from 'node:path'
import { Glob } from 'bun'

// The layout docs/architecture.md describes, checked: arrows only point down.
const ROOT = join(import.meta.dir, '..')
const SRC = join(ROOT, 'src')

/**
 * Each area of src/ (a folder, or a top-level file) with its layer: an area imports only from its own
 * layer's areas below it in this list. Services never see plugins or views; views see services' types only.
 */
const LAYERS: readonly (readonly string[])[] = [
	['db', 'errors', 'paths'],
	['lib', 'config'],
	['secrets'],
	['runtime'],
	['providers'],
	['auth'],
	['keys'],
	['request-log'],
	['rules', 'analytics', 'budgets'],
	['observability'],
	['gateway'],
	['views'],
	['plugins'],
	['deps'],
	['app'],
	['index'],
]
const SERVICES = [
	'runtime',
	'providers',
	'auth',
	'keys',
	'request-log',
	'rules',
	'analytics',
	'budgets',
	'observability',
	'gateway',
	'lib',
]
/** The plugin modules every controller may use; a feature plugin never imports another feature plugin. */
const SHARED_PLUGIN_MODULES = ['forms', 'request-info', 'session', 'client-address', 'budget-model']

interface Import {
	from: string
	specifier: string
	typeOnly: boolean
	/** The imported file's area, for a relative import inside the project. */
	area: string | null
	target: string | null
}

function areaOf(path: string): string {
	const inside = relative(ROOT, path)
	if (inside.startsWith('db/')) return 'db'
	const [first = '', second] = relative(SRC, path).split('/')
	return second === undefined ? first.replace(/\.tsx?$/, '') : first
}

const sourceFiles = [...new Glob('**/*.{ts,tsx}').scanSync(SRC)].map((file) => join(SRC, file))

async function importsOf(file: string): Promise<Import[]> {
	const text = await Bun.file(file).text()
	return [...text.matchAll(/^import (type )?[^;]*?from '([^']+)'/gms)].map((match) => {
		const specifier = match[2] ?? ''
		const target = specifier.startsWith('.') ? resolve(dirname(file), specifier) : null
		return {
			from: relative(ROOT, file),
			specifier,
			typeOnly: Boolean(match[1]),
			target,
			area: target ? areaOf(target) : null,
		}
	})
}

const allImports = (await Promise.all(sourceFiles.map(importsOf))).flat()
const layerOf = (area: string) => LAYERS.findIndex((layer) => layer.includes(area))

describe('the source layout', () => {
	it('puts every area of src/ in a layer', () => {
		const areas = [...new Set(sourceFiles.map(areaOf))]
		expect(areas.filter((area) => layerOf(area) === -1)).toEqual([])
	})

	it('has imports that only point down or within an area', () => {
		const upward = allImports
			.filter((i) => i.area !== null && i.area !== areaOf(join(ROOT, i.from)))
			.filter((i) => layerOf(i.area ?? '') >= layerOf(areaOf(join(ROOT, i.from))))
			.map((i) => `${i.from} → ${i.specifier}`)
		expect(upward).toEqual([])
	})

	it('keeps Elysia out of the services', () => {
		const framework = allImports
			.filter((i) => SERVICES.includes(areaOf(join(ROOT, i.from))))
			.filter((i) => i.specifier === 'elysia' || i.specifier.startsWith('@elysiajs/'))
			.map((i) => `${i.from} → ${i.specifier}`)
		expect(framework).toEqual([])
	})

	it('lets views import only types from outside the views', () => {
		const values = allImports
			.filter((i) => areaOf(join(ROOT, i.from)) === 'views' && i.area !== null && i.area !== 'views')
			.filter((i) => !i.typeOnly)
			.map((i) => `${i.from} → ${i.specifier}`)
		expect(values).toEqual([])
	})

	it('keeps JSX out of the plugins', () => {
		const tsx = sourceFiles.filter((file) => areaOf(file) === 'plugins' && file.endsWith('.tsx'))
		expect(tsx.map((file) => relative(ROOT, file))).toEqual([])
	})

	it('keeps each feature plugin from importing another', () => {
		const pluginOf = (path: string) =>
			relative(join(SRC, 'plugins'), path)
				.split('/')[0]
				?.replace(/\.tsx?$/, '')
		const crossing = allImports
			.filter((i) => areaOf(join(ROOT, i.from)) === 'plugins' && i.area === 'plugins' && i.target)
			.filter((i) => {
				const from = pluginOf(join(ROOT, i.from))
				const to = pluginOf(i.target ?? '')
				return from !== to && !SHARED_PLUGIN_MODULES.includes(to ?? '')
			})
			.map((i) => `${i.from} → ${i.specifier}`)
		expect(crossing).toEqual([])
	})
})

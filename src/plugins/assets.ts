import { Elysia } from 'elysia'
import { readText } from '../lib/files'
import { projectPath } from '../paths'

interface Asset {
	body: string
	type: string
}

/**
 * The browser scripts, served from node_modules (pinned by the lockfile) and our own two files.
 * Read once at start: a fixed list of files, so nothing else in node_modules is reachable.
 */
const ASSET_FILES: Record<string, { path: string; type: string }> = {
	'htmx.js': { path: projectPath('node_modules/htmx.org/dist/htmx.min.js'), type: 'text/javascript' },
	'alpine.js': { path: projectPath('node_modules/alpinejs/dist/cdn.min.js'), type: 'text/javascript' },
	'chart.js': { path: projectPath('node_modules/chart.js/dist/chart.umd.min.js'), type: 'text/javascript' },
	'app.js': { path: projectPath('src/views/assets/app.js'), type: 'text/javascript' },
	'app.css': { path: projectPath('src/views/assets/app.css'), type: 'text/css' },
	'favicon.svg': { path: projectPath('src/views/assets/favicon.svg'), type: 'image/svg+xml' },
}

export const assetsPlugin = () => {
	const assets = new Map<string, Asset>()
	for (const [name, file] of Object.entries(ASSET_FILES)) {
		assets.set(name, { body: readText(file.path), type: `${file.type}; charset=utf-8` })
	}
	const serve = (name: string) => {
		const asset = assets.get(name)
		if (!asset) return new Response('Not found', { status: 404 })
		return new Response(asset.body, {
			headers: { 'content-type': asset.type, 'cache-control': 'public, max-age=3600' },
		})
	}
	return new Elysia({ name: 'assets' })
		.get('/assets/:name', function serveAsset({ params }) {
			return serve(params.name)
		})
		.get('/favicon.ico', function serveFavicon() {
			return serve('favicon.svg')
		})
}

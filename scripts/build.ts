// The server as users run it: one bundle of the sources and their dependencies, built by `bun start` and
// the Docker image. Against `bun src/index.ts` it saves Bun transpiling and keeping every module apart:
// less memory under load, the same code (docs/performance.md, "Peak memory").
import { join } from 'node:path'

const ROOT = join(import.meta.dir, '..')

/**
 * Writes `index.js`, the log writer thread's `log-worker.js` and the OpenTelemetry tracer's `otel.js`
 * (loaded only when traces are configured, so that a server without them never holds the SDK's code) side
 * by side in `outdir`, with linked source maps so that stack traces name the source files. `outdir` must
 * sit directly in the project folder: the bundle finds the migrations and the browser assets from there
 * (`src/paths.ts`).
 */
export async function buildServer(outdir = join(ROOT, 'dist')) {
	const result = await Bun.build({
		entrypoints: [
			join(ROOT, 'src/index.ts'),
			join(ROOT, 'src/request-log/log-worker.ts'),
			join(ROOT, 'src/observability/otel.ts'),
		],
		outdir,
		target: 'bun',
		naming: { entry: '[name].[ext]' },
		sourcemap: 'linked',
	})
	if (!result.success) throw new AggregateError(result.logs, 'the server bundle did not build')
	return join(outdir, 'index.js')
}

if (import.meta.main) await buildServer(process.argv[2])

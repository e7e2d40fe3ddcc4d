import { fileURLToPath } from 'node:url'

/**
 * A path inside the project folder. Found from this module's own place, one level below the project: in
 * `src/` when run from source, and in `dist/` when run from the bundle (`bun run build`), where this
 * module's code sits inside `dist/index.js`.
 */
export const projectPath = (relative: string) => fileURLToPath(new URL(`../${relative}`, import.meta.url))

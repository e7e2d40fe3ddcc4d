import {
	chmodSync,
	existsSync,
	mkdirSync,
	readFileSync,
	renameSync,
	rmSync,
	statSync,
	writeFileSync,
} from 'node:fs'
import { dirname } from 'node:path'

/** File access in one thin module, so a port away from Bun/Node touches one place. */
export const fileExists = (path: string) => existsSync(path)

export const readText = (path: string) => readFileSync(path, 'utf8')

/** Removes a file; a missing one is not an error. */
export const removeFile = (path: string) => rmSync(path, { force: true })

export function ensureDir(path: string) {
	mkdirSync(path, { recursive: true })
}

/** Writes through a temp file and a rename, so a reader never sees half a file. */
export function writeFileAtomic(path: string, content: string, mode = 0o644) {
	ensureDir(dirname(path))
	const temp = `${path}.${process.pid}.${Date.now()}.tmp`
	writeFileSync(temp, content, { mode })
	chmodSync(temp, mode)
	renameSync(temp, path)
}

/** Size and modification time, for noticing a change without reading the file; '' when it is missing. */
export function fileSignature(path: string): string {
	try {
		const { size, mtimeMs } = statSync(path)
		return `${size}:${mtimeMs}`
	} catch {
		return ''
	}
}

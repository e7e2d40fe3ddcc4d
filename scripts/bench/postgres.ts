/**
 * PostgreSQL for the benchmark (`--postgres <url>` or BENCH_DATABASE_URL): a fresh database per
 * deployment, created from the given URL's connection and dropped after the run, so that runs never see
 * each other's rows; the request log's rows counted after the instances stopped; and the CPU time of the
 * PostgreSQL server's processes, read from /proc like the other processes' (a local server only).
 */
import { readdirSync, readFileSync } from 'node:fs'
import { SQL } from 'bun'
import { cpuMs } from './processes'

/** `url` with its database replaced by `database` (user, password, host and parameters kept). */
export function databaseUrl(url: string, database: string): string {
	const parsed = new URL(url)
	parsed.pathname = `/${database}`
	return parsed.toString()
}

/** The URL with its password replaced, for printing. */
export function redacted(url: string): string {
	const parsed = new URL(url)
	if (parsed.password) parsed.password = '***'
	return parsed.toString()
}

/** Whether the server runs on this machine, so its processes' CPU can be read from /proc. */
export function isLocal(url: string): boolean {
	const host = new URL(url).hostname
	return host === '127.0.0.1' || host === 'localhost' || host === '[::1]' || host === '::1' || host === ''
}

async function withConnection<T>(url: string, work: (sql: SQL) => Promise<T>): Promise<T> {
	const sql = new SQL(url, { max: 1, connectionTimeout: 10 })
	try {
		return await work(sql)
	} finally {
		await sql.close()
	}
}

/** `name` is the benchmark's own (`switchyard_bench_…`): letters, digits and underscores only. */
function identifier(name: string): string {
	if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`not a plain database name: ${name}`)
	return `"${name}"`
}

/** The server's version, and whether the URL's role may create databases: checked before anything starts. */
export async function checkServer(url: string): Promise<string> {
	return withConnection(url, async (sql) => {
		const [row] = (await sql`
			SELECT current_setting('server_version') AS version,
				(SELECT rolcreatedb OR rolsuper FROM pg_roles WHERE rolname = current_user) AS may_create`) as {
			version: string
			may_create: boolean
		}[]
		if (!row?.may_create)
			throw new Error(
				'the role of the PostgreSQL URL may not create databases (CREATEDB): the benchmark needs to',
			)
		return row.version
	})
}

/** Creates the empty database `name` through `url`'s connection; returns the URL of the new database. */
export async function createDatabase(url: string, name: string): Promise<string> {
	await withConnection(url, (sql) => sql.unsafe(`CREATE DATABASE ${identifier(name)}`))
	return databaseUrl(url, name)
}

/** Drops `name`, closing any connection still open on it. */
export async function dropDatabase(url: string, name: string): Promise<void> {
	await withConnection(url, (sql) => sql.unsafe(`DROP DATABASE IF EXISTS ${identifier(name)} WITH (FORCE)`))
}

export interface PostgresLogRows {
	rows: number
	rowsByStatus: Record<string, number>
	/** The database's size on disk (tables, indexes, TOAST), after the run. */
	databaseBytes: number
}

/** The `request_log` rows in the database at `url`, by status. */
export async function countLogRows(url: string): Promise<PostgresLogRows> {
	return withConnection(url, async (sql) => {
		const counts = (await sql`
			SELECT status, count(*)::int AS n FROM request_log GROUP BY status ORDER BY status`) as {
			status: number
			n: number
		}[]
		const [size] = (await sql`SELECT pg_database_size(current_database())::float8 AS bytes`) as {
			bytes: number
		}[]
		const rowsByStatus: Record<string, number> = {}
		for (const { status, n } of counts) rowsByStatus[status] = n
		return {
			rows: counts.reduce((sum, { n }) => sum + n, 0),
			rowsByStatus,
			databaseBytes: size?.bytes ?? Number.NaN,
		}
	})
}

/** CPU time of the PostgreSQL server's processes, in ms, by process. */
export interface PostgresCpu {
	/** Connections to the benchmark's databases (the instances' pools): exactly the benchmark's work. */
	backends: Map<number, number>
	/**
	 * The server's own processes: the postmaster, WAL writer, checkpointer, background writer, autovacuum.
	 * They serve every database on the server, so another user's work shows up here too.
	 */
	background: Map<number, number>
}

/**
 * Reads the CPU time of every PostgreSQL process on this machine that works for `databases`, or for the
 * server as a whole. Connections are told apart by their process title
 * (`postgres: <cluster>: <user> <database> <host>(<port>) <state>`, with `update_process_title` on, as by
 * default); connections to other databases are left out, as someone else's work.
 */
export function postgresCpu(databases: readonly string[]): PostgresCpu {
	const cpu: PostgresCpu = { backends: new Map(), background: new Map() }
	let entries: string[]
	try {
		entries = readdirSync('/proc')
	} catch {
		return cpu
	}
	for (const entry of entries) {
		if (!/^\d+$/.test(entry)) continue
		const pid = Number(entry)
		try {
			if (readFileSync(`/proc/${pid}/comm`, 'utf8').trim() !== 'postgres') continue
			const title = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').trim()
			const ms = cpuMs(pid)
			const child = /^postgres: (?:\S+: )?(.*)$/.exec(title)
			if (!child) {
				cpu.background.set(pid, ms) // the postmaster
				continue
			}
			const client = /^(\S+) (\S+) (\S+\(\d+\)|\[local\])/.exec(child[1] ?? '')
			if (!client) cpu.background.set(pid, ms)
			else if (databases.includes(client[2] ?? '')) cpu.backends.set(pid, ms)
		} catch {
			// The process ended meanwhile.
		}
	}
	return cpu
}

/** CPU spent between two readings, in ms; processes that started meanwhile count from zero. */
export function postgresCpuSpent(before: PostgresCpu, after: PostgresCpu) {
	const spent = (a: Map<number, number>, b: Map<number, number>) => {
		let sum = 0
		for (const [pid, ms] of b) sum += ms - (a.get(pid) ?? 0)
		return sum
	}
	return {
		backendsMs: spent(before.backends, after.backends),
		backgroundMs: spent(before.background, after.background),
	}
}

import { describe, expect, it } from 'bun:test'
import {
	getTableColumns,
	getTableName,
	type InferInsertModel,
	type InferSelectModel,
	type Table,
} from 'drizzle-orm'
import * as sqlite from '../../db/schema'
import * as pg from '../../db/schema-pg'
import type { Door } from '../../src/observability/gateway-metrics'

/** Tables only PostgreSQL has, for what one SQLite process keeps in memory, with the reason in schema-pg.ts. */
type PostgresOnly = 'rateLimitBuckets' | 'keyLimitState'
const POSTGRES_ONLY = ['rate_limit_buckets', 'key_limit_state']

type Same<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false
type Twins = {
	[Name in Exclude<keyof typeof pg, PostgresOnly>]: (typeof pg)[Name] extends Table
		? Name extends keyof typeof sqlite
			? (typeof sqlite)[Name] extends Table
				? Same<InferSelectModel<(typeof pg)[Name]>, InferSelectModel<(typeof sqlite)[Name]>> extends true
					? Same<InferInsertModel<(typeof pg)[Name]>, InferInsertModel<(typeof sqlite)[Name]>>
					: false
				: false
			: false
		: true
}
// Fails to compile when a table's row type differs between the dialects: one code path serves both.
const sameRowTypes: { [Name in keyof Twins]: true } = {} as Twins
void sameRowTypes
// The log's doors are the metrics' doors: a door added to one and not the other fails to compile.
const sameDoors: Same<sqlite.Door, Door> = true
void sameDoors

const tablesOf = (module: Record<string, unknown>) =>
	Object.values(module).filter(
		(value): value is Table =>
			typeof value === 'object' &&
			value !== null &&
			getTableColumns(value as Table) !== undefined &&
			Symbol.for('drizzle:Name') in (value as object),
	)

const shape = (table: Table) =>
	Object.values(getTableColumns(table))
		.map(
			(column) =>
				`${column.name} ${column.notNull ? 'not null' : 'null'}${column.hasDefault ? ' default' : ''}`,
		)
		.sort()

describe('the two database schemas', () => {
	it('have the same tables, with the same columns, nullability and defaults', () => {
		const byName = (tables: Table[]) =>
			Object.fromEntries(tables.map((table) => [getTableName(table), shape(table)]))
		const sqliteTables = byName(tablesOf(sqlite))
		expect(Object.keys(sqliteTables).length).toBeGreaterThan(5)
		const pgTables = byName(tablesOf(pg).filter((table) => !POSTGRES_ONLY.includes(getTableName(table))))
		expect(pgTables).toEqual(sqliteTables)
	})
})

/**
 * Parsing monitor requests (RFC 7047 §4.1.5 "monitor", ovsdb-server(7) §4.1.12 "monitor_cond" and §4.1.15
 * "monitor_cond_since") into per-table specifications: which columns, which kinds of change, and which rows.
 */
import {
  type ColumnSchema,
  type Condition,
  compileCondition,
  type DatabaseSchema,
  type Row,
  type TableSchema,
} from '../ovsdb/index.js'
import {MethodError, syntaxError} from './errors.js'

/** Which kinds of change a monitor reports (RFC 7047 <monitor-select>); all default to true. */
export interface MonitorSelect {
  initial: boolean
  insert: boolean
  delete: boolean
  modify: boolean
}

/**
 * A monitor's rows of one table: `null` means every row. Clauses are ORed (ovsdb-server(7) §4.1.12 "rows
 * matching one of the conditions"); an absent or empty "where" is true (§5.1).
 */
export type RowFilter = ((row: Row) => boolean) | null

/** What a monitor watches in one table. */
export interface TableMonitorSpec {
  readonly table: TableSchema
  readonly columns: readonly ColumnSchema[]
  readonly select: MonitorSelect
  filter: RowFilter
  /** The "where" JSON as the client sent it, kept for sharing and for condition changes. */
  where: unknown[] | null
}

/** Protocol generation of a monitor: 1 = monitor/update, 2 = monitor_cond/update2, 3 = monitor_cond_since/update3. */
export type MonitorVersion = 1 | 2 | 3

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function parseSelect(json: unknown): MonitorSelect {
  const select = {initial: true, insert: true, delete: true, modify: true}
  if (json === undefined) return select
  if (!isObject(json)) throw syntaxError('<monitor-select> must be an object', json)
  for (const key of Object.keys(json)) {
    if (!(key in select)) throw syntaxError(`${key} is not a valid <monitor-select> member`, json)
    if (typeof json[key] !== 'boolean') throw syntaxError(`${key} must be a boolean`, json)
    select[key as keyof MonitorSelect] = json[key] as boolean
  }
  return select
}

function parseColumns(table: TableSchema, json: unknown): ColumnSchema[] {
  if (json === undefined) {
    // Without "columns", every column but _uuid is monitored (observed on OVS 3.1: _version is included).
    return [...table.columns.values(), table.column('_version')!]
  }
  if (!Array.isArray(json)) throw syntaxError('"columns" must be an array of column names', json)
  const out: ColumnSchema[] = []
  for (const name of json) {
    const column = typeof name === 'string' ? table.column(name) : undefined
    if (column === undefined) throw syntaxError(`${String(name)} is not a valid column name`, json)
    if (!out.includes(column)) out.push(column)
  }
  return out
}

/** Compiles a monitor "where" array into a row filter: clauses ORed, empty means every row. */
export function compileWhere(table: TableSchema, where: unknown): RowFilter {
  if (where === undefined || where === null) return null
  if (!Array.isArray(where)) throw syntaxError('"where" must be an array of conditions', where)
  if (where.length === 0) return null
  const clauses: Condition[] = []
  for (const clause of where) {
    if (clause === true) return null
    if (clause === false) continue
    clauses.push(compileClause(table, clause))
  }
  if (clauses.length === 0) return () => false
  if (clauses.length === 1) {
    const only = clauses[0]
    return (row) => only.matches(row)
  }
  // A loop, not clauses.some(): a closure per row tested was garbage per monitor and commit.
  return (row) => {
    for (let i = 0; i < clauses.length; i++) if (clauses[i].matches(row)) return true
    return false
  }
}

function compileClause(table: TableSchema, clause: unknown): Condition {
  try {
    return compileCondition(table, [clause])
  } catch (err) {
    if (err instanceof MethodError) throw err
    const e = err as {error?: string; details?: string; message: string}
    throw new MethodError(e.error ?? 'syntax error', e.details ?? e.message, clause)
  }
}

function parseOneRequest(table: TableSchema, json: unknown, version: MonitorVersion): TableMonitorSpec {
  if (!isObject(json)) throw syntaxError('<monitor-request> must be an object', json)
  if (version === 1 && 'where' in json) throw syntaxError('"where" is not allowed in a "monitor" request', json)
  const where = json.where === undefined ? null : (json.where as unknown[])
  return {
    table,
    columns: parseColumns(table, json.columns),
    select: parseSelect(json.select),
    filter: compileWhere(table, where ?? undefined),
    where,
  }
}

/** Merges several requests for one table: columns united, selections ORed, conditions ORed. */
function mergeRequests(specs: TableMonitorSpec[]): TableMonitorSpec {
  if (specs.length === 1) return specs[0]
  const columns: ColumnSchema[] = []
  for (const spec of specs) for (const c of spec.columns) if (!columns.includes(c)) columns.push(c)
  const select = {initial: false, insert: false, delete: false, modify: false}
  for (const spec of specs) for (const k of Object.keys(select) as (keyof MonitorSelect)[]) select[k] ||= spec.select[k]
  const filters = specs.map((s) => s.filter)
  const filter: RowFilter = filters.includes(null)
    ? null
    : (row) => {
        for (let i = 0; i < filters.length; i++) if (filters[i]!(row)) return true
        return false
      }
  const where = filters.includes(null) ? null : specs.flatMap((s) => s.where ?? [])
  return {table: specs[0].table, columns, select, filter, where}
}

/** Parses <monitor-requests> (v1) or <monitor-cond-requests> (v2, v3) for database `schema`. */
export function parseMonitorRequests(
  schema: DatabaseSchema,
  json: unknown,
  version: MonitorVersion,
): Map<string, TableMonitorSpec> {
  if (!isObject(json)) throw syntaxError('<monitor-requests> must be an object', json)
  const specs = new Map<string, TableMonitorSpec>()
  for (const [name, request] of Object.entries(json)) {
    const table = schema.tables.get(name)
    if (table === undefined) throw new MethodError('syntax error', `no table named ${name}`)
    const list = Array.isArray(request) ? request : [request]
    if (version !== 1 && !Array.isArray(request)) {
      throw syntaxError(`<monitor-cond-request> for table ${name} must be an array`, request)
    }
    if (list.length === 0) continue
    specs.set(name, mergeRequests(list.map((r) => parseOneRequest(table, r, version))))
  }
  return specs
}

/**
 * Online schema conversion (ovsdb-server(7) §4.1.19 "convert"): the rows of a database re-read under a new
 * schema. Tables and columns the new schema lacks are dropped, columns it adds take their defaults, and every
 * constraint of the new schema applies in full: the rows are inserted, with their UUIDs, into an empty
 * database of the new schema by one transaction, so the engine checks them as it checks any commit.
 */
import {Database, DatabaseSchema, datumToJSON, executeTransaction, type TxnEnv} from '../ovsdb/index.js'
import {MethodError} from './errors.js'

/** Converts `db` to the schema `json`; throws a MethodError naming what does not fit. */
export function convertDatabase(db: Database, json: unknown, env: TxnEnv): Database {
  let schema: DatabaseSchema
  try {
    schema = DatabaseSchema.fromJSON(json)
  } catch (err) {
    throw new MethodError('syntax error', `invalid schema: ${(err as Error).message}`)
  }
  if (schema.name !== db.schema.name) {
    throw new MethodError('syntax error', `new schema name (${schema.name}) does not match database name (${db.schema.name})`)
  }
  const ops: object[] = []
  for (const table of schema.tables.values()) {
    const old = db.schema.tables.get(table.name)
    if (old === undefined) continue
    const shared = [...table.columns.values()].filter((c) => old.columns.has(c.name))
    for (const row of db.table(table.name).rows.values()) {
      const values: Record<string, unknown> = {}
      for (const c of shared) values[c.name] = datumToJSON(old.columns.get(c.name)!.type, row.columns[c.name])
      ops.push({op: 'insert', table: table.name, uuid: row.uuid, row: values})
    }
  }
  const converted = new Database(schema)
  const outcome = executeTransaction(converted, ops, env)
  if (outcome.kind !== 'committed') {
    const error = outcome.kind === 'failed' ? outcome.results.find((r) => r && typeof r === 'object' && 'error' in r) : undefined
    const e = (error ?? {error: 'constraint violation'}) as {error: string; details?: string}
    throw new MethodError(e.error, `data does not fit the new schema: ${e.details ?? e.error}`)
  }
  if (outcome.changes) converted.commit(outcome.changes)
  return converted
}

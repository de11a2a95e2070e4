/**
 * Turning what a source server sends a relay or a backup into row changes of its own database: the
 * <table-updates2> of a monitor_cond_since reply and of "update3" notifications (ovsdb-server(7) §4.1.14,
 * §4.1.15). Rows keep the source's uuids; a full snapshot becomes the difference from what is held, so that
 * clients of the relay see only what changed while it was away.
 */
import {
  applyDatumDiff,
  type Changes,
  type Database,
  type DatabaseSchema,
  datumEquals,
  datumFromJSON,
  makeRow,
  type Row,
  type RowChange,
  type TableSchema,
} from '../ovsdb/index.js'

/** What the source sent cannot be applied to the replica (a bug or a schema mismatch): resynchronise. */
export class ReplicaMismatchError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'ReplicaMismatchError'
  }
}

function tableOf(db: Database, name: string): TableSchema {
  const ts = db.schema.tables.get(name)
  if (ts === undefined) throw new ReplicaMismatchError(`the source sent rows of table "${name}", which the replica's schema does not have`)
  return ts
}

function objectOf(json: unknown, what: string): Record<string, unknown> {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new ReplicaMismatchError(`${what} is not a JSON object: ${JSON.stringify(json)}`)
  return json as Record<string, unknown>
}

/** A whole row from an "initial" or "insert" body (absent columns take their defaults, ovsdb-server(7) §4.1.14). */
function wholeRow(ts: TableSchema, uuid: string, body: Record<string, unknown>, version: string): Row {
  const columns = ts.newColumns()
  for (const [name, value] of Object.entries(body)) {
    if (name === '_version' || name === '_uuid') continue // the replica keeps versions of its own
    const c = ts.columns.get(name)
    if (c === undefined) throw new ReplicaMismatchError(`the source sent column "${name}" of table "${ts.name}", which the replica's schema does not have`)
    columns[name] = datumFromJSON(c.type, value)
  }
  return makeRow(uuid, version, columns)
}

/** A row with a "modify" diff applied; a set or map diff may exceed the column's bounds (old and new elements). */
function modifiedRow(ts: TableSchema, old: Row, body: Record<string, unknown>, version: string): Row {
  const columns = {...old.columns}
  for (const [name, value] of Object.entries(body)) {
    if (name === '_version' || name === '_uuid') continue
    const c = ts.columns.get(name)
    if (c === undefined) throw new ReplicaMismatchError(`the source modified column "${name}" of table "${ts.name}", which the replica's schema does not have`)
    columns[name] = applyDatumDiff(c.type, old.columns[name]!, datumFromJSON({...c.type, min: 0, max: Infinity}, value))
  }
  return makeRow(old.uuid, version, columns)
}

/**
 * The changes that <table-updates2> of one source commit make to `db` (not yet committed). A "modify" or
 * "delete" of a row the replica does not hold means it missed something: ReplicaMismatchError.
 */
export function updatesToChanges(db: Database, updates: unknown, newVersion: () => string): Changes {
  const changes: Changes = new Map()
  for (const [table, rowsJson] of Object.entries(objectOf(updates, '<table-updates2>'))) {
    const ts = tableOf(db, table)
    const held = db.table(table).rows
    const rows = new Map<string, RowChange>()
    for (const [uuid, updateJson] of Object.entries(objectOf(rowsJson, `<table-update2> of "${table}"`))) {
      const update = objectOf(updateJson, `<row-update2> of ${table} row ${uuid}`)
      const old = rows.get(uuid)?.new ?? held.get(uuid) ?? null
      const change = rowChange(ts, uuid, old, update, newVersion)
      const first = rows.get(uuid)?.old ?? held.get(uuid) ?? null
      rows.set(uuid, {old: first, new: change})
    }
    if (rows.size > 0) changes.set(table, rows)
  }
  return changes
}

function rowChange(ts: TableSchema, uuid: string, old: Row | null, update: Record<string, unknown>, newVersion: () => string): Row | null {
  if ('initial' in update || 'insert' in update) {
    return wholeRow(ts, uuid, objectOf(update.initial ?? update.insert, `row ${uuid} of "${ts.name}"`), newVersion())
  }
  if ('delete' in update) {
    if (old === null) throw new ReplicaMismatchError(`the source deleted ${ts.name} row ${uuid}, which the replica does not hold`)
    return null
  }
  if ('modify' in update) {
    if (old === null) throw new ReplicaMismatchError(`the source modified ${ts.name} row ${uuid}, which the replica does not hold`)
    return modifiedRow(ts, old, objectOf(update.modify, `modify of ${ts.name} row ${uuid}`), newVersion())
  }
  throw new ReplicaMismatchError(`<row-update2> of ${ts.name} row ${uuid} is none of initial, insert, modify, delete: ${JSON.stringify(update)}`)
}

function sameContent(ts: TableSchema, a: Row, b: Row): boolean {
  for (const name of ts.columns.keys()) {
    if (name === '_uuid' || name === '_version') continue
    if (!datumEquals(a.columns[name]!, b.columns[name]!)) return false
  }
  return true
}

/**
 * The changes that turn the monitored `tables` of `db` into a full snapshot (the initial contents of a monitor
 * the source could not resume): rows the snapshot lacks are deleted, rows whose content is unchanged are kept
 * as they are, so that clients hear only of real differences.
 */
export function snapshotToChanges(db: Database, tables: Iterable<string>, snapshot: unknown, newVersion: () => string): Changes {
  const given = objectOf(snapshot, '<table-updates2>')
  const changes: Changes = new Map()
  for (const table of tables) {
    const ts = tableOf(db, table)
    const held = db.table(table).rows
    const incoming = given[table] === undefined ? {} : objectOf(given[table], `<table-update2> of "${table}"`)
    const rows = new Map<string, RowChange>()
    for (const [uuid, updateJson] of Object.entries(incoming)) {
      const update = objectOf(updateJson, `<row-update2> of ${table} row ${uuid}`)
      const row = wholeRow(ts, uuid, objectOf(update.initial ?? update.insert, `row ${uuid} of "${table}"`), newVersion())
      const old = held.get(uuid) ?? null
      if (old !== null && sameContent(ts, old, row)) continue
      rows.set(uuid, {old, new: row})
    }
    for (const [uuid, old] of held) if (!Object.hasOwn(incoming, uuid)) rows.set(uuid, {old, new: null})
    if (rows.size > 0) changes.set(table, rows)
  }
  for (const table of Object.keys(given)) tableOf(db, table)
  return changes
}

/** The columns a relay or backup asks the source for, per followed table: all but _uuid and _version. */
export function followedColumns(schema: DatabaseSchema, tables: Iterable<string>): Map<string, string[]> {
  const out = new Map<string, string[]>()
  for (const table of tables) {
    out.set(table, [...schema.tables.get(table)!.columns.keys()].filter((c) => c !== '_uuid' && c !== '_version'))
  }
  return out
}

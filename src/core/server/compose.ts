/**
 * Composing monitor contents: <table-updates> (RFC 7047 §4.1.6) and <table-updates2> (ovsdb-server(7)
 * §4.1.14) for a table, from initial rows or from one commit's row changes.
 */
import {
  type ColumnSchema,
  type Datum,
  datumDiff,
  datumEquals,
  datumToJSON,
  defaultDatum,
  type Row,
  type RowChange,
} from '../ovsdb/index.js'
import type {MonitorVersion, TableMonitorSpec} from './monitor-request.js'

const defaults = new WeakMap<ColumnSchema, Datum>()

function defaultOf(column: ColumnSchema): Datum {
  let d = defaults.get(column)
  if (d === undefined) {
    d = defaultDatum(column.type)
    defaults.set(column, d)
  }
  return d
}

/** The value of a column of a row, including the implicit _uuid and _version columns. */
export function cellOf(row: Row, column: ColumnSchema): Datum {
  const cell = row.columns[column.name]
  if (cell !== undefined) return cell
  if (column.name === '_uuid') return {keys: [row.uuid]}
  if (column.name === '_version') return {keys: [row.version]}
  throw new Error(`assertion failed: row ${row.uuid} has no column "${column.name}"`)
}

/** A row as <row> JSON with the given columns; `skipDefaults` omits default values (update2 insert/initial). */
export function rowJSON(row: Row, columns: readonly ColumnSchema[], skipDefaults: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const column of columns) {
    const cell = cellOf(row, column)
    if (skipDefaults && datumEquals(cell, defaultOf(column))) continue
    out[column.name] = datumToJSON(column.type, cell)
  }
  return out
}

/** The row-update for the initial contents of a monitor, or null when the row is not selected. */
export function initialRowUpdate(spec: TableMonitorSpec, row: Row, version: MonitorVersion): object | null {
  if (spec.filter !== null && !spec.filter(row)) return null
  if (version === 1) return {new: rowJSON(row, spec.columns, false)}
  return {initial: rowJSON(row, spec.columns, true)}
}

function changedColumns(spec: TableMonitorSpec, old: Row, now: Row): ColumnSchema[] {
  const out: ColumnSchema[] = []
  for (const column of spec.columns) {
    if (column.name === '_uuid') continue
    if (!datumEquals(cellOf(old, column), cellOf(now, column))) out.push(column)
  }
  return out
}

/**
 * The row-update of one committed change for one monitor, or null when the monitor is not told: a change
 * moves a row into the monitored set (insert), out of it (delete), or within it (modify).
 */
export function changeRowUpdate(spec: TableMonitorSpec, change: RowChange, version: MonitorVersion): object | null {
  const {filter} = spec
  const wasIn = change.old !== null && (filter === null || filter(change.old))
  const isIn = change.new !== null && (filter === null || filter(change.new))
  return rowUpdateBetween(spec, change, {wasIn, isIn}, version)
}

/**
 * The row-update of one change once the monitor's condition has been evaluated on the old and new row: it
 * depends on the condition only through `wasIn` and `isIn`, so monitors of different conditions share it.
 */
export function rowUpdateBetween(spec: TableMonitorSpec, change: RowChange, at: {wasIn: boolean; isIn: boolean}, version: MonitorVersion): object | null {
  const {select} = spec
  const {wasIn, isIn} = at
  if (!wasIn && !isIn) return null
  if (!wasIn) {
    if (!select.insert) return null
    return version === 1 ? {new: rowJSON(change.new!, spec.columns, false)} : {insert: rowJSON(change.new!, spec.columns, true)}
  }
  if (!isIn) {
    if (!select.delete) return null
    return version === 1 ? {old: rowJSON(change.old!, spec.columns, false)} : {delete: null}
  }
  if (!select.modify) return null
  const changed = changedColumns(spec, change.old!, change.new!)
  if (changed.length === 0) return null
  if (version === 1) {
    const old: Record<string, unknown> = {}
    for (const column of changed) old[column.name] = datumToJSON(column.type, cellOf(change.old!, column))
    return {old, new: rowJSON(change.new!, spec.columns, false)}
  }
  const modify: Record<string, unknown> = {}
  for (const column of changed) {
    const diff = datumDiff(column.type, cellOf(change.old!, column), cellOf(change.new!, column))
    modify[column.name] = datumToJSON(column.type, diff)
  }
  return {modify}
}

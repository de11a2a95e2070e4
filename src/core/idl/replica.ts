/**
 * A client's replica of monitored tables, kept from <table-updates2> (ovsdb-server(7) §4.1.14): initial and
 * inserted rows are stored whole (absent columns take their defaults), modify diffs are applied with the
 * column's type, deletes remove the row. Each applied row-update is reported as an event with the row's
 * state after it (before it, for a delete).
 */
import {
  applyDatumDiff,
  type ColumnSchema,
  type DatabaseSchema,
  type Datum,
  datumFromJSON,
  datumToJSON,
  defaultDatum,
} from '../ovsdb/index.js'

/** One change as the replica saw it. */
export interface ReplicaEvent {
  table: string
  uuid: string
  action: 'initial' | 'insert' | 'modify' | 'delete'
  /** The row's columns (OVSDB JSON), after the change; before it for a delete. */
  row: Record<string, unknown>
  /** For modify: the columns that changed. */
  changed?: string[]
}

/** Replicated rows of the monitored tables. */
export class Replica {
  private readonly tables = new Map<string, Map<string, Map<string, Datum>>>()

  constructor(
    readonly schema: DatabaseSchema,
    private readonly columns: Map<string, ColumnSchema[]>,
  ) {
    for (const table of columns.keys()) this.tables.set(table, new Map())
  }

  /** Number of rows held. */
  get size(): number {
    let n = 0
    for (const rows of this.tables.values()) n += rows.size
    return n
  }

  /** The columns held for `table` (undefined when it is not replicated). */
  columnsOf(table: string): readonly ColumnSchema[] | undefined {
    return this.columns.get(table)
  }

  /** UUIDs of the rows held in `table`. */
  uuids(table: string): string[] {
    return [...(this.tables.get(table)?.keys() ?? [])]
  }

  /** A row held, as OVSDB JSON per column; undefined when it is not held. */
  row(table: string, uuid: string): Record<string, unknown> | undefined {
    const row = this.tables.get(table)?.get(uuid)
    return row === undefined ? undefined : this.json(this.columns.get(table)!, row)
  }

  /** Applies <table-updates2>; returns what changed, in order. */
  apply(updates: Record<string, Record<string, Record<string, unknown>>>): ReplicaEvent[] {
    const events: ReplicaEvent[] = []
    for (const [table, rows] of Object.entries(updates)) {
      const columns = this.columns.get(table)
      const held = this.tables.get(table)
      if (!columns || !held) continue
      for (const [uuid, update] of Object.entries(rows)) {
        const event = this.applyRow(table, columns, held, uuid, update)
        if (event) events.push(event)
      }
    }
    return events
  }

  private applyRow(
    table: string,
    columns: ColumnSchema[],
    held: Map<string, Map<string, Datum>>,
    uuid: string,
    update: Record<string, unknown>,
  ): ReplicaEvent | null {
    const action = Object.keys(update)[0] as ReplicaEvent['action']
    const body = update[action] as Record<string, unknown> | null
    if (action === 'delete') {
      const old = held.get(uuid)
      held.delete(uuid)
      return old ? {table, uuid, action, row: this.json(columns, old)} : null
    }
    if (action === 'initial' || action === 'insert') {
      const row = new Map<string, Datum>()
      for (const c of columns) row.set(c.name, body && c.name in body ? datumFromJSON(c.type, body[c.name]) : defaultDatum(c.type))
      held.set(uuid, row)
      return {table, uuid, action, row: this.json(columns, row)}
    }
    const row = held.get(uuid)
    if (!row || !body) return null
    const changed: string[] = []
    for (const c of columns) {
      if (!(c.name in body)) continue
      row.set(c.name, applyDatumDiff(c.type, row.get(c.name)!, datumFromJSON(diffType(c), body[c.name])))
      changed.push(c.name)
    }
    return {table, uuid, action: 'modify', row: this.json(columns, row), changed}
  }

  private json(columns: ColumnSchema[], row: Map<string, Datum>): Record<string, unknown> {
    const out: Record<string, unknown> = {}
    for (const c of columns) out[c.name] = datumToJSON(c.type, row.get(c.name)!)
    return out
  }
}

/** A diff of a set or map may hold more elements than the column allows (old and new ones): widen the bounds. */
function diffType(column: ColumnSchema): ColumnSchema['type'] {
  const t = column.type
  if (t.min === 1 && t.max === 1) return t
  return {...t, min: 0, max: Infinity}
}

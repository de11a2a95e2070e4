/**
 * The monitors of one database and their fan-out per commit. Monitors without conditions share one
 * serialization per shape; conditional monitors (monitor_cond, ovsdb-server(7) §4.1.12) are found through an
 * index of their clauses, so that a commit reaches the clients it concerns without testing every client.
 *
 * Indexed clause shapes: `[column, "==", value]` and `[column, "includes", value]` with a non-empty value.
 * Either can only hold for a row whose column contains the value's first element (for "==", or the empty
 * value, a row whose column is empty), so a monitor whose clauses are all of these shapes is looked up by
 * the elements of the changed rows. Clauses are ORed in monitor conditions (ovsdb-server(7) §4.1.12, as
 * ovsdb_condition_match_any_clause), so every clause of a table must be indexable for the table to be.
 * The index only narrows the candidates: the monitor's own condition still decides.
 */
import {type Atom, type Changes, compileClause, type Database, type Row, type RowChange, rowDatum, type TableSchema} from '../ovsdb/index.js'
import {FragmentCache, type Monitor} from './monitor.js'

/**
 * Rows a commit may change for its conditional monitors to be handed the whole commit: each then tests these few
 * rows itself, which costs less than building the subset of rows that concerns each of them (two maps per
 * monitor per commit, garbage for the young generation at hundreds of clients). Beyond, each gets its subset.
 */
export const defaultWholeCommitRowsMax = 16

/** Rows a commit changes, over all tables. */
function rowsIn(changes: Changes): number {
  let n = 0
  for (const rows of changes.values()) n += rows.size
  return n
}

/** Index key of a column whose value is the empty set or map. */
const emptyKey = '\u0000empty'

/** One index entry: `monitor` wants rows whose `column` holds `key`. */
interface Posting {
  readonly table: string
  readonly column: string
  readonly key: string
}

/** Where a conditional monitor is registered, kept so that it is removed as it was added. */
interface Registration {
  readonly postings: Posting[]
  /** Tables whose every change is handed to the monitor (no condition, or one the index cannot narrow). */
  readonly fullTables: string[]
}

/** The index of one table: column → element → monitors, and the monitors handed every change. */
interface TableIndex {
  readonly columns: Map<string, Map<string, Set<Monitor>>>
  readonly full: Set<Monitor>
}

function atomKey(atom: Atom): string {
  return typeof atom === 'string' ? atom : String(atom)
}

/** The postings of one table's condition, or null when some clause cannot be indexed. */
function postingsOf(table: TableSchema, where: readonly unknown[]): Posting[] | null {
  const out: Posting[] = []
  for (const json of where) {
    if (json === false) continue
    const clause = compileClause(table, json)
    if ('constant' in clause) return null
    const {column, fn, arg} = clause
    if (fn === '==') out.push({table: table.name, column: column.name, key: arg.keys.length === 0 ? emptyKey : atomKey(arg.keys[0])})
    else if (fn === 'includes' && arg.keys.length > 0) out.push({table: table.name, column: column.name, key: atomKey(arg.keys[0])})
    else return null
  }
  return out
}

/** The elements of a row's column as index keys. */
function keysOf(row: Row, column: string): string[] {
  const cell = rowDatum(row, column)
  return cell.keys.length === 0 ? [emptyKey] : cell.keys.map(atomKey)
}

/**
 * The rows of one table as monitors were last told of them, by the elements of one column: what a condition
 * change looks up, so that its cost follows the rows it concerns, and its updates match what clients hold.
 */
class PublishedRowIndex {
  private readonly byKey = new Map<string, Map<string, Row>>()

  constructor(
    readonly column: string,
    rows: Iterable<Row>,
  ) {
    for (const row of rows) this.add(row)
  }

  private add(row: Row): void {
    for (const key of keysOf(row, this.column)) {
      let rows = this.byKey.get(key)
      if (rows === undefined) this.byKey.set(key, (rows = new Map()))
      rows.set(row.uuid, row)
    }
  }

  private remove(row: Row): void {
    for (const key of keysOf(row, this.column)) {
      const rows = this.byKey.get(key)
      rows?.delete(row.uuid)
      if (rows?.size === 0) this.byKey.delete(key)
    }
  }

  /** Follows one commit's changes of the table. */
  apply(rows: Map<string, RowChange>): void {
    for (const change of rows.values()) {
      if (change.old !== null) this.remove(change.old)
      if (change.new !== null) this.add(change.new)
    }
  }

  /** Rows whose column holds `key`. */
  rows(key: string): Iterable<Row> {
    return this.byKey.get(key)?.values() ?? []
  }
}

/** Numbers the commits published by every MonitorSet, so that a commit tells each interested monitor once. */
let publishSerial = 0

/** A database's monitors, with the index that finds the conditional ones a commit concerns. */
export class MonitorSet implements Iterable<Monitor> {
  /** Monitors without a condition on any table: they share one serialization per shape. */
  private readonly plain = new Set<Monitor>()
  private readonly conditional = new Map<Monitor, Registration>()
  private readonly tables = new Map<string, TableIndex>()
  /** Published rows by column value (table → column → index), built by the first condition change that needs one. */
  private readonly rowIndexes = new Map<string, Map<string, PublishedRowIndex>>()
  /** Rows up to which a commit is handed whole to each conditional monitor it concerns (see the default). */
  wholeCommitRowsMax = defaultWholeCommitRowsMax
  /** Distinct serializations made by the last commit, for memory/show. */
  lastCompositions = 0

  /** Number of monitors. */
  get size(): number {
    return this.plain.size + this.conditional.size
  }

  /** Number of conditional monitors the index can narrow on at least one table. */
  get indexedCount(): number {
    let n = 0
    for (const r of this.conditional.values()) if (r.postings.length > 0) n++
    return n
  }

  [Symbol.iterator](): Iterator<Monitor> {
    return [...this.plain, ...this.conditional.keys()][Symbol.iterator]()
  }

  /** True if `monitor` is in the set. */
  has(monitor: Monitor): boolean {
    return this.plain.has(monitor) || this.conditional.has(monitor)
  }

  /** Adds a monitor, indexing its conditions as they are now. */
  add(monitor: Monitor): this {
    if (this.has(monitor)) return this
    const specs = [...monitor.tables.values()]
    if (specs.every((s) => s.filter === null)) {
      this.plain.add(monitor)
      return this
    }
    const registration: Registration = {postings: [], fullTables: []}
    for (const [name, spec] of monitor.tables) {
      const postings = spec.filter === null || spec.where === null ? null : postingsOf(spec.table, spec.where)
      if (postings === null) registration.fullTables.push(name)
      else registration.postings.push(...postings)
    }
    for (const name of registration.fullTables) this.tableIndex(name).full.add(monitor)
    for (const p of registration.postings) {
      const byColumn = this.tableIndex(p.table).columns
      let byKey = byColumn.get(p.column)
      if (byKey === undefined) byColumn.set(p.column, (byKey = new Map()))
      let monitors = byKey.get(p.key)
      if (monitors === undefined) byKey.set(p.key, (monitors = new Set()))
      monitors.add(monitor)
    }
    this.conditional.set(monitor, registration)
    return this
  }

  /** Removes a monitor; returns false if it was not in the set. */
  delete(monitor: Monitor): boolean {
    if (this.plain.delete(monitor)) return true
    const registration = this.conditional.get(monitor)
    if (registration === undefined) return false
    this.conditional.delete(monitor)
    for (const name of registration.fullTables) this.tables.get(name)?.full.delete(monitor)
    for (const p of registration.postings) {
      const byKey = this.tables.get(p.table)?.columns.get(p.column)
      const monitors = byKey?.get(p.key)
      monitors?.delete(monitor)
      if (monitors?.size === 0) byKey!.delete(p.key)
      if (byKey?.size === 0) this.tables.get(p.table)!.columns.delete(p.column)
    }
    return true
  }

  private tableIndex(name: string): TableIndex {
    let index = this.tables.get(name)
    if (index === undefined) this.tables.set(name, (index = {columns: new Map(), full: new Set()}))
    return index
  }

  /** Tells every monitor concerned about one commit. */
  publish(changes: Changes, txnId: string): void {
    for (const [table, rows] of changes) for (const index of this.rowIndexes.get(table)?.values() ?? []) index.apply(rows)
    const shared = new Map<string, string | Buffer | null>()
    for (const monitor of this.plain) monitor.notifyCommit(changes, txnId, shared)
    const fragments = new FragmentCache()
    if (this.conditional.size > 0) {
      if (rowsIn(changes) <= this.wholeCommitRowsMax) {
        // Each monitor once, told as the index finds it: a commit number on the monitor, not a Set per commit.
        const serial = ++publishSerial
        this.visitInterested(changes, (monitor) => {
          if (monitor.publishSerial === serial) return
          monitor.publishSerial = serial
          monitor.notifyRows(changes, txnId, fragments)
        })
      }
      else for (const [monitor, rows] of this.interested(changes)) monitor.notifyRows(rows, txnId, fragments)
    }
    let composed = shared.size
    for (const byRow of fragments.rows.values()) for (const slots of byRow.values()) for (const f of slots) if (f !== undefined) composed++
    this.lastCompositions = composed
  }

  /**
   * The rows that may enter or leave a monitor whose condition on `table` changes from `before` to `after`
   * (ovsdb-server(7) §4.1.13), or null when every row must be tested. Clauses are ORed: a row matching a clause
   * both conditions have stays in, so only the rows of the clauses removed or added can move, and when those are
   * all indexable they are looked up rather than found by a scan of the table.
   */
  changeCandidates(db: Database, table: TableSchema, before: readonly unknown[] | null, after: readonly unknown[] | null): Iterable<Row> | null {
    if (before === null || after === null || before.length === 0 || after.length === 0) return null
    const text = (clause: unknown) => JSON.stringify(clause)
    const had = new Set(before.map(text))
    const has = new Set(after.map(text))
    const postings = postingsOf(table, [...before.filter((c) => !has.has(text(c))), ...after.filter((c) => !had.has(text(c)))])
    if (postings === null) return null
    const out = new Map<string, Row>()
    for (const p of postings) for (const row of this.rowIndex(db, table.name, p.column).rows(p.key)) out.set(row.uuid, row)
    return out.values()
  }

  private rowIndex(db: Database, table: string, column: string): PublishedRowIndex {
    let byColumn = this.rowIndexes.get(table)
    if (byColumn === undefined) this.rowIndexes.set(table, (byColumn = new Map()))
    let index = byColumn.get(column)
    if (index === undefined) byColumn.set(column, (index = new PublishedRowIndex(column, db.table(table).rows.values())))
    return index
  }

  /** The conditional monitors a commit may concern, each with the rows it may concern. */
  private interested(changes: Changes): Map<Monitor, Changes> {
    const out = new Map<Monitor, Changes>()
    const rowsOf = (monitor: Monitor, table: string): Map<string, RowChange> => {
      let sub = out.get(monitor)
      if (sub === undefined) out.set(monitor, (sub = new Map()))
      let rows = sub.get(table)
      if (rows === undefined) sub.set(table, (rows = new Map()))
      return rows
    }
    this.visitInterested(changes, (monitor, table, rows, uuid, change) => {
      if (uuid === undefined) {
        let sub = out.get(monitor)
        if (sub === undefined) out.set(monitor, (sub = new Map()))
        sub.set(table, rows)
      } else rowsOf(monitor, table).set(uuid, change!)
    })
    return out
  }

  /**
   * Calls `visit` for each conditional monitor the index finds for a commit: once per table it watches whole
   * (without `uuid`), and once per changed row whose old or new elements one of its clauses names.
   */
  private visitInterested(changes: Changes, visit: (monitor: Monitor, table: string, rows: Map<string, RowChange>, uuid?: string, change?: RowChange) => void): void {
    for (const [table, rows] of changes) {
      const index = this.tables.get(table)
      if (index === undefined) continue
      for (const monitor of index.full) visit(monitor, table, rows)
      if (index.columns.size === 0) continue
      for (const [uuid, change] of rows) {
        for (const [column, byKey] of index.columns) {
          if (change.old !== null) for (const key of keysOf(change.old, column)) byKey.get(key)?.forEach((monitor) => visit(monitor, table, rows, uuid, change))
          if (change.new !== null) for (const key of keysOf(change.new, column)) byKey.get(key)?.forEach((monitor) => visit(monitor, table, rows, uuid, change))
        }
      }
    }
  }
}

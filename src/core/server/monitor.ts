/**
 * One monitor of one client session on one database: its specification per table, its initial contents, the
 * notification it gets for each commit, and condition changes (ovsdb-server(7) §4.1.13).
 */
import type {Changes, Database, Row, RowChange, TableSchema} from '../ovsdb/index.js'
import {changeRowUpdate, initialRowUpdate, rowUpdateBetween} from './compose.js'
import {syntaxError} from './errors.js'
import {compileWhere, type MonitorVersion, type TableMonitorSpec} from './monitor-request.js'
import {mergeChangesInto} from './net-changes.js'

/** <table-updates> or <table-updates2>: table name → row uuid → row-update. */
export type TableUpdates = Record<string, Record<string, object>>

/** Where a monitor's notifications go. */
export interface MonitorSink {
  /** Queues already-serialized bytes to the client. */
  send(message: string | Buffer): void
  /** True while the client has not taken what was sent already: updates are then merged, not queued. */
  readonly congested?: boolean
  /** Told how many commits a monitor holds merged, so that a client over its bound is disconnected. */
  held?(commits: number): void
}

/** One table of a commit as arrays, walked by every conditional monitor the commit reaches. */
interface CommitTable {
  readonly name: string
  readonly uuids: readonly string[]
  readonly changes: readonly RowChange[]
}

/**
 * What the conditional monitors of one commit share. Row-update JSON per (monitored columns, version, table) → row
 * uuid → condition result (was in, is in), keyed by values computed once per table specification so that looking
 * up a fragment allocates nothing per monitor; the body of a notification that carries a single row-update, by
 * that row-update (most monitors of a commit see one row, and many the same one); and the commit's tables as
 * arrays. At 500 conditional clients what a commit allocates per client sets how often the young generation is
 * collected, and those collections set the latency tail.
 */
export class FragmentCache {
  readonly rows = new Map<string, Map<string, (string | null | undefined)[]>>()
  readonly singleBodies = new Map<string, string>()
  private listed: Changes | null = null
  private tables: CommitTable[] = []

  /** The tables and rows of `changes` as arrays: built once for the commit, again only for another subset. */
  tablesOf(changes: Changes): readonly CommitTable[] {
    if (this.listed !== changes) {
      this.listed = changes
      this.tables = []
      for (const [name, rows] of changes) this.tables.push({name, uuids: [...rows.keys()], changes: [...rows.values()]})
    }
    return this.tables
  }
}

/** The rows a condition change of a table may move in or out (MonitorSet.changeCandidates), or null for all. */
export type ChangeCandidates = (table: TableSchema, before: readonly unknown[] | null, after: readonly unknown[] | null) => Iterable<Row> | null

/** A live monitor. */
export class Monitor {
  /** The last commit MonitorSet.publish told this monitor about (its own numbering). */
  publishSerial = 0

  constructor(
    readonly id: unknown,
    readonly dbName: string,
    readonly version: MonitorVersion,
    readonly tables: Map<string, TableMonitorSpec>,
    private readonly sink: MonitorSink,
  ) {}

  /** The initial contents: every selected row of every table whose "initial" is requested. */
  initialUpdates(db: Database): TableUpdates {
    const out: TableUpdates = {}
    for (const [name, spec] of this.tables) {
      if (!spec.select.initial) continue
      const rows: Record<string, object> = {}
      let any = false
      for (const row of db.table(name).rows.values()) {
        const update = initialRowUpdate(spec, row, this.version)
        if (update !== null) {
          rows[row.uuid] = update
          any = true
        }
      }
      if (any) out[name] = rows
    }
    return out
  }

  /** The updates one commit causes for this monitor, or null when it sees nothing. */
  updatesFor(changes: Changes): TableUpdates | null {
    let out: TableUpdates | null = null
    for (const [name, rows] of changes) {
      const spec = this.tables.get(name)
      if (spec === undefined) continue
      let tableOut: Record<string, object> | null = null
      for (const [uuid, change] of rows) {
        const update = changeRowUpdate(spec, change, this.version)
        if (update === null) continue
        tableOut ??= {}
        tableOut[uuid] = update
      }
      if (tableOut !== null) {
        out ??= {}
        out[name] = tableOut
      }
    }
    return out
  }

  private shapeKey: string | null = null
  /** The shape and the monitor id: monitors that share it receive the same bytes for a commit. */
  private sharedKey: string | null = null

  /** Monitors of equal shape (version, tables, columns, select, where) see equal updates of every commit. */
  get shape(): string {
    this.shapeKey ??= JSON.stringify([this.version, [...this.tables].map(([name, s]) => [name, s.columns.map((c) => c.name), s.select, s.where])])
    return this.shapeKey
  }

  /**
   * Sends the notification for one commit, if this monitor sees anything of it. `shared` holds, for this commit,
   * the serialized updates per shape and the encoded message per shape and monitor id: many clients of one shape
   * that use the same monitor id (OVS IDLs all name theirs ["monid", DB]) cost one computation, one
   * JSON.stringify and one UTF-8 encoding, and receive the same bytes.
   */
  notifyCommit(changes: Changes, txnId: string, shared?: Map<string, string | Buffer | null>): void {
    if (this.hold(changes, txnId)) return
    if (shared === undefined) {
      const updates = this.updatesFor(changes)
      if (updates !== null) this.sink.send(this.notification(updates, txnId))
      return
    }
    // Built once: a key of the shape's length concatenated and hashed per monitor and commit was garbage per client.
    this.sharedKey ??= `${this.shape}\n${JSON.stringify(this.id)}`
    const key = this.sharedKey
    let message = shared.get(key)
    if (message === undefined) {
      let body = shared.get(this.shape) as string | null | undefined
      if (body === undefined) {
        const updates = this.updatesFor(changes)
        body = updates === null ? null : JSON.stringify(updates)
        shared.set(this.shape, body)
      }
      message = body === null ? null : Buffer.from(this.wrap(body, txnId))
      shared.set(key, message)
    }
    if (message !== null) this.sink.send(message)
  }

  /**
   * Sends the notification for the rows of one commit that may concern this conditional monitor (`changes`,
   * found through the condition index). Each row-update is serialized once per commit for all monitors that
   * see the row the same way (`fragments`), whatever their conditions; only the envelope is per client.
   */
  notifyRows(changes: Changes, txnId: string, fragments: FragmentCache): void {
    if (this.hold(changes, txnId)) return
    // Indexed loops over the commit's arrays and no string built until a second row-update shows: closures,
    // iterators and envelope pieces per monitor were most of a commit's garbage at hundreds of clients.
    const tables = fragments.tablesOf(changes)
    let body = ''
    let count = 0
    let onlyName = ''
    let onlyFragment = ''
    for (let t = 0; t < tables.length; t++) {
      const {name, uuids, changes: list} = tables[t]
      const spec = this.tables.get(name)
      if (spec === undefined) continue
      const tableKey = fragmentTableKey(spec, this.version)
      let byRow = fragments.rows.get(tableKey)
      if (byRow === undefined) fragments.rows.set(tableKey, (byRow = new Map()))
      let tableBody = ''
      for (let r = 0; r < list.length; r++) {
        const change = list[r]
        const wasIn = change.old !== null && (spec.filter === null || spec.filter(change.old))
        const isIn = change.new !== null && (spec.filter === null || spec.filter(change.new))
        if (!wasIn && !isIn) continue
        const uuid = uuids[r]
        let slots = byRow.get(uuid)
        if (slots === undefined) byRow.set(uuid, (slots = [undefined, undefined, undefined]))
        const slot = (wasIn ? 1 : 0) + (isIn ? 2 : 0) - 1
        let fragment = slots[slot]
        if (fragment === undefined) {
          const update = rowUpdateBetween(spec, change, {wasIn, isIn}, this.version)
          fragment = slots[slot] = update === null ? null : `"${uuid}":${JSON.stringify(update)}`
        }
        if (fragment === null) continue
        if (++count === 1) {
          onlyName = name
          onlyFragment = fragment
          continue
        }
        if (count === 2) {
          // A second row-update: the first goes into the body after all.
          if (onlyName === name) tableBody = onlyFragment
          else body = `${JSON.stringify(onlyName)}:{${onlyFragment}}`
        }
        tableBody = tableBody === '' ? fragment : `${tableBody},${fragment}`
      }
      if (tableBody !== '') body = `${body === '' ? '' : `${body},`}${JSON.stringify(name)}:{${tableBody}}`
    }
    if (count === 0) return
    if (count > 1) return this.sink.send(this.wrap(`{${body}}`, txnId))
    let single = fragments.singleBodies.get(onlyFragment)
    if (single === undefined) fragments.singleBodies.set(onlyFragment, (single = `{${JSON.stringify(onlyName)}:{${onlyFragment}}}`))
    this.sink.send(this.wrap(single, txnId))
  }

  /** Commits merged while the client was congested, newest state per row, and the id of the last one. */
  private pending: {changes: Changes; txnId: string; commits: number} | null = null

  /**
   * Merges a commit into the pending updates instead of sending it, while the client is congested or updates
   * are already pending (their order must hold): a slow client costs one entry per changed row, not one
   * message per commit. Returns true when the commit was held.
   */
  private hold(changes: Changes, txnId: string): boolean {
    if (this.pending === null && this.sink.congested !== true) return false
    this.pending ??= {changes: new Map(), txnId, commits: 0}
    mergeChangesInto(this.pending.changes, changes, (table) => this.tables.has(table))
    this.pending.txnId = txnId
    this.pending.commits++
    this.sink.held?.(this.pending.commits)
    return true
  }

  /** Commits held for this monitor (0 when nothing is pending). */
  get pendingCommits(): number {
    return this.pending?.commits ?? 0
  }

  /** Rows whose merged change is held for this monitor: at most the rows of its tables, however many commits. */
  get pendingRows(): number {
    let n = 0
    for (const rows of this.pending?.changes.values() ?? []) n += rows.size
    return n
  }

  /** Sends the merged pending updates as one notification, if any: when the client drains, or before a reply. */
  flushPending(): void {
    const pending = this.pending
    if (pending === null) return
    this.pending = null
    const updates = this.updatesFor(pending.changes)
    if (updates !== null) this.sink.send(this.notification(updates, pending.txnId))
  }

  /** The serialized update/update2/update3 notification carrying `updates`. */
  notification(updates: TableUpdates, txnId: string): string {
    return this.wrap(JSON.stringify(updates), txnId)
  }

  /** The notification's text before its body, this monitor's id included: built once. */
  private envelope: string | null = null

  private wrap(body: string, txnId: string): string {
    if (this.envelope === null) {
      const method = this.version === 1 ? 'update' : this.version === 2 ? 'update2' : 'update3'
      this.envelope = `{"id":null,"method":"${method}","params":[${JSON.stringify(this.id)},`
    }
    return this.version === 3 ? `${this.envelope}"${txnId}",${body}]}` : `${this.envelope}${body}]}`
  }

  /**
   * Applies a monitor_cond_change: new conditions for the named tables. Returns the rows that enter (as
   * "insert") and leave (as "delete") the monitored set, as ovsdb-server(7) §4.1.13 describes.
   */
  changeConditions(db: Database, json: unknown, candidates?: ChangeCandidates): TableUpdates {
    if (typeof json !== 'object' || json === null || Array.isArray(json)) {
      throw syntaxError('<monitor-cond-update-requests> must be an object', json)
    }
    const next = new Map<string, {spec: TableMonitorSpec; filter: TableMonitorSpec['filter']; where: unknown[] | null}>()
    for (const [name, requests] of Object.entries(json)) {
      const spec = this.tables.get(name)
      if (spec === undefined) throw syntaxError(`no table named ${name} in this monitor`, json)
      if (!Array.isArray(requests) || requests.length !== 1 || typeof requests[0] !== 'object' || requests[0] === null) {
        throw syntaxError(`<monitor-cond-update-request> for table ${name} must be an array of one object`, requests)
      }
      const request = requests[0] as Record<string, unknown>
      if (request.columns !== undefined) throw syntaxError('changing the columns of a monitor is not supported', request)
      const where = (request.where ?? null) as unknown[] | null
      next.set(name, {spec, filter: compileWhere(spec.table, where ?? undefined), where})
    }
    const out: TableUpdates = {}
    for (const [name, {spec, filter, where}] of next) {
      const before = spec.filter
      const rows: Record<string, object> = {}
      let any = false
      for (const row of candidates?.(spec.table, spec.where, where) ?? db.table(name).rows.values()) {
        const change = {old: before === null || before(row) ? row : null, new: filter === null || filter(row) ? row : null}
        if ((change.old === null) === (change.new === null)) continue
        const update = changeRowUpdate({...spec, filter: null}, change, this.version)
        if (update !== null) {
          rows[row.uuid] = update
          any = true
        }
      }
      spec.filter = filter
      spec.where = where
      if (any) out[name] = rows
    }
    return out
  }
}

const fragmentTableKeys = new WeakMap<TableMonitorSpec, string>()

/**
 * What makes two table specifications compose a row alike: the monitor version, the table, its columns and
 * selection, not its condition. Computed once per specification.
 */
function fragmentTableKey(spec: TableMonitorSpec, version: MonitorVersion): string {
  let key = fragmentTableKeys.get(spec)
  if (key === undefined) {
    key = JSON.stringify([version, spec.table.name, spec.columns.map((c) => c.name), spec.select])
    fragmentTableKeys.set(spec, key)
  }
  return key
}

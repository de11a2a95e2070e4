/**
 * One monitor of one client session on one database: its specification per table, its initial contents, the
 * notification it gets for each commit, and condition changes (ovsdb-server(7) §4.1.13).
 */
import type {Changes, Database} from '../ovsdb/index.js'
import {changeRowUpdate, initialRowUpdate} from './compose.js'
import {syntaxError} from './errors.js'
import {compileWhere, type MonitorVersion, type TableMonitorSpec} from './monitor-request.js'

/** <table-updates> or <table-updates2>: table name → row uuid → row-update. */
export type TableUpdates = Record<string, Record<string, object>>

/** Where a monitor's notifications go. */
export interface MonitorSink {
  /** Queues already-serialized bytes to the client. */
  send(message: string | Buffer): void
}

/** A live monitor. */
export class Monitor {
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
    if (shared === undefined) {
      const updates = this.updatesFor(changes)
      if (updates !== null) this.sink.send(this.notification(updates, txnId))
      return
    }
    const key = `${this.shape}\n${JSON.stringify(this.id)}`
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

  /** The serialized update/update2/update3 notification carrying `updates`. */
  notification(updates: TableUpdates, txnId: string): string {
    return this.wrap(JSON.stringify(updates), txnId)
  }

  private wrap(body: string, txnId: string): string {
    const id = JSON.stringify(this.id)
    if (this.version === 1) return `{"id":null,"method":"update","params":[${id},${body}]}`
    if (this.version === 2) return `{"id":null,"method":"update2","params":[${id},${body}]}`
    return `{"id":null,"method":"update3","params":[${id},"${txnId}",${body}]}`
  }

  /**
   * Applies a monitor_cond_change: new conditions for the named tables. Returns the rows that enter (as
   * "insert") and leave (as "delete") the monitored set, as ovsdb-server(7) §4.1.13 describes.
   */
  changeConditions(db: Database, json: unknown): TableUpdates {
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
      for (const row of db.table(name).rows.values()) {
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

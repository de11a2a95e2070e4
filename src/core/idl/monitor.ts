/**
 * A long-lived client of one database for daemons: connects (and reconnects with back-off) to an active remote,
 * keeps a replica of the monitored tables under per-table conditions (monitor_cond, ovsdb-server(7) §4.1.12),
 * changes the conditions in place (monitor_cond_change, §4.1.13), and runs transactions. After a reconnect the
 * rows are fetched again and the owner is told to start over (`onReset`), as the OVS IDL does without history;
 * with a cache file (`cacheFile`) the replica is kept on disk and every start and reconnect resumes by history,
 * digests or a snapshot, telling the owner only what changed.
 */
import {connect, type JsonRpcConnection, type TlsContextSource} from '../jsonrpc/index.js'
import {type ColumnSchema, DatabaseSchema} from '../ovsdb/index.js'
import {cacheFits, saveReplicaCache} from './cache.js'
import {TransactionError, firstError} from './client.js'
import {DigestedReplica} from './digest-replica.js'
import {Replica, type ReplicaEvent} from './replica.js'
import {ReplicaMonitor, type ResumeReport} from './resume.js'
import {allRows, loadCachedReplica, reshape, shapeOf} from './resumable.js'

/** Reconnect back-off bounds, as the OVS reconnect FSM uses (lib/reconnect.c: 1 s doubling to 8 s). */
export const reconnectMinMs = 1000
export const reconnectMaxMs = 8000
/** How long one connection attempt or request may take. */
export const requestTimeoutMs = 30_000

/** A row as OVSDB JSON, by column name. */
export type JsonRow = Record<string, unknown>

/** What a table is monitored for: columns (all when absent) and a condition (all rows when absent). */
export interface TableMonitor {
  columns?: string[]
  where?: unknown[]
  /** Keep the rows as JSON for `table()` (default true); owners that index the events themselves say false. */
  keepRows?: boolean
}

/** Callbacks of a monitored database. */
export interface MonitorHandlers {
  /** Rows changed (also the initial rows after each (re)connect, after `onReset`). */
  onEvents(events: ReplicaEvent[]): void
  /** The replica was emptied (a new connection starts): forget everything derived from it. */
  onReset?(): void
  /** Connection state changed: connected, or lost with the reason. */
  onState?(connected: boolean, detail: string): void
}

/** Options of a MonitoredDb. */
export interface MonitoredDbOptions {
  tls?: TlsContextSource
  /**
   * Keep the replica in this file (saved by saveCache, and every cacheSaveIntervalMs while it changes) and resume
   * from it at start, and from memory after a reconnect, by history, digests or a snapshot (resume.ts), telling the
   * owner only what changed: without it every (re)connect fetches every row and starts the owner over.
   */
  cacheFile?: string
  /** Where a resume's outcome and a refused cache file are reported. */
  log?: (level: 'INFO' | 'WARN', message: string) => void
}

/** How often a changed replica is written to its cache file. */
export const cacheSaveIntervalMs = 5 * 60_000

/** One monitored database on one remote. */
export class MonitoredDb {
  private conn: JsonRpcConnection | null = null
  private schema: DatabaseSchema | null = null
  private readonly rows = new Map<string, Map<string, JsonRow>>()
  private stopped = false
  private backoffMs = reconnectMinMs
  private timer: NodeJS.Timeout | null = null
  private monitorId = 0
  /** The id of the live monitor, as monitor_cond_change names it. */
  private liveMonitorId: unknown = 0
  /** [cache] The replica kept with digests; null until the first resume. */
  private digested: DigestedReplica | null = null
  /** [cache] Whether the owner holds the rows (it is not started over after a reconnect). */
  private delivered = false
  /** [cache] The last transaction when a condition last changed (null: none changed since the last resume). */
  private txnAtChange: string | null = null
  private cacheDirty = false
  private saveTimer: NodeJS.Timeout | null = null
  /** [cache] How the last (re)connect caught up. */
  lastResume: ResumeReport | null = null
  /** Human-readable state for connection-status. */
  status = 'connecting'

  constructor(
    readonly remote: string,
    readonly database: string,
    private readonly tables: Map<string, TableMonitor>,
    private readonly handlers: MonitorHandlers,
    private readonly options: MonitoredDbOptions = {},
  ) {
    for (const t of tables.keys()) this.rows.set(t, new Map())
    if (options.cacheFile !== undefined) {
      this.saveTimer = setInterval(() => void this.saveCache(true), cacheSaveIntervalMs)
      this.saveTimer.unref()
    }
  }

  /** Whether a connection with a live monitor exists. */
  get connected(): boolean {
    return this.conn !== null && !this.conn.closed && this.status === 'connected'
  }

  /** The rows of a monitored table (uuid → row), as last received. */
  table(name: string): ReadonlyMap<string, JsonRow> {
    return this.rows.get(name) ?? new Map()
  }

  /** Starts connecting; returns at once. */
  start(): void {
    void this.attempt()
  }

  /** Closes the connection and stops reconnecting. */
  stop(): void {
    this.stopped = true
    if (this.timer) clearTimeout(this.timer)
    if (this.saveTimer) clearInterval(this.saveTimer)
    this.conn?.close()
  }

  /**
   * Changes a table's condition; applied now when connected, and used for every later connection. Returns
   * whether it changed; once it resolves, the rows the new condition brings have been received (see `sync`).
   */
  async setCondition(table: string, where: unknown[] | undefined): Promise<boolean> {
    const m = this.tables.get(table)
    if (!m || JSON.stringify(m.where) === JSON.stringify(where)) return false
    m.where = where
    if (this.digested !== null) this.txnAtChange ??= this.digested.lastTxnId
    if (!this.connected) return true
    await this.conn!.request('monitor_cond_change', [this.liveMonitorId, this.liveMonitorId, {[table]: [{where: where ?? [true]}]}], {timeoutMs: requestTimeoutMs})
    await this.sync()
    return true
  }

  /**
   * Waits for the server to answer an echo: it answers in order, so every update it sent before (such as the
   * rows of a changed condition, which ovsdb-server may send after its reply) has been received and applied.
   */
  async sync(): Promise<void> {
    if (this.connected) await this.conn!.request('echo', [], {timeoutMs: requestTimeoutMs})
  }

  /** Runs a transaction; throws TransactionError when an operation fails, or when not connected. */
  async transact(ops: unknown[]): Promise<unknown[]> {
    if (!this.connected) throw new Error(`Cannot write to "${this.database}" on "${this.remote}": not connected`)
    const results = (await this.conn!.request('transact', [this.database, ...ops], {timeoutMs: requestTimeoutMs})) as unknown[]
    const err = firstError(results)
    if (err) throw new TransactionError(results, err)
    return results
  }

  private async attempt(): Promise<void> {
    if (this.stopped) return
    try {
      const conn = await connect(this.remote, {timeoutMs: requestTimeoutMs, tls: this.options.tls})
      if (this.stopped) return conn.close()
      this.conn = conn
      conn.setHandler({
        onRequest: (method, params, id) => (method === 'echo' ? conn.respond(id, params) : conn.respondError(id, 'unknown method')),
        onNotification: (method, params) => method === 'update2' && this.receive((params as unknown[])[1]),
      })
      conn.onClose((reason) => this.lost(reason))
      await this.monitor(conn)
      this.backoffMs = reconnectMinMs
      this.status = 'connected'
      this.handlers.onState?.(true, `connected to ${this.remote}`)
    } catch (err) {
      this.conn?.close()
      this.lost((err as Error).message)
    }
  }

  /**
   * [cache] Writes the replica (as of the current conditions) to the cache file; with `ifChanged`, only when rows
   * changed since the last write. A failure is reported, not thrown: the cache only saves work.
   */
  async saveCache(ifChanged = false): Promise<void> {
    const file = this.options.cacheFile
    if (file === undefined || this.digested === null || this.schema === null || (ifChanged && !this.cacheDirty)) return
    this.cacheDirty = false
    const shape = shapeOf(this.database, this.schema, this.tables)
    const current = cacheFits(this.digested, shape) ? this.digested : reshape(this.digested, shape, this.txnAtChange)
    await saveReplicaCache(file, current).catch((err: Error) => this.options.log?.('WARN', `Cannot save replica cache "${file}": ${err.message}`))
  }

  private async monitor(conn: JsonRpcConnection): Promise<void> {
    this.schema ??= DatabaseSchema.fromJSON(await conn.request('get_schema', [this.database], {timeoutMs: requestTimeoutMs}))
    if (this.options.cacheFile !== undefined) return this.resume(conn, this.options.cacheFile)
    const columns = new Map<string, ColumnSchema[]>()
    const requests: Record<string, unknown> = {}
    for (const [name, m] of this.tables) {
      const ts = this.schema.tables.get(name)
      if (!ts) throw new Error(`Database "${this.database}" has no table "${name}"`)
      const cols = m.columns ? m.columns.map((c) => ts.column(c)!).filter((c) => c !== undefined) : [...ts.columns.values()]
      columns.set(name, cols)
      requests[name] = [{columns: cols.map((c) => c.name), ...(m.where ? {where: m.where} : {})}]
    }
    this.replica = new Replica(this.schema, columns)
    this.monitorId++
    this.liveMonitorId = this.monitorId
    const initial = await conn.request('monitor_cond', [this.database, this.monitorId, requests], {timeoutMs: requestTimeoutMs})
    for (const rows of this.rows.values()) rows.clear()
    this.handlers.onReset?.()
    this.receive(initial)
  }

  /**
   * [cache] Starts the monitor from the replica held (in memory after a reconnect; at start from the cache file,
   * whose conditions are adopted so that it still fits) and tells the owner only what changed; a new owner gets
   * every row once.
   */
  private async resume(conn: JsonRpcConnection, file: string): Promise<void> {
    const schema = this.schema!
    let replica = this.digested
    if (replica === null) {
      const loaded = await loadCachedReplica(file, shapeOf(this.database, schema, this.tables))
      if (loaded.reason !== undefined) this.options.log?.('WARN', `Cannot use replica cache "${file}": ${loaded.reason}; fetching every row`)
      if (loaded.replica !== null) for (const t of loaded.replica.shape.tables) this.tables.get(t.name)!.where = (t.where ?? undefined) as unknown[] | undefined
      replica = loaded.replica
    }
    const shape = shapeOf(this.database, schema, this.tables)
    if (replica === null) replica = new DigestedReplica(shape)
    else if (!cacheFits(replica, shape)) replica = reshape(replica, shape, this.txnAtChange)
    this.txnAtChange = null
    const monitor = new ReplicaMonitor(conn, replica, {timeoutMs: requestTimeoutMs, onEvents: (events) => this.deliver(events)})
    this.digested = replica
    this.liveMonitorId = 'ovnctl-replica'
    const report = await monitor.start()
    this.lastResume = report
    this.options.log?.('INFO', `${this.database}: resumed by ${report.method}: ${report.events.length} rows changed of ${report.rows}, ${report.bytesReceived} bytes received`)
    if (this.delivered) return this.deliver(report.events)
    for (const rows of this.rows.values()) rows.clear()
    this.handlers.onReset?.()
    this.delivered = true
    this.deliver(allRows(replica))
  }

  private replica: Replica | null = null

  private receive(updates: unknown): void {
    if (!this.replica || !updates) return
    this.deliver(this.replica.apply(updates as Record<string, Record<string, Record<string, unknown>>>))
  }

  private deliver(events: ReplicaEvent[]): void {
    if (events.length > 0) this.cacheDirty = true
    for (const e of events) {
      if (this.tables.get(e.table)?.keepRows === false) continue
      const rows = this.rows.get(e.table)!
      if (e.action === 'delete') rows.delete(e.uuid)
      else rows.set(e.uuid, e.row)
    }
    if (events.length > 0) this.handlers.onEvents(events)
  }

  private lost(reason: string): void {
    if (this.timer || this.stopped) return
    const was = this.status
    this.status = `disconnected: ${reason}`
    this.conn = null
    if (was === 'connected' || was === 'connecting') this.handlers.onState?.(false, `${this.remote}: ${reason}`)
    this.timer = setTimeout(() => {
      this.timer = null
      void this.attempt()
    }, this.backoffMs)
    this.backoffMs = Math.min(this.backoffMs * 2, reconnectMaxMs)
  }
}

/**
 * The OVSDB server: hosted databases (plus the _Server database that describes them), listening remotes,
 * client sessions and the lock table.
 */
import {newUuid} from './uuid.js'
import type net from 'node:net'
import {JsonRpcConnection, type ConnectionLimits, type Listener, listen, parseRemote, peerCommonName, type TlsContextSource} from '../jsonrpc/index.js'
import {TLSSocket} from 'node:tls'
import {Database, DatabaseSchema, type Row} from '../ovsdb/index.js'
import {convertDatabase} from './convert.js'
import {HostedDb, type HostedDbLimits} from './hosted-db.js'
import {defaultHistoryLimits} from './txn-history.js'
import {LockTable, type Locks} from './locks.js'
import {RemoteManager} from './remotes.js'
import {Session} from './session.js'

/** Each schema's JSON text, made once: a clustered database describes itself in _Server after every commit. */
const schemaTexts = new WeakMap<DatabaseSchema, string>()

function schemaText(schema: DatabaseSchema): string {
  let text = schemaTexts.get(schema)
  if (text === undefined) {
    text = JSON.stringify(schema.toJSON())
    schemaTexts.set(schema, text)
  }
  return text
}

/**
 * The _Server database of ovsdb-server(5): one Database row per hosted database. The schema is the one OVS
 * 3.1 reports for "_Server" (get_schema), version 1.2.0.
 */
export const serverSchemaJSON = {
  name: '_Server',
  version: '1.2.0',
  tables: {
    Database: {
      columns: {
        name: {type: 'string'},
        model: {type: {key: {type: 'string', enum: ['set', ['clustered', 'relay', 'standalone']]}}},
        connected: {type: 'boolean'},
        leader: {type: 'boolean'},
        schema: {type: {key: 'string', min: 0}},
        sid: {type: {key: 'uuid', min: 0}},
        cid: {type: {key: 'uuid', min: 0}},
        index: {type: {key: 'integer', min: 0}},
      },
      isRoot: true,
    },
  },
}

/** Log levels of the server's structured log lines. */
export type LogLevel = 'DBG' | 'INFO' | 'WARN' | 'ERR'

/** Options of a server. */
export interface ServerOptions {
  limits?: Partial<ConnectionLimits>
  dbLimits?: Partial<HostedDbLimits>
  log?: (level: LogLevel, message: string) => void
  /** 16 secret bytes from which each database's digest salt is derived (monitor_cond_digest); random if absent. */
  digestKey?: Uint8Array
  /** TLS for pssl:/ssl: remotes (ssl-config.ts); without it they are refused. */
  tls?: TlsContextSource
  /** Clients served at once; one more is disconnected at once (default connectionsMaxDefault). */
  connectionsMax?: number
  /** The id get_server_id reports (an I/O thread reports its process's); random if absent. */
  serverId?: string
  /** The lock table (an I/O thread's forwards to the database thread); a table of its own if absent. */
  locks?: Locks
}

/** Clients served at once by default: far above a data centre's hypervisors, far below the fd limit's reach. */
export const connectionsMaxDefault = 10_000

/** How a remote's clients are treated (OVN's Connection row: role, read_only). */
export interface ServeOptions {
  /** RBAC role of the clients (ovsdb-server(1) "Role-Based Access Control"); empty or absent: no RBAC. */
  role?: string
  readOnly?: boolean
  /** Limits of these sessions over the server's (an I/O thread's link carries the writes of all its clients). */
  limits?: Partial<ConnectionLimits>
}

/** Default bounds of a hosted database: history kept for monitor_cond_since. */
export const defaultHostedDbLimits: HostedDbLimits = defaultHistoryLimits

/** Cluster state _Server reports for a database (standalone databases are always connected leaders). */
export interface DbStatus {
  connected: boolean
  leader: boolean
  cid?: string
  sid?: string
  index?: number
}

/** A running OVSDB server. */
export class OvsdbServer {
  readonly serverId: string
  /** Version reported by the "version" control command. */
  readonly version = '0.1.0'
  readonly locks: Locks
  readonly sessions = new Set<Session>()
  readonly dbLimits: HostedDbLimits
  private readonly dbs = new Map<string, HostedDb>()
  readonly remotes = new RemoteManager(this)
  readonly tls: TlsContextSource | undefined
  /** Figures of the I/O threads for memory/show (set with --io-threads). */
  threadMemoryStats: (() => Promise<Record<string, number>>) | null = null
  /** The remotes the I/O threads serve, for ovsdb-server/list-remotes (set with --io-threads). */
  threadRemotes: (() => string[]) | null = null
  /** [backup] Set while the server is a backup: ovsdb-server then refuses lock, steal and unlock too. */
  backup = false
  private nextSessionNumber = 0
  private readonly serverDb: HostedDb
  private readonly readOnlyDbs = new Set<string>()
  private readonly statuses = new Map<string, DbStatus>()
  /** The schema each database's _Server row was last written with. */
  private readonly describedSchemas = new Map<string, DatabaseSchema>()
  private readonly logFn: (level: LogLevel, message: string) => void

  constructor(readonly options: ServerOptions = {}) {
    this.serverId = options.serverId ?? newUuid()
    this.locks = options.locks ?? new LockTable()
    this.logFn = options.log ?? (() => {})
    this.tls = options.tls
    this.dbLimits = {...defaultHostedDbLimits, ...options.dbLimits}
    const schema = DatabaseSchema.fromJSON(serverSchemaJSON)
    this.serverDb = new HostedDb('_Server', new Database(schema), null, this.dbLimits)
    this.dbs.set('_Server', this.serverDb)
    this.readOnlyDbs.add('_Server')
    this.describe('_Server', {connected: true, leader: true})
  }

  /** Writes one structured log line. */
  log(level: LogLevel, message: string): void {
    this.logFn(level, message)
  }

  /** Names of the hosted databases, _Server last as ovsdb-server lists them. */
  databaseNames(): string[] {
    const names = [...this.dbs.keys()].filter((n) => n !== '_Server').sort()
    return [...names, '_Server']
  }

  /** A hosted database by name. */
  database(name: string): HostedDb | undefined {
    return this.dbs.get(name)
  }

  /** True when clients may not write to `hosted` (the _Server database, or a backup). */
  isReadOnly(hosted: HostedDb): boolean {
    return this.readOnlyDbs.has(hosted.name)
  }

  /** Makes a database refuse or accept client writes. */
  setReadOnly(name: string, readOnly: boolean): void {
    if (readOnly) this.readOnlyDbs.add(name)
    else if (name !== '_Server') this.readOnlyDbs.delete(name)
  }

  /** Starts serving a database. */
  addDatabase(hosted: HostedDb, status: DbStatus = {connected: true, leader: true}): void {
    if (this.dbs.has(hosted.name)) throw new Error(`Cannot serve database "${hosted.name}": a database of that name is already served`)
    this.dbs.set(hosted.name, hosted)
    hosted.onFatal((err) => {
      this.log('ERR', `${hosted.name}: cannot write the database log, stopping: ${err.message}`)
      process.exit(1)
    })
    this.describe(hosted.name, status, hosted)
    // db:DB,TABLE,COLUMN remotes follow the database (ovsdb-server(1) --remote).
    hosted.onCommit(() => this.remotes.followDatabase())
  }

  /**
   * Converts a hosted database to a new schema (ovsdb-server(7) §4.1.19): change-aware clients see their
   * monitors of it canceled ("monitor_canceled"), other clients are disconnected so that they notice.
   */
  async convert(hosted: HostedDb, schemaJSON: unknown): Promise<void> {
    const converted = convertDatabase(hosted.db, schemaJSON, {newUuid})
    await hosted.replace(converted)
    for (const session of [...this.sessions]) {
      if (![...session.monitors.values()].some((m) => m.dbName === hosted.name)) continue
      if (session.dbChangeAware) session.cancelMonitorsOf(hosted.name)
      else session.conn.close(`database ${hosted.name} was converted to a new schema`)
    }
    this.describe(hosted.name, this.statuses.get(hosted.name) ?? {connected: true, leader: true}, hosted)
    this.log('INFO', `${hosted.name}: converted to schema version ${converted.schema.version}`)
  }

  /** Updates the _Server row of a database (cluster role changes, schema conversion). */
  describe(name: string, status: DbStatus, hosted?: HostedDb): void {
    this.statuses.set(name, status)
    const model = hosted?.model ?? 'standalone'
    const row: Record<string, unknown> = {
      name,
      model,
      connected: status.connected,
      leader: status.leader,
      schema: hosted ? schemaText(hosted.schema) : ['set', []],
      cid: status.cid ? ['uuid', status.cid] : ['set', []],
      sid: status.sid ? ['uuid', status.sid] : ['set', []],
      index: status.index ?? ['set', []],
    }
    const where = [['name', '==', name]]
    const exists = [...this.serverDb.db.table('Database').rows.values()].some((r) => r.columns.name.keys[0] === name)
    // The schema text is large: rewrite it only when the schema itself changed (a conversion).
    if (exists && hosted !== undefined && this.describedSchemas.get(name) === hosted.schema) delete row.schema
    if (hosted !== undefined) this.describedSchemas.set(name, hosted.schema)
    const op = exists ? {op: 'update', table: 'Database', where, row} : {op: 'insert', table: 'Database', row}
    this.serverDb.transact([op], {newUuid}, {}, (outcome) => {
      if (outcome.kind === 'failed') this.log('ERR', `cannot update _Server for "${name}": ${JSON.stringify(outcome.results)}`)
    })
  }

  /** Listens on a passive remote for the RemoteManager, which owns and closes the listener. */
  async listen(remoteText: string, serveOptions: ServeOptions = {}): Promise<Listener> {
    const remote = parseRemote(remoteText)
    const prefix = remote.kind === 'pssl' ? 'ssl' : 'tcp'
    const onRefused = (peer: string, reason: string) => this.log('WARN', `${remoteText}: refused ${peer}: ${reason}`)
    const listener = await listen(remote, (socket) => {
      const name = remote.kind === 'punix' ? `unix#${this.nextSessionNumber}` : `${prefix}:${socket.remoteAddress}:${socket.remotePort}`
      // ovsdb-server does not probe unix-socket clients by default; TCP clients get the 5 s probe.
      void this.serve(socket, name, remote.kind === 'punix' ? 0 : undefined, serveOptions)
    }, {tls: this.tls, onRefused})
    this.log('INFO', `listening on ${remoteText}${listener.port !== null ? ` (port ${listener.port})` : ''}`)
    return listener
  }

  /** Serves one connected stream as a client session; resolves when it closes. */
  serve(socket: net.Socket, name: string, inactivityProbeMs?: number, serveOptions: ServeOptions = {}): Promise<void> {
    this.nextSessionNumber++
    const connectionsMax = this.options.connectionsMax ?? connectionsMaxDefault
    if (this.sessions.size >= connectionsMax) {
      this.log('WARN', `${name}: disconnected: ${this.sessions.size} clients already connected (connectionsMax=${connectionsMax})`)
      socket.destroy()
      return Promise.resolve()
    }
    const limits = {...this.options.limits, ...serveOptions.limits}
    if (inactivityProbeMs !== undefined) limits.probeIntervalMs = inactivityProbeMs
    const conn = new JsonRpcConnection(socket, name, limits)
    // The client id RBAC compares with is the common name of its certificate (none without TLS).
    const id = socket instanceof TLSSocket ? peerCommonName(socket) : null
    this.sessions.add(new Session(this, conn, {role: serveOptions.role ?? '', id, readOnly: serveOptions.readOnly ?? false}))
    return new Promise((resolve) => conn.onClose((reason) => {
      if (reason !== 'connection closed by peer') this.log('INFO', `${name}: ${reason}`)
      resolve()
    }))
  }

  /** Rows of a table of a hosted database (for db: remotes). */
  rows(db: string, table: string): Iterable<Row> | undefined {
    const hosted = this.dbs.get(db)
    if (hosted === undefined || !hosted.schema.tables.has(table)) return undefined
    return hosted.db.table(table).rows.values()
  }

  /** Called by a session when its connection closes. */
  sessionClosed(session: Session): void {
    this.sessions.delete(session)
  }

  /** Stops listening, closes every session and every database log. */
  async close(): Promise<void> {
    // A listener's close waits for its connections to end: end the sessions too, or a client that stays
    // connected (a relay, ovn-controller) would hold the shutdown until its grace period runs out.
    const closing = this.remotes.close()
    for (const session of this.sessions) session.conn.close('server is shutting down')
    await closing
    for (const hosted of this.dbs.values()) await hosted.close()
  }

  /**
   * Figures for memory/show: monitors (and how many the condition index narrows), the distinct serializations
   * the last commit made for all of them (compositions), what is queued or merged for slow clients, history.
   */
  memoryStats(): Record<string, number> {
    let backlogBytes = 0
    let backlogCommits = 0
    let backlogRows = 0
    for (const s of this.sessions) {
      backlogBytes += s.conn.backlogBytes
      for (const m of s.monitors.values()) {
        backlogCommits += m.pendingCommits
        backlogRows += m.pendingRows
      }
    }
    let cells = 0
    let monitors = 0
    let indexed = 0
    let compositions = 0
    let historyTxns = 0
    let historyBytes = 0
    for (const hosted of this.dbs.values()) {
      monitors += hosted.monitors.size
      indexed += hosted.monitors.indexedCount
      compositions += hosted.monitors.lastCompositions
      historyTxns += hosted.history.length
      historyBytes += hosted.history.bytes
      for (const table of hosted.schema.tables.values()) cells += hosted.db.table(table.name).rows.size * table.columns.size
    }
    return {
      cells,
      monitors,
      'monitors-indexed': indexed,
      'shared-compositions': compositions,
      sessions: this.sessions.size,
      'backlog-bytes': backlogBytes,
      'backlog-commits': backlogCommits,
      'backlog-rows': backlogRows,
      'history-txns': historyTxns,
      'history-bytes': historyBytes,
      locks: this.locks.size,
    }
  }
}

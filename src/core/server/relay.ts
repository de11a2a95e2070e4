/**
 * A relay database (ovsdb(7) "Relay Service Model", `relay:DB:REMOTES` of ovsdb-server(1)): an in-memory replica
 * of a database served elsewhere (db-serve standalone or clustered, the real ovsdb-server, or another relay),
 * kept up to date through a SourceLink. The relay answers reads and monitors of every kind itself; a
 * transaction that writes is forwarded to the source (the cluster leader, for a cluster) and answered once its
 * change is in the replica, so that the client's own monitor updates arrive before the reply, as with a
 * follower of a cluster. Lock assertions are checked here: locks are granted by the relay to its own clients.
 * Forwarded transactions wait for a connection at most forwardTimeoutMs and then fail, never hang.
 */
import {type Changes, Database, DatabaseSchema, executeTransaction, type TxnEnv, type TxnOutcome} from '../ovsdb/index.js'
import type {DigestedReplica} from '../idl/digest-replica.js'
import {isPassive, type JsonRpcConnection, parseRemote} from '../jsonrpc/index.js'
import {HostedDb, type ReplicatedCommit, zeroUuid} from './hosted-db.js'
import {followedColumns, snapshotToChanges, updatesToChanges} from './relay-apply.js'
import {RelayCache, schemaText} from './relay-cache.js'
import {LinkError, type SourceCommit, type SourceLimits, SourceLink, splitRemotes} from './relay-source.js'
import type {OvsdbServer} from './server.js'
import {TxnHistory} from './txn-history.js'
import {newUuid} from './uuid.js'

/** Named bounds of a relay's forwarded transactions. */
export interface RelayLimits {
  /** How long a write may wait for the source (connection and answer together) before it fails. */
  forwardTimeoutMs: number
  /** Writes waiting for the source at once; more are refused at once. */
  forwardQueueMax: number
  /** How long an answered write waits for its change to reach the replica before it is answered anyway. */
  visibleWaitMs: number
}

/** Defaults, as a cluster follower forwards (clustered-forward.ts). */
export const defaultRelayLimits: RelayLimits = {forwardTimeoutMs: 10_000, forwardQueueMax: 10_000, visibleWaitMs: 5000}

const writeOps = new Set(['insert', 'update', 'mutate', 'delete'])

/** A forwarded write. */
interface Forwarded {
  readonly ops: unknown[]
  readonly reply: (outcome: TxnOutcome) => void
  deadlineMs: number
  sent: boolean
  done: boolean
  /** Once answered: the rows it inserted into root tables, which must be in the replica before the client hears. */
  inserted: string[] | null
  /** Batches of source commits the replica had applied when the answer came. */
  appliedAtAnswer: number
  results: unknown[] | null
}

function failed(error: string, details: string): TxnOutcome {
  return {kind: 'failed', results: [{error, details}], changes: null, durable: false}
}

/** relay/status of one relay or backup database, as data (what `ovnctl relay-status --json` prints). */
export interface RelayStatusJson {
  database: string
  role: 'relay' | 'backup' | 'active'
  source: string
  connectedTo: string | null
  state: string
  lastError: string | null
  lagMs: number | null
  clients: number
  monitors: number
  lastTxnId: string
  forwarding: number
  connects: number
  fullSyncs: number
  resumes: number
  updates: number
  /** How the last (re)start of the monitor caught up (history, digest, snapshot), and the bytes and rows it took. */
  syncMethod: string | null
  syncBytes: number
  syncRows: number
  excluded: string[]
}

/** Sessions with a monitor of `db`, and those monitors. */
export function clientsOf(server: OvsdbServer, db: string): {clients: number; monitors: number} {
  let clients = 0
  let monitors = 0
  for (const session of server.sessions) {
    let mine = 0
    for (const m of session.monitors.values()) if (m.dbName === db) mine++
    if (mine > 0) clients++
    monitors += mine
  }
  return {clients, monitors}
}

/** One relay database served by this process. */
export class RelayDb {
  readonly link: SourceLink
  hosted: HostedDb | null = null
  private schemaText = ''
  private readonly forwarded = new Set<Forwarded>()
  private timer: NodeJS.Timeout | null = null
  private downTimer: NodeJS.Timeout | null = null
  /** Batches of source commits applied so far. */
  private applied = 0
  /** The persistent replica, with --relay-cache. */
  private readonly cache: RelayCache | null
  /** False while a replica read from the cache waits to be reconciled with the source: clients do not see it yet. */
  private served = false
  /** The cached replica's digests, until the first monitor resumes it. */
  private cachedReplica: DigestedReplica | null = null

  constructor(
    private readonly server: OvsdbServer,
    readonly name: string,
    remotes: string,
    readonly opts: {
      limits: RelayLimits
      sourceLimits: SourceLimits
      cacheFile?: string
      /** How the link reaches the source (relay-source.ts); default: sockets. */
      dial?: (remote: string) => Promise<JsonRpcConnection>
      /** An I/O thread's replica of its own process's database: _Server shows it as that database, not a relay. */
      mirror?: boolean
      /**
       * A replica to start from, read from the source's own file (an I/O thread): the link resumes from its last
       * transaction, and its history serves clients' monitor_cond_since from before the process started.
       */
      seed?: {db: Database; history: TxnHistory; lastTxnId: string}
    },
  ) {
    this.cache = opts.cacheFile === undefined ? null : new RelayCache(opts.cacheFile, name, (level, m) => server.log(level, `relay ${m}`))
    this.link = new SourceLink(
      remotes,
      name,
      {
        schema: (json) => this.schema(json),
        snapshot: (updates, txnId) => this.apply([{updates, txnId}], (db, u) => snapshotToChanges(db, db.schema.tables.keys(), u, newUuid)),
        update: (commits) => this.apply(commits, (db, u) => updatesToChanges(db, u, newUuid)),
        stateChanged: () => this.stateChanged(),
        cachedReplica: () => {
          const replica = this.cachedReplica
          this.cachedReplica = null
          return replica
        },
        inFlight: () => [...this.forwarded].filter((f) => f.sent && f.results === null).length,
      },
      {limits: opts.sourceLimits, leaderOnly: true, log: (level, m) => server.log(level, `relay ${m}`), dial: opts.dial},
    )
  }

  /** Starts following the source, from the replica cache when there is a usable one. */
  async start(): Promise<void> {
    const cached = await this.cache?.load()
    if (cached) this.link.lastTxnId = cached.lastTxnId
    this.cache?.start(() => this.replicaState())
    this.link.start()
  }

  /** Stops following; waiting writes fail; the replica cache is saved a last time. */
  async stop(): Promise<void> {
    this.link.stop()
    for (const f of this.forwarded) this.finish(f, failed('not connected', `relay of "${this.name}" is shutting down`))
    await this.cache?.stop(() => this.replicaState())
  }

  /** What the cache saves: the replica once reconciled with the source, at the last transaction applied. */
  private replicaState(): {db: Database; lastTxnId: string} | null {
    return this.hosted !== null && this.served ? {db: this.hosted.db, lastTxnId: this.hosted.lastTxnId} : null
  }

  /** Serves the database to clients (at once, or once a cached replica has been reconciled with the source). */
  private serve(): void {
    const hosted = this.hosted as HostedDb
    this.served = true
    this.server.addDatabase(hosted, {connected: this.opts.mirror === true, leader: this.opts.mirror === true})
    // Reads run here on the replica; writes go through the router; "convert" is refused (ovsdb(7): a relay
    // has no storage of its own).
    this.server.setReadOnly(this.name, true)
  }

  private db(): Database {
    if (this.hosted === null) throw new Error('assertion failed: a relay applied updates before it had a schema')
    return this.hosted.db
  }

  /** The source's schema: serve the database on first sight; a changed schema converts the replica. */
  private schema(json: Record<string, unknown>): Map<string, string[]> {
    let schema: DatabaseSchema
    try {
      schema = DatabaseSchema.fromJSON(json)
    } catch (err) {
      throw new LinkError(`the source's schema of "${this.name}" cannot be read: ${(err as Error).message}`)
    }
    if (schema.name !== this.name) throw new LinkError(`the source serves schema "${schema.name}" under the name "${this.name}"`)
    const text = schemaText(schema)
    const seed = this.opts.seed !== undefined && this.hosted === null && schemaText(this.opts.seed.db.schema) === text ? this.opts.seed : null
    if (seed !== null) {
      this.hosted = new HostedDb(this.name, seed.db, null, this.server.dbLimits, this.opts.mirror ? 'standalone' : 'relay')
      this.hosted.router = (ops, env, _opts, reply) => this.route(ops, env, reply)
      this.hosted.resumeFrom(seed.history, seed.lastTxnId)
      // Served once the source's answer to the resume is applied (apply); a snapshot instead comes as a difference.
      this.link.lastTxnId = seed.lastTxnId
    } else if (this.hosted === null) {
      const cached = this.cache?.take(text, schema.version) ?? null
      this.hosted = new HostedDb(this.name, cached?.db ?? new Database(schema), null, this.server.dbLimits, this.opts.mirror ? 'standalone' : 'relay')
      this.hosted.router = (ops, env, _opts, reply) => this.route(ops, env, reply)
      if (cached === null) {
        this.link.forgetTxnId()
        this.serve()
      } else {
        this.cachedReplica = cached.replica
        // Clients of the relay from before the restart resume from the cached transaction too.
        const history = new TxnHistory(this.server.dbLimits)
        history.reset(cached.lastTxnId)
        this.hosted.resumeFrom(history, cached.lastTxnId)
      }
    } else if (text !== this.schemaText) {
      // The source's schema was converted: clients are told as a conversion tells them (monitor_canceled), and
      // the replica is refilled from a full snapshot in the new schema.
      this.replaceSchema(schema)
    }
    this.schemaText = text
    return followedColumns(schema, schema.tables.keys())
  }

  private replaceSchema(schema: DatabaseSchema): void {
    const hosted = this.hosted as HostedDb
    this.link.forgetTxnId()
    void hosted.replace(new Database(schema))
    for (const session of [...this.server.sessions]) {
      if (![...session.monitors.values()].some((m) => m.dbName === this.name)) continue
      if (session.dbChangeAware) session.cancelMonitorsOf(this.name)
      else session.conn.close(`the schema of relay database ${this.name} changed at its source`)
    }
    this.server.log('INFO', `relay ${this.name}: the source's schema changed to version ${schema.version}: following it`)
  }

  private apply(commits: readonly SourceCommit[], toChanges: (db: Database, updates: unknown) => Changes): void {
    const hosted = this.hosted as HostedDb
    // A resume from the replica's own last transaction answers with that id again and nothing new: recording it
    // twice would make the id ambiguous in the history (txn-history.ts) and cost clients their resume.
    const news = commits.filter((c, i) => !(i === 0 && c.txnId === hosted.lastTxnId && c.txnId !== zeroUuid))
    if (news.length > 0) hosted.commitReplicated(replicated(hosted, news, toChanges))
    if (!this.served) this.serve()
    this.applied++
    if (this.forwarded.size > 0) this.check()
  }

  /**
   * _Server's "connected" (ovsdb-server(5): "in contact with the relay source") turns false only once the link has
   * been down for forwardTimeoutMs, when writes fail anyway: OVS clients give up on a server that says it is not
   * connected, and a failover of the source (a new cluster leader, ~1 s) should cost them latency only.
   */
  private stateChanged(): void {
    const up = this.link.state === 'replicating'
    if (up || this.link.state === 'stopped') {
      if (this.downTimer !== null) clearTimeout(this.downTimer)
      this.downTimer = null
      this.describe(up)
    } else if (this.downTimer === null) {
      this.downTimer = setTimeout(() => this.describe(false), this.opts.limits.forwardTimeoutMs)
      this.downTimer.unref()
    }
    if (this.link.connection !== null) this.check()
  }

  private describe(connected: boolean): void {
    if (this.hosted !== null && this.served) this.server.describe(this.name, {connected, leader: this.opts.mirror === true}, this.hosted)
  }

  /** HostedDb's router: reads run here; writes are forwarded. */
  private route(ops: unknown[], env: TxnEnv, reply: (o: TxnOutcome) => void): {cancel(): boolean} | null {
    if (!ops.some((op) => writeOps.has((op as {op?: unknown})?.op as string))) return null
    const asserts = ops.filter((op) => (op as {op?: unknown})?.op === 'assert')
    if (asserts.some((op) => !env.hasLock?.(String((op as {lock?: unknown}).lock)))) {
      // Locks are the relay's: run here, where the assertion fails with RFC 7047's "not owner" (nothing commits).
      const outcome = executeTransaction(this.db(), ops, env, {})
      reply(outcome.kind === 'failed' ? outcome : failed('not owner', 'a lock asserted by the transaction is not held'))
      return {cancel: () => false}
    }
    if (this.forwarded.size >= this.opts.limits.forwardQueueMax) {
      reply(failed('not connected', `${this.opts.limits.forwardQueueMax} transactions already wait for the relay source (forwardQueueMax)`))
      return {cancel: () => false}
    }
    const f: Forwarded = {
      ops: ops.map((op) => ((op as {op?: unknown})?.op === 'assert' ? this.noOp() : op)),
      reply,
      deadlineMs: Date.now() + this.opts.limits.forwardTimeoutMs,
      sent: false,
      done: false,
      inserted: null,
      appliedAtAnswer: 0,
      results: null,
    }
    this.forwarded.add(f)
    this.arm()
    this.check()
    return {
      cancel: () => {
        if (f.sent || f.done) return false
        f.done = true
        this.forwarded.delete(f)
        return true
      },
    }
  }

  /**
   * What an "assert" becomes at the source (the relay checked the lock): an operation that always succeeds
   * with the same result, {} (RFC 7047 §5.2.6 "wait" on no rows, timeout 0).
   */
  private noOp(): object {
    const table = this.db().schema.tables.keys().next().value as string
    return {op: 'wait', table, where: [['_uuid', '==', ['uuid', zeroUuid]]], columns: [], until: '==', rows: [], timeout: 0}
  }

  /** Sends what waits for a connection, answers what is visible, fails what is past its deadline. */
  private check(): void {
    const now = Date.now()
    const conn = this.link.connection
    for (const f of [...this.forwarded]) {
      if (f.done) continue
      if (f.results !== null) {
        // Sources send a transaction's updates before its answer (ovsdb-server and db-serve alike), so the rows
        // are normally here already. A row another commit deleted meanwhile never shows: any later commit applied
        // means the stream went past this one.
        if (f.inserted!.every((uuid) => this.holds(uuid)) || this.applied > f.appliedAtAnswer || now >= f.deadlineMs) {
          if (now >= f.deadlineMs) this.server.log('WARN', `relay ${this.name}: a forwarded transaction's change did not reach the replica within ${this.opts.limits.visibleWaitMs} ms (visibleWaitMs)`)
          this.finish(f, {kind: 'committed', results: f.results, changes: null, durable: false})
        }
        continue
      }
      if (f.sent) continue
      if (now >= f.deadlineMs) {
        const why = this.link.lastError ?? `state ${this.link.state}`
        this.finish(f, failed('not connected', `relay of "${this.name}" could not reach its source "${this.link.source}" within ${this.opts.limits.forwardTimeoutMs} ms (forwardTimeoutMs): ${why}`))
      } else if (conn !== null) this.send(f, conn)
    }
    this.disarmIfIdle()
  }

  private send(f: Forwarded, conn: NonNullable<SourceLink['connection']>): void {
    f.sent = true
    conn.request('transact', [this.name, ...f.ops], {timeoutMs: Math.max(1, f.deadlineMs - Date.now())}).then(
      (raw) => {
        const results = Array.isArray(raw) ? raw : [raw]
        f.results = results
        // A row inserted into a non-root table may be garbage-collected at commit (RFC 7047 §3.2 "isRoot").
        f.inserted = results.flatMap((r, i) => {
          const uuid = (r as {uuid?: unknown} | null)?.uuid
          const table = this.db().schema.tables.get(String((f.ops[i] as {table?: unknown})?.table))
          return Array.isArray(uuid) && typeof uuid[1] === 'string' && table?.isRoot === true ? [uuid[1]] : []
        })
        f.appliedAtAnswer = this.applied
        f.deadlineMs = Date.now() + this.opts.limits.visibleWaitMs
        this.arm()
        this.check()
      },
      (err: Error & {error?: unknown}) => {
        // The source answered with an error, the request timed out, or the connection was lost with the
        // transaction in flight: its outcome is unknown, and the client is told so rather than kept waiting.
        const e = err.error as {error?: string; details?: string} | string | undefined
        if (typeof e === 'object' && e !== null && typeof e.error === 'string') this.finish(f, failed(e.error, e.details ?? ''))
        else if (typeof e === 'string') this.finish(f, failed(e, `the source "${this.link.source}" refused the transaction`))
        else this.finish(f, failed('not connected', `relay of "${this.name}" lost its source before the answer (the transaction may or may not have committed): ${err.message}`))
      },
    )
  }

  private holds(uuid: string): boolean {
    const db = this.db()
    for (const name of db.schema.tables.keys()) if (db.table(name).rows.has(uuid)) return true
    return false
  }

  private finish(f: Forwarded, outcome: TxnOutcome): void {
    if (f.done) return
    f.done = true
    this.forwarded.delete(f)
    f.reply(outcome)
  }

  private arm(): void {
    if (this.timer !== null) return
    this.timer = setInterval(() => this.check(), 100)
    this.timer.unref()
  }

  private disarmIfIdle(): void {
    if (this.timer !== null && this.forwarded.size === 0) {
      clearInterval(this.timer)
      this.timer = null
    }
  }

  /** relay/status of this database. */
  status(nowMs: number): RelayStatusJson {
    const l = this.link
    return {
      database: this.name,
      role: 'relay',
      source: l.source,
      connectedTo: l.connectedRemote,
      state: l.state,
      lastError: l.lastError,
      lagMs: l.currentLagMs(nowMs),
      ...clientsOf(this.server, this.name),
      lastTxnId: this.hosted?.lastTxnId ?? zeroUuid,
      forwarding: this.forwarded.size,
      ...l.counters,
      excluded: [],
    }
  }
}

/**
 * The source's commits as history entries, each built when taken (against the database the previous one left).
 * A source without history (a standalone ovsdb-server) reports the zero id: the replica then keeps ids of its own.
 */
export function* replicated(hosted: HostedDb, commits: readonly SourceCommit[], toChanges: (db: Database, updates: unknown) => Changes): Generator<ReplicatedCommit> {
  for (const c of commits) yield {changes: toChanges(hosted.db, c.updates), txnId: c.txnId === zeroUuid ? newUuid() : c.txnId}
}

/** Parses `relay:DB:REMOTES` (ovsdb-server(1)); null when `arg` is not a relay description. */
export function parseRelayArg(arg: string): {db: string; remotes: string} | null {
  if (!arg.startsWith('relay:')) return null
  const rest = arg.slice('relay:'.length)
  const colon = rest.indexOf(':')
  if (colon <= 0 || colon === rest.length - 1) throw new Error(`Invalid relay "${arg}": expected relay:DB:REMOTES, e.g. relay:OVN_Southbound:tcp:127.0.0.1:6642`)
  const remotes = rest.slice(colon + 1)
  checkActiveRemotes(remotes, `relay "${arg}"`)
  return {db: rest.slice(0, colon), remotes}
}

/** Throws an error naming `what` unless `remotes` is a comma-separated list of active remotes. */
export function checkActiveRemotes(remotes: string, what: string): void {
  const list = splitRemotes(remotes)
  if (list.length === 0) throw new Error(`Invalid ${what}: no remote given`)
  for (const text of list) {
    let remote
    try {
      remote = parseRemote(text)
    } catch (err) {
      throw new Error(`Invalid ${what}: ${(err as Error).message}`)
    }
    if (isPassive(remote)) throw new Error(`Invalid ${what}: "${text}" is a passive remote; a source is reached with unix: or tcp:`)
  }
}

/**
 * The link from a relay or a backup to the server it follows (ovsdb(7) "Relay Service Model", "Database
 * Replication"): connect to one of a list of remotes, check with `_Server` that the database is there (and,
 * for a cluster, that the member is connected and, if asked, leads), monitor every followed table with
 * monitor_cond_since from the last transaction id seen (ovsdb-server(7) §4.1.15) so that a reconnect or a
 * failover to another member resends only what changed, and follow the update3 notifications. An echo probe
 * measures how far behind the stream the link reads; a probe or request unanswered for sourceTimeoutMs drops
 * the connection. Every wait is bounded; a lost connection is retried through the list with back-off.
 */
import type {DigestedReplica} from '../idl/digest-replica.js'
import {connect, type JsonRpcConnection} from '../jsonrpc/index.js'
import {zeroUuid} from './hosted-db.js'
import {ReplicaMismatchError} from './relay-apply.js'
import {checkMember, type ServerRow, serverRowUpdate, WrongMemberError} from './relay-member.js'
import {resumeFromCache, rowsIn} from './relay-resume.js'

/** Named bounds of a link to a source server. */
export interface SourceLimits {
  /** How long one connection attempt may take. */
  connectTimeoutMs: number
  /** Pause before the next remote after a failure; doubled after every full pass through the list. */
  reconnectMsMin: number
  /** Largest pause between passes through the list. */
  reconnectMsMax: number
  /** How often the link sends an echo through the stream to measure its lag. */
  probeIntervalMs: number
  /** A request or probe unanswered this long drops the connection (the source is gone or the link too far behind). */
  sourceTimeoutMs: number
}

/** Defaults, in line with the OVS IDL's reconnect back-off (ovsdb-idl: 1 s up to 8 s) but quicker to start. */
export const defaultSourceLimits: SourceLimits = {
  connectTimeoutMs: 5000,
  reconnectMsMin: 100,
  reconnectMsMax: 4000,
  probeIntervalMs: 1000,
  sourceTimeoutMs: 10_000,
}

/** Where a link is: connecting (or looking for the leader), syncing (monitor requested), replicating, error. */
export type LinkState = 'connecting' | 'syncing' | 'replicating' | 'error' | 'stopped'

/** What the owner of a link does with what the source sends. */
export interface LinkHandlers {
  /**
   * The source's schema of the database: throws a LinkError when it cannot be followed; returns the tables to
   * follow, each with its columns (all but _uuid and _version, which the replica keeps itself).
   */
  schema(schemaJson: Record<string, unknown>): Map<string, string[]>
  /** A full snapshot of the followed tables (the source could not resume from our transaction id). */
  snapshot(updates: unknown, txnId: string): void
  /**
   * The changes of consecutive source commits (those that arrived together), or of every commit since our
   * transaction id: applied in order, told to clients at once.
   */
  update(commits: readonly SourceCommit[]): void
  /**
   * The replica read from the cache, once, when the source's schema matched it: the first monitor then resumes
   * it (relay-resume.ts) and hands it over to `snapshot` whole.
   */
  cachedReplica?(): DigestedReplica | null
  /** The state changed (connected, lost, error). */
  stateChanged(): void
  /** Requests the owner has in flight on the connection (a connection being left is closed once they are answered). */
  inFlight?(): number
}

/** One commit of the source: its <table-updates2> and transaction id. */
export interface SourceCommit {
  readonly updates: unknown
  readonly txnId: string
}

/** The source cannot be followed as it is: the link stays in "error" and retries with back-off. */
export class LinkError extends Error {}

/** How a monitor caught up with its source. */
export type SyncMethod = 'history' | 'digest' | 'snapshot'

/** Counters of a link, for relay/status. */
export interface LinkCounters {
  connects: number
  fullSyncs: number
  resumes: number
  updates: number
  /** How the last (re)start of the monitor caught up: the source's history, difference digests, or a snapshot. */
  syncMethod: SyncMethod | null
  /** Bytes the source sent for the last (re)start of the monitor: a snapshot, the commits missed, or the digest exchange. */
  syncBytes: number
  /** Rows in that reply. */
  syncRows: number
}

/** A link to the server a relay or backup follows. */
export class SourceLink {
  state: LinkState = 'connecting'
  lastError: string | null = null
  /** The remote of the current connection, or null. */
  connectedRemote: string | null = null
  /** The last source transaction id applied (zero: none, resume impossible). */
  lastTxnId = zeroUuid
  /** Round trip of the last echo through the stream, in ms (null before the first). */
  lagMs: number | null = null
  readonly counters: LinkCounters = {connects: 0, fullSyncs: 0, resumes: 0, updates: 0, syncMethod: null, syncBytes: 0, syncRows: 0}
  private conn: JsonRpcConnection | null = null
  private remotes: string[]
  private next = 0
  private failuresInPass = 0
  private backoffMs: number
  private generation = 0
  private retryTimer: NodeJS.Timeout | null = null
  private probeTimer: NodeJS.Timeout | null = null
  private probeSentMs: number | null = null
  /** Notifications that arrived while the monitor reply was being handled. */
  private buffered: unknown[][] | null = null
  /** Commits received in this turn, applied together once the turn's messages are read. */
  private pending: SourceCommit[] = []
  private serverRow: ServerRow = {}

  constructor(
    remotes: string,
    readonly dbName: string,
    private readonly handlers: LinkHandlers,
    readonly opts: {
      limits: SourceLimits
      leaderOnly: boolean
      log: (level: 'INFO' | 'WARN', message: string) => void
      /** Opens the connection to a remote (default: unix:/tcp: sockets); an I/O thread dials its main thread. */
      dial?: (remote: string) => Promise<JsonRpcConnection>
    },
  ) {
    this.remotes = splitRemotes(remotes)
    this.backoffMs = opts.limits.reconnectMsMin
  }

  /** The remotes followed, comma-separated as given. */
  get source(): string {
    return this.remotes.join(',')
  }

  /** The connection while replicating, else null (forwarded transactions wait for one). */
  get connection(): JsonRpcConnection | null {
    return this.state === 'replicating' ? this.conn : null
  }

  /** Age of the probe in flight, or the last round trip: how far behind the source the link reads, in ms. */
  currentLagMs(nowMs: number): number | null {
    if (this.state !== 'replicating') return null
    if (this.probeSentMs !== null && this.conn !== null) return Math.max(this.lagMs ?? 0, nowMs - this.probeSentMs)
    return this.lagMs
  }

  /** Starts following. */
  start(): void {
    void this.attempt()
  }

  /** Stops following and closes the connection. */
  stop(): void {
    this.generation++
    if (this.retryTimer) clearTimeout(this.retryTimer)
    this.retryTimer = null
    this.dropConnection('the link was stopped')
    this.setState('stopped', null)
  }

  /** Forgets the last transaction id: the next connection takes a full snapshot. */
  forgetTxnId(): void {
    this.lastTxnId = zeroUuid
  }

  private setState(state: LinkState, error: string | null): void {
    const changed = state !== this.state || error !== this.lastError
    this.state = state
    this.lastError = error
    if (changed) this.handlers.stateChanged()
  }

  private async attempt(): Promise<void> {
    this.retryTimer = null
    const gen = ++this.generation
    const remote = this.remotes[this.next++ % this.remotes.length]
    if (this.state !== 'error') this.setState('connecting', this.lastError)
    let conn: JsonRpcConnection
    try {
      const dial = this.opts.dial ?? ((r: string) => connect(r, {timeoutMs: this.opts.limits.connectTimeoutMs, limits: {probeIntervalMs: 0}}))
      conn = await dial(remote)
    } catch (err) {
      return this.failed(gen, err as Error)
    }
    if (gen !== this.generation) return conn.close('the link was stopped')
    this.conn = conn
    this.buffered = []
    this.listen(conn, gen)
    conn.onClose((reason) => {
      if (gen === this.generation) this.failed(gen, new Error(`connection to "${remote}" lost: ${reason}`))
    })
    try {
      await this.sync(conn, remote, gen)
    } catch (err) {
      if (gen === this.generation) this.failed(gen, err as Error)
    }
  }

  /** Makes this link the handler of what the source sends on `conn`. */
  private listen(conn: JsonRpcConnection, gen: number): void {
    conn.setHandler({
      onRequest: (method, params, id) => (method === 'echo' ? conn.respond(id, params) : conn.respondError(id, {error: 'unknown method'})),
      onNotification: (method, params) => this.notification(gen, method, params as unknown[]),
    })
  }

  private request(conn: JsonRpcConnection, method: string, params: unknown[]): Promise<unknown> {
    return conn.request(method, params, {timeoutMs: this.opts.limits.sourceTimeoutMs})
  }

  private async sync(conn: JsonRpcConnection, remote: string, gen: number): Promise<void> {
    const dbs = (await this.request(conn, 'list_dbs', [])) as string[]
    if (!Array.isArray(dbs) || !dbs.includes(this.dbName)) {
      throw new LinkError(`"${remote}" does not serve database "${this.dbName}" (it serves ${JSON.stringify(dbs)})`)
    }
    if (dbs.includes('_Server')) {
      // Change-aware: a schema conversion at the source cancels our monitor instead of dropping us.
      await this.request(conn, 'set_db_change_aware', [true])
      const where = [['name', '==', this.dbName]]
      const st = await this.request(conn, 'monitor_cond', ['_Server', 'server', {Database: [{columns: ['name', 'model', 'connected', 'leader'], where}]}])
      this.serverRow = serverRowUpdate(this.serverRow, st)
      checkMember(this.serverRow, remote, this.opts.leaderOnly)
    }
    const schema = (await this.request(conn, 'get_schema', [this.dbName])) as Record<string, unknown>
    const tables = this.handlers.schema(schema)
    this.setState('syncing', null)
    const cached = this.handlers.cachedReplica?.() ?? null
    const how = cached === null ? await this.monitorSince(conn, remote, tables) : await this.resumeCached(conn, gen, cached)
    const held = this.buffered ?? []
    this.buffered = null
    for (const params of held) this.update3(params)
    this.flushUpdates()
    this.counters.connects++
    this.failuresInPass = 0
    this.backoffMs = this.opts.limits.reconnectMsMin
    this.connectedRemote = remote
    this.opts.log('INFO', `${this.dbName}: following "${remote}" (${how})`)
    this.armProbe(conn)
    this.setState('replicating', null)
  }

  /** The monitor of a running relay: monitor_cond_since from the last transaction applied. */
  private async monitorSince(conn: JsonRpcConnection, remote: string, tables: Map<string, string[]>): Promise<string> {
    const requests = Object.fromEntries([...tables].map(([t, columns]) => [t, [{columns}]]))
    const read0 = conn.socket.bytesRead
    const reply = (await this.request(conn, 'monitor_cond_since', [this.dbName, 'db', requests, this.lastTxnId])) as [boolean, string, unknown]
    if (!Array.isArray(reply) || reply.length !== 3 || typeof reply[1] !== 'string') {
      throw new LinkError(`"${remote}" answered monitor_cond_since with ${JSON.stringify(reply).slice(0, 200)}`)
    }
    const [found, txnId, updates] = reply
    this.synced(found ? 'history' : 'snapshot', conn.socket.bytesRead - read0, rowsIn(updates))
    if (found) this.handlers.update([{updates, txnId}])
    else this.handlers.snapshot(updates, txnId)
    this.lastTxnId = txnId
    return found ? 'resumed from the last transaction' : 'full snapshot'
  }

  /** The first monitor after a start from the replica cache: history, digests or snapshot (relay-resume.ts). */
  private async resumeCached(conn: JsonRpcConnection, gen: number, cached: DigestedReplica): Promise<string> {
    const r = await resumeFromCache(conn, cached, {monitorId: 'db', timeoutMs: this.opts.limits.sourceTimeoutMs, restore: () => this.listen(conn, gen)})
    this.synced(r.method, r.bytes, r.changed)
    this.handlers.snapshot(r.rows, r.txnId)
    this.lastTxnId = r.txnId
    return `from the replica cache, resumed by ${r.method}: ${r.changed} rows changed, ${r.bytes} bytes`
  }

  private synced(method: SyncMethod, bytes: number, rows: number): void {
    if (method === 'snapshot') this.counters.fullSyncs++
    else this.counters.resumes++
    this.counters.syncMethod = method
    this.counters.syncBytes = bytes
    this.counters.syncRows = rows
  }

  private notification(gen: number, method: string, params: unknown[]): void {
    if (gen !== this.generation || !Array.isArray(params)) return
    try {
      if (method === 'update3' && params[0] === 'db') {
        if (this.buffered !== null) this.buffered.push(params)
        else if (this.update3(params) === 1) queueMicrotask(() => gen === this.generation && this.guarded(gen, () => this.flushUpdates()))
        return
      }
      // Anything else comes after the commits read before it.
      this.flushUpdates()
      if (method === 'update2' && params[0] === 'server') {
        this.serverRow = serverRowUpdate(this.serverRow, params[1])
        if (this.connectedRemote !== null) this.leaveIfWrongMember(gen, this.connectedRemote)
      } else if (method === 'monitor_canceled' && params[0] === 'db') {
        throw new LinkError(`the source canceled the monitor of "${this.dbName}" (its schema was converted): following it again`)
      }
    } catch (err) {
      this.failed(gen, err as Error)
    }
  }

  /** Queues one commit; returns how many are queued (the first one schedules the flush). */
  private update3(params: unknown[]): number {
    const txnId = params[1]
    if (typeof txnId !== 'string') throw new ReplicaMismatchError(`update3 without a transaction id: ${JSON.stringify(params).slice(0, 200)}`)
    this.counters.updates++
    return this.pending.push({updates: params[2], txnId})
  }

  /** Applies the queued commits. */
  private flushUpdates(): void {
    if (this.pending.length === 0) return
    const commits = this.pending
    this.pending = []
    this.handlers.update(commits)
    this.lastTxnId = commits.at(-1)!.txnId
  }

  private guarded(gen: number, run: () => void): void {
    try {
      run()
    } catch (err) {
      this.failed(gen, err as Error)
    }
  }

  /**
   * The member stopped leading (or lost its cluster): send nothing new on this connection, let the answers to what
   * was sent arrive (with their updates), then go and find the leader; at most sourceTimeoutMs.
   */
  private leaveIfWrongMember(gen: number, remote: string): void {
    try {
      checkMember(this.serverRow, remote, this.opts.leaderOnly)
      return
    } catch (err) {
      if (this.state !== 'replicating') return
      this.setState('connecting', (err as Error).message)
      const deadline = Date.now() + this.opts.limits.sourceTimeoutMs
      const poll = setInterval(() => {
        if (gen !== this.generation) return clearInterval(poll)
        if ((this.handlers.inFlight?.() ?? 0) > 0 && Date.now() < deadline) return
        clearInterval(poll)
        this.failed(gen, err as Error)
      }, 20)
      poll.unref()
    }
  }

  private armProbe(conn: JsonRpcConnection): void {
    const {probeIntervalMs, sourceTimeoutMs} = this.opts.limits
    this.probeTimer = setInterval(() => {
      const now = Date.now()
      if (this.probeSentMs !== null) {
        if (now - this.probeSentMs > sourceTimeoutMs) conn.close(`no answer to a probe within ${sourceTimeoutMs} ms (sourceTimeoutMs)`)
        return
      }
      this.probeSentMs = now
      conn.request('echo', ['relay-probe']).then(
        () => {
          this.lagMs = Date.now() - now
          this.probeSentMs = null
        },
        () => (this.probeSentMs = null),
      )
    }, probeIntervalMs)
    this.probeTimer.unref()
  }

  private dropConnection(reason: string): void {
    if (this.probeTimer) clearInterval(this.probeTimer)
    this.probeTimer = null
    this.probeSentMs = null
    this.connectedRemote = null
    const conn = this.conn
    this.conn = null
    conn?.close(reason)
  }

  /** A connection failed or was refused: retry the next remote, after a back-off once the whole list failed. */
  private failed(gen: number, err: Error): void {
    if (gen !== this.generation) return
    // Commits read before the failure are good: apply them (a failure to, only changes the reason).
    if (this.pending.length > 0 && !(err instanceof ReplicaMismatchError)) {
      try {
        this.flushUpdates()
      } catch (flushErr) {
        err = flushErr as Error
      }
    }
    this.pending = []
    this.generation++
    this.dropConnection(err.message)
    if (err instanceof ReplicaMismatchError) {
      // The replica missed something: take a full snapshot next time.
      this.lastTxnId = zeroUuid
      this.opts.log('WARN', `${this.dbName}: ${err.message}; taking a full snapshot`)
    }
    const expected = err instanceof WrongMemberError
    this.failuresInPass++
    let delayMs = this.opts.limits.reconnectMsMin
    if (this.failuresInPass >= this.remotes.length) {
      this.failuresInPass = 0
      delayMs = this.backoffMs
      this.backoffMs = Math.min(this.backoffMs * 2, this.opts.limits.reconnectMsMax)
    }
    const state: LinkState = expected || !(err instanceof LinkError) ? 'connecting' : 'error'
    // One line per new failure, not one per retry: a source down for an hour would flood the log.
    if (!expected && err.message !== this.lastError) this.opts.log('WARN', `${this.dbName}: ${err.message}; retrying with back-off`)
    this.setState(state, err.message)
    this.retryTimer = setTimeout(() => void this.attempt(), delayMs)
    this.retryTimer.unref()
  }
}

/** Splits a comma-separated list of active remotes (ovsdb-client(1) SERVER). */
export function splitRemotes(text: string): string[] {
  return text
    .split(',')
    .map((r) => r.trim())
    .filter((r) => r !== '')
}

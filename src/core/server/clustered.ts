/**
 * A clustered database (ovsdb(7) "Clustered Database Service Model"): the CommitLog of a HostedDb that
 * replicates each transaction through Raft. The leader executes a transaction on its database at once (as a
 * standalone server does) and proposes its changes as one log entry; the client's reply waits until the entry
 * is committed and applied. Followers apply committed entries to their database and tell their monitors.
 * Writes sent to a follower are forwarded to the leader (clustered-forward.ts), as OVS's followers do.
 *
 * The leader's database runs ahead of the log by the entries it proposed. Should one of them be lost
 * (leadership moved before it committed), the database is rebuilt from the log (snapshot + committed entries)
 * and every transaction not yet acknowledged is answered with a "cluster error": the log is the truth.
 */
import {applyLogRecord, type Changes, changesToLogRecord, Database, DatabaseSchema, snapshotRecord} from '../ovsdb/index.js'
import type {TlsContextSource} from '../jsonrpc/index.js'
import {RaftDriver, type RaftApplication} from '../raft/driver.js'
import type {Entry, PersistedState, Snapshot} from '../raft/index.js'
import {type CompactionPolicy, defaultCompactionPolicy, shouldCompact} from '../storage/compaction-policy.js'
import {RaftFile} from '../storage/raft-file.js'
import {type ClusterData, decodeSnapshotData, encodeSnapshotData} from '../storage/raft-records.js'
import {type ClusterInfo, clusterInfoMethod} from './cluster-join-probe.js'
import {applyEntry, diffDatabases, hasLeft, replayCommitted} from './clustered-entries.js'
import {Forwarder} from './clustered-forward.js'
import {type CommitLog, CommitLostError, HostedDb} from './hosted-db.js'
import {ServerRowPublisher} from './server-row.js'
import {TxnHistory} from './txn-history.js'
import type {DbStatus, OvsdbServer} from './server.js'
import {newUuid} from './uuid.js'

/** An own proposal waiting for its entry to be committed and applied. */
interface Waiter {
  readonly term: number
  resolve(): void
  reject(err: Error): void
}

/** Options of serveClusteredFile. */
export interface ClusteredOptions {
  /** When to compact the Raft log by itself: ovsdb-server's rule (storage.c) unless given. */
  readonly compaction?: CompactionPolicy
  readonly tickMs?: number
  readonly log: (level: 'INFO' | 'WARN' | 'ERR', message: string) => void
  /** Bytes of a snapshot received from the leader so far, and its size (a joining or lagging server). */
  readonly onSnapshotProgress?: (receivedBytes: number, totalBytes: number) => void
  /** TLS for ssl: cluster addresses. */
  readonly tls?: TlsContextSource
}

/** One clustered database served by this process. */
export class ClusteredDb implements CommitLog, RaftApplication {
  readonly driver: RaftDriver
  private readonly policy: CompactionPolicy
  /** When the log was last compacted (or opened), in ms. */
  private lastCompactionMs = Date.now()
  hosted: HostedDb | null = null
  private schemaJson: object | null = null
  /** Index of the last entry applied to the database. */
  appliedIndex: number
  private lastEid: string
  private readonly waiters = new Map<number, Waiter>()
  /** Own transactions in the database that are not yet known committed or lost. */
  private inFlight = 0
  /** Bumped by every rebuild: proposals of an older epoch are orphaned. */
  private epoch = 0
  /** Index of the no-op that opened our leadership: local writes wait until everything before it is applied. */
  private leaderStartIndex = Infinity
  /** Appends of the current epoch whose proposal has not settled. */
  private proposing = 0
  /** Proposals orphaned by a rebuild that may still enter the log, and the last index one took. */
  private orphansProposing = 0
  private orphanIndex = 0
  private compacting = false
  private readonly serverRow = new ServerRowPublisher(
    () => this.dbStatus(),
    (status) => {
      if (this.hosted !== null) this.server.describe(this.name, status, this.hosted)
    },
  )
  /** Set once a committed configuration no longer holds this server: it stops serving the database. */
  left = false
  readonly forwarder: Forwarder

  private constructor(
    readonly name: string,
    readonly file: RaftFile,
    private readonly server: OvsdbServer,
    private readonly o: ClusteredOptions,
    state: PersistedState,
    applied: number,
    lastEid: string,
    join: readonly string[],
  ) {
    this.policy = o.compaction ?? defaultCompactionPolicy
    this.appliedIndex = applied
    this.lastEid = lastEid
    this.forwarder = new Forwarder(this)
    this.driver = new RaftDriver({
      id: file.header.serverId,
      address: file.header.localAddress,
      name,
      clusterId: file.header.clusterId,
      state,
      storage: file,
      app: this,
      join,
      applied,
      tickMs: o.tickMs,
      log: o.log,
      fatal: (err) => {
        o.log('ERR', `${name}: cannot write the clustered log, stopping: ${err.message}`)
        process.exit(1)
      },
      onRequest: (method, params) => (method === clusterInfoMethod ? this.clusterInfo() : this.forwarder.answer(method, params)),
      onSnapshotProgress: o.onSnapshotProgress,
      tls: o.tls,
    })
  }

  /** Opens a clustered file, rebuilds the database from it and starts the Raft server. */
  static async open(server: OvsdbServer, path: string, o: ClusteredOptions): Promise<ClusteredDb> {
    const opened = await RaftFile.open(path)
    if (opened.dropped) o.log('WARN', `${path}: dropped ${opened.dropped.bytes} bytes at offset ${opened.dropped.offset} (${opened.dropped.reason})`)
    const {header, state} = opened
    const content = decodeSnapshotData(state.snapshot.data)
    let db: Database | null = null
    let eid = '00000000-0000-0000-0000-000000000000'
    let applied = state.snapshot.index
    let schemaJson: object | null = null
    const history = new TxnHistory(server.dbLimits)
    if (content !== null) {
      schemaJson = content.data[0]
      db = new Database(DatabaseSchema.fromJSON(schemaJson))
      if (content.data[1] !== null) applyLogRecord(db, content.data[1])
      ;({eid, applied} = replayCommitted(db, state, content.eid, history))
    }
    const servers = state.entries.reduce((s, e) => (e.kind === 'servers' ? e.servers : s), state.snapshot.servers)
    const left = hasLeft(state, header.serverId)
    // A joining server asks its join-cluster remotes; once it holds a snapshot, the servers it names.
    const contacts = header.remoteAddresses.length > 0 ? header.remoteAddresses : Object.values(servers)
    const join = Object.hasOwn(servers, header.serverId) || left ? [] : contacts
    const c = new ClusteredDb(header.name, opened.file, server, o, state, applied, eid, join)
    c.schemaJson = schemaJson
    if (db !== null) {
      c.host(db)
      c.hosted!.resumeFrom(history, eid)
    }
    if (left) {
      c.left = true
      o.log('WARN', `${path}: server ${header.serverId} left its cluster: it may never rejoin (ovsdb-server(1) cluster/leave), so the database is not served`)
      c.changed()
    }
    return c
  }

  /** Starts the Raft server (listener, clock); a server that left the cluster has none. */
  start(): Promise<void> {
    return this.left ? Promise.resolve() : this.driver.start()
  }

  private host(db: Database): void {
    this.hosted = new HostedDb(this.name, db, this, this.server.dbLimits, 'clustered')
    this.hosted.router = (ops, env, opts, reply) => this.forwarder.route(ops, env, opts, reply)
    this.server.addDatabase(this.hosted, this.dbStatus())
  }

  /** Whether a write may run on this server's database now: leader, caught up with earlier terms. */
  canWriteLocally(): boolean {
    return (
      this.driver.isLeader &&
      this.hosted !== null &&
      this.appliedIndex >= this.leaderStartIndex - 1 &&
      this.orphansProposing === 0 &&
      this.appliedIndex >= this.orphanIndex
    )
  }

  // --- CommitLog ---

  append(changes: Changes, meta: {durable: boolean; comment?: string; dateMs: number; txnId?: string}): Promise<void> {
    const hosted = this.hosted
    if (hosted === null) return Promise.reject(new CommitLostError('database not yet available'))
    if (changes.size === 0) return Promise.resolve()
    const record = changesToLogRecord(hosted.db, changes, meta)
    // The entry id doubles as the transaction id monitors report, on every member alike (as in OVS), so that a
    // client (or a relay) resumes with monitor_cond_since on whichever member it reconnects to.
    const content: ClusterData = {data: [null, record], eid: meta.txnId ?? newUuid()}
    const epoch = this.epoch
    this.inFlight++
    this.proposing++
    return this.driver.propose(content).then(
      ({index, term}) =>
        new Promise<void>((resolve, reject) => {
          if (epoch !== this.epoch) {
            this.orphansProposing--
            this.orphanIndex = Math.max(this.orphanIndex, index)
            return reject(new CommitLostError('leadership changed before the transaction committed'))
          }
          this.proposing--
          this.waiters.set(index, {term, resolve, reject})
        }),
      (err: Error) => {
        if (epoch !== this.epoch) this.orphansProposing--
        else {
          this.proposing--
          this.inFlight--
          this.lost()
        }
        throw new CommitLostError(`cannot commit: ${err.message}`)
      },
    )
  }

  /** A proposal failed: the database holds changes the log will not; rebuild it now. */
  private lost(): void {
    if (this.hosted !== null) this.rebuild()
  }

  compact(): Promise<void> {
    return this.snapshotNow()
  }

  stats(): Record<string, number> {
    const st = this.driver.raftStatus
    return {'raft-log-bytes': this.file.sizeBytes, 'raft-log-entries': st.logEnd - st.logStart, 'raft-syncs': this.file.syncs}
  }

  async close(): Promise<void> {
    this.serverRow.close()
    await this.driver.close()
    await this.file.close()
  }

  // --- RaftApplication ---

  loadSnapshot(snapshot: Snapshot): void {
    const content = decodeSnapshotData(snapshot.data)
    if (content === null) return
    this.schemaJson = content.data[0]
    const db = new Database(DatabaseSchema.fromJSON(this.schemaJson))
    if (content.data[1] !== null) applyLogRecord(db, content.data[1])
    this.appliedIndex = snapshot.index
    this.lastEid = content.eid
    this.file.joined()
    if (this.hosted === null) {
      this.o.log('INFO', `${this.name}: received the database from the leader (index ${snapshot.index})`)
      return this.host(db)
    }
    // Our own unacknowledged writes are superseded by the leader's state (monitors never saw them).
    this.orphanAll('the server installed a snapshot from the leader')
    this.replaceDb(db, true)
  }

  apply(entries: readonly Entry[]): void {
    for (const e of entries) {
      const waiter = this.waiters.get(e.index)
      if (waiter !== undefined) {
        this.waiters.delete(e.index)
        this.inFlight--
        if (waiter.term === e.term) {
          this.appliedIndex = e.index
          if (e.kind === 'command') this.lastEid = (e.data as ClusterData).eid
          waiter.resolve()
          continue
        }
        waiter.reject(new CommitLostError('leadership changed before the transaction committed'))
        // Our database ran ahead with that transaction: go back to the committed state before applying what
        // replaced it, whatever kind of entry that is (a new leader's first entry is a no-op).
        if (this.hosted !== null) this.rebuild()
      }
      if (e.kind === 'command' && this.hosted !== null) {
        if (this.inFlight > 0 || this.waiters.size > 0) this.rebuild()
        const changes = applyEntry(this.hosted.db, e.data as ClusterData)
        this.lastEid = (e.data as ClusterData).eid
        if (changes !== null && changes.size > 0) this.hosted.publishApplied(changes, this.lastEid)
      }
      this.appliedIndex = e.index
    }
    this.forwarder.applied(this.appliedIndex)
    this.maybeCompact()
  }

  changed(): void {
    if (this.driver.isLeader) {
      if (this.leaderStartIndex === Infinity) this.leaderStartIndex = this.driver.logEnd - 1
    } else {
      this.leaderStartIndex = Infinity
    }
    const membership = this.driver.membership
    if (membership === 'cluster member') this.file.joined()
    if (membership === 'left cluster' && !this.left) this.leftCluster()
    if (this.hosted !== null) this.serverRow.changed()
    this.forwarder.retry()
  }

  /**
   * The server is out of the cluster for good (cluster/leave, cluster/kick): like ovsdb-server, which then
   * stops serving the database ("removing database because storage disconnected permanently"), it stops its
   * Raft server, refuses every transaction (clustered-forward.ts) and tells clients it is not connected.
   */
  private leftCluster(): void {
    this.left = true
    this.orphanAll('the server left the cluster')
    this.o.log('INFO', `${this.name}: server ${this.driver.id} left the cluster: no longer serving the database`)
    void this.driver.close().catch((err: Error) => this.o.log('WARN', `${this.name}: cannot stop the Raft server: ${err.message}`))
    this.forwarder.retry()
  }

  learnedClusterId(clusterId: string): void {
    this.file.learnClusterId(clusterId)
  }

  /** The _Server row of this database (ovsdb-server(5) Database: connected, leader, index, sid, cid). */
  dbStatus(): DbStatus {
    // The core status only: driver.status() also lists connections, which _Server does not show.
    const cid = this.driver.knownClusterId
    return {
      connected: !this.left && this.driver.membership === 'cluster member' && this.driver.softState.leader !== null,
      leader: this.driver.isLeader,
      sid: this.driver.id,
      ...(cid === null ? {} : {cid}),
      index: this.appliedIndex,
    }
  }

  /** Rebuilds the database from the log: the stored snapshot plus the committed entries up to appliedIndex. */
  private rebuild(): void {
    this.orphanAll('leadership changed before the transaction committed')
    const content = decodeSnapshotData(this.file.snapshot.data)
    if (content === null || this.schemaJson === null) return
    const db = new Database(DatabaseSchema.fromJSON(this.schemaJson))
    if (content.data[1] !== null) applyLogRecord(db, content.data[1])
    for (const e of this.file.entries) {
      if (e.index > this.appliedIndex) break
      if (e.kind === 'command') applyEntry(db, e.data as ClusterData)
    }
    this.o.log('WARN', `${this.name}: rebuilt the database from the log at index ${this.appliedIndex}`)
    this.replaceDb(db, false)
  }

  private orphanAll(reason: string): void {
    this.epoch++
    this.inFlight = 0
    this.orphansProposing += this.proposing
    this.proposing = 0
    for (const [index, w] of this.waiters) {
      this.orphanIndex = Math.max(this.orphanIndex, index)
      w.reject(new CommitLostError(reason))
    }
    this.waiters.clear()
  }

  /** Puts `db` in place; monitors are told the difference only when they saw the replaced state (`publish`). */
  private replaceDb(db: Database, publish: boolean): void {
    const hosted = this.hosted as HostedDb
    const diff = publish ? diffDatabases(hosted.db, db) : new Map()
    hosted.db = db
    if (diff.size > 0) hosted.publishApplied(diff)
  }

  private maybeCompact(): void {
    if (this.compacting || this.inFlight > 0 || this.waiters.size > 0) return
    const state = {
      nowMs: Date.now(),
      lastCompactionMs: this.lastCompactionMs,
      bytes: this.file.sizeBytes,
      bytesAtLastCompaction: this.file.bytesAtLastCompaction,
      commitsSinceCompaction: this.appliedIndex - this.file.snapshot.index,
    }
    if (!shouldCompact(state, this.policy)) return
    void this.snapshotNow().catch((err: Error) => this.o.log('WARN', `${this.name}: compaction failed: ${err.message}`))
  }

  /** Answers cluster-join (cluster-join-probe.ts): what this server's cluster serves. */
  private async clusterInfo(): Promise<ClusterInfo> {
    if (this.left || this.hosted === null) throw new Error('this server has no database: it left the cluster or has not joined it yet')
    const st = this.driver.status()
    return {name: this.name, schema: this.hosted.schema.name, cid: st.clusterId, addresses: Object.values(st.servers)}
  }

  /** Snapshots the database at appliedIndex into the Raft log (ovsdb-server/compact, or automatically). */
  async snapshotNow(): Promise<void> {
    const hosted = this.hosted
    if (hosted === null || this.schemaJson === null || this.compacting) return
    if (this.inFlight > 0 || this.waiters.size > 0) return
    if (this.appliedIndex <= this.file.snapshot.index) return
    this.compacting = true
    try {
      const data = encodeSnapshotData({data: [this.schemaJson, snapshotRecord(hosted.db)], eid: this.lastEid})
      await this.driver.compact(this.appliedIndex, data)
      this.lastCompactionMs = Date.now()
      const failed = await this.file.settled()
      if (failed !== null) this.o.log('WARN', `${this.name}: compaction not written, the log keeps its old snapshot: ${failed.message}`)
    } finally {
      this.compacting = false
    }
  }
}

/** Opens and starts a clustered database file on `server`. */
export async function serveClusteredFile(server: OvsdbServer, path: string, o: ClusteredOptions): Promise<ClusteredDb> {
  const c = await ClusteredDb.open(server, path, o)
  await c.start()
  return c
}

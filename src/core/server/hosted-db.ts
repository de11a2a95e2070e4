/**
 * One database served by db-serve: the in-memory database, its durable log, the order in which transactions
 * commit and are answered, the monitors that watch it, the transactions blocked in "wait", and the recent
 * history that monitor_cond_since resumes from.
 */
import {
  type Changes,
  type Database,
  type DatabaseSchema,
  executeTransaction,
  type TxnEnv,
  type TxnOutcome,
} from '../ovsdb/index.js'
import {MonitorSet} from './monitor-set.js'
import {netChanges} from './net-changes.js'
import {type HistoryEntry, type HistoryLimits, TxnHistory, zeroUuid} from './txn-history.js'
import {newUuid as defaultNewUuid} from './uuid.js'

/** The durable side of a database: where committed transactions go. */
export interface CommitLog {
  /**
   * Writes one committed transaction: undefined when it was written at once, else a promise that resolves once
   * written (and synced to disk when `durable`).
   */
  append(changes: Changes, meta: {durable: boolean; comment?: string; dateMs: number; txnId?: string}): Promise<void> | undefined
  /** Rewrites the log as one snapshot of `db`. */
  compact(db: Database): Promise<void>
  /**
   * The transaction id of the record the last append wrote, for a log whose records name themselves (a
   * standalone file: from its SHA-1, so that a restarted server names its history alike); else undefined.
   */
  lastAppendedTxnId?(): string | undefined
  /** Log size figures for memory/show and automatic compaction. */
  stats(): Record<string, number>
  close(): Promise<void>
}

/**
 * [clustered] A CommitLog rejects with this when a transaction it was given will not be (or may not have been)
 * committed, e.g. the Raft leader lost its leadership: the client is told, and the process keeps running. The
 * CommitLog has already put the database back to its committed state (hosted.db).
 */
export class CommitLostError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'CommitLostError'
  }
}

/** [clustered] Routes a transaction elsewhere (a follower forwards writes to its leader), or returns null to run it here. */
export type TransactRouter = (
  ops: unknown[],
  env: TxnEnv,
  opts: {readOnly?: boolean},
  reply: (outcome: TxnOutcome) => void,
) => {cancel(): boolean} | null

export {zeroUuid, type HistoryEntry} from './txn-history.js'

/** [relay, backup] One commit of the source: its changes and its transaction id. */
export interface ReplicatedCommit {
  readonly txnId: string
  readonly changes: Changes
}

/** Named bounds of a hosted database: those of its monitor_cond_since history. */
export type HostedDbLimits = HistoryLimits

/** A transaction waiting in a "wait" operation until the database changes or its timeout passes. */
interface Blocked {
  ops: unknown[]
  env: TxnEnv
  readOnly: boolean
  timer: NodeJS.Timeout | null
  done(outcome: Exclude<TxnOutcome, {kind: 'blocked'}>): void
}

/** Model of a database as _Server reports it. */
export type DbModel = 'standalone' | 'clustered' | 'relay'

/** A database hosted by the server. */
export class HostedDb {
  readonly monitors = new MonitorSet()
  /** The recent commits monitor_cond_since resumes from. */
  history: TxnHistory
  lastTxnId = zeroUuid
  private tail: Promise<void> = Promise.resolve()
  /** Log writes started and not yet finished (or whose followers have not yet run). */
  private inFlight = 0
  private readonly blocked = new Set<Blocked>()
  private fatal: ((err: Error) => void) | null = null
  private readonly commitListeners: ((changes: Changes) => void)[] = []
  /** [clustered] Set by a clustered database to forward writes from a follower. */
  router: TransactRouter | null = null

  constructor(
    readonly name: string,
    public db: Database,
    readonly log: CommitLog | null,
    readonly limits: HostedDbLimits,
    readonly model: DbModel = 'standalone',
    private readonly newUuid: () => string = defaultNewUuid,
  ) {
    this.history = new TxnHistory(limits)
  }

  /** Continues from a history rebuilt from the log at start, whose last transaction is `lastTxnId`. */
  resumeFrom(history: TxnHistory, lastTxnId: string): void {
    this.history = history
    this.lastTxnId = lastTxnId
  }

  /** The schema being served. */
  get schema(): DatabaseSchema {
    return this.db.schema
  }

  /** Calls `handler` when the log cannot be written: memory and disk have diverged and the process must stop. */
  onFatal(handler: (err: Error) => void): void {
    this.fatal = handler
  }

  /** Calls `listener` after every commit has been published to the monitors. */
  onCommit(listener: (changes: Changes) => void): void {
    this.commitListeners.push(listener)
  }

  /** Number of transactions blocked in "wait". */
  get blockedCount(): number {
    return this.blocked.size
  }

  /**
   * Runs a transaction. `reply` is called with the outcome once every earlier commit is durable and after the
   * monitors have been told about this one, so that a client's own updates reach it before its reply.
   */
  transact(ops: unknown[], env: TxnEnv, opts: {readOnly?: boolean}, reply: (outcome: TxnOutcome) => void): {cancel(): boolean} {
    const routed = this.router?.(ops, env, opts, reply) ?? null // [clustered]
    if (routed !== null) return routed
    const outcome = executeTransaction(this.db, ops, env, {readOnly: opts.readOnly})
    if (outcome.kind !== 'blocked') {
      this.finish(outcome, reply)
      return {cancel: () => false}
    }
    const entry: Blocked = {
      ops,
      env,
      readOnly: opts.readOnly ?? false,
      timer: null,
      done: (o) => this.finish(o, reply),
    }
    if (Number.isFinite(outcome.timeoutMs)) {
      entry.timer = setTimeout(() => this.timeOut(entry), outcome.timeoutMs)
    }
    this.blocked.add(entry)
    return {
      cancel: () => {
        if (!this.blocked.delete(entry)) return false
        if (entry.timer) clearTimeout(entry.timer)
        return true
      },
    }
  }

  private timeOut(entry: Blocked): void {
    if (!this.blocked.delete(entry)) return
    const outcome = executeTransaction(this.db, entry.ops, entry.env, {readOnly: entry.readOnly, waitTimedOut: true})
    if (outcome.kind === 'blocked') throw new Error('assertion failed: a transaction whose waits timed out blocked again')
    entry.done(outcome)
  }

  private finish(outcome: Exclude<TxnOutcome, {kind: 'blocked'}>, reply: (outcome: TxnOutcome) => void): void {
    const changes = outcome.kind === 'committed' ? outcome.changes : null
    if (changes === null || changes.size === 0) {
      // A durable commit with nothing to write still promises that earlier commits are synced.
      const synced = outcome.kind === 'committed' && outcome.durable && this.log ? this.log.append(new Map(), {durable: true, dateMs: Date.now()}) : undefined
      // Answer after every earlier commit is written, so that nobody reads what could still be lost.
      this.after(synced, () => reply(outcome))
      return
    }
    this.db.commit(changes)
    let txnId = this.newUuid()
    let written: Promise<void> | undefined
    try {
      written = this.log?.append(changes, {durable: outcome.durable, comment: outcome.comment, dateMs: Date.now(), txnId})
      txnId = this.log?.lastAppendedTxnId?.() ?? txnId
    } catch (err) {
      // Memory holds a commit the disk refused: nothing consistent can be served any more.
      written = Promise.reject(err)
    }
    this.after(
      written,
      () => {
        this.publish(changes, txnId)
        reply(outcome)
      },
      // The commit did not (or may not) happen, e.g. a Raft leader lost its leadership: the client is told, as
      // a commit-time failure (one more element than operations), and the server goes on.
      (lost) => reply({...outcome, kind: 'failed', changes: null, results: [...outcome.results, {error: 'cluster error', details: lost.message}]}),
    )
    this.retryBlocked()
  }

  /**
   * Runs `then` once `written` (if any) and every earlier write have finished, in the order called: at once
   * when nothing is in flight, so that the replies of one batch of requests leave together.
   */
  private after(written: Promise<void> | undefined, then: () => void, lost?: (err: CommitLostError) => void): void {
    if (written === undefined && this.inFlight === 0) {
      then()
      return
    }
    this.inFlight++
    // A CommitLostError fails this transaction only; any other failure to write is fatal. Either way the chain
    // goes on, so that later transactions are answered in order.
    const settled = (written ?? Promise.resolve()).then(
      () => null,
      (err: Error) => err,
    )
    this.tail = Promise.all([this.tail, settled])
      .then(([, err]) => {
        this.inFlight--
        if (err === null) then()
        else if (err instanceof CommitLostError && lost) lost(err)
        else this.fatal?.(err)
      })
      .catch((err: Error) => this.fatal?.(err))
  }

  /** Records a commit in the history and tells every monitor. */
  private publish(changes: Changes, txnId: string): void {
    this.remember(changes, txnId)
    this.tell(changes, txnId)
  }

  private remember(changes: Changes, txnId: string): void {
    this.lastTxnId = txnId
    this.history.push(txnId, changes)
  }

  private tell(changes: Changes, txnId: string): void {
    this.monitors.publish(changes, txnId)
    for (const listener of this.commitListeners) listener(changes)
  }

  /**
   * [clustered] Publishes changes that came from the replicated log (already in `db`): history, monitors and
   * blocked transactions see them after every earlier commit.
   */
  publishApplied(changes: Changes, txnId = this.newUuid()): void {
    this.tail = this.tail.then(() => this.publish(changes, txnId))
    this.retryBlocked()
  }

  /**
   * [relay, backup] Commits consecutive commits another server made (a relay's or backup's source), each built
   * when taken from `commits`, against the database the previous one left: written to the log if there is one,
   * each recorded in the history under the source's transaction id (so that a client resumes with
   * monitor_cond_since on any server that follows the same source), and told to the monitors once, as their net
   * changes under the last id: a burst from the source costs each client one message, not one per commit.
   * A commit that cannot be built (it throws) leaves the earlier ones committed and published.
   */
  commitReplicated(commits: Iterable<ReplicatedCommit>): void {
    const done: ReplicatedCommit[] = []
    const writes: Promise<void>[] = []
    try {
      for (const commit of commits) {
        this.db.commit(commit.changes)
        done.push(commit)
        try {
          const written = commit.changes.size === 0 ? undefined : this.log?.append(commit.changes, {durable: false, dateMs: Date.now()})
          if (written !== undefined) writes.push(written)
        } catch (err) {
          writes.push(Promise.reject(err))
        }
      }
    } finally {
      if (done.length > 0) {
        const written = writes.length === 0 ? undefined : Promise.all(writes).then(() => {})
        this.after(written, () => {
          for (const commit of done) this.remember(commit.changes, commit.txnId)
          this.tell(netChanges(done.map((c) => c.changes)), done.at(-1)!.txnId)
        })
        this.retryBlocked()
      }
    }
  }

  /** Commits made after `txnId`, or null when the history does not reach back that far. */
  historySince(txnId: string): HistoryEntry[] | null {
    return this.history.since(txnId, this.lastTxnId)
  }

  /** Re-runs blocked transactions after a commit; those whose wait now holds complete. */
  private retryBlocked(): void {
    for (const entry of [...this.blocked]) {
      const outcome = executeTransaction(this.db, entry.ops, entry.env, {readOnly: entry.readOnly})
      if (outcome.kind === 'blocked') continue
      this.blocked.delete(entry)
      if (entry.timer) clearTimeout(entry.timer)
      entry.done(outcome)
    }
  }

  /**
   * Replaces the database by `db` (a schema conversion): cancels blocked transactions, forgets the history
   * (its changes belong to the old schema) and rewrites the log as one snapshot of the new database.
   */
  async replace(db: Database): Promise<void> {
    for (const entry of this.blocked) if (entry.timer) clearTimeout(entry.timer)
    this.blocked.clear()
    this.db = db
    this.history.reset()
    this.lastTxnId = zeroUuid
    const written = this.log ? this.log.compact(db) : Promise.resolve()
    this.after(written, () => {})
    await this.tail
  }

  /** Waits until every commit so far is written. */
  settled(): Promise<void> {
    return this.tail
  }

  /** Compacts the log now. */
  async compact(): Promise<void> {
    if (this.log === null) return
    await this.tail
    await this.log.compact(this.db)
  }

  /** Cancels blocked transactions and closes the log. */
  async close(): Promise<void> {
    for (const entry of this.blocked) if (entry.timer) clearTimeout(entry.timer)
    this.blocked.clear()
    await this.tail.catch(() => {})
    await this.log?.close()
  }
}

/**
 * Starting (or resuming) a monitor for a DigestedReplica, in the order that costs least: the server's history
 * (monitor_cond_since, ovsdb-server(7) §4.1.15) when it still holds the replica's last transaction, else
 * difference digests (monitor_cond_digest, src/core/digest/protocol.ts), else a full snapshot. A server that
 * does not know monitor_cond_digest (the real ovsdb-server) is asked monitor_cond_since instead. Notifications
 * that arrive while the exchange finishes are held back and applied after it, in order, so none is lost.
 */
import {toBase64} from '../digest/base64.js'
import {clientStart, clientStep, type ClientStep, type ReconcileContext, type ReconcileRequest} from '../digest/plan.js'
import {digestMessageJSON, type DigestResult, monitorCondDigestMethod, parseDigestResult} from '../digest/protocol.js'
import {splitRowId} from '../digest/row-encoding.js'
import {encodeDigestList} from '../digest/wire.js'
import {type JsonRpcConnection, RpcError} from '../jsonrpc/index.js'
import type {DigestedReplica, TableUpdates2} from './digest-replica.js'
import type {ReplicaEvent} from './replica.js'

/** How the replica was brought up to date. */
export type ResumeMethod = 'history' | 'digest' | 'snapshot'

/** What a resume cost and found. */
export interface ResumeReport {
  method: ResumeMethod
  /** Requests sent (each one round trip). */
  roundTrips: number
  bytesSent: number
  bytesReceived: number
  /** Rows the replica holds once current. */
  rows: number
  /** The changes applied to become current. */
  events: ReplicaEvent[]
  /** Why the server refused the client's digests, when it did (the exchange then ended with a snapshot). */
  refused?: string
  /** Bytes of the row contents in the last reply (the rows that differed; 0 after a snapshot, not measured): the
   * rest of the bytes is the cost of finding them. */
  rowBytes: number
}

/** Options of a ReplicaMonitor. */
export interface ReplicaMonitorOptions {
  /** The monitor's id on the connection (default "ovnctl-replica"). */
  monitorId?: string
  /** Bound on each request, in milliseconds. */
  timeoutMs?: number
  /** Called with each batch of changes that arrives after the resume (update3). */
  onEvents?: (events: ReplicaEvent[]) => void
  /** Called after each round trip of the resume, for progress. */
  onRound?: (round: number, what: string) => void
  /** Below this many rows ask for a snapshot (and history) straight away; default digestRowsMin. */
  digestRowsMin?: number
}

/**
 * Replicas smaller than this are not worth digests: the estimator alone is ~2.5 KB of base64 (strata.ts), the
 * size of about 16 typical OVN rows, so a snapshot of fewer rows costs less and needs one round trip.
 */
export const digestRowsMin = 16

/** Salt changes accepted in one resume: the server gives its salt once; a second change means a broken peer. */
const saltChangesMax = 1

/** Rounds of one exchange: reconcilePlan needs at most attemptsMax tables plus a request and a snapshot. */
const roundsMax = 8

/** A monitor that keeps a DigestedReplica current on one connection. Owns the connection's handler. */
export class ReplicaMonitor {
  private live = false
  private held: {txnId: string; updates: TableUpdates2}[] = []
  private readonly monitorId: string

  constructor(
    readonly conn: JsonRpcConnection,
    readonly replica: DigestedReplica,
    private readonly options: ReplicaMonitorOptions = {},
  ) {
    this.monitorId = options.monitorId ?? 'ovnctl-replica'
    conn.setHandler({
      onRequest: (method, params, id) => (method === 'echo' ? conn.respond(id, params) : conn.respondError(id, 'unknown method')),
      onNotification: (method, params) => this.notified(method, params),
    })
  }

  private notified(method: string, params: unknown): void {
    if (method !== 'update3' || !Array.isArray(params) || params[0] !== this.monitorId) return
    const update = {txnId: String(params[1]), updates: params[2] as TableUpdates2}
    if (!this.live) this.held.push(update)
    else this.options.onEvents?.(this.applyUpdate(update))
  }

  private applyUpdate(update: {txnId: string; updates: TableUpdates2}): ReplicaEvent[] {
    const events = this.replica.apply(update.updates)
    this.replica.lastTxnId = update.txnId
    return events
  }

  /** Brings the replica up to date and starts the monitor; later changes go to `onEvents`. */
  async start(): Promise<ResumeReport> {
    const sent0 = this.conn.socket.bytesWritten
    const read0 = this.conn.socket.bytesRead
    const exchange = new Exchange(this, this.options)
    const report = await exchange.run()
    report.bytesSent = this.conn.socket.bytesWritten - sent0
    report.bytesReceived = this.conn.socket.bytesRead - read0
    this.live = true
    // Commits published after the monitor started, received while the last reply was being applied.
    for (const update of this.held.splice(0)) report.events.push(...this.applyUpdate(update))
    report.rows = this.replica.size
    return report
  }

  /** Sends one request of the resume. */
  request(method: string, params: unknown[]): Promise<unknown> {
    return this.conn.request(method, params, {timeoutMs: this.options.timeoutMs})
  }

  /** The monitor's id. */
  get id(): string {
    return this.monitorId
  }

  /** Forgets the updates held for a monitor that was canceled before it went live. */
  dropHeld(): void {
    this.held = []
  }
}

/** One resume: the rounds of the digest exchange and the fallbacks. */
class Exchange {
  private rounds = 0
  private saltChanges = 0
  private generation = 0
  private deletes: readonly string[] = []
  private readonly replica: DigestedReplica

  constructor(
    private readonly monitor: ReplicaMonitor,
    private readonly options: ReplicaMonitorOptions,
  ) {
    this.replica = monitor.replica
  }

  private get ctx(): ReconcileContext {
    return {index: this.replica.index, fingerprint: this.replica.fingerprint, saltId: this.replica.saltId}
  }

  private report(method: ResumeMethod, events: ReplicaEvent[], updates: TableUpdates2, refused?: string): ResumeReport {
    // Serializing a snapshot again only to weigh it would cost as much as receiving it.
    const rowBytes = method === 'snapshot' ? 0 : Buffer.byteLength(JSON.stringify(updates))
    return {method, roundTrips: this.rounds, bytesSent: 0, bytesReceived: 0, rows: this.replica.size, events, refused, rowBytes}
  }

  async run(): Promise<ResumeReport> {
    const small = this.replica.size < (this.options.digestRowsMin ?? digestRowsMin)
    let step: ClientStep = small || this.replica.salt === null ? {state: {phase: 'awaiting-snapshot'}, send: {type: 'snapshot'}} : clientStart(this.ctx)
    for (;;) {
      if (this.rounds >= roundsMax) throw new Error(`Cannot resume monitor: no end after ${this.rounds} round trips`)
      const result = await this.send(step.send!)
      if (result === 'unsupported') return this.sinceFallback()
      this.options.onRound?.(this.rounds, result.outcome)
      if (result.outcome === 'salt') {
        if (++this.saltChanges > saltChangesMax) throw new Error('Cannot resume monitor: the server changed its digest salt twice in one exchange')
        this.replica.setSalt(result.salt)
        step = clientStart(this.ctx)
        continue
      }
      if (result.outcome === 'table') {
        this.generation = result.generation
        step = clientStep(this.ctx, step.state, {type: 'table', data: result.data})
        this.deletes = step.deleteRowIds ?? []
        // Only rows to delete: the last round still goes to the server, which starts the monitor.
        if (step.send === undefined) step = {...step, send: {type: 'request', data: toBase64(encodeDigestList([], {...this.header()}))}}
        continue
      }
      if (result.outcome === 'rows' && step.state.phase === 'awaiting-decode') this.deletes = this.decoded(step, result.deletes)
      const report = this.finish(result)
      if (result.check === undefined || result.check === this.replica.index.check) return report
      // Same digests, different contents: a row version made to collide with one this replica holds (or a 2^-64
      // accident). The digests cannot find it; start over with a snapshot.
      return this.startOver(report, 'the rows\' content checks differ after reconciling: a digest collision hid a change')
    }
  }

  /** The server peeled the replica's own table: the rows it lists only the replica holds. */
  private decoded(step: ClientStep, deletes: string | undefined): readonly string[] {
    const next = clientStep(this.ctx, step.state, {type: 'rows', rowIds: [], unknown: 0, deletes})
    // The server has started the monitor already: a list it cannot read leaves no way to finish this exchange.
    if (next.state.phase !== 'done') throw new Error('Cannot resume monitor: the server\'s list of rows to delete was refused')
    return next.deleteRowIds ?? []
  }

  private header() {
    return {fingerprint: this.replica.fingerprint, saltId: this.replica.saltId, summary: this.replica.index.summary()}
  }

  /** Sends one round; 'unsupported' when the server does not know the method. */
  private async send(request: ReconcileRequest): Promise<DigestResult | 'unsupported'> {
    const message = digestMessageJSON({request, saltId: this.replica.saltId, generation: this.generation})
    const params = [this.replica.shape.db, this.monitor.id, this.replica.requests(), this.replica.lastTxnId, message]
    this.rounds++
    try {
      return parseDigestResult(await this.monitor.request(monitorCondDigestMethod, params))
    } catch (err) {
      if (err instanceof RpcError && (err.error === 'unknown method' || (err.error as {error?: unknown})?.error === 'unknown method')) return 'unsupported'
      throw err
    }
  }

  private finish(result: Exclude<DigestResult, {outcome: 'table' | 'salt'}>): ResumeReport {
    this.replica.setSalt(result.salt)
    let events: ReplicaEvent[]
    if (result.outcome === 'history' || result.outcome === 'in-sync') events = this.replica.apply(result.updates)
    else if (result.outcome === 'snapshot') events = this.replica.replaceAll(result.updates)
    else events = this.replica.replaceRows(this.rowsOf(result.updates))
    this.replica.lastTxnId = result.lastTxnId
    const method: ResumeMethod = result.outcome === 'history' ? 'history' : result.outcome === 'snapshot' ? 'snapshot' : 'digest'
    return this.report(method, events, result.updates, result.refused)
  }

  /** Cancels the monitor the exchange started and takes a snapshot instead; the events of both are reported. */
  private async startOver(first: ResumeReport, why: string): Promise<ResumeReport> {
    this.rounds++
    await this.monitor.request('monitor_cancel', [this.monitor.id])
    this.monitor.dropHeld()
    // Not from history either: the replica's last transaction is the server's, and its rows are not.
    this.replica.lastTxnId = ''
    const result = await this.send({type: 'snapshot'})
    if (result === 'unsupported' || result.outcome !== 'snapshot') throw new Error(`Cannot resume monitor: ${why}, and the server sent no snapshot`)
    const report = this.finish(result)
    return {...report, events: [...first.events, ...report.events], refused: why}
  }

  /** The rows a digest exchange found: those only this replica held are deleted, the server's are set. */
  private rowsOf(updates: TableUpdates2) {
    const rows = new Map<string, {table: string; uuid: string; row: Record<string, unknown> | null}>()
    for (const rowId of this.deletes) rows.set(rowId, {...splitRowId(rowId), row: null})
    for (const [table, byUuid] of Object.entries(updates)) {
      for (const [uuid, update] of Object.entries(byUuid)) {
        rows.set(`${table}/${uuid}`, {table, uuid, row: 'delete' in update ? null : ((update.insert ?? {}) as Record<string, unknown>)})
      }
    }
    return rows.values()
  }

  /** The real ovsdb-server: monitor_cond_since gives history, or all rows. */
  private async sinceFallback(): Promise<ResumeReport> {
    const params = [this.replica.shape.db, this.monitor.id, this.replica.requests(), this.replica.lastTxnId || '00000000-0000-0000-0000-000000000000']
    this.rounds++
    const [found, lastTxnId, updates] = (await this.monitor.request('monitor_cond_since', params)) as [boolean, string, TableUpdates2]
    const events = found ? this.replica.apply(updates) : this.replica.replaceAll(updates)
    this.replica.lastTxnId = lastTxnId
    return this.report(found ? 'history' : 'snapshot', events, updates)
  }
}

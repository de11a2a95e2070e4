/**
 * One client session: the methods of RFC 7047 §4.1 and ovsdb-server(7) §4.1 as a client on one JSON-RPC
 * connection sees them, with the monitors, locks and blocked transactions that belong to it.
 */
import type {JsonRpcConnection, RpcHandler} from '../jsonrpc/index.js'
import type {TxnOutcome} from '../ovsdb/index.js'
import {monitorCondDigest} from './digest-method.js'
import {MethodError, syntaxError} from './errors.js'
import type {HostedDb} from './hosted-db.js'
import type {LockClient} from './locks.js'
import {Monitor} from './monitor.js'
import {newUuid} from './uuid.js'
import {type MonitorVersion, parseMonitorRequests} from './monitor-request.js'
import {netChanges} from './net-changes.js'
import type {OvsdbServer} from './server.js'
import {type ClientIdentity, rbacApplies, rbacAuthorizer} from './rbac.js'

/** Who a session serves and how its remote treats it (OVN's Connection row: role, read_only). */
export interface SessionClient extends ClientIdentity {
  readonly readOnly: boolean
}

const rootClient: SessionClient = {role: '', id: null, readOnly: false}

type Params = unknown[]

/** A client session on the server. */
export class Session implements RpcHandler, LockClient {
  readonly monitors = new Map<string, Monitor>()
  private readonly locks = new Set<string>()
  private readonly blocked = new Map<string, {cancel(): boolean}>()
  dbChangeAware = false

  constructor(
    readonly server: OvsdbServer,
    readonly conn: JsonRpcConnection,
    readonly client: SessionClient = rootClient,
  ) {
    conn.setHandler(this)
    conn.onClose(() => this.cleanup())
    // A client that caught up gets what its monitors merged meanwhile, one notification per monitor.
    conn.onDrain(() => this.flushMonitors())
  }

  /** True while the client is not reading as fast as updates come: its monitors merge instead of queueing. */
  get congested(): boolean {
    return this.conn.congested
  }

  /** Disconnects a client whose monitors hold more merged commits than backlogMessagesMax; it can resume. */
  held(commits: number): void {
    const max = this.conn.limits.backlogMessagesMax
    if (commits <= max || this.conn.closed) return
    this.server.log('WARN', `${this.conn.name}: disconnecting a client that does not read: ${commits} commits held for it (backlogMessagesMax=${max})`)
    this.conn.close(`${commits} commits held for a client that does not read exceed backlogMessagesMax=${max}`)
  }

  /** Sends every monitor's merged updates (before a reply, so that a client sees its own changes first). */
  flushMonitors(): void {
    for (const monitor of this.monitors.values()) monitor.flushPending()
  }

  /** Sends a notification to this client (lock table and monitors use it). */
  notify(method: string, params: unknown[]): void {
    if (method === 'stolen') this.locks.delete(params[0] as string)
    this.conn.notify(method, params)
  }

  /** Queues already-serialized bytes to this client. */
  send(message: string | Buffer): void {
    this.conn.send(message)
  }

  onRequest(method: string, params: unknown, id: unknown): void {
    if (this.pendingRequests >= this.conn.limits.pendingRequestsMax) {
      const details = `${this.pendingRequests} requests of this client are not answered yet (pendingRequestsMax=${this.conn.limits.pendingRequestsMax})`
      this.conn.respondError(id, {error: 'resources exhausted', details})
      return
    }
    try {
      const result = this.dispatch(method, params as Params, id)
      if (result instanceof Promise) this.later(id, result)
      else if (result !== undefined) this.conn.respond(id, result)
    } catch (err) {
      this.fail(id, err)
    }
  }

  /** Answers a request whose result comes later (a lock held by another thread's table). */
  private later(id: unknown, result: Promise<unknown>): void {
    this.deferredReplies++
    result.then(
      (value) => this.conn.respond(id, value),
      (err) => this.fail(id, err),
    ).finally(() => this.deferredReplies--)
  }

  onNotification(method: string, params: unknown): void {
    // "cancel" is the one notification a client sends (RFC 7047 §4.1.4); others are ignored as OVS does.
    if (method === 'cancel' && Array.isArray(params) && params.length === 1) this.cancel(params[0])
  }

  onInvalid(message: string, id: unknown): void {
    this.conn.respondError(id, {error: 'syntax error', details: message})
  }

  private fail(id: unknown, err: unknown): void {
    if (err instanceof MethodError) {
      // ovsdb-server sends an error without details ("unknown method", "unknown monitor") as a bare string.
      if (err.details === undefined && err.syntax === undefined) this.conn.send(JSON.stringify({id, error: err.error}))
      else this.conn.send(JSON.stringify({id, error: err.toJSON()}))
      return
    }
    const e = err as {error?: unknown; details?: unknown; message?: string}
    if (typeof e?.error === 'string') {
      this.conn.send(JSON.stringify({id, error: {details: e.details ?? e.message, error: e.error}}))
      return
    }
    // Not an expected failure: a bug. Answer, log, and keep serving everyone else.
    this.server.log('ERR', `request failed unexpectedly: ${(err as Error)?.stack ?? String(err)}`)
    this.conn.send(JSON.stringify({id, error: {error: 'internal error', details: String((err as Error)?.message ?? err)}}))
  }

  /** Runs one method; returns the result to send now, or undefined when the reply is sent later. */
  private dispatch(method: string, params: Params, id: unknown): unknown {
    switch (method) {
      case 'list_dbs':
        return this.server.databaseNames()
      case 'get_schema':
        return this.database(params, 'get_schema').schema.toJSON()
      case 'transact':
        this.transact(params, id)
        return undefined
      case 'echo':
        return params
      case 'get_server_id':
        return this.server.serverId
      case 'set_db_change_aware':
        this.dbChangeAware = params[0] === true
        return {}
      case 'monitor':
        return this.monitor(params, 1)
      case 'monitor_cond':
        return this.monitor(params, 2)
      case 'monitor_cond_since':
        return this.monitor(params, 3)
      case 'monitor_cond_digest':
        monitorCondDigest(this, params, id)
        return undefined
      case 'monitor_cond_change':
        this.monitorCondChange(params, id)
        return undefined
      case 'monitor_cancel':
        return this.monitorCancel(params)
      case 'convert':
        this.convert(params, id)
        return undefined
      case 'lock':
      case 'steal':
      case 'unlock':
        return this.lockMethod(method, params)
      default:
        throw new MethodError('unknown method')
    }
  }

  private database(params: Params, method: string): HostedDb {
    const name = params[0]
    if (typeof name !== 'string') throw syntaxError(`${method} request must name a database`, params)
    const hosted = this.server.database(name)
    if (hosted === undefined) {
      throw new MethodError('unknown database', `${method} request specifies unknown database ${name}`, params)
    }
    return hosted
  }

  private transact(params: Params, id: unknown): void {
    const hosted = this.database(params, 'transact')
    const key = JSON.stringify(id)
    const authorize = rbacApplies(hosted.db, this.client) ? rbacAuthorizer(hosted.db, this.client) : undefined
    // `client` goes with a write a follower forwards, so that the leader applies the same RBAC (clustered-forward.ts).
    const env = {newUuid, hasLock: (name: string) => this.server.locks.holds(name, this), authorize, client: this.client}
    const readOnly = this.server.isReadOnly(hosted) || this.client.readOnly
    let answered = false
    const reply = (outcome: TxnOutcome) => {
      answered = true
      this.blocked.delete(key)
      if (outcome.kind === 'blocked') return
      this.flushMonitors()
      this.conn.respond(id, outcome.results)
    }
    const handle = hosted.transact(params.slice(1), env, {readOnly}, reply)
    // Most transactions are answered at once; only those still pending (blocked in "wait", or waiting for the
    // log) can be canceled, and only they are remembered.
    if (!answered) this.blocked.set(key, {cancel: handle.cancel})
  }

  /** Transactions of this session not yet answered (for tests and memory/show). */
  get pendingTransactions(): number {
    return this.blocked.size
  }

  /** Condition changes and conversions of this session not yet answered. */
  private deferredReplies = 0

  /** Requests of this client not answered yet (bounded by pendingRequestsMax). */
  get pendingRequests(): number {
    return this.blocked.size + this.deferredReplies
  }

  private cancel(requestId: unknown): void {
    const key = JSON.stringify(requestId)
    const entry = this.blocked.get(key)
    if (entry?.cancel()) {
      this.blocked.delete(key)
      this.conn.send(JSON.stringify({id: requestId, error: 'canceled'}))
    }
  }

  private monitor(params: Params, version: MonitorVersion): unknown {
    const method = version === 1 ? 'monitor' : version === 2 ? 'monitor_cond' : 'monitor_cond_since'
    const hosted = this.database(params, method)
    const monitorId = params[1]
    const key = JSON.stringify(monitorId ?? null)
    if (this.monitors.has(key)) throw syntaxError('duplicate monitor ID', monitorId)
    const specs = parseMonitorRequests(hosted.schema, params[2], version)
    const monitor = new Monitor(monitorId, hosted.name, version, specs, this)
    let result: unknown
    if (version === 3) {
      if (typeof params[3] !== 'string') throw syntaxError('<last-txn-id> must be a UUID string', params[3])
      const lastTxnId = params[3]
      const since = lastTxnId === '' ? null : hosted.historySince(lastTxnId)
      if (since === null) result = [false, hosted.lastTxnId, monitor.initialUpdates(hosted.db)]
      else result = [true, hosted.lastTxnId, monitor.updatesFor(netChanges(since.map((h) => h.changes))) ?? {}]
    } else {
      result = monitor.initialUpdates(hosted.db)
    }
    this.monitors.set(key, monitor)
    hosted.monitors.add(monitor)
    return result
  }

  private monitorCondChange(params: Params, id: unknown): void {
    const [oldId, newId, requests] = params
    const oldKey = JSON.stringify(oldId ?? null)
    const monitor = this.monitors.get(oldKey)
    if (monitor === undefined) throw syntaxError('unknown monitor session', oldId)
    const newKey = JSON.stringify(newId ?? null)
    if (newKey !== oldKey && this.monitors.has(newKey)) throw syntaxError('duplicate monitor ID', newId)
    if (monitor.version === 1) throw syntaxError('monitor_cond_change is not supported on a "monitor" session', oldId)
    const hosted = this.server.database(monitor.dbName)!
    // The change applies once every earlier commit has been told, so no update is lost or doubled.
    this.deferredReplies++
    hosted.settled().then(() => {
      this.deferredReplies--
      if (this.conn.closed) return
      try {
        // Merged updates were composed under the old condition: they go first.
        monitor.flushPending()
        const updates = monitor.changeConditions(hosted.db, requests, (table, before, after) => hosted.monitors.changeCandidates(hosted.db, table, before, after))
        const renamed = new Monitor(newId, monitor.dbName, monitor.version, monitor.tables, this)
        hosted.monitors.delete(monitor)
        this.monitors.delete(oldKey)
        this.monitors.set(newKey, renamed)
        hosted.monitors.add(renamed)
        if (Object.keys(updates).length > 0) this.conn.send(renamed.notification(updates, hosted.lastTxnId))
        this.conn.respond(id, {})
      } catch (err) {
        this.fail(id, err)
      }
    })
  }

  private convert(params: Params, id: unknown): void {
    const hosted = this.database(params, 'convert')
    if (this.server.isReadOnly(hosted)) throw new MethodError('not allowed', `cannot convert read-only database ${hosted.name}`)
    if (rbacApplies(hosted.db, this.client)) {
      const who = `client "${this.client.id ?? '(null)'}" role "${this.client.role}"`
      throw new MethodError('permission error', `RBAC rules for ${who} prohibit "convert" of database ${hosted.name} (only the root role may convert databases)`)
    }
    this.deferredReplies++
    hosted.settled().then(async () => {
      try {
        await this.server.convert(hosted, params[1])
        this.conn.respond(id, {})
      } catch (err) {
        this.fail(id, err)
      } finally {
        this.deferredReplies--
      }
    })
  }

  private monitorCancel(params: Params): unknown {
    const key = JSON.stringify(params[0] ?? null)
    const monitor = this.monitors.get(key)
    if (monitor === undefined) throw new MethodError('unknown monitor')
    this.monitors.delete(key)
    this.server.database(monitor.dbName)?.monitors.delete(monitor)
    return {}
  }

  private lockMethod(method: 'lock' | 'steal' | 'unlock', params: Params): unknown {
    const name = params[0]
    if (params.length !== 1 || typeof name !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
      throw syntaxError(`${method}: lock name must be an id`, params)
    }
    // The words of ovsdb-server 3.1 on a backup (ovsdb-server(1): a backup "rejects ... lock commands").
    if (this.server.backup) throw new MethodError('lock and unlock methods not allowed, DB server is read only.')
    const locks = this.server.locks
    if (method === 'unlock') {
      if (!this.locks.delete(name)) throw syntaxError(`unlock: "unlock" without "lock" or "steal"`, params)
      locks.unlock(name, this)
      return {}
    }
    if (this.locks.has(name)) throw syntaxError(`must issue "unlock" before new "${method}"`, params)
    this.locks.add(name)
    if (method === 'steal') {
      const stolen = locks.steal(name, this)
      return stolen instanceof Promise ? stolen.then(() => ({locked: true})) : {locked: true}
    }
    const locked = locks.lock(name, this)
    return locked instanceof Promise ? locked.then((l) => ({locked: l})) : {locked}
  }

  /** Cancels every monitor (e.g. when its database goes away), telling the client when it is change-aware. */
  cancelMonitorsOf(dbName: string): void {
    for (const [key, monitor] of this.monitors) {
      if (monitor.dbName !== dbName) continue
      this.monitors.delete(key)
      this.server.database(dbName)?.monitors.delete(monitor)
      if (this.dbChangeAware) this.notify('monitor_canceled', [monitor.id])
    }
  }

  private cleanup(): void {
    for (const monitor of this.monitors.values()) this.server.database(monitor.dbName)?.monitors.delete(monitor)
    this.monitors.clear()
    for (const entry of this.blocked.values()) entry.cancel()
    this.blocked.clear()
    for (const name of this.locks) this.server.locks.unlock(name, this)
    this.locks.clear()
    this.server.sessionClosed(this)
  }
}

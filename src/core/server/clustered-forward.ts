/**
 * Where the writes of a clustered database run. Reads run on any server (a client that accepts followers,
 * `--no-leader-only`, reads what that server has applied). A write runs on the leader once it has applied the
 * entries of earlier terms; a follower forwards it to the leader over the cluster connection (as OVS's
 * followers forward commands to the leader), and answers its client once it has applied the leader's commit,
 * so the client's own monitor updates arrive before its reply. A write that finds no leader waits for one, up to
 * forwardTimeoutMs, then fails with a "not leader" error.
 */
import type {TxnEnv, TxnOutcome} from '../ovsdb/index.js'
import type {ClusteredDb} from './clustered.js'
import {type ClientIdentity, rbacApplies, rbacAuthorizer} from './rbac.js'
import {newUuid} from './uuid.js'

/** How long a write waits for a leader (and for the leader's answer) before it fails. */
export const forwardTimeoutMs = 10_000

/** How long a follower waits to apply the leader's commit before answering anyway. */
export const appliedWaitMs = 5_000

/** Writes held for a leader, at most; more are refused at once. */
export const deferredTxnsMax = 10_000

const writeOps = new Set(['insert', 'update', 'mutate', 'delete'])

/** The reply of the leader to a forwarded transaction. */
interface ForwardReply {
  results: unknown[]
  index: number
}

interface Deferred {
  readonly ops: unknown[]
  readonly env: TxnEnv
  readonly locks: string[]
  readonly reply: (outcome: TxnOutcome) => void
  readonly deadlineMs: number
  forwarding: boolean
  done: boolean
  inner: {cancel(): boolean} | null
}

function failed(error: string, details: string): TxnOutcome {
  return {kind: 'failed', results: [{error, details}], changes: null, durable: false}
}

/** Routes the transactions of one clustered database. */
export class Forwarder {
  private readonly deferred = new Set<Deferred>()
  private readonly appliedWaiters: {index: number; deadlineMs: number; run(): void}[] = []
  private timer: NodeJS.Timeout | null = null

  constructor(private readonly c: ClusteredDb) {}

  /** HostedDb's router: null runs the transaction here; otherwise it is held or forwarded. */
  route(ops: unknown[], env: TxnEnv, _opts: {readOnly?: boolean}, reply: (o: TxnOutcome) => void): {cancel(): boolean} | null {
    if (this.c.left) {
      reply(this.leftOutcome())
      return {cancel: () => false}
    }
    const writes = ops.some((op) => writeOps.has((op as {op?: unknown})?.op as string))
    if (!writes || this.c.canWriteLocally()) return null
    if (this.deferred.size >= deferredTxnsMax) {
      reply(failed('not leader', `${deferredTxnsMax} transactions already wait for a leader (deferredTxnsMax)`))
      return {cancel: () => false}
    }
    const locks = ops
      .filter((op) => (op as {op?: unknown})?.op === 'assert')
      .map((op) => String((op as {lock?: unknown}).lock))
      .filter((name) => env.hasLock?.(name))
    const d: Deferred = {ops, env, locks, reply, deadlineMs: Date.now() + forwardTimeoutMs, forwarding: false, done: false, inner: null}
    this.deferred.add(d)
    this.arm()
    this.retry()
    return {
      cancel: () => {
        if (d.done) return false
        if (d.inner !== null) return d.inner.cancel()
        if (d.forwarding) return false
        d.done = true
        this.deferred.delete(d)
        return true
      },
    }
  }

  /** Leader side of a forwarded transaction. */
  answer(method: string, params: unknown[]): Promise<unknown> {
    if (method !== 'transact') return Promise.reject(new Error(`unknown method "${method}"`))
    const [name, ops, locks, client] = params as [string, unknown[], string[], ClientIdentity | undefined]
    const hosted = this.c.hosted
    if (this.c.left) return Promise.reject(new Error(`server ${this.c.driver.id} left the cluster`))
    if (hosted === null || name !== this.c.name) return Promise.reject(new Error(`unknown database "${name}"`))
    const env: TxnEnv = {newUuid, hasLock: (lock: string) => Array.isArray(locks) && locks.includes(lock)}
    // The client's role travels with its write: the leader checks RBAC against the committed permissions.
    const identity = client !== undefined && typeof client.role === 'string' ? {role: client.role, id: typeof client.id === 'string' ? client.id : null} : null
    if (identity !== null && rbacApplies(hosted.db, identity)) env.authorize = rbacAuthorizer(hosted.db, identity)
    return new Promise((resolve) => {
      hosted.transact(ops, env, {}, (outcome) => {
        if (outcome.kind === 'blocked') return
        // The follower answers its client once it has applied this index: tell it the commit now.
        this.c.driver.announceCommit()
        resolve({results: outcome.results, index: this.c.appliedIndex} satisfies ForwardReply)
      })
    })
  }

  /** What a transaction gets once this server left the cluster (OVS no longer serves the database then). */
  private leftOutcome(): TxnOutcome {
    return failed('not leader', `server ${this.c.driver.id} left the cluster of database "${this.c.name}" and no longer serves it: use another member`)
  }

  /** Tries every held write again: run here if now leader, forward if a leader is known. */
  retry(): void {
    const now = Date.now()
    for (const d of [...this.deferred]) {
      if (d.done || d.forwarding) continue
      if (this.c.left) {
        this.finish(d, this.leftOutcome())
        continue
      }
      if (this.c.canWriteLocally()) {
        this.deferred.delete(d)
        d.inner = (this.c.hosted as NonNullable<ClusteredDb['hosted']>).transact(d.ops, d.env, {}, (o) => this.finish(d, o))
        continue
      }
      if (now >= d.deadlineMs) {
        this.finish(d, failed('not leader', `no leader answered within ${forwardTimeoutMs} ms (forwardTimeoutMs)`))
        continue
      }
      const address = this.c.driver.isLeader ? undefined : this.c.driver.leaderAddress()
      if (address !== undefined) this.forward(d, address)
    }
    this.disarmIfIdle()
  }

  private forward(d: Deferred, address: string): void {
    d.forwarding = true
    const timeoutMs = Math.max(1, d.deadlineMs - Date.now())
    const client = (d.env as TxnEnv & {client?: ClientIdentity}).client
    const params = client === undefined || client.role === '' ? [this.c.name, d.ops, d.locks] : [this.c.name, d.ops, d.locks, {role: client.role, id: client.id}]
    this.c.driver.request(address, 'transact', params, timeoutMs).then(
      (raw) => {
        const r = raw as ForwardReply
        this.whenApplied(r.index, () => this.finish(d, {kind: 'committed', results: r.results, changes: null, durable: false}))
      },
      () => {
        // Not connected yet, or the leader went away: try again on the next change or tick.
        d.forwarding = false
      },
    )
  }

  private finish(d: Deferred, outcome: TxnOutcome): void {
    if (d.done) return
    d.done = true
    this.deferred.delete(d)
    d.reply(outcome)
  }

  private whenApplied(index: number, run: () => void): void {
    if (this.c.appliedIndex >= index) return run()
    this.appliedWaiters.push({index, deadlineMs: Date.now() + appliedWaitMs, run})
    this.arm()
  }

  /** The database applied up to `index`: answer the forwarded writes that waited for it. */
  applied(index: number): void {
    const now = Date.now()
    for (let i = 0; i < this.appliedWaiters.length; ) {
      const w = this.appliedWaiters[i]
      if (w.index <= index || now >= w.deadlineMs) {
        this.appliedWaiters.splice(i, 1)
        w.run()
      } else i++
    }
    this.disarmIfIdle()
  }

  private arm(): void {
    if (this.timer !== null) return
    this.timer = setInterval(() => {
      this.retry()
      this.applied(this.c.appliedIndex)
    }, 100)
    this.timer.unref()
  }

  private disarmIfIdle(): void {
    if (this.timer !== null && this.deferred.size === 0 && this.appliedWaiters.length === 0) {
      clearInterval(this.timer)
      this.timer = null
    }
  }
}

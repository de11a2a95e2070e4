/**
 * Monitoring clients spread over child processes, so that a benchmark with a thousand clients measures the
 * servers rather than one Node process reading a thousand sockets. Each child (this file, run with fork) holds
 * its share of the connections, each monitoring one table's `name` column with monitor_cond; when every client
 * of the child has seen a row named N inserted, the child reports N with the time, on the shared clock
 * performance.timeOrigin + performance.now() (milliseconds since the epoch, sub-millisecond resolution).
 */
import {type ChildProcess, fork} from 'node:child_process'
import {fileURLToPath} from 'node:url'
import {connect, type JsonRpcConnection} from '../../src/core/jsonrpc/index.js'

/** A commit that has not reached every client after this long fails the benchmark. */
export const deliveryMaxMs = 30_000

/** The wall clock in ms with sub-millisecond resolution, comparable between processes. */
export function clockMs(): number {
  return performance.timeOrigin + performance.now()
}

type Command = {type: 'add'; socks: string[]; from: number; count: number; db: string; table: string} | {type: 'close'}
type Report = {type: 'added'; count: number} | {type: 'seen'; name: string; atMs: number} | {type: 'error'; message: string}

/** The clients of one child process. */
function child(): void {
  const conns: JsonRpcConnection[] = []
  const left = new Map<string, number>()
  const send = (r: Report) => process.send!(r)
  const seen = (table: string, params: unknown[]) => {
    const rows = (params[1] as Record<string, Record<string, {insert?: {name?: string}}>>)[table] ?? {}
    for (const row of Object.values(rows)) {
      const name = row.insert?.name
      if (name === undefined) continue
      const n = (left.get(name) ?? conns.length) - 1
      if (n > 0) left.set(name, n)
      else {
        left.delete(name)
        send({type: 'seen', name, atMs: clockMs()})
      }
    }
  }
  const add = async (c: Extract<Command, {type: 'add'}>) => {
    const batch = 50
    for (let i = c.from; i < c.from + c.count; i += batch) {
      const made = await Promise.all(
        Array.from({length: Math.min(batch, c.from + c.count - i)}, async (_, j) => {
          const conn = await connect(`unix:${c.socks[(i + j) % c.socks.length]}`, {timeoutMs: 10_000})
          conn.setHandler({
            onRequest: (method, params, id) => (method === 'echo' ? conn.respond(id, params) : conn.respondError(id, 'unknown method')),
            onNotification: (method, params) => method === 'update2' && seen(c.table, params as unknown[]),
          })
          await conn.request('monitor_cond', [c.db, null, {[c.table]: [{columns: ['name']}]}], {timeoutMs: 30_000})
          return conn
        }),
      )
      conns.push(...made)
    }
    send({type: 'added', count: conns.length})
  }
  process.on('message', (c: Command) => {
    if (c.type === 'add') add(c).catch((err: Error) => send({type: 'error', message: err.message}))
    else {
      for (const conn of conns.splice(0)) conn.close()
      left.clear()
      send({type: 'added', count: 0})
    }
  })
  process.on('disconnect', () => process.exit(0))
}

/** Monitoring clients over `procs` child processes; tells when a named row reached the last of them. */
export class MonitorClients {
  private readonly children: ChildProcess[] = []
  private readonly waiting = new Map<string, {left: number; lastMs: number; done(ms: number): void}>()
  private readonly acks: ((r: Report) => void)[] = []
  private total = 0

  constructor(
    readonly db: string,
    readonly table: string,
    procs: number,
  ) {
    for (let i = 0; i < procs; i++) {
      const c = fork(fileURLToPath(import.meta.url), ['--child'], {execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc']})
      c.on('message', (r: Report) => this.report(r))
      this.children.push(c)
    }
  }

  /** Clients connected. */
  get size(): number {
    return this.total
  }

  private report(r: Report): void {
    if (r.type !== 'seen') return void this.acks.shift()?.(r)
    const w = this.waiting.get(r.name)
    if (w === undefined) return
    w.lastMs = Math.max(w.lastMs, r.atMs)
    if (--w.left === 0) w.done(w.lastMs)
  }

  private command(c: Command): Promise<void> {
    return new Promise((resolve, reject) => {
      let acked = 0
      for (const child of this.children) {
        this.acks.push((r) => {
          if (r.type === 'error') reject(new Error(`benchmark client: ${r.message}`))
          else if (++acked === this.children.length) resolve()
        })
        child.send(c.type === 'add' ? {...c, count: share(c.count, this.children.length, this.children.indexOf(child))} : c)
      }
    })
  }

  /** Connects `count` more clients, spread over the `socks` and the child processes. */
  async add(socks: string[], count: number): Promise<void> {
    await this.command({type: 'add', socks, from: this.total, count, db: this.db, table: this.table})
    this.total += count
  }

  /** Resolves with the time (clockMs) the last client got row `name`. */
  expect(name: string): Promise<number> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`"${name}" did not reach all ${this.total} clients within ${deliveryMaxMs} ms`)), deliveryMaxMs)
      const busy = this.children.filter((_, i) => share(this.total, this.children.length, i) > 0).length
      this.waiting.set(name, {
        left: busy,
        lastMs: 0,
        done: (ms) => {
          clearTimeout(timer)
          this.waiting.delete(name)
          resolve(ms)
        },
      })
    })
  }

  /** Closes every client (the child processes stay for the next setup). */
  async close(): Promise<void> {
    await this.command({type: 'close'})
    this.total = 0
  }

  /** Stops the child processes. */
  stop(): void {
    for (const c of this.children) c.disconnect()
  }
}

/** Child `i`'s part of `count` clients over `n` children. */
function share(count: number, n: number, i: number): number {
  return Math.floor(count / n) + (i < count % n ? 1 : 0)
}

if (process.argv.includes('--child')) child()

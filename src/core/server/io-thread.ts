/**
 * db-serve's I/O threads (--io-threads N): the database thread (main) executes every transaction in order, as
 * without threads, and feeds each I/O thread (io-thread-worker.ts) one serialized update per commit; the I/O
 * threads accept the clients, parse their requests and compose and write their updates. The per-commit cost of
 * the database thread is fixed (one update, the same bytes for every thread); the fan-out to clients divides
 * by the number of threads. A thread that dies is logged and all threads are restarted on freshly bound
 * sockets (the dead thread closed the shared ones); their clients reconnect, as after a server restart.
 */
import {createRequire} from 'node:module'
import type net from 'node:net'
import path from 'node:path'
import {pathToFileURL} from 'node:url'
import {type MessagePort, Worker} from 'node:worker_threads'
import type {ConnectionLimits} from '../jsonrpc/index.js'
import {PortStream} from '../jsonrpc/port-stream.js'
import type {HostedDbLimits} from './hosted-db.js'
import {type BoundSocket, bindSocket, checkThreadedRemote, unbindSocket} from './io-thread-sockets.js'
import {connectionsMaxDefault, type LogLevel, type OvsdbServer} from './server.js'

/** What an I/O thread is started with. */
export interface IoThreadData {
  index: number
  serverId: string
  /** The databases, each with the file it is served from (read by the thread to start from it). */
  dbs: {name: string; file?: string}[]
  dbLimits: HostedDbLimits
  limits?: Partial<ConnectionLimits>
  digestKey?: Uint8Array
  /** Clients this thread serves at once: the server's connectionsMax divided among the threads. */
  connectionsMax: number
}

/** Messages from the database thread to an I/O thread. */
export type ToWorker = {type: 'listen'; sockets: {fd: number; unix: boolean}[]} | {type: 'memory'; id: number} | {type: 'stop'}

/** Messages from an I/O thread to the database thread. */
export type ToMain =
  | {type: 'dial'; port: MessagePort}
  | {type: 'ready'}
  | {type: 'listening'}
  | {type: 'log'; level: LogLevel; message: string}
  | {type: 'memory'; id: number; stats: Record<string, number>}
  | {type: 'stopped'}

/** Named bounds of the I/O threads' life cycle. */
export interface IoThreadLimits {
  /** How long the threads may take to copy the databases and listen, at start or restart. */
  readyTimeoutMs: number
  /** How long a stopping thread may take to say goodbye to its clients before it is terminated. */
  stopWaitMs: number
  /** How long memory/show waits for a thread's figures. */
  memoryWaitMs: number
  /** Pause before threads are restarted after one died, so that a thread that dies at once does not spin. */
  restartDelayMs: number
}

/** Defaults of the I/O threads' bounds. */
export const defaultIoThreadLimits: IoThreadLimits = {readyTimeoutMs: 120_000, stopWaitMs: 2000, memoryWaitMs: 2000, restartDelayMs: 1000}

/** I/O threads beyond this are refused: each holds a replica, and no machine has the cores to use more. */
export const ioThreadsMax = 64

/**
 * Sessions a link of an I/O thread may have unanswered: it carries the writes of all the thread's clients
 * (each of which the thread bounds by pendingRequestsMax), as many as a relay forwards (forwardQueueMax).
 */
const linkPendingRequestsMax = 10_000

interface Thread {
  readonly worker: Worker
  readonly index: number
  stopping: boolean
  readonly waits: Map<number, (stats: Record<string, number>) => void>
}

/**
 * The module an I/O thread runs: the compiled one, or (sources run through tsx, as tests and bin/dev.js do) the
 * TypeScript one behind tsx's loader, which a worker does not inherit.
 */
function workerEntry(): URL | string {
  const url = new URL(`./io-thread-worker${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url)
  if (url.pathname.endsWith('.js')) return url
  const tsxRoot = path.dirname(createRequire(import.meta.url).resolve('tsx/package.json'))
  const tsx = pathToFileURL(path.join(tsxRoot, 'dist', 'esm', 'api', 'index.mjs')).href
  return `import(${JSON.stringify(tsx)}).then((m) => m.register()).then(() => import(${JSON.stringify(url.href)}))`
}

/** The I/O threads of a server. */
export class IoThreads {
  private threads: Thread[] = []
  private bound: BoundSocket[] = []
  private readonly remotes: ReturnType<typeof checkThreadedRemote>[]
  private closing = false
  private restarting = false
  private nextMemoryId = 0
  private dials = 0
  /** Set once the threads listen; a thread that exits after that is restarted. */
  private started = false

  constructor(
    private readonly server: OvsdbServer,
    private readonly opts: {count: number; remotes: string[]; digestKey?: Uint8Array; limits?: IoThreadLimits; files?: Map<string, string>},
  ) {
    if (!Number.isInteger(opts.count) || opts.count < 1 || opts.count > ioThreadsMax) {
      throw new Error(`--io-threads must be from 0 to ${ioThreadsMax}, not ${opts.count}`)
    }
    if (opts.remotes.length === 0) throw new Error('--io-threads needs at least one --remote=punix:FILE or ptcp:PORT[:IP] for its threads to serve')
    this.remotes = opts.remotes.map(checkThreadedRemote)
  }

  private get limits(): IoThreadLimits {
    return this.opts.limits ?? defaultIoThreadLimits
  }

  /** The remotes served, with the port bound for ptcp:0. */
  list(): string[] {
    return this.bound.map((b) => (b.port !== null && b.port !== Number((b.remote as {port?: number}).port) ? `${b.remote.text} (port ${b.port})` : b.remote.text))
  }

  /** Starts the threads, waits until each holds the databases, binds the remotes and lets them accept. */
  async start(): Promise<void> {
    const dbs = this.server
      .databaseNames()
      .filter((n) => n !== '_Server')
      .map((name) => ({name, file: this.opts.files?.get(name)}))
    this.threads = Array.from({length: this.opts.count}, (_, index) => this.spawn(index, dbs))
    await Promise.all(this.threads.map((t) => this.expect(t, 'ready')))
    this.bound = this.remotes.map(bindSocket)
    const sockets = this.bound.map((b) => ({fd: b.fd, unix: 'path' in b.remote}))
    const listening = this.threads.map((t) => this.expect(t, 'listening'))
    for (const t of this.threads) t.worker.postMessage({type: 'listen', sockets} satisfies ToWorker)
    await Promise.all(listening)
    for (const b of this.bound) b.publish()
    this.started = true
    this.server.log('INFO', `${this.threads.length} I/O threads serving ${this.list().join(', ')}`)
  }

  private spawn(index: number, dbs: IoThreadData['dbs']): Thread {
    const connectionsMax = Math.ceil((this.server.options.connectionsMax ?? connectionsMaxDefault) / this.opts.count)
    const data: IoThreadData = {index, serverId: this.server.serverId, dbs, dbLimits: this.server.dbLimits, limits: this.server.options.limits, digestKey: this.opts.digestKey, connectionsMax}
    const worker = new Worker(workerEntry(), {workerData: data, name: `io-thread-${index}`, eval: import.meta.url.endsWith('.ts')})
    const thread: Thread = {worker, index, stopping: false, waits: new Map()}
    worker.on('message', (m: ToMain) => this.message(thread, m))
    worker.on('error', (err) => this.server.log('ERR', `I/O thread ${index} failed: ${err.stack ?? err.message}`))
    worker.on('exit', (code) => this.exited(thread, code))
    return thread
  }

  private message(thread: Thread, m: ToMain): void {
    if (m.type === 'dial') {
      // The thread's relay link or a client's lock channel: one more session of this (the database) thread.
      const name = `io-thread-${thread.index}#${this.dials++}`
      void this.server.serve(new PortStream(m.port) as unknown as net.Socket, name, 0, {limits: {pendingRequestsMax: linkPendingRequestsMax}})
    } else if (m.type === 'log') {
      this.server.log(m.level, `io-thread-${thread.index}: ${m.message}`)
    } else if (m.type === 'memory') {
      thread.waits.get(m.id)?.(m.stats)
      thread.waits.delete(m.id)
    }
  }

  /** Resolves when `thread` sends `type`; rejects when it exits first or takes longer than readyTimeoutMs. */
  private expect(thread: Thread, type: 'ready' | 'listening' | 'stopped'): Promise<void> {
    const timeoutMs = type === 'stopped' ? this.limits.stopWaitMs : this.limits.readyTimeoutMs
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => done(new Error(`I/O thread ${thread.index} did not report "${type}" within ${timeoutMs} ms`)), timeoutMs)
      const onMessage = (m: ToMain) => m.type === type && done(null)
      const onExit = (code: number) => done(new Error(`I/O thread ${thread.index} exited with code ${code} before it was ${type}`))
      const done = (err: Error | null) => {
        clearTimeout(timer)
        thread.worker.off('message', onMessage)
        thread.worker.off('exit', onExit)
        if (err === null) resolve()
        else reject(err)
      }
      thread.worker.on('message', onMessage)
      thread.worker.on('exit', onExit)
    })
  }

  private exited(thread: Thread, code: number): void {
    // A thread that dies while starting fails the start (expect) instead.
    if (thread.stopping || this.closing || !this.started || this.restarting) return
    this.server.log('ERR', `I/O thread ${thread.index} exited (code ${code}); its clients were disconnected: restarting the I/O threads in ${this.limits.restartDelayMs} ms`)
    this.restarting = true
    void this.restart()
  }

  /**
   * Every thread is restarted, not only the dead one: the dead thread closed the shared listening descriptors,
   * which the others still hold by number. They are terminated at once, before this thread opens anything that
   * could be given a number they would close on their way out; fresh sockets are bound after.
   */
  private async restart(): Promise<void> {
    try {
      await this.stopThreads({graceful: false})
      await new Promise((resolve) => setTimeout(resolve, this.limits.restartDelayMs))
      if (this.closing) return
      await this.start()
    } catch (err) {
      this.server.log('ERR', `cannot restart the I/O threads: ${(err as Error).message}; stopping`)
      process.exit(1)
    } finally {
      this.restarting = false
    }
  }

  /** Stops every thread; a graceful stop lets each tell its clients the server is shutting down first. */
  private async stopThreads(opts: {graceful: boolean}): Promise<void> {
    this.started = false
    const threads = this.threads
    this.threads = []
    await Promise.all(
      threads.map(async (t) => {
        t.stopping = true
        if (opts.graceful) {
          const stopped = this.expect(t, 'stopped').catch(() => {})
          t.worker.postMessage({type: 'stop'} satisfies ToWorker)
          await stopped
        }
        await t.worker.terminate()
      }),
    )
  }

  /** Figures of each thread for memory/show: its clients, monitors, compositions and backlogs. */
  async memoryStats(): Promise<Record<string, number>> {
    const out: Record<string, number> = {'io-threads': this.threads.length}
    const each = await Promise.all(this.threads.map((t) => this.threadStats(t)))
    each.forEach((stats, i) => {
      for (const key of ['sessions', 'monitors', 'shared-compositions', 'backlog-bytes', 'backlog-commits', 'locks']) {
        out[`io-thread-${i}-${key}`] = stats?.[key] ?? -1
      }
    })
    return out
  }

  private threadStats(t: Thread): Promise<Record<string, number> | null> {
    const id = this.nextMemoryId++
    return new Promise((resolve) => {
      const timer = setTimeout(() => (t.waits.delete(id), resolve(null)), this.limits.memoryWaitMs)
      t.waits.set(id, (stats) => (clearTimeout(timer), resolve(stats)))
      t.worker.postMessage({type: 'memory', id} satisfies ToWorker)
    })
  }

  /** Stops the threads (their clients are told the server is shutting down) and removes socket files. */
  async close(): Promise<void> {
    this.closing = true
    await this.stopThreads({graceful: true})
    for (const b of this.bound) unbindSocket(b)
  }
}

/**
 * One JSON-RPC 1.0 connection as OVSDB uses it (RFC 7047 §4): requests carry an id, notifications have
 * "id": null, responses carry both "result" and "error" (one of them null). Writes are batched per callback;
 * the bytes still queued for the peer are bounded by backlogBytesMax.
 */
import type {Socket} from 'node:net'
import {FramingError, JsonSplitter, JsonSyntaxError} from './framing.js'
import {type ConnectionLimits, defaultConnectionLimits} from './limits.js'
import {peerRefusedText} from './tls.js'

/** An error object returned by the peer in a response ({"error": ...}). */
export class RpcError extends Error {
  constructor(readonly error: unknown, readonly method: string) {
    super(`Request "${method}" failed: ${describeRpcError(error)}`)
    this.name = 'RpcError'
  }
}

/** The connection closed before the reply came. */
export class ConnectionClosedError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'ConnectionClosedError'
  }
}

/** No reply came within the request's timeout. */
export class RequestTimeoutError extends Error {
  constructor(
    message: string,
    readonly timeoutMs: number,
  ) {
    super(message)
    this.name = 'RequestTimeoutError'
  }
}

/** What the owner of a connection does with the peer's requests and notifications. */
export interface RpcHandler {
  onRequest(method: string, params: unknown, id: unknown): void
  onNotification?(method: string, params: unknown): void
  /** A message that is not valid JSON-RPC (but framing is intact): the default answers with an error. */
  onInvalid?(message: string, id: unknown): void
}

interface Pending {
  method: string
  resolve(value: unknown): void
  reject(err: Error): void
  timer?: NodeJS.Timeout
}

/** Renders a peer's error object for a message. */
export function describeRpcError(error: unknown): string {
  if (error && typeof error === 'object' && 'error' in error) {
    const e = error as {error: unknown; details?: unknown}
    return e.details === undefined ? String(e.error) : `${String(e.error)} (${String(e.details)})`
  }
  return JSON.stringify(error)
}

/** A JSON-RPC connection over a connected stream socket. */
export class JsonRpcConnection {
  readonly limits: ConnectionLimits
  private readonly splitter: JsonSplitter
  private handler: RpcHandler | null = null
  private readonly pending = new Map<number, Pending>()
  private nextId = 0
  /** Messages queued this turn: the first outCount slots (the array keeps its capacity from flush to flush). */
  private outQueue: (string | Buffer | undefined)[] = []
  private outCount = 0
  private flushScheduled = false
  private closedReason: string | null = null
  private readonly closeListeners: ((reason: string) => void)[] = []
  private lastReceiveMs = Date.now()
  private probeSent = false
  private probeTimer: NodeJS.Timeout | null = null
  /** Bytes and messages received and sent, for memory/show and benchmarks. */
  readonly counters = {bytesIn: 0, bytesOut: 0, messagesIn: 0, messagesOut: 0}

  constructor(readonly socket: Socket, readonly name: string, limits: Partial<ConnectionLimits> = {}) {
    this.limits = {...defaultConnectionLimits, ...limits}
    this.splitter = new JsonSplitter(this.limits)
    socket.setNoDelay?.(true)
    socket.on('data', (chunk: Buffer) => this.receive(chunk))
    socket.on('error', (err: NodeJS.ErrnoException) => this.teardown(this.explain(err)))
    socket.on('close', () => this.teardown('connection closed by peer'))
    socket.on('end', () => socket.end())
    this.armProbe()
  }

  /**
   * A TLS 1.3 server checks the client's certificate after the client's handshake is done: a refusal may then
   * show only as a reset or a broken pipe before any answer, depending on when our first write leaves.
   */
  private explain(err: NodeJS.ErrnoException): string {
    const early = this.counters.messagesIn === 0 && 'encrypted' in this.socket && (err.code === 'EPIPE' || err.code === 'ECONNRESET')
    return early ? `${peerRefusedText}, or closed the connection before answering (${err.message})` : err.message
  }

  /** Installs the handler for incoming requests and notifications. */
  setHandler(handler: RpcHandler): void {
    this.handler = handler
  }

  /** True once the connection is closed. */
  get closed(): boolean {
    return this.closedReason !== null
  }

  /** Why the connection closed, or null while it is open. */
  get closeReason(): string | null {
    return this.closedReason
  }

  /** Bytes received for a message not yet complete (at most messageBytesMax). */
  get bufferedBytes(): number {
    return this.splitter.bufferedBytes
  }

  /** Bytes queued for the peer: in our batch plus in the socket's buffer. */
  get backlogBytes(): number {
    let queued = 0
    for (let i = 0; i < this.outCount; i++) queued += this.outQueue[i]!.length
    return queued + this.socket.writableLength
  }

  /**
   * True while the kernel does not take our bytes as fast as we write them (the socket asked us to wait for
   * "drain"): a monitor then merges its updates instead of queueing more.
   */
  get congested(): boolean {
    return this.socket.writableNeedDrain
  }

  /** Calls `listener` each time the peer has taken what was queued after a congestion. */
  onDrain(listener: () => void): void {
    this.socket.on('drain', listener)
  }

  /** Calls `listener` once with the reason when the connection closes. */
  onClose(listener: (reason: string) => void): void {
    if (this.closedReason !== null) listener(this.closedReason)
    else this.closeListeners.push(listener)
  }

  /** Sends a request and resolves with its result; rejects with RpcError, or on close or timeout. */
  request(method: string, params: unknown, opts: {timeoutMs?: number} = {}): Promise<unknown> {
    if (this.closedReason !== null) {
      return Promise.reject(new ConnectionClosedError(`Cannot send "${method}" on "${this.name}": ${this.closedReason}`))
    }
    if (this.pending.size >= this.limits.outstandingRequestsMax) {
      return Promise.reject(new Error(`Cannot send "${method}" on "${this.name}": outstandingRequestsMax=${this.limits.outstandingRequestsMax} reached`))
    }
    const id = this.nextId++
    return new Promise((resolve, reject) => {
      const entry: Pending = {method, resolve, reject}
      if (opts.timeoutMs !== undefined && opts.timeoutMs > 0) {
        entry.timer = setTimeout(() => {
          this.pending.delete(id)
          reject(new RequestTimeoutError(`Request "${method}" on "${this.name}": no reply after ${opts.timeoutMs} ms`, opts.timeoutMs!))
        }, opts.timeoutMs)
      }
      this.pending.set(id, entry)
      this.send(JSON.stringify({id, method, params}))
    })
  }

  /** Sends a notification (a request with a null id, which gets no reply). */
  notify(method: string, params: unknown): void {
    this.send(JSON.stringify({id: null, method, params}))
  }

  /** Replies to request `id` with a result. */
  respond(id: unknown, result: unknown): void {
    this.send(JSON.stringify({id, result, error: null}))
  }

  /** Replies to request `id` with an error; like ovsdb-server, an error reply carries no "result" member. */
  respondError(id: unknown, error: unknown): void {
    this.send(JSON.stringify({id, error}))
  }

  /** Queues already-serialized message bytes (shared between clients by monitors). */
  send(message: string | Buffer): void {
    if (this.closedReason !== null) return
    this.outQueue[this.outCount++] = message
    this.counters.messagesOut++
    if (!this.flushScheduled) {
      this.flushScheduled = true
      // Flush once this turn of the event loop has run its callbacks: every message queued meanwhile (the
      // updates and replies of one turn, which settle through chains of promises) leaves in one write. A write
      // per message cost a system call each: a tenth of a cluster leader's time under 64 clients.
      JsonRpcConnection.toFlush.push(this)
      if (JsonRpcConnection.toFlush.length === 1) setImmediate(JsonRpcConnection.flushAll)
    }
  }

  /**
   * Connections with messages queued this turn, in the order they queued their first: one callback flushes them
   * all, where one per connection cost an Immediate and a closure each for every client a commit reaches.
   */
  private static toFlush: JsonRpcConnection[] = []

  private static flushAll(this: void): void {
    const due = JsonRpcConnection.toFlush
    JsonRpcConnection.toFlush = []
    for (const conn of due) conn.flush()
  }

  /** Closes the connection, failing every pending request with `reason`. */
  close(reason = 'closed locally'): void {
    if (this.closedReason !== null) return
    this.flush()
    this.teardown(reason)
    this.socket.end()
    // A peer that never reads would keep the socket half-open forever; bound the wait.
    setTimeout(() => this.socket.destroy(), 2000).unref()
  }

  /** Writes what is queued now instead of at the end of this turn of the event loop. */
  flushNow(): void {
    if (this.flushScheduled) this.flush()
  }

  private flush(): void {
    this.flushScheduled = false
    if (this.closedReason !== null || this.outCount === 0) return
    // Shared monitor messages come encoded (Buffer): keep them so; strings are encoded once, here (counting the
    // bytes of a string and then writing it would encode it twice).
    let data: string | Buffer
    if (this.outCount === 1) data = this.outQueue[0]!
    else {
      const parts = this.outQueue.slice(0, this.outCount) as (string | Buffer)[]
      data = parts.some((p) => typeof p !== 'string') ? Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : p))) : parts.join('')
    }
    // The queue is emptied in place, keeping its capacity: a new array per flush (and the backing store of its
    // first push) was garbage per client and commit. One that held a burst is let go instead.
    if (this.outCount > 64) this.outQueue = []
    else for (let i = 0; i < this.outCount; i++) this.outQueue[i] = undefined
    this.outCount = 0
    // A string is written as it is: the socket encodes it straight into the kernel's buffer when it can, where
    // an intermediate Buffer per message and client was garbage for the young generation. (writableLength then
    // counts UTF-16 units of a string still queued, so backlogBytesMax holds within UTF-8's expansion.)
    this.counters.bytesOut += typeof data === 'string' ? Buffer.byteLength(data) : data.length
    this.socket.write(data)
    if (this.socket.writableLength > this.limits.backlogBytesMax) {
      this.socket.destroy()
      this.teardown(`backlog of ${this.socket.writableLength} bytes exceeds backlogBytesMax=${this.limits.backlogBytesMax}`)
    }
  }

  private receive(chunk: Buffer): void {
    this.counters.bytesIn += chunk.length
    this.lastReceiveMs = Date.now()
    this.probeSent = false
    let values: unknown[]
    let framing: FramingError | null = null
    try {
      values = this.splitter.push(chunk)
    } catch (err) {
      if (!(err instanceof FramingError)) throw err
      // Messages complete before the broken one are answered first: a pipelining client keeps those replies.
      framing = err
      values = err.before
    }
    for (const value of values) {
      if (this.closedReason !== null) return
      this.counters.messagesIn++
      if (value instanceof JsonSyntaxError) this.invalid(value.message, null)
      else this.dispatch(value)
    }
    if (framing !== null && this.closedReason === null) {
      this.respondError(null, {error: 'syntax error', details: framing.message})
      this.close(framing.message)
    }
  }

  private dispatch(value: unknown): void {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      this.invalid('JSON-RPC message is not a JSON object', null)
      return
    }
    const msg = value as Record<string, unknown>
    const id = msg.id
    if (typeof msg.method === 'string') {
      if (!('params' in msg) || !Array.isArray(msg.params)) {
        this.invalid(`"params" of "${msg.method}" must be an array`, id ?? null)
      } else if (id === null || id === undefined) {
        this.handler?.onNotification?.(msg.method, msg.params)
      } else if (msg.method === 'echo' && this.handler === null) {
        this.respond(id, msg.params)
      } else if (this.handler) {
        this.handler.onRequest(msg.method, msg.params, id)
      } else {
        this.respondError(id, {error: 'unknown method', details: msg.method})
      }
      return
    }
    if ('result' in msg || 'error' in msg) {
      this.settle(msg)
      return
    }
    this.invalid('JSON-RPC message has neither "method" nor "result"/"error"', id ?? null)
  }

  private settle(msg: Record<string, unknown>): void {
    const entry = typeof msg.id === 'number' ? this.pending.get(msg.id) : undefined
    if (entry === undefined) return // a reply to a request that timed out, or a peer's echo we never sent
    this.pending.delete(msg.id as number)
    if (entry.timer) clearTimeout(entry.timer)
    if (msg.error !== null && msg.error !== undefined) entry.reject(new RpcError(msg.error, entry.method))
    else entry.resolve(msg.result)
  }

  private invalid(message: string, id: unknown): void {
    if (this.handler?.onInvalid) this.handler.onInvalid(message, id)
    else this.respondError(id, {error: 'syntax error', details: message})
  }

  private armProbe(): void {
    const interval = this.limits.probeIntervalMs
    if (interval <= 0) return
    this.probeTimer = setInterval(() => this.checkIdle(interval), Math.max(100, Math.floor(interval / 4)))
    this.probeTimer.unref()
  }

  private checkIdle(interval: number): void {
    const idleMs = Date.now() - this.lastReceiveMs
    if (idleMs < interval) return
    if (!this.probeSent) {
      this.probeSent = true
      this.lastReceiveMs = Date.now()
      this.request('echo', []).catch(() => {})
      return
    }
    this.close(`no response to inactivity probe after ${(interval / 1000).toFixed(0)} seconds, disconnecting`)
  }

  private teardown(reason: string): void {
    if (this.closedReason !== null) return
    this.closedReason = reason
    if (this.probeTimer) clearInterval(this.probeTimer)
    for (const entry of this.pending.values()) {
      if (entry.timer) clearTimeout(entry.timer)
      entry.reject(new ConnectionClosedError(`Request "${entry.method}" on "${this.name}" failed: ${reason}`))
    }
    this.pending.clear()
    this.outQueue = []
    this.outCount = 0
    for (const listener of this.closeListeners.splice(0)) listener(reason)
  }
}

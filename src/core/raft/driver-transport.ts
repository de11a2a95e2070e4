/**
 * Raft messages between servers as JSON-RPC notifications over the cluster addresses (`tcp:IP:PORT`, `ssl:IP:PORT` or
 * `unix:PATH`, as ovsdb-tool create-cluster/join-cluster take them). Each server listens on its own address and
 * dials the others; a message goes out on the connection to its receiver's address, or on the connection the
 * receiver opened to us (a joining server is known by id before its address is). Lost connections are dialled
 * again with back-off; a message for a peer with no connection is dropped, which Raft tolerates.
 *
 * Wire form: {"method": "raft", "params": [ENVELOPE], "id": null}, where ENVELOPE is
 * {"cid", "name", "from_address", "leader_address"?, "msg"} and a snapshot chunk travels as base64.
 */
import {
  connectSocket,
  JsonRpcConnection,
  type Listener,
  listen,
  parseRemote,
  type TlsContextSource,
} from '../jsonrpc/index.js'
import {entryJson} from './log.js'
import type {Message, ServerId} from './types.js'

/** Back-off between attempts to reach a peer: from min doubling to max (OVS's raft reconnects similarly). */
export const peerReconnectMs = {min: 100, max: 1000}

/** How long one connection attempt may take. */
export const peerConnectTimeoutMs = 2000

/** Bytes queued for one peer before its connection is dropped and dialled again (cluster/set-backlog-threshold). */
export const peerBacklogBytesMax = 64 * 1024 * 1024

/**
 * Messages held for a peer while its connection is being dialled; more are dropped. Followers have no
 * connection to each other until one campaigns: without this, the first vote requests after a leader dies
 * were all lost and the election waited a whole election timeout more.
 */
export const peerDialQueueMessagesMax = 64

/** What travels with each message. */
export interface Envelope {
  readonly cid: string | null
  readonly name: string
  readonly from_address: string
  readonly leader_address?: string
  readonly msg: Record<string, unknown>
}

/** Construction parameters of a transport. */
export interface TransportOptions {
  readonly localId: ServerId
  readonly localAddress: string
  readonly name: string
  clusterId(): string | null
  log(level: 'INFO' | 'WARN', message: string): void
  /** A message arrived (already addressed to localId), with its envelope. */
  onMessage(msg: Message, envelope: Envelope): void
  /** Answers a request from a peer; absent, requests are refused. */
  onRequest?(method: string, params: unknown[]): Promise<unknown>
  /** The connection to or from `peer` (an id, or an address for a peer known only so) closed. */
  onPeerDown(peer: string): void
  /** TLS for ssl: cluster addresses; both members authenticate each other by their CA. */
  readonly tls?: TlsContextSource
}

interface Outgoing {
  conn: JsonRpcConnection | null
  connecting: boolean
  backoffMs: number
  nextAttemptMs: number
  /** The id of the server at this address, once it has sent us something over any connection. */
  peerId: string | null
  /** Messages waiting for the connection being dialled (at most peerDialQueueMessagesMax). */
  queued: string[]
}

/** Turns a cluster address into the remote that listens on it. */
export function passiveOf(address: string): string {
  const r = parseRemote(address)
  if (r.kind === 'unix') return `punix:${r.path}`
  if (r.kind !== 'tcp' && r.kind !== 'ssl') throw new Error(`Invalid cluster address "${address}": give an active form (tcp:IP:PORT, ssl:IP:PORT or unix:PATH)`)
  return `p${r.kind}:${r.port}:${r.host.includes(':') ? `[${r.host}]` : r.host}`
}

function toWire(msg: Message): Record<string, unknown> {
  if (msg.type !== 'snapshotRequest') return msg as unknown as Record<string, unknown>
  return {...msg, chunk: Buffer.from(msg.chunk).toString('base64')}
}

/** The envelope as JSON text, with an AppendRequest's entries from their cached text (entryJson). */
function envelopeJson(env: Envelope): string {
  const msg = env.msg as unknown as Message
  if (msg.type !== 'appendRequest' || msg.entries.length === 0) return JSON.stringify(env)
  const {entries, ...rest} = msg
  const head = JSON.stringify({...env, msg: {...rest, entries: []}})
  // The envelope ends with its message, which ends with "entries":[] (the last member, as built above).
  const cut = head.length - '[]}}'.length
  if (!head.endsWith('"entries":[]}}')) throw new Error(`assertion failed: unexpected envelope text ${head.slice(-40)}`)
  return `${head.slice(0, cut)}[${entries.map(entryJson).join(',')}]}}`
}

function fromWire(raw: Record<string, unknown>): Message {
  if (raw.type !== 'snapshotRequest') return raw as unknown as Message
  return {...raw, chunk: new Uint8Array(Buffer.from(String(raw.chunk), 'base64'))} as unknown as Message
}

/** The network side of one server. */
export class RaftTransport {
  private listener: Listener | null = null
  private readonly outgoing = new Map<string, Outgoing>()
  private readonly incoming = new Map<string, JsonRpcConnection>()
  private readonly accepted = new Set<JsonRpcConnection>()
  private closed = false
  /** Connections lost since start (cluster/status "Disconnections"). */
  disconnections = 0
  /** When each peer was last heard from, in ms (cluster/status "last msg"). */
  readonly lastHeardMs = new Map<string, number>()

  constructor(private readonly o: TransportOptions) {}

  /** Listens on the local cluster address. */
  async listen(): Promise<void> {
    this.listener = await listen(parseRemote(passiveOf(this.o.localAddress)), (socket) => {
      const conn = new JsonRpcConnection(socket, `raft:${socket.remoteAddress ?? 'unix'}`, {probeIntervalMs: 0, backlogBytesMax: peerBacklogBytesMax})
      this.accepted.add(conn)
      let peer: string | null = null
      conn.setHandler({
        onRequest: (method, params, id) => this.answer(conn, method, params, id),
        onNotification: (method, params) => {
          const from = this.receive(method, params)
          if (from !== null && peer === null) {
            peer = from
            this.incoming.set(from, conn)
          }
        },
      })
      conn.onClose(() => {
        this.accepted.delete(conn)
        if (peer !== null && this.incoming.get(peer) === conn) {
          this.incoming.delete(peer)
          if (!this.closed) {
            this.disconnections++
            this.o.onPeerDown(peer)
          }
        }
      })
    }, {tls: this.o.tls, onRefused: (peer, reason) => this.o.log('WARN', `refused cluster connection from ${peer}: ${reason}`)})
  }

  private answer(conn: JsonRpcConnection, method: string, params: unknown, id: unknown): void {
    if (this.o.onRequest === undefined) return conn.respondError(id, {error: 'unknown method'})
    this.o.onRequest(method, params as unknown[]).then(
      (result) => conn.respond(id, result),
      (err: Error) => conn.respondError(id, {error: 'cluster error', details: err.message}),
    )
  }

  /** Sends a request on the connection to `address`; rejects at once if it is not connected (yet). */
  request(address: string, method: string, params: unknown[], timeoutMs: number): Promise<unknown> {
    const conn = this.outgoingConn(address)
    if (conn === null) return Promise.reject(new Error(`Cannot send "${method}" to "${address}": not connected`))
    return conn.request(method, params, {timeoutMs})
  }

  /** Takes one notification; returns the sender's id when it was a valid message. */
  private receive(method: string, params: unknown): string | null {
    if (method !== 'raft' || !Array.isArray(params) || typeof params[0] !== 'object' || params[0] === null) return null
    const env = params[0] as Envelope
    if (env.name !== this.o.name) {
      this.o.log('WARN', `ignoring a message for database "${env.name}": this server serves "${this.o.name}"`)
      return null
    }
    const cid = this.o.clusterId()
    if (cid !== null && env.cid !== null && env.cid !== cid) {
      this.o.log('WARN', `ignoring a message from cluster "${env.cid}": this server is in cluster "${cid}"`)
      return null
    }
    const raw = env.msg
    if (typeof raw?.from !== 'string' || typeof raw.type !== 'string') return null
    // A joining server knows its contacts only by address and sends them messages addressed so.
    const msg = fromWire(raw.to === this.o.localAddress ? {...raw, to: this.o.localId} : raw)
    this.lastHeardMs.set(msg.from, Date.now())
    const out = this.outgoing.get(env.from_address)
    if (out !== undefined) out.peerId = msg.from
    this.o.onMessage(msg, env)
    return msg.from
  }

  /** Writes every queued message now, not at the end of this turn of the event loop (a commit waits for them). */
  flushNow(): void {
    for (const out of this.outgoing.values()) out.conn?.flushNow()
    for (const conn of this.incoming.values()) conn.flushNow()
  }

  /** Sends `msg` to its receiver at `address` (if known), else on a connection the receiver opened. */
  send(msg: Message, address: string | undefined, extra: {leaderAddress?: string} = {}): void {
    if (this.closed) return
    const env: Envelope = {
      cid: this.o.clusterId(),
      name: this.o.name,
      from_address: this.o.localAddress,
      ...(extra.leaderAddress === undefined ? {} : {leader_address: extra.leaderAddress}),
      msg: toWire(msg),
    }
    const text = `{"id":null,"method":"raft","params":[${envelopeJson(env)}]}`
    const conn = address !== undefined ? this.outgoingConn(address) : null
    if (conn !== null) return conn.send(text)
    const back = this.incoming.get(msg.to)
    if (back !== undefined && !back.closed) return back.send(text)
    const out = address !== undefined ? this.outgoing.get(address) : undefined
    if (out?.connecting && out.queued.length < peerDialQueueMessagesMax) out.queued.push(text)
  }

  /** The open connection to `address`, dialling it (with back-off) when there is none. */
  private outgoingConn(address: string): JsonRpcConnection | null {
    let out = this.outgoing.get(address)
    if (out === undefined) {
      out = {conn: null, connecting: false, backoffMs: peerReconnectMs.min, nextAttemptMs: 0, peerId: null, queued: []}
      this.outgoing.set(address, out)
    }
    if (out.conn !== null && !out.conn.closed) return out.conn
    if (!out.connecting && Date.now() >= out.nextAttemptMs) this.dial(address, out)
    return null
  }

  private dial(address: string, out: Outgoing): void {
    out.connecting = true
    connectSocket(parseRemote(address), peerConnectTimeoutMs, {tls: this.o.tls}).then(
      (socket) => {
        out.connecting = false
        if (this.closed) {
          out.queued = []
          return void socket.destroy()
        }
        const conn = new JsonRpcConnection(socket, `raft:${address}`, {probeIntervalMs: 0, backlogBytesMax: peerBacklogBytesMax})
        conn.setHandler({
          onRequest: (method, params, id) => this.answer(conn, method, params, id),
          onNotification: (method, params) => void this.receive(method, params),
        })
        out.conn = conn
        out.backoffMs = peerReconnectMs.min
        for (const text of out.queued.splice(0)) conn.send(text)
        conn.onClose((reason) => {
          if (out.conn === conn) out.conn = null
          if (this.closed) return
          this.disconnections++
          out.nextAttemptMs = Date.now() + out.backoffMs
          this.o.log('INFO', `${address}: connection closed: ${reason}`)
          this.o.onPeerDown(out.peerId ?? address)
        })
      },
      (err: Error) => {
        if (err.name === 'TlsError' && out.backoffMs === peerReconnectMs.min) this.o.log('WARN', err.message)
        out.connecting = false
        out.queued = []
        out.nextAttemptMs = Date.now() + out.backoffMs
        out.backoffMs = Math.min(out.backoffMs * 2, peerReconnectMs.max)
      },
    )
  }

  /** Connections as cluster/status lists them: "->ID" dialled by us, "<-ID" accepted from the peer. */
  connections(abbreviate: (id: string) => string): string[] {
    const out: string[] = []
    for (const o of this.outgoing.values()) if (o.conn !== null && !o.conn.closed) out.push(`->${abbreviate(o.peerId ?? '0000')}`)
    for (const [id, conn] of this.incoming) if (!conn.closed) out.push(`<-${abbreviate(id)}`)
    return out
  }

  /** Closes the listener and every connection. */
  async close(): Promise<void> {
    this.closed = true
    for (const o of this.outgoing.values()) o.conn?.close()
    for (const conn of this.accepted) conn.close()
    await this.listener?.close()
  }
}

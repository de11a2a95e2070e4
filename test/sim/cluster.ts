/**
 * A whole cluster in one process: servers (RaftNode + Disk + App), a network of messages in flight, and the
 * driver loop of the Ready contract. Transcript tests drive it by hand; the simulation drives it from a seed.
 * An observer sees every persisted Ready and every applied entry, which is where the checker hooks in.
 */
import {
  type Entry,
  type Message,
  type RaftLimits,
  RaftNode,
  type Ready,
  type Servers,
  initialState,
  joinState,
  sendableBeforePersist,
} from '../../src/core/raft/index.js'
import {App} from './app.js'
import {Disk} from './disk.js'

/** One simulated server. `node` is null while it is down. */
export interface Server {
  readonly id: string
  node: RaftNode | null
  disk: Disk
  app: App
  /** A Ready taken from the node whose write has not completed (lost if the server crashes). */
  syncing: Ready | null
  random: () => number
  join: string[]
}

/** A message on the wire and the round from which it may be delivered. */
export interface InFlight {
  readonly msg: Message
  readonly deliverAt: number
}

/** What the checker wants to see. */
export interface Observer {
  took?(server: Server, rd: Ready): void
  persisted?(server: Server, rd: Ready): void
  applied?(server: Server, e: Entry): void
  sent?(msg: Message): void
}

/** Options for a cluster. */
export interface ClusterOptions {
  readonly limits?: Partial<RaftLimits>
  readonly random?: () => () => number
  readonly observer?: Observer
  /** Bytes of padding in each application snapshot, so transfers take several chunks. */
  readonly snapshotPaddingBytes?: number
}

/** A simulated cluster. */
export class Cluster {
  readonly servers = new Map<string, Server>()
  network: InFlight[] = []
  round = 0
  /** Servers that can reach each other share a group number; unlisted servers are in group 0. */
  groups = new Map<string, number>()
  /** Drops messages for which this returns true (transcript tests use it to cut single links). */
  dropIf: ((msg: Message) => boolean) | null = null
  delayOf: (msg: Message) => number = () => 0

  constructor(private readonly o: ClusterOptions = {}) {}

  /** Creates the founding servers of a new cluster with configuration `ids`. */
  bootstrap(ids: readonly string[]): void {
    const servers: Servers = Object.fromEntries(ids.map((id) => [id, `unix:${id}.sock`]))
    for (const id of ids) this.create(id, initialState(servers), [])
  }

  /** Starts a fresh server (fresh id) that asks `via` to add it. */
  startJoiner(id: string, via: readonly string[]): Server {
    return this.create(id, joinState(), [...via])
  }

  private create(id: string, state: ReturnType<typeof initialState>, join: string[]): Server {
    const random = this.o.random ? this.o.random() : () => 0.5
    const server: Server = {id, node: null, disk: new Disk(state), app: new App(), syncing: null, random, join}
    this.servers.set(id, server)
    this.restart(id)
    return server
  }

  /** The running node of `id` (throws if it is down). */
  node(id: string): RaftNode {
    const node = this.servers.get(id)?.node
    if (!node) throw new Error(`Server "${id}" is not running`)
    return node
  }

  /** Stops a server; its unsynced Ready and its in-memory state are lost. */
  crash(id: string): void {
    const s = this.servers.get(id) as Server
    s.node = null
    s.syncing = null
    s.app = new App()
  }

  /** Starts a server from its disk. */
  restart(id: string): void {
    const s = this.servers.get(id) as Server
    s.app = new App()
    s.app.load(s.disk.snapshot)
    s.node = new RaftNode({
      id,
      address: `unix:${id}.sock`,
      storage: s.disk.state(),
      random: s.random,
      limits: this.o.limits,
      join: s.join,
      clusterId: 'c1d2e3f4-0000-4000-8000-000000000000',
    })
  }

  /** Running servers, in id order. */
  up(): Server[] {
    return [...this.servers.values()].filter((s) => s.node !== null).sort((a, b) => (a.id < b.id ? -1 : 1))
  }

  /** Takes a Ready from `id` if it has one and no write is in progress. */
  takeReady(id: string): boolean {
    const s = this.servers.get(id) as Server
    if (s.node === null || s.syncing !== null || !s.node.hasReady()) return false
    s.syncing = s.node.ready()
    this.o.observer?.took?.(s, s.syncing)
    // What may leave before the sync does so now: a crash before sync() then loses the leader's entries while
    // its followers may hold them.
    for (const msg of s.syncing.messages) if (sendableBeforePersist(msg)) this.send(msg)
    return true
  }

  /** Completes the write of the taken Ready: persist, send, apply, advance. */
  sync(id: string): void {
    const s = this.servers.get(id) as Server
    const rd = s.syncing
    if (rd === null || s.node === null) return
    s.disk.persist(rd)
    this.o.observer?.persisted?.(s, rd)
    for (const msg of rd.messages) if (!sendableBeforePersist(msg)) this.send(msg)
    if (rd.snapshot) s.app.load(rd.snapshot)
    for (const e of rd.committedEntries) {
      if (e.index <= s.app.index) continue
      s.app.apply(e)
      this.o.observer?.applied?.(s, e)
    }
    s.node.advance(rd)
    s.syncing = null
  }

  /** Runs the Ready loop of `id` to completion, writes completing at once. */
  settle(id: string): void {
    while (this.takeReady(id)) this.sync(id)
    // The driver announces a new commit index soon after; here, once the server is idle.
    const node = this.servers.get(id)?.node
    if (node && node.commitUnannounced && this.announceCommits) {
      node.announceCommit()
      while (this.takeReady(id)) this.sync(id)
    }
  }

  /** Whether settle() announces a leader's new commit index (the simulation turns it off at times). */
  announceCommits = true

  /** Runs every running server's Ready loop to completion. */
  settleAll(): void {
    for (const s of this.up()) this.settle(s.id)
  }

  /** Puts a message on the wire, unless a partition or the drop filter stops it. */
  send(msg: Message): void {
    this.o.observer?.sent?.(msg)
    if ((this.groups.get(msg.from) ?? 0) !== (this.groups.get(msg.to) ?? 0)) return
    if (this.dropIf?.(msg)) return
    this.network.push({msg, deliverAt: this.round + this.delayOf(msg)})
  }

  /** Whether `id` can take input now (running and not waiting for a write). */
  ready(id: string): boolean {
    const s = this.servers.get(id)
    return s !== undefined && s.node !== null && s.syncing === null
  }

  /** Delivers one message to its server (dropped if the server is down). */
  deliverOne(f: InFlight): void {
    const s = this.servers.get(f.msg.to)
    if (s?.node) s.node.step(f.msg)
  }

  /**
   * Delivers the due messages matching `filter` to servers that can take them, in order, settling after each;
   * returns how many were delivered. Messages to busy servers stay on the wire.
   */
  deliver(filter: (m: Message) => boolean = () => true): number {
    let n = 0
    const keep: InFlight[] = []
    const due = this.network
    this.network = []
    for (const f of due) {
      if (f.deliverAt > this.round || !filter(f.msg) || !this.ready(f.msg.to)) {
        if (this.servers.get(f.msg.to)?.node) keep.push(f)
        continue
      }
      this.deliverOne(f)
      this.settle(f.msg.to)
      n++
    }
    this.network = [...keep, ...this.network]
    return n
  }

  /** Delivers messages until the network is quiet (or `roundsMax` passes find more), settling as it goes. */
  stabilize(roundsMax = 100): void {
    this.settleAll()
    for (let i = 0; i < roundsMax && this.deliver() > 0; i++) this.settleAll()
  }

  /** Ticks `id` `n` times, settling after each. */
  tick(id: string, n = 1): void {
    for (let i = 0; i < n; i++) {
      this.node(id).tick()
      this.settle(id)
    }
  }

  /** Has `id` snapshot its application state and compact its log to what it applied. */
  compact(id: string): void {
    const s = this.servers.get(id) as Server
    this.node(id).compact(s.app.index, s.app.snapshot(this.o.snapshotPaddingBytes ?? 0))
  }

  /** The running leader with the highest term, if any. */
  leader(): Server | undefined {
    let best: Server | undefined
    for (const s of this.up()) {
      const st = (s.node as RaftNode).status()
      if (st.role === 'leader' && (!best || st.term > (best.node as RaftNode).status().term)) best = s
    }
    return best
  }
}

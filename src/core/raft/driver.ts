/**
 * The Raft driver: wires a RaftNode to a clock (a tick every tickMs), a disk (a RaftStorage that makes each
 * Ready durable) and the network (RaftTransport). It is the only place that runs the Ready contract of
 * RaftNode: every input (tick, message, proposal, request) is queued and fed to the node between Readys; a
 * Ready is persisted (one sync) while a leader's replication messages already travel, then its other messages
 * are sent, then its snapshot and committed entries are handed to the application, then advance(). Inputs that arrive while a sync is in flight are gathered into
 * the next Ready, so one sync covers them all (group commit).
 */
import {NotLeaderError} from './errors.js'
import type {RaftLimits} from './limits.js'
import {type ConfChange, RaftNode, tickMsDefault} from './node.js'
import {sendableBeforePersist} from './replication.js'
import {abbreviateId} from './status.js'
import {type Envelope, RaftTransport} from './driver-transport.js'
import type {Entry, EntryData, Membership, Message, PersistedState, RaftStatus, Ready, ServerId, Servers, Snapshot, SoftState} from './types.js'

/**
 * Longest random wait between losing the connection to the leader and campaigning. Every follower sees a
 * killed leader's connections close at the same instant; campaigning at once makes them all candidates
 * together and splits the vote, which then costs a full election timeout. A random spread lets one of them win
 * the first election (the randomized timeouts of Raft §5.2, applied to this fast path).
 */
export const leaderLostSpreadMs = 150

/**
 * A campaign started on a lost connection can fail while the other voters still trust the old leader (they
 * ignore campaigns within their lease until they see the connection drop too, Raft thesis §9.6), or split the
 * vote with a follower that lost the leader at the same moment: it is tried again after a random pause around
 * this, this many times, while no leader is known, instead of waiting for the election timeout.
 */
export const leaderLostRetryMs = 60
export const leaderLostRetries = 15

/**
 * How long a leader waits before sending a new commit index on its own. The next AppendEntries carries it anyway;
 * a client writing one transaction after another sends the next within this time, and an idle cluster's followers
 * apply the last commit this much later (a write forwarded by a follower is announced at once).
 */
export const commitAnnounceDelayMs = 2

/** The durable side the driver writes each Ready to. */
export interface RaftStorage {
  /** `inline`: sync on the calling thread (a follower, which serves no writes while it waits). */
  persist(rd: Ready, options?: {inline: boolean}): Promise<void>
}

/** What the application does with what the cluster decided. */
export interface RaftApplication {
  /** Loads a snapshot that replaces the application's state (a follower that fell behind the leader's log). */
  loadSnapshot(snapshot: Snapshot): void
  /** Applies committed entries, in order (every kind: the application skips what it does not use). */
  apply(entries: readonly Entry[]): void
  /** Role, leader, term or commit index changed. */
  changed(): void
  /** A joining server learned its cluster's id. */
  learnedClusterId?(clusterId: string): void
}

/** How to build a driver. */
export interface RaftDriverOptions {
  readonly id: ServerId
  readonly address: string
  /** The database name: messages for another database are refused. */
  readonly name: string
  readonly clusterId: string | null
  readonly state: PersistedState
  readonly storage: RaftStorage
  readonly app: RaftApplication
  /** For a joining server: the addresses of servers to ask to add it (ovsdb-tool join-cluster REMOTE...). */
  readonly join?: readonly string[]
  /** Index the application already holds (its state was rebuilt from the snapshot). */
  readonly applied?: number
  readonly tickMs?: number
  readonly limits?: Partial<RaftLimits>
  readonly log: (level: 'INFO' | 'WARN' | 'ERR', message: string) => void
  /** Answers a request a peer sent over the cluster connection (a follower forwarding a transaction). */
  readonly onRequest?: (method: string, params: unknown[]) => Promise<unknown>
  /** A chunk of a snapshot from the leader arrived: bytes received so far, and the snapshot's size. */
  readonly onSnapshotProgress?: (receivedBytes: number, totalBytes: number) => void
  /** TLS for ssl: cluster addresses. */
  readonly tls?: import('../jsonrpc/index.js').TlsContextSource
  /** The process cannot go on (the disk refused a write): stop it. */
  readonly fatal: (err: Error) => void
}

/** Election events for cluster/status "Last Election ...". */
export interface ElectionInfo {
  startedMs: number | null
  reason: string | null
  wonMs: number | null
}

/** What cluster/status shows beyond the core's status. */
export interface DriverStatus extends RaftStatus {
  readonly name: string
  readonly address: string
  readonly clusterIdKnown: string | null
  readonly connections: readonly string[]
  readonly disconnections: number
  readonly lastHeardMs: ReadonlyMap<string, number>
  readonly election: Readonly<ElectionInfo>
}

/** One running Raft server. */
export class RaftDriver {
  private readonly node: RaftNode
  private readonly transport: RaftTransport
  private readonly inputs: (() => void)[] = []
  private running = false
  private timer: NodeJS.Timeout | null = null
  private stopped = false
  private clusterId: string | null
  /** Addresses of servers by id: configuration, catching-up servers, and what envelopes told us. */
  private readonly addresses = new Map<string, string>()
  private soft: SoftState = {role: 'follower', leader: null}
  /** The core's status, built when asked for after the last Ready (cluster/status), not at every Ready. */
  private cachedStatus: RaftStatus | null = null
  private learnedServers: Servers | null = null
  /** The applied index as of the last Ready: a snapshot beyond it is the application's to load. */
  private appliedAtLastReady: number
  private readonly election: ElectionInfo = {startedMs: null, reason: null, wonMs: null}
  private leaderLostTimer: NodeJS.Timeout | null = null
  private announceTimer: NodeJS.Timeout | null = null

  constructor(private readonly o: RaftDriverOptions) {
    this.clusterId = o.clusterId
    this.node = new RaftNode({
      id: o.id,
      address: o.address,
      storage: o.state,
      random: Math.random,
      tickMs: o.tickMs ?? tickMsDefault,
      applied: o.applied,
      limits: o.limits,
      clusterId: o.clusterId ?? undefined,
      join: o.join,
    })
    for (const a of o.join ?? []) this.addresses.set(a, a)
    this.learnAddresses()
    this.appliedAtLastReady = this.node.appliedIndex
    this.transport = new RaftTransport({
      localId: o.id,
      localAddress: o.address,
      name: o.name,
      clusterId: () => this.clusterId,
      log: (level, m) => o.log(level, m),
      onMessage: (msg, env) => this.received(msg, env),
      onPeerDown: (peer) => this.peerDown(peer),
      onRequest: o.onRequest,
      tls: o.tls,
    })
  }

  /** Listens on the cluster address and starts the clock. */
  async start(): Promise<void> {
    await this.transport.listen()
    this.timer = setInterval(() => this.input((n) => n.tick()), this.o.tickMs ?? tickMsDefault)
    this.kick()
  }

  /** This server's id. */
  get id(): ServerId {
    return this.o.id
  }

  /** Role and leader as of the last Ready. */
  get softState(): SoftState {
    return this.soft
  }

  /** Whether this server is the leader (as of the last Ready). */
  get isLeader(): boolean {
    return this.soft.role === 'leader'
  }

  /** The cluster id, once known (a joining server learns it from the first message of the cluster). */
  get knownClusterId(): string | null {
    return this.clusterId
  }

  /** Core status as of the last Ready. */
  get raftStatus(): RaftStatus {
    return (this.cachedStatus ??= this.node.status())
  }

  /** The membership part of raftStatus, cheaply (asked after every Ready). */
  get membership(): Membership {
    return this.node.membership()
  }

  /** The logEnd part of raftStatus, cheaply. */
  get logEnd(): number {
    return this.node.logEnd
  }

  /** The leader's cluster address, if a leader is known. */
  leaderAddress(): string | undefined {
    return this.soft.leader === null ? undefined : this.addresses.get(this.soft.leader)
  }

  /** The address of a server by id (configuration or learned), if known. */
  addressOf(id: string): string | undefined {
    return this.addresses.get(id)
  }

  /** Sends a request to the server at `address` over the cluster connection (see RaftTransport.request). */
  request(address: string, method: string, params: unknown[], timeoutMs: number): Promise<unknown> {
    return this.transport.request(address, method, params, timeoutMs)
  }

  /** Leader: appends a command; resolves with where it will be committed if it is. */
  propose(data: EntryData): Promise<{index: number; term: number}> {
    return this.call((n) => n.propose(data))
  }

  /** Leader: sends the new commit index to the followers now (a follower waits for it to answer a write). */
  announceCommit(): void {
    this.input((n) => n.announceCommit())
  }

  /** Leader: changes the election timer (cluster/change-election-timer). */
  changeElectionTimer(ms: number): Promise<{index: number; term: number}> {
    return this.call((n) => n.changeElectionTimer(ms))
  }

  /** Removes a server (cluster/kick); a follower forwards the request to the leader. */
  confChange(change: ConfChange): Promise<void> {
    return this.call((n) => n.proposeConfChange(change))
  }

  /** Starts leaving the cluster (cluster/leave). */
  leave(): Promise<void> {
    return this.call((n) => n.leave())
  }

  /** Compacts the log up to `index` with the application's snapshot there. */
  compact(index: number, data: Uint8Array): Promise<void> {
    return this.call((n) => n.compact(index, data))
  }

  /** Everything cluster/status shows. */
  status(): DriverStatus {
    return {
      ...this.raftStatus,
      clusterId: this.clusterId,
      name: this.o.name,
      address: this.o.address,
      clusterIdKnown: this.clusterId,
      connections: this.transport.connections(abbreviateId),
      disconnections: this.transport.disconnections,
      lastHeardMs: this.transport.lastHeardMs,
      election: {...this.election},
    }
  }

  private call<T>(fn: (n: RaftNode) => T): Promise<T> {
    if (this.stopped) return Promise.reject(new NotLeaderError(null, 'run a cluster request: the server is stopping'))
    return new Promise<T>((resolve, reject) => {
      this.input((n) => {
        try {
          resolve(fn(n))
        } catch (err) {
          reject(err)
        }
      })
    })
  }

  private input(fn: (n: RaftNode) => void): void {
    if (this.stopped) return
    this.inputs.push(() => fn(this.node))
    this.kick()
  }

  private kick(): void {
    if (this.running || this.stopped) return
    this.running = true
    this.loop().then(
      () => (this.running = false),
      (err: Error) => {
        this.running = false
        this.o.fatal(err)
      },
    )
  }

  /** The Ready loop: feed queued inputs, then persist, send, apply and advance, until nothing is left. */
  private async loop(): Promise<void> {
    for (;;) {
      for (const fn of this.inputs.splice(0)) fn()
      this.cachedStatus = null
      if (this.stopped) return
      if (!this.node.hasReady()) {
        if (this.inputs.length > 0) continue
        if (this.node.commitUnannounced && this.announceTimer === null) {
          this.announceTimer = setTimeout(() => {
            this.announceTimer = null
            this.announceCommit()
          }, commitAnnounceDelayMs)
        }
        return
      }
      const rd = this.node.ready()
      const late = this.sendEarly(rd)
      this.transport.flushNow()
      // A follower syncs on its own thread: the hop to libuv's pool and back is on the path of every commit,
      // and what arrives meanwhile waits in the socket and shares the next sync. A leader must keep reading
      // requests while it syncs, or it loses its batching (measured: 64 clients fell from 7.0k to 2.1k txn/s).
      await this.o.storage.persist(rd, {inline: this.soft.role === 'follower' && (rd.softState?.role ?? 'follower') === 'follower'})
      this.afterPersist(rd, late)
      this.node.advance(rd)
      this.appliedAtLastReady = this.node.appliedIndex
      this.cachedStatus = null
      if (this.node.servers() !== this.learnedServers || rd.snapshot) this.learnAddresses()
      if (rd.softState || rd.hardState || rd.committedEntries.length > 0) this.o.app.changed()
    }
  }

  /** Sends the messages that need not wait for the sync (a leader replicating); returns the others. */
  private sendEarly(rd: Ready): Message[] {
    const late: Message[] = []
    for (const msg of rd.messages) {
      if (sendableBeforePersist(msg)) this.deliver(msg)
      else late.push(msg)
    }
    return late
  }

  private afterPersist(rd: Ready, late: readonly Message[]): void {
    if (rd.softState) this.roleChanged(rd.softState)
    for (const msg of late) this.deliver(msg)
    // A follower's acknowledgement is on the path of every commit: send it now, not after the rest of this turn.
    if (late.length > 0) this.transport.flushNow()
    if (rd.snapshot && rd.snapshot.index > this.appliedAtLastReady) this.o.app.loadSnapshot(rd.snapshot)
    if (rd.committedEntries.length > 0) this.o.app.apply(rd.committedEntries)
  }

  private roleChanged(next: SoftState): void {
    const prev = this.soft
    this.soft = next
    const now = Date.now()
    if (next.role === 'preCandidate' && prev.role !== 'preCandidate') {
      this.election.startedMs = now
      this.election.reason = prev.leader === null && prev.role === 'follower' ? 'timeout' : 'leader lost or timeout'
    }
    if (next.role === 'leader' && prev.role !== 'leader') {
      this.election.wonMs = now
      this.o.log('INFO', `term ${this.raftStatus.term}: elected leader`)
    }
    if (next.leader !== prev.leader && next.leader !== null && next.leader !== this.o.id) {
      this.o.log('INFO', `leader is ${abbreviateId(next.leader)}`)
    }
  }

  private deliver(msg: Message): void {
    // A server catching up (joining) is not in the configuration yet: learn its address when it is first sent to.
    if (!this.addresses.has(msg.to)) this.learnAddresses()
    const extra = msg.type === 'membershipReply' && msg.leaderHint !== null ? {leaderAddress: this.addresses.get(msg.leaderHint)} : {}
    this.transport.send(msg, this.addresses.get(msg.to), extra)
  }

  private received(msg: Message, env: Envelope): void {
    if (!this.addresses.has(msg.from)) this.addresses.set(msg.from, env.from_address)
    if (msg.type === 'membershipReply' && msg.leaderHint !== null && env.leader_address !== undefined) {
      if (!this.addresses.has(msg.leaderHint)) this.addresses.set(msg.leaderHint, env.leader_address)
    }
    if (this.clusterId === null && env.cid !== null) {
      this.clusterId = env.cid
      this.o.log('INFO', `learned cluster id ${env.cid}`)
      this.o.app.learnedClusterId?.(env.cid)
    }
    if (msg.type === 'snapshotRequest') this.o.onSnapshotProgress?.(msg.offset + msg.chunk.length, msg.totalBytes)
    this.input((n) => n.step(msg))
  }

  /**
   * A lost connection to the leader starts a pre-vote within leaderLostSpreadMs rather than after the election
   * timeout; not if by then a new leader is followed or the old one was heard from again.
   */
  private peerDown(peer: string): void {
    const leader = this.soft.leader
    if (leader === null || leader === this.o.id || this.leaderLostTimer !== null) return
    if (peer !== leader && peer !== this.addresses.get(leader)) return
    this.o.log('INFO', `connection to leader ${abbreviateId(leader)} lost`)
    const lostMs = Date.now()
    this.leaderLostTimer = setTimeout(() => {
      this.leaderLostTimer = null
      const heardSince = (this.transport.lastHeardMs.get(leader) ?? 0) > lostMs
      if (this.soft.leader === leader && !heardSince) {
        this.input((n) => n.leaderLost())
        this.retryLeaderLost(leader, lostMs, 1)
      }
    }, Math.random() * leaderLostSpreadMs)
  }

  /** Tries the pre-vote again while it has not found a leader (see leaderLostRetryMs). */
  private retryLeaderLost(leader: ServerId, lostMs: number, attempt: number): void {
    if (attempt > leaderLostRetries) return
    this.leaderLostTimer = setTimeout(() => {
      this.leaderLostTimer = null
      if (this.stopped || this.soft.leader !== null) return
      // A candidate still here split the vote with another that campaigned at the same moment: campaign again
      // (pre-vote first) after a random pause rather than after the election timeout.
      if (this.soft.role === 'leader') return
      if ((this.transport.lastHeardMs.get(leader) ?? 0) > lostMs) return
      this.input((n) => n.leaderLost())
      this.retryLeaderLost(leader, lostMs, attempt + 1)
    }, leaderLostRetryMs * (0.5 + Math.random()))
  }

  private learnAddresses(): void {
    const st = (this.cachedStatus = this.node.status())
    this.learnedServers = this.node.servers()
    for (const [id, address] of Object.entries(st.servers)) this.addresses.set(id, address)
    for (const p of st.peers) if (p.address !== '') this.addresses.set(p.id, p.address)
  }

  /** Stops the clock and the network; the storage is closed by its owner. */
  async close(): Promise<void> {
    if (this.stopped) return
    this.stopped = true
    if (this.timer) clearInterval(this.timer)
    if (this.leaderLostTimer) clearTimeout(this.leaderLostTimer)
    if (this.announceTimer) clearTimeout(this.announceTimer)
    await this.transport.close()
  }
}

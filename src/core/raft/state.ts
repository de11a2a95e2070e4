/**
 * The internal state of one Raft server, shared by the modules that implement the protocol (election,
 * replication, snapshot transfer, membership), and the role transitions they all use. Not exported from the
 * package: RaftNode is the public face.
 */
import {invariant} from './errors.js'
import type {RaftLimits} from './limits.js'
import {RaftLog} from './log.js'
import {Progress} from './progress.js'
import type {Message, PersistedState, Role, ServerId, Servers, SnapshotMeta} from './types.js'

/** A server catching up before it is added to the configuration (thesis §4.2.1). */
export interface Catchup {
  readonly address: string
  /** Whether it acknowledged anything since the last check-quorum round; otherwise it is dropped. */
  active: boolean
}

/** Snapshot bytes received so far from the leader (InstallSnapshot, Raft §7). */
export interface IncomingSnapshot {
  readonly meta: SnapshotMeta
  readonly totalBytes: number
  readonly chunks: Uint8Array[]
  receivedBytes: number
}

/** Construction parameters the state needs. */
export interface StateOptions {
  readonly id: ServerId
  readonly address: string
  readonly storage: PersistedState
  readonly applied?: number
  readonly random: () => number
  readonly tickMs: number
  readonly limits: RaftLimits
  readonly clusterId: string | null
  readonly join: readonly ServerId[]
}

/** Mutable state of one server. */
export class RaftState {
  readonly id: ServerId
  /** This server's own address, which a joining server sends with its request to be added. */
  readonly address: string
  readonly random: () => number
  readonly tickMs: number
  readonly limits: RaftLimits
  readonly clusterId: string | null
  readonly log: RaftLog
  term: number
  vote: ServerId | null
  leader: ServerId | null = null
  role: Role = 'follower'
  electionTimerMs = 0
  electionTicks = 1
  heartbeatTicks = 1
  randomizedElectionTicks = 1
  electionElapsed = 0
  heartbeatElapsed = 0
  /** Leader only: replication state of every other voter, joining server, and server being removed. */
  readonly progress = new Map<ServerId, Progress>()
  /** Leader only: servers catching up before their configuration entry is appended. */
  readonly catchups = new Map<ServerId, Catchup>()
  /** Candidate and pre-candidate: the answers received (true = granted). */
  readonly votes = new Map<ServerId, boolean>()
  /** Leader only: index of the entry that opened this term; configuration changes wait for its commit. */
  termStartIndex = 0
  transferee: ServerId | null = null
  transferElapsed = 0
  /** Set by leave (or a kick of this server): keep asking the leader to remove us. */
  leaving = false
  /** Leader: the commit index moved since it was last sent to the followers (node.announceCommit). */
  commitUnannounced = false
  /** A joining server's contacts, asked in turn to add it (ovsdb-tool join-cluster remote addresses). */
  joinTargets: ServerId[]
  requestElapsed = 0
  /** Follower: a snapshot being received in chunks. */
  incoming: IncomingSnapshot | null = null
  /** Messages to send once the next Ready is persisted. */
  msgs: Message[] = []

  constructor(o: StateOptions) {
    this.id = o.id
    this.address = o.address
    this.random = o.random
    this.tickMs = o.tickMs
    this.limits = o.limits
    this.clusterId = o.clusterId
    this.log = new RaftLog(o.storage, o.applied)
    this.term = o.storage.hardState.term
    this.vote = o.storage.hardState.vote
    this.joinTargets = [...o.join]
    this.setElectionTimer(this.log.electionTimerAt(this.log.committed))
    this.resetElectionTimeout()
  }

  /** The configuration in effect: the latest in the log, committed or not (thesis §4.1). */
  servers(): Servers {
    return this.log.latestServers().servers
  }

  /** Whether `id` may vote in the configuration in effect. */
  isVoter(id: ServerId): boolean {
    return Object.hasOwn(this.servers(), id)
  }

  /** Voters other than this server. */
  otherVoters(): ServerId[] {
    return Object.keys(this.servers()).filter((id) => id !== this.id)
  }

  /** Votes (or acknowledgements) needed out of the configuration in effect. */
  quorum(): number {
    return Math.floor(Object.keys(this.servers()).length / 2) + 1
  }

  /** Applies a committed election timer: heartbeats at a third of it, as OVS pings at election_timer / 3. */
  setElectionTimer(ms: number): void {
    this.electionTimerMs = ms
    this.electionTicks = Math.max(2, Math.ceil(ms / this.tickMs))
    this.heartbeatTicks = Math.max(1, Math.floor(this.electionTicks / 3))
  }

  /** Draws a new election timeout in [electionTicks, 2 * electionTicks) from the random source passed in. */
  resetElectionTimeout(): void {
    const r = this.random()
    invariant(r >= 0 && r < 1, `random() returned ${r}, expected a number in [0, 1)`)
    this.randomizedElectionTicks = this.electionTicks + Math.floor(r * this.electionTicks)
  }

  /** Queues a message for the next Ready. */
  send(msg: Message): void {
    this.msgs.push(msg)
  }

  /** Resets the volatile state of the previous role; a new term clears the vote. */
  reset(term: number): void {
    if (term !== this.term) {
      this.term = term
      this.vote = null
    }
    this.leader = null
    this.electionElapsed = 0
    this.heartbeatElapsed = 0
    this.resetElectionTimeout()
    this.votes.clear()
    this.progress.clear()
    this.catchups.clear()
    this.transferee = null
    this.transferElapsed = 0
  }

  /** Becomes a follower in `term`, of `leader` when known. */
  becomeFollower(term: number, leader: ServerId | null): void {
    this.reset(term)
    this.role = 'follower'
    this.leader = leader
  }

  /** Starts a pre-vote round: no term change and no vote cast, so a failed round disturbs no one (§9.6). */
  becomePreCandidate(): void {
    invariant(this.role !== 'leader', 'leader cannot become pre-candidate')
    this.votes.clear()
    this.role = 'preCandidate'
    this.leader = null
    this.electionElapsed = 0
    this.resetElectionTimeout()
  }

  /** Starts an election in a new term, voting for itself (Raft §5.2). */
  becomeCandidate(): void {
    invariant(this.role !== 'leader', 'leader cannot become candidate')
    this.reset(this.term + 1)
    this.vote = this.id
    this.role = 'candidate'
  }

  /** Whether this server may start elections: it is a voter and is not on its way out. */
  promotable(): boolean {
    return this.isVoter(this.id)
  }
}

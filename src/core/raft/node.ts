/**
 * RaftNode: one server of a Raft cluster as a deterministic state machine, in the style of etcd-io/raft. It
 * reads no clock (time is tick()), draws no randomness of its own (random is passed in) and does no I/O:
 * the driver feeds it messages and ticks, and takes from ready() what to persist, send and apply.
 *
 * Contract: after any input, while hasReady(), call ready(), persist and act on it as the Ready type
 * describes, then advance(ready). No other method may be called between ready() and advance().
 */
import {campaign, handleVoteReply, handleVoteRequest, inLease, startTransfer} from './election.js'
import {
  ChangeInProgressError,
  InvalidRequestError,
  NotLeaderError,
  ProposalDroppedError,
  invariant,
} from './errors.js'
import {type RaftLimits, defaultRaftLimits, electionTimerMsMax, electionTimerMsMin} from './limits.js'
import {
  addServer,
  changeBlocked,
  dropSilentCatchups,
  handleAddServerRequest,
  handleMembershipReply,
  handleRemoveServerRequest,
  promoteCaughtUp,
  removeServer,
  tickMembership,
} from './membership.js'
import {
  broadcastAppend,
  broadcastHeartbeat,
  handleAppendReply,
  handleAppendRequest,
  handleHeartbeat,
  handleHeartbeatReply,
  maybeCommit,
} from './replication.js'
import {handleSnapshotReply, handleSnapshotRequest} from './snapshot-transfer.js'
import {RaftState} from './state.js'
import {membershipOf, statusOf} from './status.js'
import type {EntryData, HardState, Membership, Message, PersistedState, RaftStatus, Ready, ServerId, Servers, SoftState} from './types.js'

/** How to build a RaftNode. */
export interface RaftNodeOptions {
  /** This server's id (OVS: its sid, a UUID). */
  readonly id: ServerId
  /** This server's address; a joining server sends it with its request to be added. */
  readonly address?: string
  /** What this server has on disk (initialState() or joinState() for a new one). */
  readonly storage: PersistedState
  /** Uniform random numbers in [0, 1), used only to randomize election timeouts. */
  readonly random: () => number
  /** Length of one tick in ms; election and heartbeat ticks derive from the cluster's election timer. */
  readonly tickMs?: number
  /** Index the application has already applied (its state survived the restart); default the snapshot's. */
  readonly applied?: number
  readonly limits?: Partial<RaftLimits>
  /** The cluster's id (OVS: its cid), for status only. */
  readonly clusterId?: string
  /** For a server joining an existing cluster: the ids of servers to ask to add it. */
  readonly join?: readonly ServerId[]
}

/** A configuration change: add one server (after it catches up) or remove one. */
export type ConfChange = {type: 'addServer'; id: ServerId; address: string} | {type: 'removeServer'; id: ServerId}

/** The default tick: a tenth of the default election timer, so elections time out after 10 to 20 ticks. */
export const tickMsDefault = 100

/** One Raft server. */
export class RaftNode {
  private readonly s: RaftState
  private prevHard: HardState
  private prevSoft: SoftState
  private outstanding: Ready | null = null
  private broadcastPending = false

  constructor(o: RaftNodeOptions) {
    this.s = new RaftState({
      id: o.id,
      address: o.address ?? o.storage.snapshot.servers[o.id] ?? '',
      storage: o.storage,
      applied: o.applied,
      random: o.random,
      tickMs: o.tickMs ?? tickMsDefault,
      limits: {...defaultRaftLimits, ...o.limits},
      clusterId: o.clusterId ?? null,
      join: o.join ?? [],
    })
    this.prevHard = this.hardState()
    this.prevSoft = this.softState()
  }

  /** This server's id. */
  get id(): ServerId {
    return this.s.id
  }

  /** Advances logical time by one tick: elections, heartbeats, check-quorum, membership retries. */
  tick(): void {
    this.checkIdle()
    const s = this.s
    s.electionElapsed++
    if (s.role === 'leader') this.tickLeader()
    else if (s.electionElapsed >= s.randomizedElectionTicks) {
      s.electionElapsed = 0
      campaign(s, 'preVote')
    }
    tickMembership(s)
  }

  private tickLeader(): void {
    const s = this.s
    s.heartbeatElapsed++
    if (s.transferee !== null && ++s.transferElapsed >= s.electionTicks) s.transferee = null
    if (s.electionElapsed >= s.electionTicks) {
      s.electionElapsed = 0
      if (!this.checkQuorum()) return
    }
    if (s.heartbeatElapsed >= s.heartbeatTicks) {
      s.heartbeatElapsed = 0
      broadcastHeartbeat(s)
    }
  }

  /** A leader that heard from no quorum within an election timeout steps down (thesis §6.2). */
  private checkQuorum(): boolean {
    const s = this.s
    let active = 0
    for (const id of Object.keys(s.servers())) {
      const pr = s.progress.get(id)
      if (id === s.id || pr?.recentActive) active++
    }
    dropSilentCatchups(s)
    for (const pr of s.progress.values()) pr.recentActive = false
    if (active >= s.quorum()) return true
    s.becomeFollower(s.term, null)
    return false
  }

  /** Takes one message from a peer. */
  step(m: Message): void {
    this.checkIdle()
    const s = this.s
    if (m.to !== s.id) return
    if (m.type === 'addServerRequest' || m.type === 'removeServerRequest' || m.type === 'membershipReply') {
      if (m.type === 'addServerRequest') handleAddServerRequest(s, m)
      else if (m.type === 'removeServerRequest') handleRemoveServerRequest(s, m)
      else handleMembershipReply(s, m)
      return this.after()
    }
    // A server outside our configuration (removed, say) cannot make us vote or change term, unless its log
    // is ahead of ours: then our configuration may be the stale one, and ignoring it could block every election.
    if (m.type === 'voteRequest' && !s.isVoter(m.from) && !s.log.isAhead(m.lastIndex, m.lastTerm)) return
    if (m.term > s.term) {
      if (m.type === 'voteRequest' && !m.transfer && inLease(s)) return
      const keepTerm = (m.type === 'voteRequest' && m.preVote) || (m.type === 'voteReply' && m.preVote && m.granted)
      if (!keepTerm) {
        const fromLeader = m.type === 'appendRequest' || m.type === 'heartbeat' || m.type === 'snapshotRequest'
        s.becomeFollower(m.term, fromLeader ? m.from : null)
      }
    } else if (m.term < s.term) {
      this.answerStale(m)
      return
    }
    this.dispatch(m)
    this.after()
  }

  /** A message from an earlier term: tell a deposed leader the term, and deny a stale pre-vote. */
  private answerStale(m: Message): void {
    const s = this.s
    if (m.type === 'appendRequest' || m.type === 'heartbeat' || m.type === 'snapshotRequest') {
      s.send({type: 'heartbeatReply', from: s.id, to: m.from, term: s.term})
    } else if (m.type === 'voteRequest' && m.preVote) {
      s.send({type: 'voteReply', from: s.id, to: m.from, term: s.term, preVote: true, granted: false})
    }
  }

  private dispatch(m: Message): void {
    const s = this.s
    switch (m.type) {
      case 'voteRequest':
        return handleVoteRequest(s, m)
      case 'voteReply':
        if (s.role === 'preCandidate' || s.role === 'candidate') handleVoteReply(s, m)
        return
      case 'appendRequest':
      case 'heartbeat':
      case 'snapshotRequest':
        if (s.role === 'leader') return
        if (s.role !== 'follower') s.becomeFollower(m.term, m.from)
        s.leader = m.from
        s.electionElapsed = 0
        if (m.type === 'appendRequest') handleAppendRequest(s, m)
        else if (m.type === 'heartbeat') handleHeartbeat(s, m)
        else handleSnapshotRequest(s, m)
        return
      case 'appendReply':
        if (s.role === 'leader') handleAppendReply(s, m)
        return
      case 'heartbeatReply':
        if (s.role === 'leader') handleHeartbeatReply(s, m)
        return
      case 'snapshotReply':
        if (s.role === 'leader') handleSnapshotReply(s, m)
        return
      case 'timeoutNow':
        if (s.role === 'follower') campaign(s, 'transfer')
        return
    }
  }

  /** Work that follows any input: a caught-up joining server may now be added. */
  private after(): void {
    promoteCaughtUp(this.s)
  }

  /** Leader: appends a command; returns where it will be committed, if it is. */
  propose(data: EntryData): {index: number; term: number} {
    this.checkIdle()
    const s = this.requireLeader('propose')
    const uncommitted = s.log.lastIndex - s.log.committed
    if (uncommitted >= s.limits.uncommittedEntriesMax) {
      throw new ProposalDroppedError(`${uncommitted} entries not yet committed, limit uncommittedEntriesMax is ${s.limits.uncommittedEntriesMax}`)
    }
    const index = s.log.lastIndex + 1
    s.log.append([{kind: 'command', term: s.term, index, data}])
    this.replicate()
    return {index, term: s.term}
  }

  /** Leader: records a new election timer base in the log (cluster/change-election-timer); effective at commit. */
  changeElectionTimer(electionTimerMs: number): {index: number; term: number} {
    this.checkIdle()
    const s = this.requireLeader('change election timer')
    const what = `change election timer to ${electionTimerMs} ms`
    if (!Number.isInteger(electionTimerMs) || electionTimerMs < electionTimerMsMin || electionTimerMs > electionTimerMsMax) {
      throw new InvalidRequestError(what, `must be between ${electionTimerMsMin} and ${electionTimerMsMax} ms`)
    }
    if (electionTimerMs > 2 * s.electionTimerMs) {
      throw new InvalidRequestError(what, `at most double the current value, ${s.electionTimerMs} ms`)
    }
    for (let i = s.log.committed + 1; i <= s.log.lastIndex; i++) {
      if (s.log.entry(i).kind === 'electionTimer') throw new ChangeInProgressError(what, `a change at index ${i} is pending`)
    }
    const index = s.log.lastIndex + 1
    s.log.append([{kind: 'electionTimer', term: s.term, index, electionTimerMs}])
    this.replicate()
    return {index, term: s.term}
  }

  private replicate(): void {
    if (maybeCommit(this.s) && this.s.role === 'leader') broadcastAppend(this.s)
    this.broadcastPending = true
  }

  private requireLeader(what: string): RaftState {
    const s = this.s
    if (s.role !== 'leader') throw new NotLeaderError(s.leader, what)
    if (s.transferee !== null) throw new ProposalDroppedError(`leadership transfer to "${s.transferee}" in progress`)
    return s
  }

  /** Leader: hands leadership to `to` (thesis §3.10); proposals are refused until it is done or times out. */
  transferLeadership(to: ServerId): void {
    this.checkIdle()
    const s = this.requireLeader('transfer leadership')
    if (to === s.id) return
    if (!s.isVoter(to)) throw new InvalidRequestError(`transfer leadership to "${to}"`, 'not a voting member')
    startTransfer(s, to)
  }

  /**
   * Adds or removes one server. Adding (leader only) catches the server up first; removing works from any
   * member: a follower forwards the request to the leader (cluster/kick).
   */
  proposeConfChange(change: ConfChange): void {
    this.checkIdle()
    const s = this.s
    const what = `${change.type === 'addServer' ? 'add' : 'remove'} server "${change.id}"`
    if (s.role !== 'leader') {
      if (change.type === 'addServer' || s.leader === null) throw new NotLeaderError(s.leader, what)
      s.send({type: 'removeServerRequest', from: s.id, to: s.leader, term: 0, server: change.id})
      return
    }
    const status = change.type === 'addServer' ? addServer(s, change.id, change.address) : removeServer(s, change.id)
    if (status === 'busy') throw new ChangeInProgressError(what, changeBlocked(s) ?? 'too many servers catching up')
    if (status === 'no such server' || status === 'rejected') {
      throw new InvalidRequestError(what, status === 'rejected' ? 'it is the only server' : 'not a member')
    }
    this.after()
  }

  /** Starts leaving the cluster (cluster/leave): a leader first transfers leadership, then asks to be removed. */
  leave(): void {
    this.checkIdle()
    const s = this.s
    if (!s.isVoter(s.id)) throw new InvalidRequestError('leave cluster', 'not a member')
    if (Object.keys(s.servers()).length === 1) throw new InvalidRequestError('leave cluster', 'it is the only server')
    s.leaving = true
  }

  /** The driver lost its connection to the leader: start a pre-vote now rather than after the timeout. */
  leaderLost(): void {
    this.checkIdle()
    if (this.s.role !== 'leader') campaign(this.s, 'preVote')
  }

  /** The application snapshotted its state at `index` (at most the applied index): compacts the log. */
  compact(index: number, data: Uint8Array): void {
    this.checkIdle()
    const log = this.s.log
    if (index > log.applied || index <= log.snapshot.index) {
      throw new InvalidRequestError(
        `compact log to index ${index}`,
        `must be after the snapshot at ${log.snapshot.index} and at most the applied index ${log.applied}`,
      )
    }
    log.compact(index, data)
  }

  /** Leader: whether the commit index moved since the followers were last sent it (see announceCommit). */
  get commitUnannounced(): boolean {
    return this.s.role === 'leader' && this.s.commitUnannounced
  }

  /** Leader: sends the commit index to every follower now, with any entries they lack. */
  announceCommit(): void {
    this.checkIdle()
    if (this.commitUnannounced) broadcastAppend(this.s)
  }

  /** Whether ready() has anything to hand out. */
  hasReady(): boolean {
    const s = this.s
    return (
      this.broadcastPending ||
      s.msgs.length > 0 ||
      s.log.pendingSnapshot !== null ||
      s.log.unstableEntries().length > 0 ||
      s.log.committed > s.log.applied ||
      !sameHard(this.prevHard, this.hardState()) ||
      !sameSoft(this.prevSoft, this.softState())
    )
  }

  /** What to persist, send and apply now (see Ready for the order). */
  ready(): Ready {
    this.checkIdle()
    const s = this.s
    if (this.broadcastPending && s.role === 'leader') broadcastAppend(s)
    this.broadcastPending = false
    const hard = this.hardState()
    const soft = this.softState()
    const rd: Ready = {
      ...(sameSoft(this.prevSoft, soft) ? {} : {softState: soft}),
      ...(sameHard(this.prevHard, hard) ? {} : {hardState: hard}),
      ...(s.log.pendingSnapshot === null ? {} : {snapshot: s.log.pendingSnapshot}),
      entries: s.log.unstableEntries(),
      messages: s.msgs,
      committedEntries: s.log.entriesToApply(s.limits.applyEntriesMax),
    }
    s.msgs = []
    this.outstanding = rd
    return rd
  }

  /** The driver persisted, sent and applied `rd`. */
  advance(rd: Ready): void {
    invariant(this.outstanding === rd, 'advance() called with a Ready that is not the outstanding one')
    const last = rd.committedEntries.at(-1)
    this.s.log.accept(last === undefined ? this.s.log.applied : last.index)
    if (rd.hardState) this.prevHard = rd.hardState
    if (rd.softState) this.prevSoft = rd.softState
    this.outstanding = null
  }

  /** What cluster/status shows. */
  status(): RaftStatus {
    return statusOf(this.s)
  }

  /** status().membership, without building the rest. */
  membership(): Membership {
    return membershipOf(this.s)
  }

  /** status().appliedIndex: the last entry handed to the application (or the snapshot's index). */
  get appliedIndex(): number {
    return this.s.log.applied
  }

  /** status().logEnd: the index the next entry will take. */
  get logEnd(): number {
    return this.s.log.lastIndex + 1
  }

  /** The configuration in effect; the same object until it changes. */
  servers(): Servers {
    return this.s.servers()
  }

  private hardState(): HardState {
    return {term: this.s.term, vote: this.s.vote, commit: this.s.log.committed}
  }

  private softState(): SoftState {
    return {role: this.s.role, leader: this.s.leader}
  }

  private checkIdle(): void {
    invariant(this.outstanding === null, 'a Ready is outstanding: call advance() before any other method')
  }
}

function sameHard(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit
}

function sameSoft(a: SoftState, b: SoftState): boolean {
  return a.role === b.role && a.leader === b.leader
}

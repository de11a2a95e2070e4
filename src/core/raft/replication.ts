/**
 * Log replication (Raft §5.3): the leader's AppendRequests with batching and per-peer flow control, the
 * follower's consistency check with fast backtracking hints, heartbeats, and the commit rule that counts
 * replicas only for entries of the leader's own term (§5.4.2).
 */
import {advanceCommit, releaseRemoved} from './commit.js'
import {entryBytes} from './log.js'
import type {Progress} from './progress.js'
import {sendSnapshotChunk} from './snapshot-transfer.js'
import type {RaftState} from './state.js'
import type {AppendReply, AppendRequest, Heartbeat, HeartbeatReply, Message} from './types.js'

/**
 * Leader: sends `to` the entries it lacks, or a snapshot when they are compacted. An empty request (a probe,
 * or a commit index update) is sent only if `sendIfEmpty`. Returns whether anything was sent.
 */
export function sendAppend(s: RaftState, to: string, sendIfEmpty = true): boolean {
  const pr = s.progress.get(to)
  if (pr === undefined || pr.isPaused()) return false
  const prevIndex = pr.next - 1
  const prevTerm = s.log.term(prevIndex)
  if (prevTerm === undefined) {
    pr.becomeSnapshot(s.log.snapshot)
    sendSnapshotChunk(s, to, pr)
    return true
  }
  const budget = pr.budget()
  const entries =
    pr.next > s.log.lastIndex
      ? []
      : s.log.slice(
          pr.next,
          Math.min(s.limits.appendEntriesMax, budget.entries),
          Math.min(s.limits.appendBytesMax, budget.bytes),
        )
  if (entries.length === 0 && !sendIfEmpty) return false
  s.send({type: 'appendRequest', from: s.id, to, term: s.term, prevIndex, prevTerm, entries, commit: s.log.committed})
  pr.sent(prevIndex + entries.length, entries.length, entries.reduce((n, e) => n + entryBytes(e), 0))
  return true
}

/** Leader: sends every peer what it lacks (after new entries, or a commit index change), pipelined. */
export function broadcastAppend(s: RaftState): void {
  s.commitUnannounced = false
  for (const id of s.progress.keys()) {
    if (!sendAppend(s, id)) continue
    while (sendAppend(s, id, false)) {
      // Pipelining: as many requests as the batch limits and the in-flight bounds allow.
    }
  }
}

/** Leader: heartbeats to every peer; a snapshot chunk still unacknowledged goes out again with it. */
export function broadcastHeartbeat(s: RaftState): void {
  for (const [id, pr] of s.progress) {
    s.send({type: 'heartbeat', from: s.id, to: id, term: s.term, commit: Math.min(pr.match, s.log.committed)})
    if (pr.state === 'snapshot') sendSnapshotChunk(s, id, pr)
  }
}

/**
 * Whether a Ready's message may be sent before the Ready is persisted. A leader's AppendEntries and heartbeats
 * may: the leader can write its log in parallel with replicating it (Raft thesis §10.2.1), because it counts
 * its own entries towards a commit only when a follower's reply is stepped, which the Ready contract orders
 * after this Ready's sync. Replies and vote requests may not: they promise what is on the sender's disk.
 */
export function sendableBeforePersist(m: Message): boolean {
  return m.type === 'appendRequest' || m.type === 'heartbeat'
}

/** Leader: commits the highest index replicated on a quorum, if it is of the current term (§5.4.2). */
export function maybeCommit(s: RaftState): boolean {
  const matches = Object.keys(s.servers()).map((id) =>
    id === s.id ? s.log.lastIndex : (s.progress.get(id)?.match ?? 0),
  )
  matches.sort((a, b) => b - a)
  const index = matches[s.quorum() - 1]
  if (index <= s.log.committed || s.log.term(index) !== s.term) return false
  return advanceCommit(s, index)
}

/** Leader: takes a follower's answer to an AppendRequest (or to a completed snapshot). */
export function handleAppendReply(s: RaftState, m: AppendReply): void {
  const pr = s.progress.get(m.from)
  if (pr === undefined) return
  markActive(s, m.from, pr)
  if (!m.success) {
    // The hint names where the follower's log may match; find the same place in ours (etcd raft §fast-backtrack).
    const probe = m.hintIndex < s.log.firstIndex ? m.hintIndex : s.log.findConflictByTerm(m.hintIndex, m.hintTerm).index
    if (pr.reject(m.index, probe)) sendAppend(s, m.from)
    return
  }
  const wasPaused = pr.isPaused()
  const advanced = pr.acknowledge(m.index)
  if (pr.state === 'snapshot' && pr.transfer !== null && pr.match >= pr.transfer.snapshot.index) {
    // The transfer is over. If we compacted past it meanwhile, probing starts a newer snapshot.
    if (pr.match + 1 < s.log.firstIndex) {
      pr.becomeProbe()
      sendAppend(s, m.from)
      return
    }
    pr.becomeReplicate()
  } else if (!advanced) {
    return
  } else if (pr.state === 'probe') {
    pr.becomeReplicate()
  }
  if (maybeCommit(s)) {
    if (s.role !== 'leader') return
    // The followers learn the new index with the next AppendEntries, or when the driver announces it (soon, or at
    // once when a forwarded write waits for it): announcing every commit at once cost four messages per commit.
    s.commitUnannounced = true
    if (wasPaused) sendAppend(s, m.from)
  } else if (wasPaused) {
    sendAppend(s, m.from)
  }
  while (sendAppend(s, m.from, false)) {
    // Pipelining: keep sending until the batch limits or the in-flight bounds stop us.
  }
  if (m.from === s.transferee && pr.match === s.log.lastIndex) {
    s.send({type: 'timeoutNow', from: s.id, to: m.from, term: s.term})
  }
  releaseRemoved(s, m.from)
}

/** Leader: a heartbeat answer shows the peer is alive and lets a paused probe go out again. */
export function handleHeartbeatReply(s: RaftState, m: HeartbeatReply): void {
  const pr = s.progress.get(m.from)
  if (pr === undefined) return
  markActive(s, m.from, pr)
  pr.probeSent = false
  pr.freeFirstInflight()
  if (pr.match < s.log.lastIndex) sendAppend(s, m.from)
}

function markActive(s: RaftState, id: string, pr: Progress): void {
  pr.recentActive = true
  const catchup = s.catchups.get(id)
  if (catchup !== undefined) catchup.active = true
}

/** Follower: the consistency check and append of Raft §5.3, with a backtracking hint on failure. */
export function handleAppendRequest(s: RaftState, m: AppendRequest): void {
  const reply = (success: boolean, index: number, hintIndex = 0, hintTerm = 0) =>
    s.send({type: 'appendReply', from: s.id, to: m.from, term: s.term, success, index, hintIndex, hintTerm})
  if (m.prevIndex < s.log.committed) return reply(true, s.log.committed)
  if (s.log.term(m.prevIndex) === m.prevTerm) {
    const lastNew = s.log.appendAfterMatch(m.prevIndex, m.entries)
    advanceCommit(s, Math.min(m.commit, lastNew))
    return reply(true, lastNew)
  }
  const hint = s.log.findConflictByTerm(Math.min(m.prevIndex, s.log.lastIndex), m.prevTerm)
  reply(false, m.prevIndex, hint.index, hint.term)
}

/** Follower: a heartbeat's commit index is at most our match with the leader, so it is safe to take. */
export function handleHeartbeat(s: RaftState, m: Heartbeat): void {
  advanceCommit(s, m.commit)
  s.send({type: 'heartbeatReply', from: s.id, to: m.from, term: s.term})
}

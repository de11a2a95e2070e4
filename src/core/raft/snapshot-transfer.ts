/**
 * InstallSnapshot (Raft §7) in chunks of snapshotChunkBytesMax. The leader sends one chunk at a time and the
 * next one when the follower acknowledges; a chunk lost on the way is sent again with the next heartbeat, so a
 * transfer never holds heartbeats back. The follower completes the transfer with an AppendReply for the
 * snapshot's index, which moves the leader back to probing the log after it.
 */
import {advanceCommit} from './commit.js'
import type {Progress} from './progress.js'
import type {RaftState} from './state.js'
import type {Snapshot, SnapshotReply, SnapshotRequest} from './types.js'

/** Leader: sends the chunk the peer expects next. */
export function sendSnapshotChunk(s: RaftState, to: string, pr: Progress): void {
  const transfer = pr.transfer
  if (transfer === null) return
  const {snapshot, ackedBytes} = transfer
  const {data, ...meta} = snapshot
  const end = Math.min(data.length, ackedBytes + s.limits.snapshotChunkBytesMax)
  s.send({
    type: 'snapshotRequest',
    from: s.id,
    to,
    term: s.term,
    meta,
    totalBytes: data.length,
    offset: ackedBytes,
    chunk: data.subarray(ackedBytes, end),
  })
}

/** Leader: a peer acknowledged snapshot bytes; send the next chunk (or the same again after a restart). */
export function handleSnapshotReply(s: RaftState, m: SnapshotReply): void {
  const pr = s.progress.get(m.from)
  if (pr === undefined) return
  pr.recentActive = true
  const transfer = pr.transfer
  if (pr.state !== 'snapshot' || transfer === null || transfer.snapshot.index !== m.snapshotIndex) return
  // A duplicate acknowledgement must not trigger a second copy of the next chunk.
  if (m.receivedBytes === transfer.ackedBytes) return
  transfer.ackedBytes = Math.min(m.receivedBytes, transfer.snapshot.data.length)
  sendSnapshotChunk(s, m.from, pr)
}

/** Follower: takes one chunk; installs the snapshot once all its bytes are in. */
export function handleSnapshotRequest(s: RaftState, m: SnapshotRequest): void {
  const reply = (success: boolean, index: number) =>
    s.send({type: 'appendReply', from: s.id, to: m.from, term: s.term, success, index, hintIndex: 0, hintTerm: 0})
  if (m.meta.index <= s.log.committed) return reply(true, s.log.committed)
  if (s.log.term(m.meta.index) === m.meta.term) {
    // Our log already holds the snapshot's last entry, hence everything before it (log matching, §5.3).
    advanceCommit(s, m.meta.index)
    return reply(true, m.meta.index)
  }
  const same = s.incoming !== null && s.incoming.meta.index === m.meta.index && s.incoming.meta.term === m.meta.term
  if (m.offset === 0 && !same) {
    s.incoming = {meta: m.meta, totalBytes: m.totalBytes, chunks: [], receivedBytes: 0}
  }
  const incoming = s.incoming
  if (incoming === null || incoming.meta.index !== m.meta.index || incoming.meta.term !== m.meta.term) {
    return ackBytes(s, m, 0)
  }
  if (m.offset !== incoming.receivedBytes) return ackBytes(s, m, incoming.receivedBytes)
  incoming.chunks.push(m.chunk)
  incoming.receivedBytes += m.chunk.length
  if (incoming.receivedBytes < incoming.totalBytes) return ackBytes(s, m, incoming.receivedBytes)
  s.incoming = null
  install(s, {...incoming.meta, data: concat(incoming.chunks, incoming.totalBytes)})
  reply(true, m.meta.index)
}

function install(s: RaftState, snapshot: Snapshot): void {
  s.log.restore(snapshot)
  s.setElectionTimer(snapshot.electionTimerMs)
}

function ackBytes(s: RaftState, m: SnapshotRequest, receivedBytes: number): void {
  s.send({
    type: 'snapshotReply',
    from: s.id,
    to: m.from,
    term: s.term,
    snapshotIndex: m.meta.index,
    receivedBytes,
  })
}

function concat(chunks: readonly Uint8Array[], totalBytes: number): Uint8Array {
  const out = new Uint8Array(totalBytes)
  let at = 0
  for (const c of chunks) {
    out.set(c, at)
    at += c.length
  }
  return out
}

/**
 * The leader's view of one peer: how far its log matches, what to send next, and flow control. A peer is
 * probed (one AppendRequest at a time until the match point is found), then replicated to (pipelined
 * AppendRequests bounded by inflightEntriesMax and inflightBytesMax), or sent a snapshot when the entries it
 * needs were compacted (Raft §5.3, §7; etcd's tracker.Progress).
 */
import {invariant} from './errors.js'
import type {RaftLimits} from './limits.js'
import type {Snapshot} from './types.js'

/** One AppendRequest in flight: the last index it carried and its entry count and bytes. */
interface Inflight {
  readonly lastIndex: number
  readonly entries: number
  readonly bytes: number
}

/** Snapshot transfer to a peer: which snapshot, and how many of its bytes the peer acknowledged. */
export interface SnapshotTransfer {
  readonly snapshot: Snapshot
  ackedBytes: number
}

/** Replication state of one peer. */
export class Progress {
  match = 0
  next: number
  state: 'probe' | 'replicate' | 'snapshot' = 'probe'
  /** In probe state: an AppendRequest is out and we wait for its reply (or a heartbeat reply) to send again. */
  probeSent = false
  /** Heard from since the last check-quorum round (Raft thesis §6.2). */
  recentActive = false
  transfer: SnapshotTransfer | null = null
  private inflights: Inflight[] = []
  private inflightEntries = 0
  private inflightBytes = 0

  constructor(next: number, private readonly limits: RaftLimits) {
    this.next = next
  }

  /** Whether the leader must hold back further AppendRequests to this peer. */
  isPaused(): boolean {
    if (this.state === 'probe') return this.probeSent
    if (this.state === 'snapshot') return true
    return this.inflightEntries >= this.limits.inflightEntriesMax || this.inflightBytes >= this.limits.inflightBytesMax
  }

  /** How many more entries and bytes may be sent now (at least one entry when not paused). */
  budget(): {entries: number; bytes: number} {
    if (this.state !== 'replicate') return {entries: Number.MAX_SAFE_INTEGER, bytes: Number.MAX_SAFE_INTEGER}
    return {
      entries: Math.max(1, this.limits.inflightEntriesMax - this.inflightEntries),
      bytes: Math.max(1, this.limits.inflightBytesMax - this.inflightBytes),
    }
  }

  /** Records an AppendRequest sent with entries up to `lastIndex` (none when lastIndex < next). */
  sent(lastIndex: number, entries: number, bytes: number): void {
    if (this.state === 'replicate') {
      if (entries === 0) return
      this.next = lastIndex + 1
      this.inflights.push({lastIndex, entries, bytes})
      this.inflightEntries += entries
      this.inflightBytes += bytes
    } else if (this.state === 'probe') {
      this.probeSent = true
    }
  }

  /** Takes a successful reply for `index`. Returns false for a stale reply. */
  acknowledge(index: number): boolean {
    if (index <= this.match) return false
    this.match = index
    this.next = Math.max(this.next, index + 1)
    this.probeSent = false
    this.freeUpTo(index)
    return true
  }

  /**
   * Takes a rejection of `rejected` (the prevIndex sent) with the follower's hint of where a match may be.
   * Returns false when the rejection is stale (it does not concern the request last sent).
   */
  reject(rejected: number, hintIndex: number): boolean {
    if (this.state === 'replicate') {
      if (rejected <= this.match) return false
      this.becomeProbe()
      return true
    }
    if (this.next - 1 !== rejected) return false
    this.next = Math.max(Math.min(rejected, hintIndex + 1), this.match + 1)
    this.probeSent = false
    return true
  }

  /** Back to probing from just after the match point. */
  becomeProbe(): void {
    this.state = 'probe'
    this.next = this.match + 1
    this.probeSent = false
    this.transfer = null
    this.clearInflights()
  }

  /** Pipelining: the match point is known. */
  becomeReplicate(): void {
    this.state = 'replicate'
    this.next = this.match + 1
    this.probeSent = false
    this.clearInflights()
  }

  /** Starts sending `snapshot` because the entries the peer needs are compacted. */
  becomeSnapshot(snapshot: Snapshot): void {
    invariant(snapshot.index >= this.match, `snapshot ${snapshot.index} below match ${this.match}`)
    this.state = 'snapshot'
    this.transfer = {snapshot, ackedBytes: 0}
    this.clearInflights()
  }

  /**
   * A heartbeat reply arrived while the in-flight window is full: some AppendRequest was probably lost.
   * Freeing one slot lets one more request out, whose rejection (a gap) moves the peer back to probing.
   */
  freeFirstInflight(): void {
    if (this.state !== 'replicate' || !this.isPaused()) return
    const f = this.inflights.shift()
    if (f === undefined) return
    this.inflightEntries -= f.entries
    this.inflightBytes -= f.bytes
  }

  private freeUpTo(index: number): void {
    while (this.inflights.length > 0 && this.inflights[0].lastIndex <= index) {
      const f = this.inflights.shift() as Inflight
      this.inflightEntries -= f.entries
      this.inflightBytes -= f.bytes
    }
  }

  private clearInflights(): void {
    this.inflights = []
    this.inflightEntries = 0
    this.inflightBytes = 0
  }
}

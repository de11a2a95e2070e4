/**
 * The replicated log as one server holds it in memory: a snapshot base, the entries after it, the commit and
 * applied indexes, and what has not yet been handed out for persisting. Indexes start at 1; the snapshot of an
 * empty log has index 0 and term 0.
 */
import {invariant} from './errors.js'
import type {Entry, PersistedState, Servers, Snapshot} from './types.js'

const entryJsonCache = new WeakMap<Entry, string>()

/**
 * An entry as JSON text, made once: the leader sizes each entry for flow control and sends it to every
 * follower, and serializing its transaction each time was a visible share of a leader's time.
 */
export function entryJson(entry: Entry): string {
  let text = entryJsonCache.get(entry)
  if (text === undefined) {
    text = JSON.stringify(entry)
    entryJsonCache.set(entry, text)
  }
  return text
}

/** Size of an entry for batching and flow control: the length of its JSON text. */
export function entryBytes(entry: Entry): number {
  return entryJson(entry).length
}

/** The in-memory log of one server. */
export class RaftLog {
  private snap: Snapshot
  private ents: Entry[]
  /** Highest index known committed (Raft §5.3). */
  committed: number
  /** Highest index handed to the application (in a Ready, or loaded through a snapshot). */
  applied: number
  /** First index whose entry has not been handed out for persisting. */
  private unstableFrom: number
  /** A snapshot that replaced or compacted the log and has not been handed out for persisting. */
  pendingSnapshot: Snapshot | null = null
  /**
   * Indexes of the configuration and election timer entries held, ascending: looking up the one in effect at
   * an index must not scan a log that may hold a million entries between compactions.
   */
  private readonly marks = {servers: [] as number[], electionTimer: [] as number[]}

  constructor(state: PersistedState, applied?: number) {
    this.snap = state.snapshot
    this.ents = [...state.entries]
    for (let i = 0; i < this.ents.length; i++) {
      invariant(this.ents[i].index === this.snap.index + 1 + i, `stored entry ${i} has index ${this.ents[i].index}`)
    }
    this.committed = Math.max(state.hardState.commit, this.snap.index)
    invariant(this.committed <= this.lastIndex, `commit ${this.committed} beyond last index ${this.lastIndex}`)
    this.applied = Math.max(applied ?? this.snap.index, this.snap.index)
    invariant(this.applied <= this.committed, `applied ${this.applied} beyond commit ${this.committed}`)
    this.unstableFrom = this.lastIndex + 1
    for (const e of this.ents) this.mark(e)
  }

  private mark(e: Entry): void {
    if (e.kind === 'servers' || e.kind === 'electionTimer') this.marks[e.kind].push(e.index)
  }

  /** Forgets the marks of entries at or after `from` (truncated), or at or before `upTo` (compacted). */
  private unmark(o: {from?: number; upTo?: number}): void {
    for (const list of [this.marks.servers, this.marks.electionTimer]) {
      if (o.from !== undefined) while (list.length > 0 && (list.at(-1) as number) >= o.from) list.pop()
      if (o.upTo !== undefined) while (list.length > 0 && list[0] <= o.upTo) list.shift()
    }
  }

  /** The entry of `kind` in effect at `index`: the latest marked at or before it, if held. */
  private markedAt(kind: 'servers' | 'electionTimer', index: number): Entry | null {
    const list = this.marks[kind]
    let lo = 0
    let hi = list.length
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if (list[mid] <= index) lo = mid + 1
      else hi = mid
    }
    return lo === 0 ? null : this.entry(list[lo - 1])
  }

  /** The snapshot the log starts after. */
  get snapshot(): Snapshot {
    return this.snap
  }

  /** First index held as an entry (not in the snapshot). */
  get firstIndex(): number {
    return this.snap.index + 1
  }

  /** Last index in the log (the snapshot's when there are no entries). */
  get lastIndex(): number {
    return this.snap.index + this.ents.length
  }

  /** Term of the last entry. */
  get lastTerm(): number {
    return this.term(this.lastIndex) ?? 0
  }

  /** Term of the entry at `index`, or undefined if compacted away or beyond the end. */
  term(index: number): number | undefined {
    if (index === this.snap.index) return this.snap.term
    if (index < this.snap.index || index > this.lastIndex) return undefined
    return this.ents[index - this.snap.index - 1].term
  }

  /** The entry at `index`, which must be held. */
  entry(index: number): Entry {
    invariant(index > this.snap.index && index <= this.lastIndex, `entry ${index} not held`)
    return this.ents[index - this.snap.index - 1]
  }

  /** Whether a log ending at (lastIndex, lastTerm) is at least as up-to-date as this one (Raft §5.4.1). */
  isUpToDate(lastIndex: number, lastTerm: number): boolean {
    return lastTerm > this.lastTerm || (lastTerm === this.lastTerm && lastIndex >= this.lastIndex)
  }

  /** Whether a log ending at (lastIndex, lastTerm) is strictly more up-to-date than this one. */
  isAhead(lastIndex: number, lastTerm: number): boolean {
    return lastTerm > this.lastTerm || (lastTerm === this.lastTerm && lastIndex > this.lastIndex)
  }

  /** Entries from `from` on, at most `entriesMax` of them and `bytesMax` bytes (but at least one). */
  slice(from: number, entriesMax: number, bytesMax: number): Entry[] {
    invariant(from > this.snap.index, `slice from ${from} is compacted`)
    const out: Entry[] = []
    let bytes = 0
    for (let i = from; i <= this.lastIndex && out.length < entriesMax; i++) {
      const e = this.entry(i)
      bytes += entryBytes(e)
      if (out.length > 0 && bytes > bytesMax) break
      out.push(e)
    }
    return out
  }

  /** Appends entries that continue the log (the leader's own proposals). */
  append(entries: readonly Entry[]): void {
    for (const e of entries) {
      invariant(e.index === this.lastIndex + 1, `appending index ${e.index} after ${this.lastIndex}`)
      this.ents.push(e)
      this.mark(e)
    }
  }

  /**
   * Follower side of AppendEntries after the (prevIndex, prevTerm) check passed: skips entries already held,
   * truncates at the first conflict (never at or below commit) and appends the rest (Raft §5.3 steps 3-4).
   * Returns the index of the last entry of the request.
   */
  appendAfterMatch(prevIndex: number, entries: readonly Entry[]): number {
    let i = 0
    while (i < entries.length && this.term(entries[i].index) === entries[i].term) i++
    if (i < entries.length) {
      const first = entries[i].index
      invariant(first > this.committed, `conflict at ${first} at or below commit ${this.committed}`)
      if (first <= this.lastIndex) {
        this.ents.length = first - this.snap.index - 1
        this.unmark({from: first})
      }
      this.unstableFrom = Math.min(this.unstableFrom, first)
      this.append(entries.slice(i))
    }
    return prevIndex + entries.length
  }

  /**
   * Fast backtracking (thesis §5.3, etcd findConflictByTerm): the largest index at or below `index` whose term
   * is at most `term`, with that term. Compacted indexes answer with the snapshot's.
   */
  findConflictByTerm(index: number, term: number): {index: number; term: number} {
    let i = Math.min(index, this.lastIndex)
    for (; i > this.snap.index; i--) {
      const t = this.term(i) as number
      if (t <= term) return {index: i, term: t}
    }
    return {index: this.snap.index, term: this.snap.term}
  }

  /** Raises the commit index (never lowers it). Returns whether it moved. */
  commitTo(index: number): boolean {
    if (index <= this.committed) return false
    invariant(index <= this.lastIndex, `commit ${index} beyond last index ${this.lastIndex}`)
    this.committed = index
    return true
  }

  /** Replaces the whole log with a snapshot from the leader (Raft §7, when no entry matches it). */
  restore(snapshot: Snapshot): void {
    invariant(snapshot.index > this.committed, `restoring snapshot ${snapshot.index} at or below commit`)
    this.snap = snapshot
    this.ents = []
    this.unmark({from: 0})
    this.committed = snapshot.index
    this.applied = snapshot.index
    this.unstableFrom = snapshot.index + 1
    this.pendingSnapshot = snapshot
  }

  /** Discards entries up to `index` (at most the applied index), keeping `data` as the snapshot there. */
  compact(index: number, data: Uint8Array): Snapshot {
    invariant(index <= this.applied, `compacting to ${index} beyond applied ${this.applied}`)
    invariant(index > this.snap.index, `compacting to ${index} at or below snapshot ${this.snap.index}`)
    const snapshot: Snapshot = {
      index,
      term: this.term(index) as number,
      servers: this.serversAt(index),
      electionTimerMs: this.electionTimerAt(index),
      data,
    }
    this.ents = this.ents.slice(index - this.snap.index)
    this.snap = snapshot
    this.unmark({upTo: index})
    this.pendingSnapshot = snapshot
    return snapshot
  }

  /** The configuration in effect at `index`: the latest servers entry at or before it (thesis §4.1). */
  serversAt(index: number): Servers {
    const e = this.markedAt('servers', Math.min(index, this.lastIndex))
    return e?.kind === 'servers' ? e.servers : this.snap.servers
  }

  /** The latest configuration in the log and its index (the snapshot's when no entry follows it). */
  latestServers(): {index: number; servers: Servers} {
    const e = this.markedAt('servers', this.lastIndex)
    return e?.kind === 'servers' ? {index: e.index, servers: e.servers} : {index: this.snap.index, servers: this.snap.servers}
  }

  /** The election timer in effect at `index` (timer entries take effect when committed, as OVS does). */
  electionTimerAt(index: number): number {
    const e = this.markedAt('electionTimer', Math.min(index, this.lastIndex))
    return e?.kind === 'electionTimer' ? e.electionTimerMs : this.snap.electionTimerMs
  }

  /** Entries not yet handed out for persisting. */
  unstableEntries(): Entry[] {
    const from = Math.max(this.unstableFrom, this.firstIndex)
    return from > this.lastIndex ? [] : this.ents.slice(from - this.snap.index - 1)
  }

  /** Committed entries not yet handed to the application, at most `entriesMax`. */
  entriesToApply(entriesMax: number): Entry[] {
    const from = this.applied + 1
    const to = Math.min(this.committed, this.applied + entriesMax)
    return from > to ? [] : this.ents.slice(from - this.snap.index - 1, to - this.snap.index)
  }

  /** Marks what a Ready handed out as persisted and applied. */
  accept(appliedTo: number): void {
    this.unstableFrom = this.lastIndex + 1
    this.pendingSnapshot = null
    this.applied = Math.max(this.applied, appliedTo)
  }
}

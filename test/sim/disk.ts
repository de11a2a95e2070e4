/**
 * A server's disk in the simulator: exactly what the Ready contract says is durable once a Ready is
 * persisted, and nothing else. A crash loses whatever Ready was taken but not yet persisted.
 */
import assert from 'node:assert/strict'
import type {Entry, HardState, PersistedState, Ready, Snapshot} from '../../src/core/raft/index.js'

/** Durable state of one simulated server. */
export class Disk {
  hardState: HardState
  snapshot: Snapshot
  entries: Entry[]

  constructor(state: PersistedState) {
    this.hardState = state.hardState
    this.snapshot = state.snapshot
    this.entries = [...state.entries]
  }

  /** Persists a Ready as the contract in src/core/raft/types.ts (Ready) describes. */
  persist(rd: Ready): void {
    if (rd.snapshot) {
      const s = rd.snapshot
      const at = this.entries.find((e) => e.index === s.index)
      this.entries = at !== undefined && at.term === s.term ? this.entries.filter((e) => e.index > s.index) : []
      this.snapshot = s
    }
    if (rd.entries.length > 0) {
      const first = rd.entries[0].index
      this.entries = this.entries.filter((e) => e.index < first)
      this.entries.push(...rd.entries)
    }
    if (rd.hardState) this.hardState = rd.hardState
    this.entries.forEach((e, i) =>
      assert.equal(e.index, this.snapshot.index + 1 + i, `stored log not contiguous after snapshot ${this.snapshot.index}`),
    )
    assert.ok(
      this.hardState.commit <= this.snapshot.index + this.entries.length,
      `stored commit ${this.hardState.commit} beyond stored log end ${this.snapshot.index + this.entries.length}`,
    )
  }

  /** The state a restarted server is built from. */
  state(): PersistedState {
    return {hardState: this.hardState, snapshot: this.snapshot, entries: [...this.entries]}
  }

  /** The stored entry at `index`, if held. */
  entry(index: number): Entry | undefined {
    const e = this.entries[index - this.snapshot.index - 1]
    return e !== undefined && e.index === index ? e : undefined
  }

  /** Last stored index. */
  get lastIndex(): number {
    return this.snapshot.index + this.entries.length
  }
}

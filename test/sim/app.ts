/**
 * The replicated application of the simulator: it folds each applied entry into a hash chain, so two
 * servers that applied the same entries in the same order hold the same (index, hash). Its snapshot is that
 * pair, which lets a server restored from a snapshot keep checking what it applies next.
 */
import assert from 'node:assert/strict'
import type {Entry, Snapshot} from '../../src/core/raft/index.js'

/** A stable text naming an entry's content, for comparisons across servers. */
export function entryKey(e: Entry): string {
  switch (e.kind) {
    case 'command':
      return `${e.term}:command:${(e.data as {id: string}).id}`
    case 'noop':
      return `${e.term}:noop`
    case 'servers':
      return `${e.term}:servers:${Object.keys(e.servers).sort().join(',')}`
    case 'electionTimer':
      return `${e.term}:electionTimer:${e.electionTimerMs}`
  }
}

function mix(hash: number, text: string): number {
  let h = hash ^ 0x9e3779b9
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619)
  return h >>> 0
}

/** One server's application state. */
export class App {
  index = 0
  hash = 0

  /** Applies the next committed entry. */
  apply(e: Entry): void {
    assert.equal(e.index, this.index + 1, `applied entry ${e.index} after ${this.index}`)
    this.index = e.index
    this.hash = mix(this.hash, entryKey(e))
  }

  /** Loads a snapshot that is ahead of what was applied. */
  load(snapshot: Snapshot): void {
    if (snapshot.index <= this.index) return
    const parsed = snapshot.index === 0 ? {index: 0, hash: 0} : JSON.parse(new TextDecoder().decode(snapshot.data))
    assert.equal(parsed.index, snapshot.index, `snapshot data is for ${parsed.index}, meta says ${snapshot.index}`)
    this.index = parsed.index
    this.hash = parsed.hash
  }

  /** The snapshot data of the current state, padded so that its transfer takes several chunks. */
  snapshot(paddingBytes = 0): Uint8Array {
    return new TextEncoder().encode(JSON.stringify({index: this.index, hash: this.hash, pad: '.'.repeat(paddingBytes)}))
  }
}

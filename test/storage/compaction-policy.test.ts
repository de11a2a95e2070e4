import assert from 'node:assert/strict'
import {compactionStateOf, defaultCompactionPolicy, shouldCompact, type CompactionState} from '../../src/core/storage/compaction-policy.js'

const MiB = 1024 * 1024
const minute = 60 * 1000

/** A log that meets every condition of the size rule; each case breaks one. */
const due: CompactionState = {nowMs: 11 * minute, lastCompactionMs: 0, bytes: 25 * MiB, bytesAtLastCompaction: 12 * MiB, commitsSinceCompaction: 100}

describe('automatic compaction policy (ovsdb-server(1) ovsdb-server/compact)', () => {
  const cases: [string, Partial<CompactionState>, boolean][] = [
    ['compacts a log over 10 MiB, over twice its compacted size, after 100 commits and 10 minutes', {}, true],
    ['waits for 100 commits', {commitsSinceCompaction: 99}, false],
    ['waits for 10 minutes since the last compaction', {nowMs: 10 * minute - 1}, false],
    ['compacts exactly at 10 minutes', {nowMs: 10 * minute}, true],
    ['waits until the log is at least 10 MiB', {bytes: 10 * MiB - 1, bytesAtLastCompaction: 1}, false],
    ['compacts a log of exactly 10 MiB that has more than doubled', {bytes: 10 * MiB, bytesAtLastCompaction: 1}, true],
    ['waits until the log is more than twice its compacted size', {bytes: 24 * MiB, bytesAtLastCompaction: 12 * MiB}, false],
    ['compacts a small log after 24 hours with 100 commits', {nowMs: 24 * 60 * minute, bytes: 1000, bytesAtLastCompaction: 900}, true],
    ['does not compact after 24 hours without 100 commits', {nowMs: 48 * 60 * minute, commitsSinceCompaction: 99}, false],
  ]
  for (const [name, change, expected] of cases) {
    it(name, () => {
      const state = {...due, ...change}
      assert.equal(shouldCompact(state), expected, `state ${JSON.stringify(state)}`)
    })
  }

  it('uses the figures of the manual', () => {
    assert.deepEqual(defaultCompactionPolicy, {bytesMin: 10 * MiB, growthFactor: 2, commitsMin: 100, intervalMinMs: 10 * minute, intervalMaxMs: 24 * 60 * minute})
  })

  it('counts from the open time and all records read before any compaction, from the snapshot after one', () => {
    const opened = {bytes: 30 * MiB, records: 500, bytesAtLastCompaction: 30 * MiB, recordsAtLastCompaction: 0, openedMs: 5}
    assert.deepEqual(compactionStateOf(opened, 100), {nowMs: 100, lastCompactionMs: 5, bytes: 30 * MiB, bytesAtLastCompaction: 30 * MiB, commitsSinceCompaction: 500})
    const compacted = {...opened, records: 101, recordsAtLastCompaction: 1, lastCompactionMs: 50}
    assert.deepEqual(compactionStateOf(compacted, 100), {nowMs: 100, lastCompactionMs: 50, bytes: 30 * MiB, bytesAtLastCompaction: 30 * MiB, commitsSinceCompaction: 100})
  })
})

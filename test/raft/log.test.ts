import assert from 'node:assert/strict'
import fc from 'fast-check'
import {initialState} from '../../src/core/raft/index.js'
import {RaftLog} from '../../src/core/raft/log.js'
import type {Entry} from '../../src/core/raft/index.js'

/** A log whose entry i (from 1) has terms[i - 1]. */
function logOf(terms: number[]): RaftLog {
  const entries: Entry[] = terms.map((term, i) => ({kind: 'noop', term, index: i + 1}))
  return new RaftLog({...initialState({a: ''}), entries})
}

const nondecreasing = fc.array(fc.integer({min: 1, max: 4}), {maxLength: 30}).map((a) => a.sort((x, y) => x - y))

describe('raft log', () => {
  it('finds the backtracking hint as the naive scan does: the last index at or below, with term at most', () => {
    fc.assert(
      fc.property(nondecreasing, fc.nat(35), fc.nat(5), (terms, index, term) => {
        const log = logOf(terms)
        let want = {index: 0, term: 0}
        for (let i = Math.min(index, terms.length); i >= 1; i--) {
          if (terms[i - 1] <= term) {
            want = {index: i, term: terms[i - 1]}
            break
          }
        }
        assert.deepEqual(log.findConflictByTerm(index, term), want, `terms ${JSON.stringify(terms)}, index ${index}, term ${term}`)
      }),
    )
  })

  it('skips entries it holds, truncates at the first conflict and hands out only the new tail', () => {
    const log = logOf([1, 1, 2, 2])
    log.accept(0)
    const last = log.appendAfterMatch(2, [
      {kind: 'noop', term: 2, index: 3},
      {kind: 'noop', term: 3, index: 4},
      {kind: 'noop', term: 3, index: 5},
    ])
    assert.equal(last, 5)
    assert.deepEqual(log.unstableEntries().map((e) => [e.index, e.term]), [[4, 3], [5, 3]])
  })

  it('never truncates a committed entry', () => {
    const log = logOf([1, 1, 2])
    log.commitTo(3)
    assert.throws(() => log.appendAfterMatch(2, [{kind: 'noop', term: 3, index: 3}]), /conflict at 3 at or below commit 3/)
  })

  it('compacts with the configuration and election timer in effect at the snapshot index', () => {
    const entries: Entry[] = [
      {kind: 'noop', term: 1, index: 1},
      {kind: 'servers', term: 1, index: 2, servers: {a: '', b: ''}},
      {kind: 'electionTimer', term: 1, index: 3, electionTimerMs: 2000},
      {kind: 'servers', term: 1, index: 4, servers: {a: ''}},
    ]
    const log = new RaftLog({...initialState({a: ''}), entries, hardState: {term: 1, vote: null, commit: 4}}, 4)
    const snap = log.compact(3, new Uint8Array([7]))
    assert.deepEqual({...snap, data: [...snap.data]}, {index: 3, term: 1, servers: {a: '', b: ''}, electionTimerMs: 2000, data: [7]})
    assert.deepEqual(log.latestServers(), {index: 4, servers: {a: ''}})
    assert.equal(log.term(2), undefined)
    assert.equal(log.term(3), 1)
  })

  it('slices at most the entry and byte bounds, but always at least one entry', () => {
    const log = logOf([1, 1, 1, 1, 1])
    assert.equal(log.slice(1, 3, 1_000_000).length, 3)
    assert.equal(log.slice(1, 10, 1).length, 1)
    assert.equal(log.slice(4, 10, 1_000_000).length, 2)
  })
})

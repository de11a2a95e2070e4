import assert from 'node:assert/strict'
import {defaultRaftLimits} from '../../src/core/raft/index.js'
import {Progress} from '../../src/core/raft/progress.js'

const limits = {...defaultRaftLimits, inflightEntriesMax: 4, inflightBytesMax: 100}

describe('raft progress (per-follower flow control)', () => {
  it('a probed follower gets one request at a time until it answers', () => {
    const pr = new Progress(5, limits)
    assert.equal(pr.isPaused(), false)
    pr.sent(7, 3, 30)
    assert.equal(pr.isPaused(), true)
    assert.equal(pr.acknowledge(7), true)
    assert.equal(pr.isPaused(), false)
  })

  it('pauses replication at inflightEntriesMax entries in flight and resumes as acknowledgements free them', () => {
    const pr = new Progress(1, limits)
    pr.becomeReplicate()
    pr.sent(2, 2, 10)
    assert.deepEqual(pr.budget(), {entries: 2, bytes: 90})
    pr.sent(4, 2, 10)
    assert.equal(pr.isPaused(), true, 'expected paused with 4 of 4 entries in flight')
    pr.acknowledge(2)
    assert.equal(pr.isPaused(), false)
    assert.equal(pr.next, 5)
  })

  it('pauses replication at inflightBytesMax bytes in flight', () => {
    const pr = new Progress(1, limits)
    pr.becomeReplicate()
    pr.sent(1, 1, 100)
    assert.equal(pr.isPaused(), true, 'expected paused with 100 of 100 bytes in flight')
  })

  it('frees one slot after a heartbeat reply when the window is full (a request was probably lost)', () => {
    const pr = new Progress(1, limits)
    pr.becomeReplicate()
    pr.sent(4, 4, 10)
    pr.freeFirstInflight()
    assert.equal(pr.isPaused(), false)
  })

  it('ignores stale rejections and backs off to the hint on a current one', () => {
    const pr = new Progress(11, limits)
    assert.equal(pr.reject(5, 3), false, 'rejection of index 5 while probing at 10 is stale')
    assert.equal(pr.reject(10, 3), true)
    assert.equal(pr.next, 4)
    pr.acknowledge(3)
    pr.becomeReplicate()
    pr.sent(8, 5, 10)
    assert.equal(pr.reject(2, 0), false, 'rejection at or below the match is stale')
    assert.equal(pr.reject(6, 0), true)
    assert.equal(pr.state, 'probe')
    assert.equal(pr.next, 4)
  })
})

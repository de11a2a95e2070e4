import assert from 'node:assert/strict'
import {
  ChangeInProgressError,
  type Message,
  NotLeaderError,
  ProposalDroppedError,
  RaftNode,
  abbreviateId,
  initialState,
  joinState,
} from '../../src/core/raft/index.js'
import {Cluster} from '../sim/cluster.js'

function elect(limits = {}): Cluster {
  const c = new Cluster({limits})
  c.bootstrap(['a', 'b', 'c'])
  c.node('a').leaderLost()
  c.stabilize()
  return c
}

describe('raft node', () => {
  it('hands out messages only through a Ready, after what must be persisted', () => {
    const node = new RaftNode({id: 'a', storage: initialState({a: '', b: ''}), random: () => 0})
    node.leaderLost()
    const rd = node.ready()
    assert.deepEqual(rd.softState, {role: 'preCandidate', leader: null})
    assert.equal(rd.messages.length, 1)
    assert.equal(rd.messages[0].type, 'voteRequest')
    node.advance(rd)
    assert.equal(node.hasReady(), false)
  })

  it('refuses input while a Ready is outstanding', () => {
    const node = new RaftNode({id: 'a', storage: initialState({a: ''}), random: () => 0})
    node.leaderLost()
    const rd = node.ready()
    assert.throws(() => node.tick(), /a Ready is outstanding: call advance\(\) before any other method/)
    node.advance(rd)
    assert.throws(() => node.advance(rd), /not the outstanding one/)
  })

  it('a single server elects itself and commits its proposals at once', () => {
    const node = new RaftNode({id: 'a', storage: initialState({a: ''}), random: () => 0})
    node.leaderLost()
    node.advance(node.ready())
    assert.deepEqual(node.propose({x: 1}), {index: 2, term: 1})
    const rd = node.ready()
    assert.deepEqual(rd.entries.map((e) => e.index), [2])
    assert.deepEqual(rd.committedEntries.map((e) => e.index), [2])
    assert.equal(rd.hardState?.commit, 2)
  })

  it('rejects a random source outside [0, 1)', () => {
    assert.throws(
      () => new RaftNode({id: 'a', storage: initialState({a: ''}), random: () => 1}),
      /random\(\) returned 1, expected a number in \[0, 1\)/,
    )
  })

  it('batches proposals made between two Readies into requests of at most appendEntriesMax entries', () => {
    const c = elect({appendEntriesMax: 3})
    const sent: Message[] = []
    c.dropIf = (m) => (sent.push(m), false)
    for (let i = 0; i < 7; i++) c.node('a').propose({id: `p${i}`})
    c.settle('a')
    const toB = sent.filter((m) => m.type === 'appendRequest' && m.to === 'b')
    assert.deepEqual(toB.map((m) => (m.type === 'appendRequest' ? m.entries.length : 0)), [3, 3, 1])
  })

  it('stops sending at inflightEntriesMax unacknowledged entries and resumes on acknowledgement', () => {
    const c = elect({appendEntriesMax: 2, inflightEntriesMax: 4})
    const sent: Message[] = []
    c.dropIf = (m) => (sent.push(m), false)
    for (let i = 0; i < 10; i++) c.node('a').propose({id: `p${i}`})
    c.settle('a')
    const count = () => sent.filter((m) => m.type === 'appendRequest' && m.to === 'b').reduce((n, m) => n + (m.type === 'appendRequest' ? m.entries.length : 0), 0)
    assert.equal(count(), 4, 'entries sent to b before any acknowledgement')
    c.stabilize()
    assert.equal(c.node('b').status().commitIndex, 11)
  })

  it('refuses proposals beyond uncommittedEntriesMax with a typed error', () => {
    const c = elect({uncommittedEntriesMax: 2})
    c.groups = new Map([['a', 1]])
    c.node('a').propose({id: 'p1'})
    c.node('a').propose({id: 'p2'})
    assert.throws(() => c.node('a').propose({id: 'p3'}), (err: unknown) => {
      assert.ok(err instanceof ProposalDroppedError)
      assert.equal(err.status, 'dropped')
      assert.match(err.message, /2 entries not yet committed, limit uncommittedEntriesMax is 2/)
      return true
    })
  })

  it('names the leader when a follower is asked to propose or add a server', () => {
    const c = elect()
    assert.throws(() => c.node('b').propose({id: 'x'}), (err: unknown) => err instanceof NotLeaderError && err.leader === 'a')
    assert.throws(() => c.node('b').proposeConfChange({type: 'addServer', id: 'd', address: 'unix:d'}), NotLeaderError)
  })

  it('allows one configuration change at a time', () => {
    const c = elect()
    c.node('a').proposeConfChange({type: 'removeServer', id: 'c'})
    assert.throws(
      () => c.node('a').proposeConfChange({type: 'removeServer', id: 'b'}),
      (err: unknown) => err instanceof ChangeInProgressError && /configuration change at index 2 is not yet committed/.test(err.message),
    )
  })

  it('reports what cluster/status shows, with per-peer match and next index on the leader', () => {
    const c = elect()
    const st = c.node('a').status()
    assert.equal(st.role, 'leader')
    assert.equal(st.membership, 'cluster member')
    assert.equal(st.clusterId, 'c1d2e3f4-0000-4000-8000-000000000000')
    assert.deepEqual([st.logStart, st.logEnd, st.commitIndex, st.appliedIndex], [1, 2, 1, 1])
    assert.deepEqual(
      st.peers.map((p) => [p.id, p.matchIndex, p.nextIndex, p.state]),
      [['b', 1, 2, 'replicate'], ['c', 1, 2, 'replicate']],
    )
    assert.deepEqual(c.node('b').status().peers, [])
  })

  it('a joining server has no configuration and says it is joining', () => {
    const node = new RaftNode({id: 'd', storage: joinState(), random: () => 0, join: ['a']})
    assert.equal(node.status().membership, 'joining cluster')
    for (let i = 0; i < 10; i++) node.tick()
    const rd = node.ready()
    assert.deepEqual(rd.messages.map((m) => [m.type, m.to]), [['addServerRequest', 'a']])
    assert.equal(rd.softState, undefined, 'a joining server never campaigns')
  })

  it('refuses a new server at an address a member already uses', () => {
    const c = elect()
    const leader = c.node('a')
    const taken = leader.status().servers.b
    leader.step({type: 'addServerRequest', from: 'd', to: 'a', term: 0, address: taken})
    const rd = leader.ready()
    const reply = rd.messages.find((m) => m.type === 'membershipReply')
    assert.equal(reply?.type === 'membershipReply' ? reply.status : undefined, 'rejected', `reply to a join at ${taken}`)
    leader.advance(rd)
    leader.step({type: 'addServerRequest', from: 'd', to: 'a', term: 0, address: 'unix:d.sock'})
    const ok = leader.ready().messages.find((m) => m.type === 'membershipReply')
    assert.equal(ok?.type === 'membershipReply' ? ok.status : undefined, 'in progress', 'reply to a join at a free address')
  })

  it('refuses to compact beyond the applied index', () => {
    const c = elect()
    assert.throws(() => c.node('a').compact(5, new Uint8Array()), /Cannot compact log to index 5: must be after the snapshot at 0 and at most the applied index 1/)
  })

  it('abbreviates ids to 4 characters as OVS does', () => {
    assert.equal(abbreviateId('4f2a9c3e-1b2d-4e5f-8a9b-0c1d2e3f4a5b'), '4f2a')
  })
})

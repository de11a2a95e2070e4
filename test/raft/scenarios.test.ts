/**
 * Transcripts of specific scenarios (etcd-io/raft testdata style). Timing: the election timer is 1000 ms and a
 * tick 100 ms, so an election times out after 10 ticks (15 with the fixed random 0.5 these tests use) and
 * heartbeats go out every 3 ticks.
 */
import {type Transcript, runTranscript} from './transcript.js'

const three = {start: ['a', 'b', 'c']}
const electA = [three, {campaign: 'a'}, {stabilize: true}] as const

const transcripts: Transcript[] = [
  {
    name: 'a three-server cluster elects the server that campaigns and commits a proposal everywhere',
    steps: [
      three,
      {expect: {a: {role: 'follower', term: 0, leader: null}}},
      {campaign: 'a'},
      {expect: {a: {role: 'preCandidate', term: 0}}},
      {stabilize: true},
      {expect: {a: {role: 'leader', term: 1, commit: 1}, b: {role: 'follower', leader: 'a', vote: 'a', commit: 1}}},
      {propose: 'a', data: 'x'},
      {stabilize: true},
      {tick: ['a', 'b', 'c'], n: 3},
      {stabilize: true},
      {expect: {a: {commit: 2, applied: 2}, b: {commit: 2, applied: 2}, c: {commit: 2, applied: 2}}},
    ],
  },
  {
    name: 'a follower times out after its randomized election timeout and wins',
    steps: [
      three,
      {tick: 'b', n: 14},
      {expect: {b: {role: 'follower'}}},
      {tick: 'b'},
      {stabilize: true},
      {expect: {b: {role: 'leader', term: 1}, a: {leader: 'b'}, c: {leader: 'b'}}},
    ],
  },
  {
    name: 'pre-vote keeps a partitioned server from raising its term, so its return deposes no one',
    steps: [
      ...electA,
      {partition: [['a', 'b'], ['c']]},
      {tick: 'c', n: 60},
      {expect: {c: {role: 'preCandidate', term: 1}}},
      {heal: true},
      {tick: ['a', 'b', 'c'], n: 3},
      {stabilize: true},
      {expect: {a: {role: 'leader', term: 1}, c: {role: 'follower', leader: 'a', term: 1}}},
    ],
  },
  {
    name: 'a follower that still hears its leader denies an early campaign (leader lease)',
    steps: [
      ...electA,
      {campaign: 'b'},
      {stabilize: true},
      {expect: {a: {role: 'leader', term: 1}, b: {role: 'preCandidate', term: 1}, c: {leader: 'a', term: 1}}},
      {tick: ['a', 'b', 'c'], n: 3},
      {stabilize: true},
      {expect: {b: {role: 'follower', leader: 'a', term: 1}}},
    ],
  },
  {
    name: 'leaderLost on a follower whose leader is gone starts an election at once',
    steps: [
      ...electA,
      {crash: 'a'},
      {tick: ['b', 'c'], n: 10},
      {campaign: 'b'},
      {stabilize: true},
      {expect: {b: {role: 'leader', term: 2}, c: {leader: 'b', term: 2}}},
    ],
  },
  {
    name: 'check-quorum: a leader cut off from the majority steps down within an election timeout',
    steps: [
      ...electA,
      {partition: [['a'], ['b', 'c']]},
      {tick: 'a', n: 9},
      {expect: {a: {role: 'leader'}}},
      {tick: 'a', n: 11},
      {expect: {a: {role: 'follower', leader: null, term: 1}}},
    ],
  },
  {
    name: 'leadership transfer hands the leader role to the target in the next term',
    steps: [
      ...electA,
      {transfer: ['a', 'c']},
      {expectError: {propose: 'a', data: 'y'}, error: /Proposal dropped: leadership transfer to "c" in progress/},
      {stabilize: true},
      {expect: {c: {role: 'leader', term: 2}, a: {role: 'follower', leader: 'c', term: 2}}},
    ],
  },
  {
    name: 'only the leader accepts proposals; others name it',
    steps: [...electA, {expectError: {propose: 'b', data: 'z'}, error: /Cannot propose: not leader, leader is "a"/}],
  },
  {
    name: 'a follower that missed compacted entries catches up through a chunked snapshot',
    limits: {snapshotChunkBytesMax: 40},
    steps: [
      ...electA,
      {partition: [['a', 'b'], ['c']]},
      {propose: 'a', data: 'p1'},
      {propose: 'a', data: 'p2'},
      {propose: 'a', data: 'p3'},
      {stabilize: true},
      {tick: ['a', 'b'], n: 3},
      {stabilize: true},
      {compact: 'a'},
      {expect: {a: {commit: 4, logStart: 5}, c: {commit: 1}}},
      {heal: true},
      {tick: ['a', 'b', 'c'], n: 3},
      {stabilize: true},
      {expect: {c: {commit: 4, applied: 4, logStart: 5}}},
      {propose: 'a', data: 'p4'},
      {stabilize: true},
      {tick: ['a', 'b', 'c'], n: 3},
      {stabilize: true},
      {expect: {c: {commit: 5, applied: 5}}},
    ],
  },
  {
    name: 'a joining server catches up before it is added, then counts in the quorum',
    steps: [
      ...electA,
      {propose: 'a', data: 'p1'},
      {stabilize: true},
      {join: 'd', via: ['b', 'a']},
      {expect: {d: {membership: 'joining cluster', servers: []}}},
      {tick: 'd', n: 10},
      {stabilize: true},
      {tick: ['a', 'b', 'c', 'd'], n: 3},
      {stabilize: true},
      {expect: {a: {servers: ['a', 'b', 'c', 'd']}, d: {membership: 'cluster member', servers: ['a', 'b', 'c', 'd']}}},
      {crash: 'b'},
      {crash: 'c'},
      {propose: 'a', data: 'p2'},
      {stabilize: true},
      {expect: {a: {commit: 3}}},
      {restart: 'b'},
      {propose: 'a', data: 'p3'},
      {stabilize: true},
      {tick: ['a', 'b', 'd'], n: 3},
      {stabilize: true},
      {expect: {a: {commit: 5}, d: {applied: 5}}},
    ],
  },
  {
    name: 'a leader that leaves hands over leadership first, then is removed',
    steps: [
      ...electA,
      {leave: 'a'},
      {tick: 'a'},
      {stabilize: true},
      {expect: {a: {role: 'follower', membership: 'leaving cluster'}}},
      {tick: ['a', 'b', 'c'], n: 10},
      {stabilize: true},
      {tick: ['a', 'b', 'c'], n: 3},
      {stabilize: true},
      {expect: {b: {servers: ['b', 'c']}, c: {servers: ['b', 'c']}, a: {membership: 'left cluster'}}},
    ],
  },
  {
    name: 'a follower can kick another server; the leader commits its removal',
    steps: [
      ...electA,
      {remove: ['b', 'c']},
      {stabilize: true},
      {tick: ['a', 'b'], n: 3},
      {stabilize: true},
      {expect: {a: {servers: ['a', 'b']}, b: {servers: ['a', 'b']}, c: {membership: 'left cluster'}}},
    ],
  },
  {
    name: 'a removed server that keeps campaigning raises no member\u2019s term',
    steps: [
      ...electA,
      {remove: ['a', 'c']},
      {stabilize: true},
      {tick: ['a', 'b'], n: 3},
      {stabilize: true},
      {restart: 'c'},
      {crash: 'c'},
      {restart: 'c'},
      {tick: 'c', n: 40},
      {stabilize: true},
      {expect: {a: {role: 'leader', term: 1}, b: {term: 1, leader: 'a'}, c: {term: 1}}},
    ],
  },
  {
    name: 'an election timer change is recorded in the log and applied by every member at commit',
    steps: [
      ...electA,
      {expectError: {electionTimer: ['a', 2500]}, error: /at most double the current value, 1000 ms/},
      {expectError: {electionTimer: ['a', 50]}, error: /must be between 100 and 600000 ms/},
      {electionTimer: ['a', 2000]},
      {expect: {a: {electionTimerMs: 1000}}},
      {stabilize: true},
      {tick: ['a', 'b', 'c'], n: 3},
      {stabilize: true},
      {expect: {a: {electionTimerMs: 2000}, b: {electionTimerMs: 2000}, c: {electionTimerMs: 2000}}},
      {crash: 'b'},
      {restart: 'b'},
      {expect: {b: {electionTimerMs: 2000}}},
    ],
  },
  {
    // The leader sends its entries before its own write completes (thesis §10.2.1): its crash loses the entry
    // from its disk, but the followers that received it keep it and the next leader commits it.
    name: 'a leader that crashes before its write completes loses the entry from its disk, not from the cluster',
    steps: [
      ...electA,
      {propose: 'a', data: 'p1'},
      {stabilize: true},
      {tick: ['a', 'b', 'c'], n: 3},
      {stabilize: true},
      {hold: 'a'},
      {propose: 'a', data: 'p2'},
      {crash: 'a'},
      // What a sent before crashing is still delivered.
      {stabilize: true},
      {release: 'a'},
      {restart: 'a'},
      {expect: {a: {commit: 2, term: 1}}},
      {tick: ['b', 'c'], n: 20},
      {stabilize: true},
      {expect: {b: {commit: 4, applied: 4}}},
    ],
  },
]

describe('Raft transcripts', () => {
  for (const t of transcripts) it(t.name, () => void runTranscript(t))
})

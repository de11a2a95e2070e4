/**
 * Transcript tests in the style of etcd-io/raft testdata: a scenario is a list of steps (start servers, tick,
 * deliver messages, cut links, crash, propose...) with expectations on what cluster/status shows in between.
 * Servers are named by short ids ("a", "b", ...); messages are delivered only when a step says so.
 */
import assert from 'node:assert/strict'
import type {Message, RaftLimits, RaftStatus} from '../../src/core/raft/index.js'
import {Cluster} from '../sim/cluster.js'

/** What a step may check about one server. */
export interface Expectation {
  role?: RaftStatus['role']
  term?: number
  leader?: string | null
  vote?: string | null
  commit?: number
  applied?: number
  membership?: RaftStatus['membership']
  electionTimerMs?: number
  servers?: string[]
  logStart?: number
  down?: boolean
}

/** One step of a transcript. */
export type Step =
  | {start: string[]}
  | {campaign: string}
  | {tick: string | string[]; n?: number}
  | {stabilize: true}
  | {deliver: string}
  | {propose: string; data: string}
  | {crash: string}
  | {restart: string}
  | {partition: string[][]}
  | {heal: true}
  | {cut: [string, string]}
  | {transfer: [string, string]}
  | {compact: string}
  | {join: string; via: string[]}
  | {remove: [string, string]}
  | {leave: string}
  | {electionTimer: [string, number]}
  | {hold: string}
  | {release: string}
  | {expect: Record<string, Expectation>}
  | {expectError: Step; error: RegExp}

/** A named scenario. */
export interface Transcript {
  readonly name: string
  readonly steps: readonly Step[]
  readonly limits?: Partial<RaftLimits>
}

function observe(c: Cluster, id: string, want: Expectation): Expectation {
  const s = c.servers.get(id)
  if (!s?.node) return {down: true}
  const st = s.node.status()
  const got: Expectation = {
    role: st.role,
    term: st.term,
    leader: st.leader,
    vote: st.vote,
    commit: st.commitIndex,
    applied: st.appliedIndex,
    membership: st.membership,
    electionTimerMs: st.electionTimerMs,
    servers: Object.keys(st.servers).sort(),
    logStart: st.logStart,
    down: false,
  }
  return Object.fromEntries(Object.keys(want).map((k) => [k, got[k as keyof Expectation]])) as Expectation
}

function act(c: Cluster, step: Step, held: Set<string>): void {
  if ('start' in step) c.bootstrap(step.start)
  else if ('campaign' in step) c.node(step.campaign).leaderLost()
  else if ('tick' in step) {
    for (let i = 0; i < (step.n ?? 1); i++) for (const id of [step.tick].flat()) c.tick(id)
  } else if ('stabilize' in step) c.stabilize()
  else if ('deliver' in step) c.deliver((m) => m.to === step.deliver)
  else if ('propose' in step) c.node(step.propose).propose({id: step.data})
  else if ('crash' in step) c.crash(step.crash)
  else if ('restart' in step) c.restart(step.restart)
  else if ('partition' in step) c.groups = new Map(step.partition.flatMap((g, i) => g.map((id) => [id, i + 1])))
  else if ('heal' in step) {
    c.groups = new Map()
    c.dropIf = null
  } else if ('cut' in step) {
    const prev = c.dropIf
    const [from, to] = step.cut
    c.dropIf = (m: Message) => (m.from === from && m.to === to) || (prev?.(m) ?? false)
  } else if ('transfer' in step) c.node(step.transfer[0]).transferLeadership(step.transfer[1])
  else if ('compact' in step) c.compact(step.compact)
  else if ('join' in step) c.startJoiner(step.join, step.via)
  else if ('remove' in step) c.node(step.remove[0]).proposeConfChange({type: 'removeServer', id: step.remove[1]})
  else if ('leave' in step) c.node(step.leave).leave()
  else if ('electionTimer' in step) c.node(step.electionTimer[0]).changeElectionTimer(step.electionTimer[1])
  else if ('hold' in step) held.add(step.hold)
  else if ('release' in step) held.delete(step.release)
  else throw new Error(`Unknown step ${JSON.stringify(step)}`)
}

/**
 * Runs a transcript. After each action the acting servers' Ready loops run to completion, except for servers
 * on hold: their Ready is taken but its write does not complete until released (so a crash loses it).
 */
export function runTranscript(t: Transcript): Cluster {
  const c = new Cluster({limits: t.limits, snapshotPaddingBytes: 100})
  const held = new Set<string>()
  const settle = () => {
    for (const s of c.up()) {
      if (held.has(s.id)) c.takeReady(s.id)
      else {
        c.sync(s.id)
        c.settle(s.id)
      }
    }
  }
  const originalSettle = c.settle.bind(c)
  c.settle = (id: string) => (held.has(id) ? void c.takeReady(id) : originalSettle(id))
  t.steps.forEach((step, i) => {
    const where = `step ${i + 1} ${JSON.stringify(step)}`
    if ('expect' in step) {
      for (const [id, want] of Object.entries(step.expect)) {
        assert.deepEqual(observe(c, id, want), want, `${where}: server "${id}" status`)
      }
      return
    }
    if ('expectError' in step) {
      assert.throws(() => act(c, step.expectError, held), step.error, where)
      return
    }
    act(c, step, held)
    settle()
  })
  return c
}

/**
 * The safety properties of Raft (§5.2 Figure 3), checked as the simulation runs:
 * - election safety: at most one leader per term;
 * - log matching: two stored logs with an entry of the same index and term are identical up to it;
 * - leader completeness: an entry committed in term t is in the log of every leader of a term after t;
 * - state machine safety: every server applies the same entry at each index;
 * - durability of acknowledged proposals: a proposal its leader reported committed is in every later leader's
 *   log, at the index it was reported at.
 */
import type {Entry, RaftNode, Ready} from '../../src/core/raft/index.js'
import {entryKey} from './app.js'
import type {Cluster, Observer, Server} from './cluster.js'
import {Disk} from './disk.js'

/** An entry every leader of a term above `term` must hold at `index`. */
interface Required {
  readonly key: string
  readonly term: number
}

/** Observes a cluster and records violations instead of throwing, so a run can report them with its seed. */
export class Checker implements Observer {
  readonly violations: string[] = []
  private readonly leaders = new Map<number, string>()
  private readonly appliedAt = new Map<number, string>()
  private readonly required = new Map<number, Required>()
  private commitRecorded = 0
  /** Proposal id → the server that proposed it, to tell an acknowledgement from a plain apply. */
  readonly proposers = new Map<string, string>()
  acknowledged = 0
  private readonly proposalIndex = new Map<string, number>()

  /** Where a proposal was first applied, if it was. */
  appliedIndexOf(id: string): number | undefined {
    return this.proposalIndex.get(id)
  }

  private fail(what: string): void {
    if (this.violations.length < 20) this.violations.push(what)
  }

  /** Election safety and leader completeness, checked on each Ready a leader takes. */
  took(server: Server, rd: Ready): void {
    const st = (server.node as RaftNode).status()
    if (st.role !== 'leader') return
    const known = this.leaders.get(st.term)
    if (known === undefined) {
      this.leaders.set(st.term, server.id)
      this.checkCompleteness(server, rd, st.term)
    } else if (known !== server.id) {
      this.fail(`election safety: "${known}" and "${server.id}" both leaders in term ${st.term}`)
    }
  }

  private checkCompleteness(server: Server, rd: Ready, term: number): void {
    const log = new Disk(server.disk.state())
    log.persist(rd)
    for (const [index, req] of this.required) {
      if (req.term >= term || index <= log.snapshot.index) continue
      const e = log.entry(index)
      const actual = e === undefined ? 'nothing' : `"${entryKey(e)}"`
      if (e === undefined || entryKey(e) !== req.key) {
        this.fail(`leader completeness: leader "${server.id}" of term ${term} holds ${actual} at ${index}, expected "${req.key}" (committed by term ${req.term})`)
      }
    }
  }

  /** Records what leaders report committed, with the term that committed it. */
  persisted(server: Server, rd: Ready): void {
    const st = (server.node as RaftNode).status()
    if (st.role !== 'leader' || rd.hardState === undefined) return
    for (let i = this.commitRecorded + 1; i <= rd.hardState.commit; i++) {
      const e = server.disk.entry(i)
      if (e !== undefined) this.require(i, entryKey(e), st.term)
    }
    this.commitRecorded = Math.max(this.commitRecorded, rd.hardState.commit)
  }

  private require(index: number, key: string, term: number): void {
    const prev = this.required.get(index)
    if (prev !== undefined && prev.key !== key) {
      this.fail(`committed entries differ at ${index}: "${prev.key}" and "${key}"`)
    }
    if (prev === undefined || term < prev.term) this.required.set(index, {key, term})
  }

  /** State machine safety, and acknowledgements of proposals. */
  applied(server: Server, e: Entry): void {
    const key = entryKey(e)
    const prev = this.appliedAt.get(e.index)
    if (prev === undefined) this.appliedAt.set(e.index, key)
    else if (prev !== key) this.fail(`state machine safety: "${server.id}" applied "${key}" at ${e.index}, another applied "${prev}"`)
    if (e.kind === 'command' && !this.proposalIndex.has((e.data as {id: string}).id)) {
      this.proposalIndex.set((e.data as {id: string}).id, e.index)
    }
    if (e.kind === 'command' && this.proposers.get((e.data as {id: string}).id) === server.id) {
      this.acknowledged++
      this.require(e.index, key, (server.node as RaftNode).status().term)
    }
  }

  /** Log matching over the stored logs of all servers, pairwise. */
  checkLogMatching(cluster: Cluster): void {
    const servers = [...cluster.servers.values()]
    for (let a = 0; a < servers.length; a++) {
      for (let b = a + 1; b < servers.length; b++) this.matchPair(servers[a], servers[b])
    }
  }

  private matchPair(a: Server, b: Server): void {
    const lo = Math.max(a.disk.snapshot.index, b.disk.snapshot.index) + 1
    const hi = Math.min(a.disk.lastIndex, b.disk.lastIndex)
    let top = 0
    for (let i = hi; i >= lo; i--) {
      if ((a.disk.entry(i) as Entry).term === (b.disk.entry(i) as Entry).term) {
        top = i
        break
      }
    }
    for (let i = lo; i <= top; i++) {
      const ka = entryKey(a.disk.entry(i) as Entry)
      const kb = entryKey(b.disk.entry(i) as Entry)
      if (ka !== kb) this.fail(`log matching: "${a.id}" and "${b.id}" agree at ${top} but differ at ${i}: "${ka}" vs "${kb}"`)
    }
  }
}

/**
 * A seeded run of a cluster under faults: message loss, duplication, reordering and delay; partitions;
 * crashes that lose the write in progress; restarts; client proposals; leadership transfers; joins, leaves and
 * kicks; election timer changes; compaction (hence snapshot transfers). Then the faults stop and the cluster
 * must converge: a leader, and a last proposal applied by every member. Everything random comes from one Prng.
 */
import {type RaftNode, RaftError} from '../../src/core/raft/index.js'
import {Checker} from './checker.js'
import {Cluster} from './cluster.js'
import {Prng} from './prng.js'

/** Fault rates of one run, drawn from the seed. */
interface Rates {
  readonly loss: number
  readonly duplicate: number
  readonly delayMax: number
  readonly syncLag: number
  readonly crash: number
  readonly partition: number
}

/** What a run produced. */
export interface SimResult {
  readonly violations: string[]
  readonly acknowledged: number
  readonly rounds: number
  readonly terms: number
}

/** Bounds of one run, in rounds (one tick of every server per round). */
export const faultRounds = 300
export const healRoundsMax = 600

/** One seeded run. */
export class Simulation {
  readonly prng: Prng
  readonly checker = new Checker()
  readonly cluster: Cluster
  private readonly rates: Rates
  private readonly retired = new Set<string>()
  private nextProposal = 0
  private nextServer = 0
  private readonly ticksDue = new Map<string, number>()

  constructor(readonly seed: number) {
    this.prng = new Prng(seed)
    const p = this.prng
    this.rates = {
      loss: p.pick([0, 0.02, 0.1, 0.3]),
      duplicate: p.pick([0, 0.02, 0.1]),
      delayMax: p.pick([0, 1, 3]),
      syncLag: p.pick([0, 0.3, 0.6]),
      crash: p.pick([0, 0.005, 0.02, 0.05]),
      partition: p.pick([0, 0.01, 0.03, 0.1]),
    }
    this.cluster = new Cluster({
      limits: {
        appendEntriesMax: 4,
        inflightEntriesMax: 8,
        inflightBytesMax: 2048,
        snapshotChunkBytesMax: 64,
        uncommittedEntriesMax: 64,
        applyEntriesMax: 16,
        catchupServersMax: 2,
      },
      random: () => {
        const own = p.fork()
        return () => own.next()
      },
      observer: this.checker,
      snapshotPaddingBytes: 150,
    })
    this.cluster.delayOf = () => p.int(this.rates.delayMax + 1)
    const size = p.pick([3, 5])
    this.cluster.bootstrap(Array.from({length: size}, () => this.freshId()))
  }

  private freshId(): string {
    // Ids look like OVS sids: a fresh UUID-shaped string per server, never reused.
    const n = (this.nextServer++).toString(16).padStart(4, '0')
    return `${n}a0b1-0000-4000-8000-${this.seed.toString(16).padStart(12, '0')}`
  }

  /** Runs the fault phase, then the heal phase; returns what the checker found. */
  run(): SimResult {
    for (let i = 0; i < faultRounds; i++) {
      this.round(true, () => this.injectFaults())
      if (i % 50 === 49) this.checker.checkLogMatching(this.cluster)
    }
    const rounds = faultRounds + this.heal()
    this.checker.checkLogMatching(this.cluster)
    const terms = Math.max(...this.cluster.up().map((s) => (s.node as RaftNode).status().term))
    return {violations: this.checker.violations, acknowledged: this.checker.acknowledged, rounds, terms}
  }

  /**
   * One round: writes in progress complete (or lag on); then each idle server takes its due ticks and
   * messages as one batch and hands out one Ready, whose write starts (group commit).
   */
  private round(faulty: boolean, between: () => void): void {
    const c = this.cluster
    const p = this.prng
    c.round++
    for (const s of p.shuffle(c.up())) {
      if (s.syncing !== null && !(faulty && p.chance(this.rates.syncLag))) c.sync(s.id)
    }
    between()
    const due = p.shuffle(c.network.filter((f) => f.deliverAt <= c.round))
    c.network = c.network.filter((f) => f.deliverAt > c.round)
    for (const s of p.shuffle(c.up())) {
      if (!(faulty && p.chance(0.05))) this.ticksDue.set(s.id, (this.ticksDue.get(s.id) ?? 0) + 1)
      if (!c.ready(s.id)) {
        // Busy writing: its messages wait on the wire.
        for (const f of due) if (f.msg.to === s.id) c.network.push(f)
        continue
      }
      for (let n = this.ticksDue.get(s.id) ?? 0; n > 0; n--) s.node?.tick()
      this.ticksDue.set(s.id, 0)
      // A leader's new commit index goes out with its next AppendEntries or heartbeat, or when its driver
      // announces it: here in about half the rounds.
      if (s.node?.commitUnannounced && p.chance(0.5)) s.node.announceCommit()
      for (const f of due) {
        if (f.msg.to !== s.id) continue
        if (faulty && p.chance(this.rates.loss)) continue
        if (faulty && p.chance(this.rates.duplicate)) c.network.push({msg: f.msg, deliverAt: c.round + 1 + p.int(3)})
        c.deliverOne(f)
      }
      c.takeReady(s.id)
    }
  }

  private members(): string[] {
    const leader = this.cluster.leader()
    const status = (leader ?? this.cluster.up()[0])?.node?.status()
    return status ? Object.keys(status.servers) : []
  }

  /** Draws this round's faults and operator actions. */
  private injectFaults(): void {
    const c = this.cluster
    const p = this.prng
    const r = this.rates
    if (p.chance(r.partition)) {
      const groups = 2 + p.int(2)
      c.groups = new Map([...c.servers.keys()].map((id) => [id, p.int(groups)]))
    } else if (c.groups.size > 0 && p.chance(0.05)) {
      c.groups = new Map()
    }
    for (const s of c.servers.values()) {
      if (s.node !== null && p.chance(r.crash)) c.crash(s.id)
      else if (s.node === null && !this.retired.has(s.id) && p.chance(0.1)) c.restart(s.id)
    }
    this.act(p.int(1000))
  }

  /** Operator and client actions; `roll` in [0, 1000) picks one (or none). */
  private act(roll: number): void {
    const c = this.cluster
    const p = this.prng
    const idle = c.up().filter((s) => c.ready(s.id))
    if (idle.length === 0) return
    const leader = idle.find((s) => s.node?.status().role === 'leader')
    const any = p.pick(idle)
    const members = this.members()
    try {
      if (roll < 300 && leader) {
        const id = `p${this.nextProposal++}`
        this.checker.proposers.set(id, leader.id)
        leader.node?.propose({id})
      } else if (roll < 310 && leader && members.length > 1) {
        leader.node?.transferLeadership(p.pick(members.filter((m) => m !== leader.id)))
      } else if (roll < 320) {
        if (any.node?.status().role === 'follower') any.node.leaderLost()
      } else if (roll < 325 && c.servers.size < 9 && members.length < 7 && members.length > 0) {
        const via = p.shuffle([...members]).slice(0, 2)
        c.startJoiner(this.freshId(), via)
      } else if (roll < 328 && members.length >= 3) {
        any.node?.proposeConfChange({type: 'removeServer', id: p.pick(members)})
      } else if (roll < 331 && members.length >= 3) {
        if (any.node?.status().membership === 'cluster member') any.node.leave()
      } else if (roll < 336 && leader) {
        leader.node?.changeElectionTimer(p.pick([500, 1000, 1500, 2000]))
      } else if (roll < 400) {
        if (any.app.index - any.disk.snapshot.index >= 12) c.compact(any.id)
      } else if (roll < 410) {
        const left = idle.find((s) => s.node?.status().membership === 'left cluster')
        if (left) {
          this.retired.add(left.id)
          c.crash(left.id)
        }
      }
    } catch (err) {
      if (!(err instanceof RaftError)) throw err
    }
  }

  /** Stops the faults and runs until every member applied a last proposal; returns the rounds it took. */
  private heal(): number {
    const c = this.cluster
    c.groups = new Map()
    for (const s of c.servers.values()) if (s.node === null && !this.retired.has(s.id)) c.restart(s.id)
    let marker: string | null = null
    let proposedAt = 0
    let done = false
    const check = (i: number) => {
      // A proposal can be lost with a leader change before it commits: propose again after a while.
      if (marker !== null && i - proposedAt > 100 && this.checker.appliedIndexOf(marker) === undefined) marker = null
      const leader = c.leader()
      if (!leader || !c.ready(leader.id)) return
      const members = Object.keys((leader.node as RaftNode).status().servers)
      if (marker === null) {
        try {
          marker = `p${this.nextProposal++}`
          proposedAt = i
          this.checker.proposers.set(marker, leader.id)
          leader.node?.propose({id: marker})
        } catch (err) {
          if (!(err instanceof RaftError)) throw err
          marker = null
        }
        return
      }
      const index = this.checker.appliedIndexOf(marker)
      done = index !== undefined && members.every((id) => (c.servers.get(id)?.app.index ?? 0) >= index)
    }
    for (let i = 1; i <= healRoundsMax; i++) {
      this.round(false, () => check(i))
      if (done) return i
    }
    this.checker.violations.push(`liveness: no last proposal applied by every member within ${healRoundsMax} rounds after healing`)
    return healRoundsMax
  }
}

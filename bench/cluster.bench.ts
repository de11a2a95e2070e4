/**
 * A 3-member ovnctl cluster against a 3-member clustered ovsdb-server, side by side on OVN_Southbound with the
 * same 1000 ms election timer (issue: Raft clusters): commit latency of one client writing to the leader,
 * throughput of 64 pipelined clients writing to the leader, and failover after kill -9 of the leader (time until
 * a write commits again, through a client that tries the surviving members in turn). Each round creates both
 * clusters fresh; the failover trials are spread over the rounds and their median is taken over all trials.
 *
 * Knobs: BENCH_ROUNDS (3), BENCH_SCALE (1: transactions per measure), BENCH_ONLY=latency,throughput,failover,
 * BENCH_WARMUP (2000: unmeasured commits between the cold and the warm latency measures),
 * BENCH_FAILOVER_TRIALS (10 per peer, in all), BENCH_FAILOVER_TRY_MS (100: per-try timeout of the failover
 * client), OVN_SB_SCHEMA.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {connect, type JsonRpcConnection} from '../src/core/jsonrpc/index.js'
import {Cluster, type ClusterKind, type ClusterMember, removeAtExit, sleep} from './lib/cluster-peers.js'
import {type Comparison, median, quantile, report} from './lib/stats.js'

const sbSchema = process.env.OVN_SB_SCHEMA ?? '/usr/share/ovn/ovn-sb.ovsschema'
const rounds = Number(process.env.BENCH_ROUNDS ?? 3)
const scale = Number(process.env.BENCH_SCALE ?? 1)
const only = new Set((process.env.BENCH_ONLY ?? 'latency,throughput,failover').split(','))
const failoverTrials = Number(process.env.BENCH_FAILOVER_TRIALS ?? 10)
const failoverTryMs = Number(process.env.BENCH_FAILOVER_TRY_MS ?? 100)
/** After a failed try that answered at once (no timeout), wait this long before the next. */
const failoverRetryPauseMs = 10
/** A failover that takes longer than this counts as failed: the benchmark stops. */
const failoverMaxMs = 30_000

const db = 'OVN_Southbound'
/** Unmeasured commits between the cold and the warm latency measures. */
const warmup = Number(process.env.BENCH_WARMUP ?? 2000)
const throughputClients = 64
const throughputWindow = 4

function client(m: ClusterMember): Promise<JsonRpcConnection> {
  return connect(`unix:${m.sock}`, {timeoutMs: 5000})
}

/** A small write: one Address_Set row (ovn-sb(5): a root table whose "name" is its only index). */
function insert(name: string): object[] {
  return [{op: 'insert', table: 'Address_Set', row: {name, addresses: ['set', ['10.0.0.1']]}}]
}

async function transact(conn: JsonRpcConnection, ops: object[], timeoutMs?: number): Promise<void> {
  const result = (await conn.request('transact', [db, ...ops], {timeoutMs})) as ({error?: string} | null)[]
  const bad = result.find((r) => r !== null && r.error !== undefined)
  if (bad) throw new Error(`transaction ${JSON.stringify(ops)} failed: ${JSON.stringify(bad)}`)
}

type Latency = {p50: number; p99: number}

/**
 * Commit latency of one client writing serially to the leader, in ms: `n` commits just after the start (after a
 * hundred unmeasured ones), and `n` more once the members are warm. For the first few thousand commits after a
 * start, V8 compiles the hot paths of every member on its helper threads, which on two cores take the CPU the
 * members need (perf sched shows them running for milliseconds at a time); a member that has been up for a while
 * is past that, so the warm figure is the one compared with the targets.
 */
async function commitLatency(leader: ClusterMember, tag: string): Promise<{cold: Latency; warm: Latency}> {
  const conn = await client(leader)
  const n = Math.round(1000 * scale)
  let i = 0
  const run = async (unmeasured: number): Promise<Latency> => {
    const times: number[] = []
    for (let k = 0; k < unmeasured + n; k++, i++) {
      const start = process.hrtime.bigint()
      await transact(conn, insert(`lat-${tag}-${i}`))
      if (k >= unmeasured) times.push(Number(process.hrtime.bigint() - start) / 1e6)
    }
    return {p50: quantile(times, 0.5), p99: quantile(times, 0.99)}
  }
  try {
    const cold = await run(100)
    const warm = await run(warmup)
    return {cold, warm}
  } finally {
    conn.close()
  }
}

/** Transactions per second of 64 clients, each keeping 4 small writes in flight to the leader. */
async function throughput(leader: ClusterMember, tag: string): Promise<number> {
  const perClient = Math.round(80 * scale)
  const conns = await Promise.all(Array.from({length: throughputClients}, () => client(leader)))
  try {
    const start = process.hrtime.bigint()
    await Promise.all(
      conns.map(async (conn, c) => {
        let next = 0
        const worker = async () => {
          while (next < perClient) await transact(conn, insert(`tp-${tag}-${c}-${next++}`))
        }
        await Promise.all(Array.from({length: throughputWindow}, worker))
      }),
    )
    return (throughputClients * perClient) / (Number(process.hrtime.bigint() - start) / 1e9)
  } finally {
    for (const conn of conns) conn.close()
  }
}

/**
 * One failover trial: kill -9 the leader, then write through a client that tries the other members in turn
 * (connected beforehand, as an IDL with every remote would be) with a short timeout per try, until one commits.
 * Returns the ms from the kill to the commit. The killed member is restarted and the cluster settled afterwards.
 */
async function failoverTrial(cluster: Cluster, tag: string): Promise<number> {
  const leader = await cluster.settled()
  const others = cluster.members.filter((m) => m !== leader)
  const conns = await Promise.all(others.map((m) => client(m)))
  try {
    const start = process.hrtime.bigint()
    const elapsedMs = () => Number(process.hrtime.bigint() - start) / 1e6
    await cluster.kill(leader)
    for (let attempt = 0; ; attempt++) {
      if (elapsedMs() > failoverMaxMs) throw new Error(`${cluster.kind}: no write committed within ${failoverMaxMs} ms of killing the leader s${leader.n}`)
      const conn = conns[attempt % conns.length]
      try {
        await transact(conn, insert(`fo-${tag}-${attempt}`), failoverTryMs)
        break
      } catch (err) {
        // A timeout already waited; an error answered at once ("not leader") gets a short pause.
        if ((err as Error).name !== 'RequestTimeoutError') await sleep(failoverRetryPauseMs)
        if (conn.closed) conns[attempt % conns.length] = await client(others[attempt % conns.length])
      }
    }
    return elapsedMs()
  } finally {
    for (const conn of conns) conn.close()
    await cluster.start(leader)
    await cluster.settled()
  }
}

type Measure = {p50?: number; p99?: number; coldP50?: number; coldP99?: number; tput?: number; failover: number[]}

async function runPeer(kind: ClusterKind, dir: string, r: number, trials: number): Promise<Measure> {
  const m: Measure = {failover: []}
  const cluster = await Cluster.create(kind, path.join(dir, `${kind}-${r}`), sbSchema)
  try {
    const leader = await cluster.settled()
    if (only.has('latency')) {
      const {cold, warm} = await commitLatency(leader, `${r}`)
      Object.assign(m, {p50: warm.p50, p99: warm.p99, coldP50: cold.p50, coldP99: cold.p99})
    }
    if (only.has('throughput')) m.tput = await throughput(await cluster.settled(), `${r}`)
    if (only.has('failover')) {
      for (let t = 0; t < trials; t++) {
        const ms = await failoverTrial(cluster, `${r}-${t}`)
        console.error(`  ${kind} failover trial: ${ms.toFixed(0)} ms`)
        m.failover.push(ms)
      }
    }
  } finally {
    await cluster.stop()
  }
  return m
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ovnctl-bench-cluster-'))
  const remove = removeAtExit(dir)
  const results: Record<ClusterKind, Measure[]> = {'ovsdb-server': [], ovnctl: []}
  try {
    for (let r = 0; r < rounds; r++) {
      // Spread the failover trials over the rounds: 10 in 3 rounds is 4, 3, 3.
      const trials = Math.floor(failoverTrials / rounds) + (r < failoverTrials % rounds ? 1 : 0)
      for (const kind of ['ovsdb-server', 'ovnctl'] as const) {
        const m = await runPeer(kind, dir, r, trials)
        results[kind].push(m)
        const shown = {coldP50: m.coldP50?.toFixed(3), coldP99: m.coldP99?.toFixed(3), p50: m.p50?.toFixed(3), p99: m.p99?.toFixed(3), tput: m.tput?.toFixed(0), failover: m.failover.map((x) => Math.round(x))}
        console.error(`round ${r + 1}/${rounds} ${kind}: ${JSON.stringify(shown)}`)
      }
    }
  } finally {
    remove()
  }
  const med = (kind: ClusterKind, key: 'p50' | 'p99' | 'coldP50' | 'coldP99' | 'tput') => median(results[kind].map((m) => m[key] ?? NaN))
  const trialsOf = (kind: ClusterKind) => results[kind].flatMap((m) => m.failover)
  const all: Comparison[] = [
    {metric: 'commit latency p50, 1 client to the leader, first commits after the start', unit: 'ms', better: 'lower', ovnctl: med('ovnctl', 'coldP50'), real: med('ovsdb-server', 'coldP50')},
    {metric: 'commit latency p99, 1 client to the leader, first commits after the start', unit: 'ms', better: 'lower', ovnctl: med('ovnctl', 'coldP99'), real: med('ovsdb-server', 'coldP99')},
    {metric: 'commit latency p50, 1 client to the leader, warm', unit: 'ms', better: 'lower', ovnctl: med('ovnctl', 'p50'), real: med('ovsdb-server', 'p50'), target: '≤ 1.5 ms'},
    {metric: 'commit latency p99, 1 client to the leader, warm', unit: 'ms', better: 'lower', ovnctl: med('ovnctl', 'p99'), real: med('ovsdb-server', 'p99'), target: '≤ 5 ms'},
    {
      metric: `write throughput, ${throughputClients} clients × ${throughputWindow} in flight`,
      unit: 'txn/s',
      better: 'higher',
      ovnctl: med('ovnctl', 'tput'),
      real: med('ovsdb-server', 'tput'),
      target: '≥ 5.0 and ≥ 10000 txn/s',
    },
    {
      metric: `failover after kill -9 of the leader, median of ${trialsOf('ovnctl').length} trials`,
      unit: 'ms',
      better: 'lower',
      ovnctl: median(trialsOf('ovnctl')),
      real: median(trialsOf('ovsdb-server')),
      target: '≤ 300 ms (1 s election timer)',
    },
    {metric: 'failover after kill -9 of the leader, worst trial', unit: 'ms', better: 'lower', ovnctl: quantile(trialsOf('ovnctl'), 1), real: quantile(trialsOf('ovsdb-server'), 1)},
  ]
  const rows = all.filter((row) => Number.isFinite(row.ovnctl) || Number.isFinite(row.real))
  report('3-member ovnctl cluster vs 3-member clustered ovsdb-server (OVN_Southbound, election timer 1000 ms)', rows, rounds)
}

await main()

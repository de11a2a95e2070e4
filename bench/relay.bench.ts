/**
 * Relays in front of a 3-member cluster (issue: relay servers): N monitoring clients spread over 4 ovnctl relays
 * in front of an ovnctl cluster, the same clients on the ovnctl cluster's members directly, and the same clients
 * over 4 ovsdb-server relays in front of an ovsdb-server cluster. A writer commits one Address_Set row at a time
 * at the leader; each figure is over the commits of a round: the time from sending the transaction until the last
 * of the N clients has its update (p50 and p99), and the CPU seconds the leader process spent meanwhile
 * (/proc/PID/stat utime + stime). Clients are plain JSON-RPC connections monitoring Address_Set with monitor_cond,
 * the same code for every setup, spread over BENCH_CLIENT_PROCS child processes (bench/lib/monitor-clients.ts) so
 * that one process reading every socket is not what is measured.
 *
 * The burst measure sends BENCH_BURST writes at once and times until every client has the last of them.
 *
 * Knobs: BENCH_ROUNDS (3), BENCH_CLIENTS (1000), BENCH_COMMITS (100 per setup and round), BENCH_BURST (20),
 * BENCH_WARMUP (1000: unmeasured commits before the first measure of each set of relays),
 * BENCH_CLIENT_PROCS (4), BENCH_KINDS (ovnctl,ovsdb-server: the clusters measured), BENCH_RELAY_PROF (a directory:
 * ovnctl relays write --cpu-prof profiles there),
 * OVN_SB_SCHEMA.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {type ChildProcess, spawn} from 'node:child_process'
import {connect} from '../src/core/jsonrpc/index.js'
import {Cluster, type ClusterKind, type ClusterMember, removeAtExit, sleep} from './lib/cluster-peers.js'
import {clockMs, MonitorClients} from './lib/monitor-clients.js'
import {root} from './lib/peers.js'
import {median, quantile} from './lib/stats.js'

const sbSchema = process.env.OVN_SB_SCHEMA ?? '/usr/share/ovn/ovn-sb.ovsschema'
const rounds = Number(process.env.BENCH_ROUNDS ?? 3)
const clientsMax = Number(process.env.BENCH_CLIENTS ?? 1000)
const commits = Number(process.env.BENCH_COMMITS ?? 100)
/** Unmeasured commits before the first measure of a set of relays (the later ones find them warm). */
const warmup = Number(process.env.BENCH_WARMUP ?? 1000)
const relayCount = 4
/** Writes sent at once in the burst measure. */
const burstCommits = Number(process.env.BENCH_BURST ?? 20)
const db = 'OVN_Southbound'
/** Child processes the clients are spread over, so that reading their sockets is not one process's bottleneck. */
const clientProcs = Number(process.env.BENCH_CLIENT_PROCS ?? 4)
const kinds = (process.env.BENCH_KINDS ?? 'ovnctl,ovsdb-server').split(',') as ClusterKind[]
const profDir = process.env.BENCH_RELAY_PROF
/** Pause between commits, so that each one is measured on an idle system. */
const pauseMs = 20
const ticksPerSecond = 100 // sysconf(_SC_CLK_TCK) on Linux

/** A relay process of either kind. */
interface RelayProc {
  sock: string
  proc: ChildProcess
}

function startRelay(kind: ClusterKind, dir: string, n: number, source: string): Promise<RelayProc> {
  const sock = path.join(dir, `relay${n}.sock`)
  const common = [`--remote=punix:${sock}`, `--unixctl=${path.join(dir, `relay${n}.ctl`)}`, `--log-file=${path.join(dir, `relay${n}.log`)}`]
  const arg = `relay:${db}:${source}`
  const proc =
    kind === 'ovsdb-server'
      ? spawn('ovsdb-server', [...common, '--no-chdir', arg], {stdio: 'ignore'})
      : spawn(process.execPath, [...(profDir ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`] : []), path.join(root, 'bin', 'run.js'), 'db-serve', ...common, arg], {stdio: 'ignore'})
  return waitFor(`relay ${n} to listen`, () => fs.existsSync(sock)).then(() => ({sock, proc}))
}

/** Stops relays with SIGTERM (so that a profiled one writes its profile), SIGKILL after 5 s. */
async function stopRelays(relays: RelayProc[]): Promise<void> {
  await Promise.all(
    relays.map(
      ({proc}) =>
        new Promise<void>((resolve) => {
          if (proc.exitCode !== null || proc.signalCode !== null) return resolve()
          const timer = setTimeout(() => proc.kill('SIGKILL'), 5000)
          proc.once('exit', () => (clearTimeout(timer), resolve()))
          proc.kill('SIGTERM')
        }),
    ),
  )
}

async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`)
    await sleep(20)
  }
}

function cpuSeconds(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond
}

/**
 * One measure: `commits` writes at the leader, each until every client has it. With `burst` > 1 each of them is
 * `burst` single-row writes sent at once (as ovn-northd writes after a northbound change), timed until every client
 * has the last one.
 */
async function measure(leader: ClusterMember, clients: MonitorClients, tag: string, burst = 1, unmeasured = 3): Promise<{p50: number; p99: number; cpu: number}> {
  const writer = await connect(`unix:${leader.sock}`, {timeoutMs: 5000})
  const pid = leader.proc!.pid!
  const times: number[] = []
  let cpu0 = 0
  try {
    // Unmeasured writes first (back to back): they let the relays settle on the leader and, the first time, V8
    // compile the hot paths of the relays and members, which it does on helper threads for the first thousands of
    // commits after a start and which on two cores takes the CPU the processes measured need.
    for (let i = -unmeasured; i < commits; i++) {
      const names = Array.from({length: burst}, (_, j) => `${tag}-${i}-${j}`)
      const reached = clients.expect(names.at(-1)!)
      if (i === 0) cpu0 = cpuSeconds(pid)
      const start = clockMs()
      const all = names.map((name) => writer.request('transact', [db, {op: 'insert', table: 'Address_Set', row: {name}}], {timeoutMs: 10_000}))
      for (const res of (await Promise.all(all)) as {error?: string}[][]) if (res.some((r) => r?.error)) throw new Error(`write: ${JSON.stringify(res)}`)
      const committed = clockMs()
      const last = await reached
      if (process.env.BENCH_DEBUG) console.error(`    ${names.at(-1)}: committed ${(committed - start).toFixed(1)} ms, last client ${(last - start).toFixed(1)} ms`)
      if (i >= 0) times.push(last - start)
      if (i >= 0) await sleep(pauseMs)
    }
    return {p50: median(times), p99: quantile(times, 0.99), cpu: cpuSeconds(pid) - cpu0}
  } finally {
    writer.close()
  }
}

type Figures = Record<string, {p50: number; p99: number; cpu: number}[]>

async function round(kind: ClusterKind, r: number, figures: Figures): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `ovnctl-bench-relay-${kind}-`))
  const cleanup = removeAtExit(dir)
  const cluster = await Cluster.create(kind, path.join(dir, 'cluster'), sbSchema)
  const relays: RelayProc[] = []
  const clients = new MonitorClients(db, 'Address_Set', clientProcs)
  try {
    const leader = await cluster.settled()
    const source = cluster.members.map((m) => `unix:${m.sock}`).join(',')
    for (let n = 1; n <= relayCount; n++) relays.push(await startRelay(kind, dir, n, source))
    await sleep(1000)
    const label = kind === 'ovnctl' ? 'ovnctl relays, ovnctl cluster' : 'ovsdb-server relays, ovsdb-server cluster'
    await fewThenMany(leader, relays, clients, `r${r}`, label, figures)
    if (kind === 'ovsdb-server') {
      // Our relays in front of the same OVS cluster: the relay's own cost, without the cluster's commit latency.
      await stopRelays(relays.splice(0))
      for (let n = 1; n <= relayCount; n++) relays.push(await startRelay('ovnctl', dir, n + relayCount, source))
      await sleep(1000)
      await fewThenMany(leader, relays, clients, `r${r}-ours`, 'ovnctl relays, ovsdb-server cluster', figures)
    }
    if (kind === 'ovnctl') {
      await clients.add(cluster.members.map((m) => m.sock), clientsMax)
      record(figures, `ovnctl direct × ${clientsMax}`, await measure(leader, clients, `r${r}-direct`))
      await clients.close()
    }
  } finally {
    clients.stop()
    await stopRelays(relays)
    await cluster.stop()
    cleanup()
  }
}

/** A quarter of the clients over the relays, then all of them: the leader's CPU should not grow with them. */
async function fewThenMany(leader: ClusterMember, relays: RelayProc[], clients: MonitorClients, tag: string, label: string, figures: Figures): Promise<void> {
  const socks = relays.map((x) => x.sock)
  const quarter = Math.round(clientsMax / 4)
  await clients.add(socks, quarter)
  record(figures, `${label} × ${quarter}`, await measure(leader, clients, `${tag}-few`, 1, warmup))
  await clients.add(socks, clientsMax - quarter)
  record(figures, `${label} × ${clientsMax}`, await measure(leader, clients, `${tag}-many`))
  record(figures, `${label} × ${clientsMax}, bursts of ${burstCommits}`, await measure(leader, clients, `${tag}-burst`, burstCommits))
  await clients.close()
}

function record(figures: Figures, key: string, f: {p50: number; p99: number; cpu: number}): void {
  ;(figures[key] ??= []).push(f)
  console.error(`  ${key}: last client p50 ${f.p50.toFixed(1)} ms, p99 ${f.p99.toFixed(1)} ms, leader CPU ${f.cpu.toFixed(2)} s`)
}

async function main(): Promise<void> {
  const figures: Figures = {}
  for (let r = 0; r < rounds; r++) {
    for (const kind of kinds) {
      console.error(`round ${r + 1}/${rounds} ${kind}`)
      await round(kind, r, figures)
    }
  }
  const lines = [
    `\n## ${relayCount} relays in front of a 3-member cluster, ${commits} commits at the leader per setup (median of ${rounds} rounds)`,
    '',
    '| setup × clients | write → last client p50 (ms) | p99 (ms) | leader CPU (s) |',
    '|---|---|---|---|',
  ]
  for (const [key, list] of Object.entries(figures)) {
    const m = (f: (x: {p50: number; p99: number; cpu: number}) => number) => median(list.map(f))
    lines.push(`| ${key} | ${m((x) => x.p50).toFixed(1)} | ${m((x) => x.p99).toFixed(1)} | ${m((x) => x.cpu).toFixed(2)} |`)
  }
  const p99 = (key: string, suffix: string) => median((figures[`${key} × ${clientsMax}${suffix}`] ?? []).map((x) => x.p99))
  for (const suffix of ['', `, bursts of ${burstCommits}`]) {
    const theirs = p99('ovsdb-server relays, ovsdb-server cluster', suffix)
    lines.push('', `p99 ratio at ${clientsMax} clients${suffix}, target ≤ 0.5: ovnctl relays and cluster / ovsdb-server's ${(p99('ovnctl relays, ovnctl cluster', suffix) / theirs).toFixed(2)}; ovnctl relays / ovsdb-server relays, both in front of the ovsdb-server cluster ${(p99('ovnctl relays, ovsdb-server cluster', suffix) / theirs).toFixed(2)}`)
  }
  console.log(lines.join('\n'))
}

await main()

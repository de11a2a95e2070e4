/**
 * Monitors at scale (issue: monitors at scale), db-serve against the real ovsdb-server on the same data in one
 * run. M clients (100 and 500) monitor OVN_Southbound Address_Set in three ways: plain monitor_cond (every row),
 * conditional monitor_cond with a condition of its own per client (its own row, or its group's: a tenth of the
 * clients share a group, as chassis share datapaths), and monitor_cond_since. One writer commits 1,000 updates,
 * each adding an address to one group row and one client row, and waits until every interested client has it.
 * Figures per (peer, mode, M): commit → last interested client p50 and p99, bytes the clients received, the
 * server's CPU seconds (/proc/PID/stat) over the commits, and its RSS at the end.
 *
 * Clients are raw unix sockets in this process that only look for the commit's marker in the bytes they get (read
 * into one shared buffer, without decoding), so that measuring costs the same for both servers and little of the
 * shared 2 cores: the benchmark process's own garbage collections land in the measured times.
 *
 * Before the measured commits, BENCH_WARMUP (3000) unmeasured ones warm both servers: for its first few thousand
 * commits db-serve runs while V8 compiles its hot paths on helper threads, which on two cores take the CPU that
 * the server and the clients need (a hundred warm-up commits left p99 at 2-3x the warm figure). Each warm-up
 * commit also removes the address the previous one added to the same row, so the measured commits find the
 * sets as small as a fresh database has them. The figures are of a server in its steady state, as an operator's
 * runs.
 *
 * "restart": R clients (200) were current with a database of N rows (50,000); the server commits 100 more
 * changes, restarts on its file, and the R clients reconnect with monitor_cond_since from where they were.
 * Figures: time from the first reconnect until every client is current, and the bytes they received. (OVS 3.1
 * keeps no history for a standalone database, and none across a restart: it resends every row.)
 *
 * BENCH_IO_THREADS ("0"; e.g. "0,2") runs db-serve once per value of --io-threads, each next to the real server in
 * the same round, so that A/B runs alternate under the same load; the load average is printed with the table.
 * "main CPU" is the database thread's alone (/proc/PID/task/PID/stat); "server CPU" covers every thread.
 *
 * BENCH_PIPELINE (1): the writer keeps P transactions in flight and waits, per window of P, until every client has the
 * window's last commit (plain and since modes: a client gets commits in order); "commits/s" is then the sustained
 * rate, where the database thread can run a commit while the fan-out of the previous ones goes on elsewhere.
 *
 * Knobs: BENCH_ROUNDS (1), BENCH_CLIENTS ("100,500"), BENCH_COMMITS (1000), BENCH_MODES ("plain,cond,since"),
 * BENCH_RESTART_CLIENTS, BENCH_RESTART_ROWS, BENCH_RESTART_MISSED, BENCH_PEERS ("ovnctl,ovsdb-server"; the ratio rows need both),
 * BENCH_DEBUG=MS (prints each measured commit slower than MS, with its wall-clock start and when the writer had its reply),
 * BENCH_TIMES_FILE=PATH (appends every measured commit: peer, mode, index, wall-clock start and duration in ms).
 */
import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import {connect, type JsonRpcConnection} from '../src/core/jsonrpc/index.js'
import {cpuSeconds, createDb, type Peer, rssBytes, startOvnctl, startReal, threadCpuSeconds, yieldHelperThreads} from './lib/peers.js'
import {median, quantile} from './lib/stats.js'

const sbSchema = process.env.OVN_SB_SCHEMA ?? '/usr/share/ovn/ovn-sb.ovsschema'
const rounds = Number(process.env.BENCH_ROUNDS ?? 1)
const clientCounts = (process.env.BENCH_CLIENTS ?? '100,500').split(',').map(Number)
const commits = Number(process.env.BENCH_COMMITS ?? 1000)
const warmup = Number(process.env.BENCH_WARMUP ?? 3000)
const allModes = (process.env.BENCH_MODES ?? 'plain,cond,since,restart').split(',') as Mode[]
const modes = allModes.filter((m) => m !== 'restart')
const restartClients = Number(process.env.BENCH_RESTART_CLIENTS ?? 200)
const restartRows = Number(process.env.BENCH_RESTART_ROWS ?? 50_000)
/** Commits the clients miss between their last update and the restart. */
const restartMissed = Number(process.env.BENCH_RESTART_MISSED ?? 100)
const peers = (process.env.BENCH_PEERS ?? 'ovnctl,ovsdb-server').split(',') as Peer['name'][]
const ioThreads = (process.env.BENCH_IO_THREADS ?? '0').split(',').map(Number)
const pipeline = Number(process.env.BENCH_PIPELINE ?? 1)
const debugMs = Number(process.env.BENCH_DEBUG ?? 0)
/** BENCH_DEBUG output, written past Node's streams so that it changes nothing the measured code runs. */
const debug = (line: string) => fs.writeSync(2, line + '\n')
/** BENCH_TIMES_FILE: appends each measured commit's wall-clock start and duration (ms), to line up with other traces. */
const timesFile = process.env.BENCH_TIMES_FILE
/** A server as run in the benchmark: the real one, or db-serve with a number of I/O threads. */
interface Variant {
  label: string
  kind: Peer['name']
  extra: string[]
}
const variants: Variant[] = peers.flatMap((kind): Variant[] =>
  kind === 'ovnctl' ? ioThreads.map((t) => ({label: t === 0 ? 'ovnctl' : `ovnctl io=${t}`, kind, extra: t === 0 ? [] : [`--io-threads=${t}`]})) : [{label: kind, kind, extra: []}],
)
const groups = 10
const db = 'OVN_Southbound'
/** A commit that has not reached its clients after this long stops the benchmark. */
const deliveryMaxMs = 30_000
/** Bytes of the end of a chunk kept to find a marker split across two chunks. */
const carryBytes = 32
/** What every benchmark client reads into. */
const readBuffer = Buffer.alloc(64 * 1024)

type Mode = 'plain' | 'cond' | 'since' | 'restart'
const zeroUuid = '00000000-0000-0000-0000-000000000000'

/** One monitoring client: a raw socket that counts bytes and spots markers. */
class RawClient {
  bytes = 0
  /** The end of the last chunk, to find a marker split across two chunks. */
  private carry = Buffer.alloc(0)
  private wanted: {marker: Buffer; done(): void} | null = null
  readonly socket: net.Socket

  private constructor(sock: string, connected: () => void) {
    // Every client reads into one buffer (callbacks run one at a time): a Buffer per read made the benchmark
    // process collect garbage every few dozen commits, in the measured time.
    this.socket = net.createConnection({path: sock, onread: {buffer: readBuffer, callback: (n) => (this.receive(readBuffer.subarray(0, n)), true)}}, connected)
    this.socket.on('error', () => {})
  }

  static open(sock: string): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const client: RawClient = new RawClient(sock, () => resolve(client))
      client.socket.once('error', reject)
    })
  }

  /** Resolves once `marker` has arrived. */
  expect(marker: string): Promise<void> {
    return new Promise((resolve) => (this.wanted = {marker: Buffer.from(marker, 'latin1'), done: resolve}))
  }

  /**
   * Resolves once `marker` has arrived at every one of `clients`: one promise and one callback for all of them,
   * where a promise per client and commit was most of what the benchmark process allocated.
   */
  static expectAll(clients: readonly RawClient[], marker: string): Promise<void> {
    const bytes = Buffer.from(marker, 'latin1')
    return new Promise((resolve) => {
      let left = clients.length
      const wanted = {marker: bytes, done: () => --left === 0 && resolve()}
      if (left === 0) resolve()
      for (let i = 0; i < clients.length; i++) clients[i].wanted = wanted
    })
  }

  // The bytes are searched as they came (in the shared buffer, so the end kept for the next read is a copy).
  private receive(chunk: Buffer): void {
    this.bytes += chunk.length
    if (this.wanted === null) return
    const {marker} = this.wanted
    const found =
      chunk.indexOf(marker) >= 0 || (this.carry.length > 0 && Buffer.concat([this.carry, chunk.subarray(0, marker.length - 1)]).indexOf(marker) >= 0)
    this.carry = Buffer.from(chunk.length >= carryBytes ? chunk.subarray(chunk.length - carryBytes) : Buffer.concat([this.carry, chunk]).subarray(-carryBytes))
    if (found) {
      const w = this.wanted
      this.wanted = null
      w.done()
    }
  }

  /** Starts the monitor and resolves once its reply is in (an echo sent after it comes back after it). */
  async monitor(mode: Mode, i: number, lastTxnId = zeroUuid): Promise<void> {
    const where = mode === 'cond' ? [['name', '==', `as-${i}`], ['name', '==', `grp-${i % groups}`]] : undefined
    const request = {Address_Set: [{columns: ['name', 'addresses'], ...(where ? {where} : {})}]}
    const params = mode === 'plain' || mode === 'cond' ? [db, `m${i}`, request] : [db, `m${i}`, request, lastTxnId]
    const ready = this.expect(`"id":"ready${i}"`)
    this.socket.write(JSON.stringify({id: 1, method: mode === 'plain' || mode === 'cond' ? 'monitor_cond' : 'monitor_cond_since', params}))
    this.socket.write(JSON.stringify({id: `ready${i}`, method: 'echo', params: []}))
    await ready
  }
}

interface Figures {
  p50: number
  p99: number
  bytes: number
  cpu: number
  mainCpu: number
  rss: number
  /** Commits per second over the measured commits. */
  rate: number
}

/**
 * The mutation of one commit: adds `value` to the row's addresses, and removes `previous` (a warm-up commit removes
 * the value its previous warm-up commit added there, so that the warm-up leaves the sets as small as it found them).
 */
function addMarker(name: string, value: string, previous: string | undefined): object {
  const mutations: unknown[] = [['addresses', 'insert', ['set', [value]]]]
  if (previous !== undefined) mutations.push(['addresses', 'delete', ['set', [previous]]])
  return {op: 'mutate', table: 'Address_Set', where: [['name', '==', name]], mutations}
}

/** The value the last warm-up commit added to row `name`, now replaced by `value` (none once c >= 0). */
function previousMarker(warm: Map<string, string>, c: number, name: string, value: string): string | undefined {
  if (c >= 0) return undefined
  const previous = warm.get(name)
  warm.set(name, value)
  return previous
}

/** What one run of commits works on: the clients, the writer, and the warm-up's last values per row. */
interface Run {
  peer: Peer
  mode: Mode
  clients: RawClient[]
  byGroup: RawClient[][]
  writer: JsonRpcConnection
  tag: string
  warm: Map<string, string>
}

/**
 * Commits `from` .. `to` - 1 (negative: warm-up) one at a time, each timed from the request until its last
 * interested client has it. Warm-up and measured commits run this same function, so that the benchmark process's
 * own code is compiled and stays compiled when the measurement starts: a measuring loop that took a new branch at
 * commit 0 was deoptimized there and recompiled by V8 (~50 ms on a helper thread) during the measured commits.
 */
async function runCommits(run: Run, from: number, to: number): Promise<number[]> {
  const {peer, mode, clients, byGroup, writer, tag, warm} = run
  const m = clients.length
  const times: number[] = []
  const starts = timesFile === undefined ? null : ([] as number[])
  // One watchdog for the run rather than a timer per commit (and none per request): timers created and cleared
  // per commit were the last of the benchmark's own code that V8 still compiled during the measured commits.
  let c = from
  /** Fails what the run waits for now (a promise raced against one that lives for the run would gather handlers). */
  let fail: (err: Error) => void = () => {}
  const waitFor = <T>(p: Promise<T>) => new Promise<T>((resolve, reject) => ((fail = reject), p.then(resolve, reject)))
  let seen = c - 1
  const watchdog = setInterval(() => {
    if (seen === c) fail(new Error(`${peer.name} ${mode} M=${m}: commit ${c} did not reach its clients in ${deliveryMaxMs} ms`))
    seen = c
  }, deliveryMaxMs)
  try {
    for (; c < to; c++) {
      const group = (c + warmup) % groups
      const own = (c + warmup) % m
      const marker = `${tag}-${c}.`
      // Plain and since clients want every row; a conditional client its own row and its group's.
      const interested = mode !== 'cond' ? clients : byGroup[group].includes(clients[own]) ? byGroup[group] : [...byGroup[group], clients[own]]
      const reached = RawClient.expectAll(interested, marker)
      const start = performance.now()
      const [g, o] = [`grp-${group}`, `as-${own}`]
      const ops = [db, addMarker(g, marker + g, previousMarker(warm, c, g, marker + g)), addMarker(o, marker + o, previousMarker(warm, c, o, marker + o))]
      const result = (await waitFor(writer.request('transact', ops))) as {error?: string}[]
      if (result.some((r) => r?.error)) throw new Error(`commit ${c}: ${JSON.stringify(result)}`)
      const replied = performance.now() - start
      await waitFor(reached)
      const took = performance.now() - start
      times.push(took)
      if (starts !== null && c >= 0) starts.push(performance.timeOrigin + start)
      if (debugMs > 0 && took > debugMs) {
        // Formatted in the warm-up too, so that its code is compiled before the measured commits.
        const line = `  ${peer.name} ${mode} commit ${c} at ${(performance.timeOrigin + start).toFixed(2)}: ${took.toFixed(1)} ms replied ${replied.toFixed(2)}`
        if (c >= 0) debug(line)
      }
    }
  } finally {
    clearInterval(watchdog)
  }
  if (starts !== null && starts.length > 0) fs.appendFileSync(timesFile!, starts.map((t, i) => `${peer.name} ${mode} ${i} ${t.toFixed(3)} ${times[times.length - starts.length + i].toFixed(3)}\n`).join(''))
  return times
}

/** Connects M clients in `mode`, runs the commits, and measures. */
async function measure(peer: Peer, mode: Mode, m: number, tag: string): Promise<Figures> {
  const clients: RawClient[] = []
  for (let i = 0; i < m; i += 50) {
    const batch = await Promise.all(Array.from({length: Math.min(50, m - i)}, () => RawClient.open(peer.sock)))
    await Promise.all(batch.map((c, j) => c.monitor(mode, i + j)))
    for (const c of batch) c.bytes = 0
    clients.push(...batch)
  }
  const writer = await connect(`unix:${peer.sock}`, {timeoutMs: 10_000})
  const byGroup = Array.from({length: groups}, (_, g) => clients.filter((_, i) => i % groups === g))
  const run: Run = {peer, mode, clients, byGroup, writer, tag, warm: new Map()}
  try {
    if (pipeline > 1 && mode !== 'cond') return await measureWindows(peer, clients, writer, tag)
    // In runs of the measured length: code run once per call (as the first call runs it before V8 collects type
    // feedback for it) would otherwise be deoptimized by the measured call and compiled again during it.
    for (let c = -warmup; c < 0; c += commits) await runCommits(run, c, Math.min(c + commits, 0))
    if (debugMs > 0) debug(`  measured from ${(performance.timeOrigin + performance.now()).toFixed(2)}`)
    const cpu0 = cpuSeconds(peer.pid)
    const mainCpu0 = threadCpuSeconds(peer.pid)
    const bytes0 = clients.reduce((n, cl) => n + cl.bytes, 0)
    const times = await runCommits(run, 0, commits)
    const cpu = cpuSeconds(peer.pid) - cpu0
    const mainCpu = threadCpuSeconds(peer.pid) - mainCpu0
    const rate = commits / (times.reduce((a, b) => a + b, 0) / 1000)
    return {p50: median(times), p99: quantile(times, 0.99), bytes: clients.reduce((n, c) => n + c.bytes, 0) - bytes0, cpu, mainCpu, rss: rssBytes(peer.pid), rate}
  } finally {
    writer.close()
    for (const c of clients) c.socket.destroy()
  }
}

/** The commits in windows of `pipeline` transactions in flight; times are per window, the rate per commit. */
async function measureWindows(peer: Peer, clients: RawClient[], writer: JsonRpcConnection, tag: string): Promise<Figures> {
  const m = clients.length
  const times: number[] = []
  let cpu0 = 0
  let mainCpu0 = 0
  let bytes0 = 0
  let t0 = 0
  const warm = new Map<string, string>()
  // Warm-up windows first (c < 0), then the measured ones from commit 0.
  for (let c = -Math.ceil(warmup / pipeline) * pipeline; c < commits; c += pipeline) {
    if (c === 0) {
      ;[cpu0, mainCpu0, bytes0, t0] = [cpuSeconds(peer.pid), threadCpuSeconds(peer.pid), clients.reduce((n, cl) => n + cl.bytes, 0), performance.now()]
    }
    const reached = RawClient.expectAll(clients, `${tag}-${c + pipeline - 1}.`)
    const start = performance.now()
    const mutate = (name: string, k: number) => addMarker(name, `${tag}-${c + k}.${name}`, previousMarker(warm, c + k, name, `${tag}-${c + k}.${name}`))
    const commit = (k: number) => writer.request('transact', [db, mutate(`grp-${(c + k + warmup) % groups}`, k), mutate(`as-${(c + k + warmup) % m}`, k)], {timeoutMs: 10_000})
    const results = (await Promise.all(Array.from({length: pipeline}, (_, k) => commit(k)))) as {error?: string}[][]
    if (results.flat().some((r) => r?.error)) throw new Error(`window at commit ${c}: ${JSON.stringify(results)}`)
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${peer.name}: window at commit ${c} did not reach its clients in ${deliveryMaxMs} ms`)), deliveryMaxMs)))
    await Promise.race([reached, timeout])
    clearTimeout(timer)
    times.push(performance.now() - start)
  }
  const rate = commits / ((performance.now() - t0) / 1000)
  const [cpu, mainCpu] = [cpuSeconds(peer.pid) - cpu0, threadCpuSeconds(peer.pid) - mainCpu0]
  return {p50: median(times), p99: quantile(times, 0.99), bytes: clients.reduce((n, cl) => n + cl.bytes, 0) - bytes0, cpu, mainCpu, rss: rssBytes(peer.pid), rate}
}

/** Starts a peer on a fresh database holding the rows the clients watch. */
async function startPeer(kind: Peer['name'], dir: string, m: number, extra: string[] = []): Promise<Peer> {
  const file = createDb(dir, sbSchema, kind)
  const peer = kind === 'ovnctl' ? await startOvnctl(dir, [file], extra) : await startReal(dir, [file])
  const writer = await connectStarted(peer)
  const rows = [...Array.from({length: m}, (_, i) => `as-${i}`), ...Array.from({length: groups}, (_, g) => `grp-${g}`)]
  await writer.request('transact', [db, ...rows.map((name) => ({op: 'insert', table: 'Address_Set', row: {name}}))])
  writer.close()
  return peer
}

/** Connects to a server just started: its socket file may exist a moment before it accepts. */
async function connectStarted(peer: Peer): Promise<JsonRpcConnection> {
  for (let tries = 0; ; tries++) {
    try {
      return await connect(`unix:${peer.sock}`, {timeoutMs: 60_000})
    } catch (err) {
      if (tries >= 100) throw err
      await new Promise((r) => setTimeout(r, 50))
    }
  }
}

/** The restart scenario on one peer: time and bytes until R reconnecting clients are current. */
async function restartResume(kind: Peer['name']): Promise<{ms: number; bytes: number}> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ovnctl-bench-restart-'))
  const file = createDb(dir, sbSchema, kind)
  const start = () => (kind === 'ovnctl' ? startOvnctl(dir, [file]) : startReal(dir, [file]))
  let peer = await start()
  try {
    const writer = await connectStarted(peer)
    const batch = 5000
    for (let i = 0; i < restartRows; i += batch) {
      const ops = Array.from({length: Math.min(batch, restartRows - i)}, (_, j) => ({op: 'insert', table: 'Address_Set', row: {name: `as-${i + j}`, addresses: ['set', [`10.${(i + j) >> 16}.${((i + j) >> 8) & 255}.${(i + j) & 255}`]]}}))
      await writer.request('transact', [db, ...ops], {timeoutMs: 60_000})
    }
    const request = {Address_Set: [{columns: ['name', 'addresses']}]}
    const [, lastTxnId] = (await writer.request('monitor_cond_since', [db, 'probe', request, zeroUuid], {timeoutMs: 60_000})) as [boolean, string]
    for (let c = 0; c < restartMissed; c++) {
      const mutation = {op: 'mutate', table: 'Address_Set', where: [['name', '==', `as-${c}`]], mutations: [['addresses', 'insert', ['set', [`missed-${c}`]]]]}
      await writer.request('transact', [db, mutation], {timeoutMs: 10_000})
    }
    writer.close()
    await peer.stop()
    fs.rmSync(peer.sock, {force: true})
    peer = await start()
    ;(await connectStarted(peer)).close()
    const t0 = performance.now()
    const clients: RawClient[] = []
    for (let i = 0; i < restartClients; i += 50) {
      const opened = await Promise.all(Array.from({length: Math.min(50, restartClients - i)}, () => RawClient.open(peer.sock)))
      clients.push(...opened)
      await Promise.all(opened.map((c, j) => c.monitor('restart', i + j, lastTxnId)))
    }
    const ms = performance.now() - t0
    const bytes = clients.reduce((n, c) => n + c.bytes, 0)
    for (const c of clients) c.socket.destroy()
    return {ms, bytes}
  } finally {
    await peer.stop()
    fs.rmSync(dir, {recursive: true, force: true})
  }
}

const mb = (n: number) => (n / 1024 / 1024).toFixed(1)

async function main(): Promise<void> {
  yieldHelperThreads()
  const results = new Map<string, Figures[]>()
  const load0 = os.loadavg()
  for (let r = 0; r < rounds; r++) {
    for (const m of clientCounts) {
      // The peers take turns going first, so that neither always meets the state the other left the machine in.
      for (const {label, kind, extra} of r % 2 === 0 ? variants : [...variants].reverse()) {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ovnctl-bench-monitors-'))
        const peer = await startPeer(kind, dir, m, extra)
        try {
          for (const mode of modes) {
            console.error(`round ${r + 1}: ${label} ${mode} M=${m} (load ${os.loadavg()[0].toFixed(2)})`)
            const f = await measure(peer, mode, m, `r${r}${mode}`)
            console.error(`  p50 ${f.p50.toFixed(2)} ms, p99 ${f.p99.toFixed(2)} ms`)
            const key = `${mode}|${m}|${label}`
            results.set(key, [...(results.get(key) ?? []), f])
          }
        } finally {
          await peer.stop()
          fs.rmSync(dir, {recursive: true, force: true})
        }
      }
    }
  }
  const restarts = new Map<string, {ms: number; bytes: number}[]>()
  if (allModes.includes('restart')) {
    for (let r = 0; r < rounds; r++) {
      for (const kind of peers) {
        console.error(`round ${r + 1}: ${kind} restart, ${restartClients} clients of ${restartRows} rows`)
        restarts.set(kind, [...(restarts.get(kind) ?? []), await restartResume(kind)])
      }
    }
  }
  const lines = [
    `\n## Monitors at scale: ${commits} commits${pipeline > 1 ? ` (${pipeline} in flight; times per window)` : ''}, median of ${rounds} round(s), load average ${load0[0].toFixed(2)} before, ${os.loadavg()[0].toFixed(2)} after (${os.cpus().length} cores)`,
    '',
    '| mode | M | peer | commit→last p50 (ms) | p99 (ms) | commits/s | bytes to clients (MiB) | server CPU (s) | main thread CPU (s) | RSS (MiB) |',
    '|---|---|---|---|---|---|---|---|---|---|',
  ]
  for (const mode of modes) {
    for (const m of clientCounts) {
      for (const {label} of variants) {
        const fs_ = results.get(`${mode}|${m}|${label}`)!
        const med = (k: keyof Figures) => median(fs_.map((f) => f[k]))
        lines.push(`| ${mode} | ${m} | ${label} | ${med('p50').toFixed(2)} | ${med('p99').toFixed(2)} | ${med('rate').toFixed(0)} | ${mb(med('bytes'))} | ${med('cpu').toFixed(2)} | ${med('mainCpu').toFixed(2)} | ${mb(med('rss'))} |`)
      }
      const real = results.get(`${mode}|${m}|ovsdb-server`)
      for (const {label, kind} of variants) {
        const ours = results.get(`${mode}|${m}|${label}`)
        if (kind !== 'ovnctl' || ours === undefined || real === undefined) continue
        const ratio = (k: keyof Figures) => (median(ours.map((f) => f[k])) / median(real.map((f) => f[k]))).toFixed(2)
        lines.push(`| ${mode} | ${m} | ratio ${label}/real | ${ratio('p50')} | ${ratio('p99')} | ${ratio('rate')} | ${ratio('bytes')} | ${ratio('cpu')} | ${ratio('mainCpu')} | ${ratio('rss')} |`)
      }
    }
  }
  if (restarts.size > 0) {
    lines.push('', `### ${restartClients} clients of ${restartRows} rows resuming after a restart (${restartMissed} commits missed)`, '', '| peer | until all current (ms) | bytes to clients (MiB) |', '|---|---|---|')
    for (const [kind, figures] of restarts) lines.push(`| ${kind} | ${median(figures.map((f) => f.ms)).toFixed(0)} | ${mb(median(figures.map((f) => f.bytes)))} |`)
  }
  console.log(lines.join('\n'))
}

await main()

/**
 * Monitors at scale (issue: monitors at scale), db-serve against the real ovsdb-server on the same data in one
 * run. M clients (100 and 500) monitor OVN_Southbound Address_Set in three ways: plain monitor_cond (every row),
 * conditional monitor_cond with a condition of its own per client (its own row, or its group's: a tenth of the
 * clients share a group, as chassis share datapaths), and monitor_cond_since. One writer commits 1,000 updates,
 * each adding an address to one group row and one client row, and waits until every interested client has it.
 * Figures per (peer, mode, M): commit → last interested client p50 and p99, bytes the clients received, the
 * server's CPU seconds (/proc/PID/stat) over the commits, and its RSS at the end.
 *
 * Clients are raw unix sockets in this process that only look for the commit's marker in the bytes they get, so
 * that measuring costs the same for both servers and little of the shared 2 cores.
 *
 * Before the measured commits, BENCH_WARMUP (100) unmeasured ones warm both servers (and V8's JIT in ours):
 * the figures are of a server in its steady state, as an operator's runs.
 *
 * Knobs: BENCH_ROUNDS (1), BENCH_CLIENTS ("100,500"), BENCH_COMMITS (1000), BENCH_MODES ("plain,cond,since"),
 * BENCH_PEERS ("ovnctl,ovsdb-server"; the ratio rows need both), BENCH_DEBUG (prints each commit over 5 ms).
 */
import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import {connect} from '../src/core/jsonrpc/index.js'
import {cpuSeconds, createDb, type Peer, rssBytes, startOvnctl, startReal} from './lib/peers.js'
import {median, quantile} from './lib/stats.js'

const sbSchema = process.env.OVN_SB_SCHEMA ?? '/usr/share/ovn/ovn-sb.ovsschema'
const rounds = Number(process.env.BENCH_ROUNDS ?? 1)
const clientCounts = (process.env.BENCH_CLIENTS ?? '100,500').split(',').map(Number)
const commits = Number(process.env.BENCH_COMMITS ?? 1000)
const warmup = Number(process.env.BENCH_WARMUP ?? 100)
const modes = (process.env.BENCH_MODES ?? 'plain,cond,since').split(',') as Mode[]
const peers = (process.env.BENCH_PEERS ?? 'ovnctl,ovsdb-server').split(',') as Peer['name'][]
const groups = 10
const db = 'OVN_Southbound'
/** A commit that has not reached its clients after this long stops the benchmark. */
const deliveryMaxMs = 30_000
/** Bytes of the end of a chunk kept to find a marker split across two chunks. */
const carryBytes = 32

type Mode = 'plain' | 'cond' | 'since'

/** One monitoring client: a raw socket that counts bytes and spots markers. */
class RawClient {
  bytes = 0
  private carry = ''
  private wanted: {marker: string; done(): void} | null = null
  private constructor(readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => this.receive(chunk))
    socket.on('error', () => {})
  }

  static open(sock: string): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = net.createConnection(sock, () => resolve(new RawClient(socket)))
      socket.once('error', reject)
    })
  }

  /** Sends one request and resolves once `marker` has arrived. */
  expect(marker: string): Promise<void> {
    return new Promise((resolve) => (this.wanted = {marker, done: resolve}))
  }

  private receive(chunk: Buffer): void {
    this.bytes += chunk.length
    if (this.wanted === null) return
    const text = this.carry + chunk.toString('latin1')
    this.carry = text.slice(-carryBytes)
    if (text.includes(this.wanted.marker)) {
      const w = this.wanted
      this.wanted = null
      w.done()
    }
  }

  /** Starts the monitor and resolves once its reply is in (an echo sent after it comes back after it). */
  async monitor(mode: Mode, i: number): Promise<void> {
    const where = mode === 'cond' ? [['name', '==', `as-${i}`], ['name', '==', `grp-${i % groups}`]] : undefined
    const request = {Address_Set: [{columns: ['name', 'addresses'], ...(where ? {where} : {})}]}
    const params = mode === 'since' ? [db, `m${i}`, request, '00000000-0000-0000-0000-000000000000'] : [db, `m${i}`, request]
    const ready = this.expect(`"id":"ready${i}"`)
    this.socket.write(JSON.stringify({id: 1, method: mode === 'since' ? 'monitor_cond_since' : 'monitor_cond', params}))
    this.socket.write(JSON.stringify({id: `ready${i}`, method: 'echo', params: []}))
    await ready
    this.bytes = 0
  }
}

interface Figures {
  p50: number
  p99: number
  bytes: number
  cpu: number
  rss: number
}

/** Connects M clients in `mode`, runs the commits, and measures. */
async function measure(peer: Peer, mode: Mode, m: number, tag: string): Promise<Figures> {
  const clients: RawClient[] = []
  for (let i = 0; i < m; i += 50) {
    const batch = await Promise.all(Array.from({length: Math.min(50, m - i)}, (_, j) => RawClient.open(peer.sock)))
    await Promise.all(batch.map((c, j) => c.monitor(mode, i + j)))
    clients.push(...batch)
  }
  const writer = await connect(`unix:${peer.sock}`, {timeoutMs: 10_000})
  const times: number[] = []
  let cpu0 = cpuSeconds(peer.pid)
  let bytes0 = 0
  try {
    for (let c = -warmup; c < commits; c++) {
      if (c === 0) {
        times.length = 0
        cpu0 = cpuSeconds(peer.pid)
        bytes0 = clients.reduce((n, cl) => n + cl.bytes, 0)
      }
      const group = (c + warmup) % groups
      const own = (c + warmup) % m
      const marker = `${tag}-${c}.`
      // Plain and since clients want every row; a conditional client its own row and its group's.
      const interested = mode === 'cond' ? clients.filter((_, i) => i % groups === group || i === own) : clients
      const reached = Promise.all(interested.map((cl) => cl.expect(marker)))
      let timer: NodeJS.Timeout | undefined
      const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${peer.name} ${mode} M=${m}: commit ${c} did not reach its clients in ${deliveryMaxMs} ms`)), deliveryMaxMs)))
      const start = performance.now()
      const mutate = (name: string) => ({op: 'mutate', table: 'Address_Set', where: [['name', '==', name]], mutations: [['addresses', 'insert', ['set', [marker + name]]]]})
      const result = (await writer.request('transact', [db, mutate(`grp-${group}`), mutate(`as-${own}`)], {timeoutMs: 10_000})) as {error?: string}[]
      if (result.some((r) => r?.error)) throw new Error(`commit ${c}: ${JSON.stringify(result)}`)
      await Promise.race([reached, timeout])
      clearTimeout(timer)
      times.push(performance.now() - start)
      if (process.env.BENCH_DEBUG && times[times.length - 1] > 5) console.error(`  ${peer.name} ${mode} commit ${c}: ${times[times.length - 1].toFixed(1)} ms`)
    }
    const cpu = cpuSeconds(peer.pid) - cpu0
    return {p50: median(times), p99: quantile(times, 0.99), bytes: clients.reduce((n, c) => n + c.bytes, 0) - bytes0, cpu, rss: rssBytes(peer.pid)}
  } finally {
    writer.close()
    for (const c of clients) c.socket.destroy()
  }
}

/** Starts a peer on a fresh database holding the rows the clients watch. */
async function startPeer(kind: Peer['name'], dir: string, m: number): Promise<Peer> {
  const file = createDb(dir, sbSchema, kind)
  const peer = kind === 'ovnctl' ? await startOvnctl(dir, [file]) : await startReal(dir, [file])
  const writer = await connect(`unix:${peer.sock}`, {timeoutMs: 10_000})
  const rows = [...Array.from({length: m}, (_, i) => `as-${i}`), ...Array.from({length: groups}, (_, g) => `grp-${g}`)]
  await writer.request('transact', [db, ...rows.map((name) => ({op: 'insert', table: 'Address_Set', row: {name}}))])
  writer.close()
  return peer
}

const mb = (n: number) => (n / 1024 / 1024).toFixed(1)

async function main(): Promise<void> {
  const results = new Map<string, Figures[]>()
  for (let r = 0; r < rounds; r++) {
    for (const m of clientCounts) {
      for (const kind of peers) {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ovnctl-bench-monitors-'))
        const peer = await startPeer(kind, dir, m)
        try {
          for (const mode of modes) {
            console.error(`round ${r + 1}: ${kind} ${mode} M=${m}`)
            const f = await measure(peer, mode, m, `r${r}${mode}`)
            const key = `${mode}|${m}|${kind}`
            results.set(key, [...(results.get(key) ?? []), f])
          }
        } finally {
          await peer.stop()
          fs.rmSync(dir, {recursive: true, force: true})
        }
      }
    }
  }
  const lines = [
    `\n## Monitors at scale: ${commits} commits, median of ${rounds} round(s)`,
    '',
    '| mode | M | peer | commit→last p50 (ms) | p99 (ms) | bytes to clients (MiB) | server CPU (s) | RSS (MiB) |',
    '|---|---|---|---|---|---|---|---|',
  ]
  for (const mode of modes) {
    for (const m of clientCounts) {
      for (const kind of peers) {
        const fs_ = results.get(`${mode}|${m}|${kind}`)!
        const med = (k: keyof Figures) => median(fs_.map((f) => f[k]))
        lines.push(`| ${mode} | ${m} | ${kind} | ${med('p50').toFixed(2)} | ${med('p99').toFixed(2)} | ${mb(med('bytes'))} | ${med('cpu').toFixed(2)} | ${mb(med('rss'))} |`)
      }
      const ours = results.get(`${mode}|${m}|ovnctl`)
      const real = results.get(`${mode}|${m}|ovsdb-server`)
      if (ours === undefined || real === undefined) continue
      const ratio = (k: keyof Figures) => (median(ours.map((f) => f[k])) / median(real.map((f) => f[k]))).toFixed(2)
      lines.push(`| ${mode} | ${m} | ratio ovnctl/real | ${ratio('p50')} | ${ratio('p99')} | ${ratio('bytes')} | ${ratio('cpu')} | ${ratio('rss')} |`)
    }
  }
  console.log(lines.join('\n'))
}

await main()

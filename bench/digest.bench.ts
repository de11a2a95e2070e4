/**
 * Difference digests (issue #7) against the alternatives, on the same data in one run: a client replica of
 * n OVN_Northbound Address_Set rows reconnects after d rows changed, and is brought up to date by
 *   - monitor_cond_digest (db-serve, its history ignored: as after a restart or with history disabled),
 *   - monitor_cond_since from history (db-serve, where it applies: the server still has the commits),
 *   - a full snapshot (the real ovsdb-server, which keeps no history for a standalone database),
 * for n = 100k with d = 10, 100, 1000 and n = 1M with d = 1000; then 200 clients of 50k rows each reconnect at
 * once after a server restart, against db-serve (digests) and the real ovsdb-server (everything again).
 * Prints medians of BENCH_ROUNDS rounds. BENCH_ONLY=100k,1m,storm runs a subset.
 */
import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import v8 from 'node:v8'
import vm from 'node:vm'
import {toBase64} from '../src/core/digest/base64.js'
import {clientStart, clientStep, type ClientStep, type ReconcileRequest} from '../src/core/digest/plan.js'
import {digestMessageJSON, monitorCondDigestMethod, parseDigestResult} from '../src/core/digest/protocol.js'
import {encodeDigestList} from '../src/core/digest/wire.js'
import {DigestedReplica} from '../src/core/idl/digest-replica.js'
import {ReplicaMonitor} from '../src/core/idl/resume.js'
import {connect, type JsonRpcConnection} from '../src/core/jsonrpc/index.js'
import {DatabaseSchema} from '../src/core/ovsdb/index.js'
import {cpuSeconds, createDb, type Peer, startOvnctl, startReal} from './lib/peers.js'
import {median} from './lib/stats.js'

const nbSchemaPath = process.env.OVN_NB_SCHEMA ?? '/usr/share/ovn/ovn-nb.ovsschema'
const rounds = Number(process.env.BENCH_ROUNDS ?? 3)
const only = new Set((process.env.BENCH_ONLY ?? '100k,1m,storm').split(','))
const schema = DatabaseSchema.fromJSON(JSON.parse(fs.readFileSync(nbSchemaPath, 'utf8')))
const shape = {db: 'OVN_Northbound', schema, tables: [{name: 'Address_Set', columns: ['addresses', 'name'], where: null}]}
const requests = new DigestedReplica(shape).requests()
const zeroUuid = '00000000-0000-0000-0000-000000000000'

// A full collection before each timed step: the bench's own loading leaves hundreds of MiB of garbage that a
// long-running client would not carry into a reconnect.
v8.setFlagsFromString('--expose-gc')
const gc = vm.runInNewContext('gc') as () => void

/** Time for V8's helper threads to finish sweeping after a full collection: 1 s, ample for a 1 GiB heap. */
const sweepMs = 1000

/**
 * A full collection, then a pause while V8 sweeps the heap on helper threads: timed at once, a 1M-row client paid
 * that sweep inside the exchange, on the same shared cores (client CPU per exchange 116–264 ms, median 158; with
 * the pause 47–145 ms, median 64). A long-running client does not reconnect in the middle of a full collection.
 */
async function collectGarbage(): Promise<void> {
  gc()
  await new Promise((resolve) => setTimeout(resolve, sweepMs))
}

function row(i: number, version = 0): object {
  return {name: `set${i}`, addresses: ['set', [`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, `fd00::${version}:${i.toString(16)}`]]}
}

async function conn(peer: Peer): Promise<JsonRpcConnection> {
  return connect(`unix:${peer.sock}`, {timeoutMs: 10_000})
}

async function transact(peer: Peer, ops: object[]): Promise<unknown[]> {
  const c = await conn(peer)
  const results = (await c.request('transact', ['OVN_Northbound', ...ops], {timeoutMs: 600_000})) as {error?: string}[]
  c.close()
  const bad = results.find((r) => r?.error)
  if (bad) throw new Error(`transaction failed: ${JSON.stringify(bad)}`)
  return results
}

/** Loads rows 0..n-1 into every peer; returns each peer's row UUIDs by row number (the churn names rows by UUID). */
async function load(peers: Peer[], n: number): Promise<string[][]> {
  const uuids: string[][] = peers.map(() => [])
  const t = performance.now()
  for (let at = 0; at < n; at += 20_000) {
    const ops = Array.from({length: Math.min(20_000, n - at)}, (_, k) => ({op: 'insert', table: 'Address_Set', row: row(at + k)}))
    const results = await Promise.all(peers.map((p) => transact(p, ops)))
    results.forEach((r, p) => uuids[p].push(...r.map((x) => (x as {uuid: [string, string]}).uuid[1])))
    if ((at / 20_000) % 10 === 9) process.stderr.write(`  ${at + 20_000} rows loaded after ${((performance.now() - t) / 1000).toFixed(0)} s\n`)
  }
  return uuids
}

/**
 * The same d changes on every peer: a third inserted, a third deleted, a third modified. Rows are named by UUID
 * (each peer has its own): a "where name ==" would make the engine scan the table once per operation.
 */
class Churn {
  private next: number
  private deleted = 0
  constructor(
    private readonly n: number,
    private readonly uuids: string[][],
  ) {
    this.next = n
  }
  ops(d: number, round: number): object[][] {
    const third = Math.floor(d / 3)
    const inserts = Array.from({length: d - 2 * third}, () => row(this.next++))
    const deletes = Array.from({length: third}, () => this.deleted++)
    // Modified rows come from the middle of the loaded ones, away from those deleted from the start.
    const updates = Array.from({length: third}, (_, k) => this.deleted + Math.floor(this.n / 2) + k)
    return this.uuids.map((uuids) => [
      ...inserts.map((r) => ({op: 'insert', table: 'Address_Set', row: r})),
      ...deletes.map((i) => ({op: 'delete', table: 'Address_Set', where: [['_uuid', '==', ['uuid', uuids[i]]]]})),
      ...updates.map((i) => ({op: 'update', table: 'Address_Set', where: [['_uuid', '==', ['uuid', uuids[i]]]], row: {addresses: (row(i, round + 1) as {addresses: unknown}).addresses}})),
    ])
  }
}

interface Measure {
  bytes: number
  roundTrips: number
  ms: number
  overhead?: number
  /** CPU time of client and server during the exchange (the server's in 10 ms ticks): on shared cores the wall time
   * also holds the waits for a core. */
  cpuMs?: {client: number; server: number}
}

/** Resume by digests (history ignored): bytes both ways, round trips, time until the replica is current. */
async function byDigest(peer: Peer, replica: DigestedReplica): Promise<Measure> {
  const c = await conn(peer)
  replica.lastTxnId = ''
  await collectGarbage()
  const server0 = cpuSeconds(peer.pid)
  const client0 = process.cpuUsage()
  const t = performance.now()
  const report = await new ReplicaMonitor(c, replica, {timeoutMs: 600_000}).start()
  const ms = performance.now() - t
  const client = process.cpuUsage(client0)
  const cpuMs = {client: (client.user + client.system) / 1000, server: (cpuSeconds(peer.pid) - server0) * 1000}
  c.close()
  if (report.method !== 'digest') throw new Error(`expected a digest resume, got ${report.method}: ${report.refused}`)
  const bytes = report.bytesSent + report.bytesReceived
  return {bytes, roundTrips: report.roundTrips, ms, overhead: bytes - report.rowBytes, cpuMs}
}

/** monitor_cond_since with the replica's last transaction, as a client resumes from history. */
async function bySince(peer: Peer, lastTxnId: string): Promise<Measure> {
  const c = await conn(peer)
  const sent = c.socket.bytesWritten
  const read = c.socket.bytesRead
  await collectGarbage()
  const t = performance.now()
  const [found] = (await c.request('monitor_cond_since', ['OVN_Northbound', 'since', requests, lastTxnId], {timeoutMs: 600_000})) as [boolean]
  const ms = performance.now() - t
  const bytes = c.socket.bytesWritten - sent + c.socket.bytesRead - read
  c.close()
  if (!found) throw new Error('expected history to hold the last transaction')
  return {bytes, roundTrips: 1, ms}
}

/** A full snapshot (monitor_cond_since with no transaction, as the real server resends), applied into a fresh replica. */
async function bySnapshot(peer: Peer): Promise<Measure> {
  const c = await conn(peer)
  const replica = new DigestedReplica(shape)
  const sent = c.socket.bytesWritten
  const read = c.socket.bytesRead
  await collectGarbage()
  const t = performance.now()
  const [, , updates] = (await c.request('monitor_cond_since', ['OVN_Northbound', 'snap', requests, zeroUuid], {timeoutMs: 600_000})) as [boolean, string, never]
  replica.replaceAll(updates)
  const ms = performance.now() - t
  const bytes = c.socket.bytesWritten - sent + c.socket.bytesRead - read
  c.close()
  return {bytes, roundTrips: 1, ms}
}

function row4(label: string, m: Measure[], extra = ''): string {
  const med = (f: (x: Measure) => number) => median(m.map(f))
  const overhead = m[0].overhead === undefined ? '' : `${(med((x) => x.overhead!) / 1024).toFixed(1)} KiB`
  const maxRt = Math.max(...m.map((x) => x.roundTrips))
  const rt = maxRt > med((x) => x.roundTrips) ? `${med((x) => x.roundTrips)} (max ${maxRt})` : `${maxRt}`
  const cpu = m[0].cpuMs === undefined ? '' : `${med((x) => x.cpuMs!.client).toFixed(0)} + ${med((x) => x.cpuMs!.server).toFixed(0)} ms`
  return `| ${label} | ${(med((x) => x.bytes) / 1024).toFixed(1)} KiB | ${overhead} | ${rt} | ${med((x) => x.ms).toFixed(1)} ms | ${cpu} | ${extra} |`
}

async function scenario(n: number, ds: number[], withReal: boolean): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ovnctl-bench-digest-'))
  const peers: Peer[] = []
  try {
    const ours = await startOvnctl(dir, [createDb(dir, nbSchemaPath, 'ours')], ['--no-compact'])
    peers.push(ours)
    const real = withReal ? await startReal(dir, [createDb(dir, nbSchemaPath, 'real')]) : undefined
    if (real) peers.push(real)
    process.stderr.write(`loading ${n} rows into ${peers.map((p) => p.name).join(' and ')}\n`)
    const uuids = await load(peers, n)
    const replica = new DigestedReplica(shape)
    const c = await conn(ours)
    await new ReplicaMonitor(c, replica, {timeoutMs: 600_000}).start()
    c.close()
    // The first digest exchange of a shape digests every row on the server (once; later commits keep it current).
    const t = performance.now()
    await byDigest(ours, replica)
    const coldMs = performance.now() - t
    const churn = new Churn(n, uuids)
    const lines = [`\n## n = ${n} rows (median of ${rounds} rounds)`, '', '| d | method | bytes on the wire | overhead beyond the changed rows | round trips | time to be current | CPU, client + server | |', '|---|---|---|---|---|---|---|---|']
    for (const d of ds) {
      const digest: Measure[] = []
      const since: Measure[] = []
      const snap: Measure[] = []
      const realSnap: Measure[] = []
      for (let r = 0; r < rounds; r++) {
        const before = replica.lastTxnId
        const ops = churn.ops(d, r)
        await Promise.all(peers.map((p, i) => transact(p, ops[i])))
        since.push(await bySince(ours, before))
        digest.push(await byDigest(ours, replica))
        const {client, server} = digest[r].cpuMs!
        process.stderr.write(`  n=${n} d=${d} round ${r + 1}: digests ${digest[r].ms.toFixed(1)} ms (CPU ${client.toFixed(0)} + ${server.toFixed(0)} ms), ${digest[r].roundTrips} round trips\n`)
        // The replica is current again, at the last transaction the exchange reported: the next round resumes from it.
      }
      // Snapshots last: sending every row leaves garbage in both processes that the rounds above should not pay for.
      snap.push(await bySnapshot(ours))
      if (real) realSnap.push(await bySnapshot(real))
      lines.push(row4(`${d}`, digest).replace(/^\| \d+ \|/, `| ${d} | digests (db-serve) |`))
      lines.push(row4(`${d}`, since).replace(/^\| \d+ \|/, `| ${d} | monitor_cond_since history (db-serve) |`))
      lines.push(row4(`${d}`, snap).replace(/^\| \d+ \|/, `| ${d} | full snapshot (db-serve) |`))
      if (real) lines.push(row4(`${d}`, realSnap).replace(/^\| \d+ \|/, `| ${d} | full snapshot (ovsdb-server) |`))
    }
    lines.push('', `The first digest exchange of this shape after the server started took ${coldMs.toFixed(0)} ms: the server digests its ${n} rows once.`)
    console.log(lines.join('\n'))
  } finally {
    for (const p of peers) await p.stop()
    fs.rmSync(dir, {recursive: true, force: true})
  }
}

/** Retries a connection refused for a full listen backlog (EAGAIN on unix sockets), at most 100 times 20 ms apart. */
async function withBacklogRetry<T>(connectOnce: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await connectOnce()
    } catch (err) {
      if (attempt >= 100 || !/EAGAIN/.test(String((err as Error).message))) throw err
      await new Promise((r) => setTimeout(r, 20))
    }
  }
}

/** Connects a raw socket (the storm's real-server clients only count bytes, they do not parse). */
function rawConnect(sock: string): Promise<net.Socket> {
  return withBacklogRetry(
    () =>
      new Promise((resolve, reject) => {
        const s = net.connect(sock)
        s.once('connect', () => resolve(s))
        s.once('error', reject)
      }),
  )
}

/** Sends one request on a connected raw socket and reads its reply to the end without parsing it. */
function rawExchange(s: net.Socket, message: string): Promise<{bytes: number}> {
  return new Promise((resolve) => {
    let depth = 0
    let inString = false
    let escaped = false
    let bytes = 0
    s.on('data', (chunk: Buffer) => {
      bytes += chunk.length
      for (let i = 0; i < chunk.length; i++) {
        const b = chunk[i]
        if (inString) {
          if (escaped) escaped = false
          else if (b === 0x5c) escaped = true
          else if (b === 0x22) inString = false
        } else if (b === 0x22) inString = true
        else if (b === 0x7b || b === 0x5b) depth++
        else if ((b === 0x7d || b === 0x5d) && --depth === 0) {
          s.destroy()
          return resolve({bytes: bytes + s.bytesWritten})
        }
      }
    })
    s.write(message)
  })
}

/** One storm client of ours: the digest exchange on the shared replica's index, rows received but not applied. */
async function digestClient(c: JsonRpcConnection, replica: DigestedReplica, id: number): Promise<{bytes: number; roundTrips: number}> {
  const ctx = {index: replica.index, fingerprint: replica.fingerprint, saltId: replica.saltId}
  let step: ClientStep = clientStart(ctx)
  let generation = 0
  let roundTrips = 0
  for (;;) {
    const request: ReconcileRequest = step.send!
    const message = digestMessageJSON({request, saltId: replica.saltId, generation})
    roundTrips++
    const result = parseDigestResult(await c.request(monitorCondDigestMethod, ['OVN_Northbound', `storm${id}`, requests, replica.lastTxnId, message], {timeoutMs: 600_000}))
    if (result.outcome !== 'table') {
      const bytes = c.socket.bytesRead + c.socket.bytesWritten
      c.close()
      if (result.outcome !== 'rows' && result.outcome !== 'in-sync') throw new Error(`storm client ended with ${result.outcome}`)
      return {bytes, roundTrips}
    }
    generation = result.generation
    step = clientStep(ctx, step.state, {type: 'table', data: result.data})
    if (step.send === undefined) step = {...step, send: {type: 'request', data: toBase64(encodeDigestList([], {fingerprint: replica.fingerprint, saltId: replica.saltId, summary: replica.index.summary()}))}}
  }
}

async function storm(): Promise<void> {
  const n = 50_000
  const clients = 200
  const changed = 100
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ovnctl-bench-storm-'))
  const key = path.join(dir, 'digest.key')
  const ourDb = createDb(dir, nbSchemaPath, 'ours')
  const realDb = createDb(dir, nbSchemaPath, 'real')
  let ours = await startOvnctl(dir, [ourDb], [`--digest-key-file=${key}`])
  let real = await startReal(dir, [realDb])
  const results = {ours: [] as number[], oursMs: [] as number[], real: [] as number[], realMs: [] as number[], rt: [] as number[]}
  try {
    process.stderr.write(`storm: loading ${n} rows\n`)
    const uuids = await load([ours, real], n)
    const replica = new DigestedReplica(shape)
    const c = await conn(ours)
    await new ReplicaMonitor(c, replica, {timeoutMs: 600_000}).start()
    c.close()
    const realTxn = ((await (await conn(real)).request('monitor_cond_since', ['OVN_Northbound', 'x', requests, zeroUuid])) as [boolean, string])[1]
    const churn = new Churn(n, uuids)
    for (let r = 0; r < rounds; r++) {
      await Promise.all([ours.stop(), real.stop()])
      // Without history: db-serve rebuilds its history from the file at start, and would resume every client
      // from it; the storm measures digests, as for a server whose history no longer reaches back.
      ours = await startOvnctl(dir, [ourDb], [`--digest-key-file=${key}`, '--history-txns=0'])
      real = await startReal(dir, [realDb])
      const ops = churn.ops(changed, r)
      await Promise.all([transact(ours, ops[0]), transact(real, ops[1])])
      // Clients are connected one by one (a listen backlog would refuse 200 at once), then all ask together.
      const ourConns: JsonRpcConnection[] = []
      for (let i = 0; i < clients; i++) ourConns.push(await withBacklogRetry(() => conn(ours)))
      await collectGarbage()
      let t = performance.now()
      const ourRuns = await Promise.all(ourConns.map((c, i) => digestClient(c, replica, i)))
      results.oursMs.push(performance.now() - t)
      results.ours.push(ourRuns.reduce((s, x) => s + x.bytes, 0))
      results.rt.push(Math.max(...ourRuns.map((x) => x.roundTrips)))
      const since = JSON.stringify({id: 1, method: 'monitor_cond_since', params: ['OVN_Northbound', 'm', requests, realTxn]})
      const realSockets: net.Socket[] = []
      for (let i = 0; i < clients; i++) realSockets.push(await rawConnect(real.sock))
      await collectGarbage()
      t = performance.now()
      const realRuns = await Promise.all(realSockets.map((s) => rawExchange(s, since)))
      results.realMs.push(performance.now() - t)
      results.real.push(realRuns.reduce((s, x) => s + x.bytes, 0))
    }
    const mib = (x: number) => `${(x / 1048576).toFixed(2)} MiB`
    console.log(
      [
        `\n## ${clients} clients of ${n} rows reconnect after a server restart, ${changed} rows changed (median of ${rounds} rounds)`,
        '',
        '| server | bytes on the wire, all clients | round trips per client | time until all are current |',
        '|---|---|---|---|',
        `| db-serve, monitor_cond_digest | ${mib(median(results.ours))} | ${median(results.rt)} | ${median(results.oursMs).toFixed(0)} ms |`,
        `| ovsdb-server, monitor_cond_since (full resend) | ${mib(median(results.real))} | 1 | ${median(results.realMs).toFixed(0)} ms |`,
        `| ratio ovsdb-server / db-serve | ${(median(results.real) / median(results.ours)).toFixed(1)}× fewer bytes | | |`,
      ].join('\n'),
    )
  } finally {
    await Promise.all([ours.stop(), real.stop()])
    fs.rmSync(dir, {recursive: true, force: true})
  }
}

if (only.has('100k')) await scenario(100_000, [10, 100, 1000], true)
if (only.has('1m')) await scenario(1_000_000, [1000], false)
if (only.has('storm')) await storm()

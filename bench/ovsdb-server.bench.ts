/**
 * db-serve against the real ovsdb-server, side by side on the same generated data (issue: OVSDB engine and
 * db-serve): serial transaction latency, pipelined write throughput with 16 clients, initial monitor of 50k
 * rows by 50 clients, and server RSS holding 100k OVN_Southbound rows. Each round starts both servers fresh.
 */
import {connect, type JsonRpcConnection} from '../src/core/jsonrpc/index.js'
import {createDb, type Peer, rssBytes, startOvnctl, startReal} from './lib/peers.js'
import {medianRows, quantile, report, runRounds} from './lib/stats.js'

const nbSchema = process.env.OVN_NB_SCHEMA ?? '/usr/share/ovn/ovn-nb.ovsschema'
const sbSchema = process.env.OVN_SB_SCHEMA ?? '/usr/share/ovn/ovn-sb.ovsschema'
const rounds = Number(process.env.BENCH_ROUNDS ?? 3)
const scale = Number(process.env.BENCH_SCALE ?? 1)
/** BENCH_ONLY=latency,throughput,monitor,rss runs a subset. */
const only = new Set((process.env.BENCH_ONLY ?? 'latency,throughput,monitor,rss').split(','))

async function client(peer: Peer): Promise<JsonRpcConnection> {
  return connect(`unix:${peer.sock}`, {timeoutMs: 5000})
}

function transact(conn: JsonRpcConnection, db: string, ops: object[]): Promise<unknown> {
  return conn.request('transact', [db, ...ops]).then((result) => {
    const bad = (result as {error?: string}[]).find((r) => r && r.error)
    if (bad) throw new Error(`transaction failed: ${JSON.stringify(bad)}`)
    return result
  })
}

async function serialLatency(peer: Peer): Promise<{p50: number; p99: number}> {
  const conn = await client(peer)
  const n = Math.round(2000 * scale)
  const times: number[] = []
  for (let i = 0; i < n + 200; i++) {
    const start = process.hrtime.bigint()
    await transact(conn, 'OVN_Northbound', [{op: 'insert', table: 'Logical_Switch', row: {name: `ls${i}`}}])
    if (i >= 200) times.push(Number(process.hrtime.bigint() - start) / 1e3)
  }
  conn.close()
  return {p50: quantile(times, 0.5), p99: quantile(times, 0.99)}
}

async function pipelinedThroughput(peer: Peer): Promise<number> {
  const clients = 16
  const window = 8
  const perClient = Math.round(1250 * scale)
  const conns = await Promise.all(Array.from({length: clients}, () => client(peer)))
  const start = process.hrtime.bigint()
  await Promise.all(
    conns.map(async (conn, c) => {
      let next = 0
      const worker = async () => {
        while (next < perClient) {
          const i = next++
          await transact(conn, 'OVN_Northbound', [{op: 'insert', table: 'Address_Set', row: {name: `as-${c}-${i}`, addresses: ['set', [`10.${c}.${i >> 8}.${i & 255}`]]}}])
        }
      }
      await Promise.all(Array.from({length: window}, worker))
    }),
  )
  const seconds = Number(process.hrtime.bigint() - start) / 1e9
  for (const conn of conns) conn.close()
  return (clients * perClient) / seconds
}

async function loadAddressSets(peer: Peer, rows: number): Promise<void> {
  const conn = await client(peer)
  for (let base = 0; base < rows; base += 1000) {
    const ops = []
    for (let i = base; i < Math.min(rows, base + 1000); i++) {
      ops.push({op: 'insert', table: 'Address_Set', row: {name: `set${i}`, addresses: ['set', [`10.0.${i >> 8}.${i & 255}`, `10.1.${i >> 8}.${i & 255}`]], external_ids: ['map', [['owner', `o${i % 97}`]]]}})
    }
    await transact(conn, 'OVN_Northbound', ops)
  }
  conn.close()
}

async function initialMonitor(peer: Peer): Promise<number> {
  const clients = 50
  const conns = await Promise.all(Array.from({length: clients}, () => client(peer)))
  const start = process.hrtime.bigint()
  await Promise.all(conns.map((conn, i) => conn.request('monitor_cond', ['OVN_Northbound', `m${i}`, {Address_Set: [{}]}])))
  const ms = Number(process.hrtime.bigint() - start) / 1e6
  for (const conn of conns) conn.close()
  return ms
}

async function loadSouthbound(peer: Peer, total: number): Promise<void> {
  const conn = await client(peer)
  const datapaths = 100
  const ops: object[] = []
  for (let d = 0; d < datapaths; d++) {
    ops.push({op: 'insert', table: 'Datapath_Binding', 'uuid-name': `dp${d}`, row: {tunnel_key: d + 1, external_ids: ['map', [['name', `sw${d}`]]]}})
  }
  const result = (await transact(conn, 'OVN_Southbound', ops)) as {uuid: [string, string]}[]
  const dp = result.map((r) => r.uuid[1])
  const perKind = Math.floor((total - datapaths) / 3)
  for (let base = 0; base < perKind; base += 1000) {
    const batch: object[] = []
    for (let i = base; i < Math.min(perKind, base + 1000); i++) {
      const datapath = ['uuid', dp[i % datapaths]]
      batch.push({op: 'insert', table: 'Port_Binding', row: {logical_port: `lsp${i}`, datapath, tunnel_key: Math.floor(i / datapaths) + 1, mac: ['set', [`00:00:00:${(i >> 16) & 255}:${(i >> 8) & 255}:${i & 255} 10.0.${i >> 8}.${i & 255}`]]}})
      batch.push({op: 'insert', table: 'MAC_Binding', row: {logical_port: `lrp${i % 50}`, ip: `172.16.${i >> 8}.${i & 255}`, mac: `00:00:01:${(i >> 16) & 255}:${(i >> 8) & 255}:${i & 255}`, datapath}})
      batch.push({op: 'insert', table: 'Logical_Flow', row: {logical_datapath: datapath, pipeline: 'ingress', table_id: i % 30, priority: 100, match: `inport == "lsp${i}" && eth.src == 00:00:00:00:00:01`, actions: 'next;', external_ids: ['map', [['stage-name', 'ls_in_port_sec_l2']]]}})
    }
    await transact(conn, 'OVN_Southbound', batch)
  }
  conn.close()
}

type Measure = Record<string, number>

async function round(dir: string): Promise<{ovnctl: Measure; real: Measure}> {
  const out = {ovnctl: {} as Measure, real: {} as Measure}
  for (const [key, start] of [['real', startReal], ['ovnctl', startOvnctl]] as const) {
    const m = out[key]
    if (only.has('latency') || only.has('throughput')) {
      const peer = await start(dir, [createDb(dir, nbSchema, `nb-${key}`)])
      if (only.has('latency')) Object.assign(m, await serialLatency(peer))
      if (only.has('throughput')) m.tput = await pipelinedThroughput(peer)
      await peer.stop()
    }
    if (only.has('monitor')) {
      const peer = await start(dir, [createDb(dir, nbSchema, `nb-${key}`)])
      await loadAddressSets(peer, Math.round(50000 * scale))
      m.monitor = await initialMonitor(peer)
      await peer.stop()
    }
    if (only.has('rss')) {
      const peer = await start(dir, [createDb(dir, sbSchema, `sb-${key}`)])
      await loadSouthbound(peer, Math.round(100000 * scale))
      await new Promise((r) => setTimeout(r, 1000))
      m.rss = rssBytes(peer.pid) / (1024 * 1024)
      await peer.stop()
    }
  }
  return out
}

async function main(): Promise<void> {
  const results = await runRounds(rounds, () => undefined, (dir) => round(dir))
  const rows = medianRows(results, [
    {metric: 'serial transaction latency p50', unit: 'µs', better: 'lower', target: '≤ 1.0', key: 'p50'},
    {metric: 'serial transaction latency p99', unit: 'µs', better: 'lower', key: 'p99'},
    {metric: 'pipelined write throughput, 16 clients', unit: 'txn/s', better: 'higher', target: '≥ 2.0', key: 'tput'},
    {metric: 'initial monitor of 50k rows by 50 clients', unit: 'ms', better: 'lower', key: 'monitor'},
    {metric: 'RSS holding 100k OVN_Southbound rows', unit: 'MiB', better: 'lower', target: '≤ 1.0', key: 'rss'},
  ])
  report(`db-serve vs ovsdb-server (scale ${scale})`, rows, rounds)
}

await main()

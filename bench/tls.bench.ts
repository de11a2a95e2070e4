/**
 * TLS and RBAC: db-serve against the real ovsdb-server, both on pssl: with the same certificates (made by
 * openssl into a temporary directory) and the same client: connection setup (TCP + TLS handshake with
 * mutual authentication + one echo), serial transaction latency and pipelined throughput over ssl:, and the
 * latency of a chassis updating its own Chassis row through an RBAC-checked remote (role ovn-controller).
 */
import path from 'node:path'
import {connect, type JsonRpcConnection, TlsContextSource} from '../src/core/jsonrpc/index.js'
import {freePort, TestCa} from '../test/lib/pki.js'
import {createDb, type Peer, startOvnctl, startReal} from './lib/peers.js'
import {median, medianRows, quantile, report, runRounds} from './lib/stats.js'

const sbSchema = process.env.OVN_SB_SCHEMA ?? '/usr/share/ovn/ovn-sb.ovsschema'
const rounds = Number(process.env.BENCH_ROUNDS ?? 3)
const scale = Number(process.env.BENCH_SCALE ?? 1)

interface Pki {
  server: {key: string; cert: string}
  chassis: TlsContextSource
  ca: string
}

function transact(conn: JsonRpcConnection, ops: object[]): Promise<unknown> {
  return conn.request('transact', ['OVN_Southbound', ...ops]).then((result) => {
    const bad = (result as {error?: string}[]).find((r) => r && r.error)
    if (bad) throw new Error(`transaction failed: ${JSON.stringify(bad)}`)
    return result
  })
}

/** RBAC rows and a role-bearing pssl: Connection, as ovn-northd and "ovn-sbctl set-connection role=..." make them. */
function setup(port: number): object[] {
  return [
    {op: 'insert', table: 'RBAC_Permission', 'uuid-name': 'pc', row: {table: 'Chassis', authorization: ['set', ['name']], insert_delete: true, update: ['set', ['nb_cfg', 'external_ids', 'encaps']]}},
    {op: 'insert', table: 'RBAC_Permission', 'uuid-name': 'pe', row: {table: 'Encap', authorization: ['set', ['chassis_name']], insert_delete: true, update: ['set', ['ip']]}},
    {op: 'insert', table: 'RBAC_Role', row: {name: 'ovn-controller', permissions: ['map', [['Chassis', ['named-uuid', 'pc']], ['Encap', ['named-uuid', 'pe']]]]}},
    {op: 'insert', table: 'Connection', 'uuid-name': 'c', row: {target: `pssl:${port}:127.0.0.1`, role: 'ovn-controller'}},
    {op: 'insert', table: 'SB_Global', row: {connections: ['set', [['named-uuid', 'c']]]}},
  ]
}

async function start(kind: 'real' | 'ovnctl', dir: string, pki: Pki): Promise<{peer: Peer; plain: string; rbac: string}> {
  const [plainPort, rbacPort] = [await freePort(), await freePort()]
  const flags = [`--remote=pssl:${plainPort}:127.0.0.1`, '--remote=db:OVN_Southbound,SB_Global,connections',
    `--private-key=${pki.server.key}`, `--certificate=${pki.server.cert}`, `--ca-cert=${pki.ca}`]
  const file = createDb(dir, sbSchema, `sb-${kind}`)
  const peer = kind === 'real' ? await startReal(dir, [file], flags) : await startOvnctl(dir, [file], flags)
  const root = await connect(`unix:${peer.sock}`, {timeoutMs: 5000})
  await transact(root, setup(rbacPort))
  root.close()
  return {peer, plain: `ssl:127.0.0.1:${plainPort}`, rbac: `ssl:127.0.0.1:${rbacPort}`}
}

async function connectRetrying(remote: string, tls: TlsContextSource): Promise<JsonRpcConnection> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await connect(remote, {timeoutMs: 5000, tls})
    } catch (err) {
      if (attempt >= 50) throw err
      await new Promise((r) => setTimeout(r, 100))
    }
  }
}

async function handshakeMs(remote: string, tls: TlsContextSource): Promise<number> {
  const times: number[] = []
  for (let i = 0; i < Math.round(200 * scale); i++) {
    const start = process.hrtime.bigint()
    const conn = await connect(remote, {timeoutMs: 5000, tls})
    await conn.request('echo', [])
    times.push(Number(process.hrtime.bigint() - start) / 1e6)
    conn.close()
  }
  return median(times)
}

async function serialUs(conn: JsonRpcConnection, op: (i: number) => object[]): Promise<number> {
  const times: number[] = []
  const n = Math.round(2000 * scale)
  for (let i = 0; i < n + 200; i++) {
    const start = process.hrtime.bigint()
    await transact(conn, op(i))
    if (i >= 200) times.push(Number(process.hrtime.bigint() - start) / 1e3)
  }
  return quantile(times, 0.5)
}

async function throughput(remote: string, tls: TlsContextSource): Promise<number> {
  const clients = 16
  const window = 8
  const perClient = Math.round(1000 * scale)
  const conns = await Promise.all(Array.from({length: clients}, () => connect(remote, {timeoutMs: 5000, tls})))
  const start = process.hrtime.bigint()
  await Promise.all(conns.map(async (conn, c) => {
    let next = 0
    const worker = async () => {
      while (next < perClient) {
        const i = next++
        await transact(conn, [{op: 'insert', table: 'Address_Set', row: {name: `as-${c}-${i}`, addresses: ['set', [`10.${c}.${i >> 8}.${i & 255}`]]}}])
      }
    }
    await Promise.all(Array.from({length: window}, worker))
  }))
  const seconds = Number(process.hrtime.bigint() - start) / 1e9
  for (const conn of conns) conn.close()
  return (clients * perClient) / seconds
}

type Measure = Record<string, number>

async function round(dir: string, pki: Pki): Promise<{ovnctl: Measure; real: Measure}> {
  const out = {ovnctl: {} as Measure, real: {} as Measure}
  for (const kind of ['real', 'ovnctl'] as const) {
    const {peer, plain, rbac} = await start(kind, dir, pki)
    const m = out[kind]
    const conn = await connectRetrying(plain, pki.chassis)
    m.handshake = await handshakeMs(plain, pki.chassis)
    m.latency = await serialUs(conn, (i) => [{op: 'insert', table: 'Address_Set', row: {name: `serial-${i}`, addresses: ['set', [`172.16.${i >> 8}.${i & 255}`]]}}])
    conn.close()
    m.tput = await throughput(plain, pki.chassis)
    const chassis = await connectRetrying(rbac, pki.chassis)
    await transact(chassis, [
      {op: 'insert', table: 'Encap', 'uuid-name': 'e', row: {type: 'geneve', ip: '192.0.2.1', chassis_name: 'chassis-a'}},
      {op: 'insert', table: 'Chassis', row: {name: 'chassis-a', hostname: 'a', encaps: ['named-uuid', 'e']}},
    ])
    m.rbac = await serialUs(chassis, (i) => [{op: 'update', table: 'Chassis', where: [['name', '==', 'chassis-a']], row: {nb_cfg: i}}])
    chassis.close()
    await peer.stop()
  }
  return out
}

async function main(): Promise<void> {
  const setup = (dir: string): Pki => {
    const ca = new TestCa(path.join(dir, 'pki'))
    const files = ca.issue('chassis-a')
    return {server: ca.issue('sb-server'), ca: ca.cert, chassis: TlsContextSource.of({privateKey: files.key, certificate: files.cert, caCert: ca.cert})}
  }
  const results = await runRounds(rounds, setup, round)
  const rows = medianRows(results, [
    {metric: 'ssl: connect + mutual TLS handshake + echo', unit: 'ms', better: 'lower', key: 'handshake'},
    {metric: 'serial transaction latency over ssl: p50', unit: 'µs', better: 'lower', key: 'latency'},
    {metric: 'pipelined write throughput over ssl:, 16 clients', unit: 'txn/s', better: 'higher', key: 'tput'},
    {metric: 'RBAC-checked update of own Chassis p50', unit: 'µs', better: 'lower', key: 'rbac'},
  ])
  report(`TLS and RBAC: db-serve vs ovsdb-server (scale ${scale})`, rows, rounds)
}

await main()

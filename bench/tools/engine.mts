/**
 * Micro-benchmark of the engine's commit path and row memory (not a test: mocha does not load .mts files).
 *
 *   node --import tsx bench/tools/engine.mts single|ten|bulk|mutate   µs per transaction, per step
 *   node --expose-gc --import tsx bench/tools/engine.mts mem p|m|l   bytes per Port_Binding/MAC_Binding/Logical_Flow row
 *
 * Steps: exec = executeTransaction, commit = db.commit, record = changesToLogRecord, encode = encodeRecord (JSON
 * and SHA-1). Workloads: one Logical_Switch insert; ten Logical_Switch_Port inserts plus their switch; 1000
 * Logical_Switch inserts in one transaction; a mutate of one row's map. N=<count> sets the transactions per run.
 * OVN_NB_SCHEMA and OVN_SB_SCHEMA name the schema files (default: where the OVN packages install them).
 */
import {createHash} from 'node:crypto'
import fs from 'node:fs'
import {changesToLogRecord, Database, DatabaseSchema, executeTransaction, type TxnOutcome} from '../../src/core/ovsdb/index.js'
import {newUuid} from '../../src/core/server/uuid.js'
import {encodeRecord} from '../../src/core/storage/log-format.js'

const nbPath = process.env.OVN_NB_SCHEMA ?? '/usr/share/ovn/ovn-nb.ovsschema'
const sbPath = process.env.OVN_SB_SCHEMA ?? '/usr/share/ovn/ovn-sb.ovsschema'
const loadSchema = (file: string) => DatabaseSchema.fromJSON(JSON.parse(fs.readFileSync(file, 'utf8')))
const sha1 = (data: Uint8Array) => createHash('sha1').update(data).digest('hex')
const env = {newUuid}

function committed(o: TxnOutcome): Extract<TxnOutcome, {kind: 'committed' | 'failed'}> {
  if (o.kind !== 'committed') throw new Error(`transaction not committed: ${JSON.stringify(o)}`)
  return o
}

/** Runs `count` transactions made by `ops` and prints the mean µs of each step. */
function steps(label: string, count: number, ops: (i: number, db: Database) => unknown[]): void {
  const schema = loadSchema(nbPath)
  const db = new Database(schema)
  const ns = {exec: 0n, commit: 0n, record: 0n, encode: 0n}
  for (let i = 0; i < count; i++) {
    const txn = ops(i, db)
    const t0 = process.hrtime.bigint()
    const o = committed(executeTransaction(db, txn, env))
    const t1 = process.hrtime.bigint()
    db.commit(o.changes!)
    const t2 = process.hrtime.bigint()
    const record = changesToLogRecord(schema, o.changes!, {dateMs: 1_700_000_000_000 + i})
    const t3 = process.hrtime.bigint()
    encodeRecord(record, sha1)
    const t4 = process.hrtime.bigint()
    ns.exec += t1 - t0
    ns.commit += t2 - t1
    ns.record += t3 - t2
    ns.encode += t4 - t3
  }
  const us = (x: bigint) => (Number(x) / count / 1000).toFixed(2)
  console.log(label, 'exec', us(ns.exec), 'commit', us(ns.commit), 'record', us(ns.record), 'encode', us(ns.encode),
    'sum3', us(ns.exec + ns.commit + ns.record))
}

const port = (i: number, j: number) => ({
  op: 'insert', table: 'Logical_Switch_Port', 'uuid-name': `p${j}`,
  row: {name: `lsp${i}_${j}`, addresses: ['set', [`00:00:00:00:00:0${j} 10.0.0.${j}`]], external_ids: ['map', [['k', 'v']]]},
})

let mutated: unknown
const workloads: Record<string, () => void> = {
  single: () => steps('single-insert', Number(process.env.N ?? 30_000), (i) => [
    {op: 'insert', table: 'Logical_Switch', row: {name: `ls${i}`}}]),
  ten: () => steps('10-op', Number(process.env.N ?? 5000), (i) => [
    ...Array.from({length: 10}, (_, j) => port(i, j)),
    {op: 'insert', table: 'Logical_Switch', row: {name: `ls${i}`, ports: ['set', Array.from({length: 10}, (_, j) => ['named-uuid', `p${j}`])]}},
  ]),
  bulk: () => steps('bulk-1000', Number(process.env.N ?? 30), (i) => Array.from({length: 1000}, (_, j) => (
    {op: 'insert', table: 'Logical_Switch', row: {name: `ls${i}_${j}`, external_ids: ['map', [['a', `${j}`]]]}}))),
  mutate: () => steps('mutate', Number(process.env.N ?? 30_000), (i, db) => {
    if (i === 0) {
      const o = committed(executeTransaction(db, [{op: 'insert', table: 'Logical_Switch', row: {name: 'x'}}], env))
      db.commit(o.changes!)
      mutated = o.results[0]
    }
    const where = [['_uuid', '==', (mutated as {uuid: unknown}).uuid]]
    return [{op: 'mutate', table: 'Logical_Switch', where, mutations: [
      ['external_ids', 'insert', ['map', [[`k${i}`, 'v']]]], ['external_ids', 'delete', ['set', [`k${i - 1}`]]]]}]
  }),
  mem: memory,
}

/** Inserts 10 000 rows of each kind in p (Port_Binding), m (MAC_Binding), l (Logical_Flow); prints heap bytes per row. */
function memory(): void {
  const gc = (globalThis as {gc?: () => void}).gc
  if (!gc) throw new Error('run with node --expose-gc')
  const kinds = process.argv[3] ?? 'pml'
  const db = new Database(loadSchema(sbPath))
  const run = (ops: unknown[]) => {
    const o = committed(executeTransaction(db, ops, env))
    db.commit(o.changes!)
    return o.results as Array<{uuid: [string, string]}>
  }
  const dps = run(Array.from({length: 100}, (_, d) => ({op: 'insert', table: 'Datapath_Binding', row: {tunnel_key: d + 1}}))).map((r) => r.uuid[1])
  gc()
  const base = process.memoryUsage().heapUsed
  const perKind = 10_000
  for (let b = 0; b < perKind; b += 1000) {
    const ops: object[] = []
    for (let i = b; i < b + 1000; i++) {
      const datapath = ['uuid', dps[i % 100]]
      if (kinds.includes('p')) ops.push({op: 'insert', table: 'Port_Binding', row: {logical_port: `lsp${i}`, datapath, tunnel_key: Math.floor(i / 100) + 1, mac: ['set', [`00:00:00:00:${(i >> 8) & 255}:${i & 255} 10.0.${i >> 8}.${i & 255}`]]}})
      if (kinds.includes('m')) ops.push({op: 'insert', table: 'MAC_Binding', row: {logical_port: `lrp${i % 50}`, ip: `172.16.${i >> 8}.${i & 255}`, mac: `00:00:01:00:${(i >> 8) & 255}:${i & 255}`, datapath}})
      if (kinds.includes('l')) ops.push({op: 'insert', table: 'Logical_Flow', row: {logical_datapath: datapath, pipeline: 'ingress', table_id: i % 30, priority: 100, match: `inport == "lsp${i}" && eth.src == 00:00:00:00:00:01`, actions: 'next;', external_ids: ['map', [['stage-name', 'ls_in_port_sec_l2']]]}})
    }
    // A JSON round trip, as a server receives the operations: flat strings, none shared with the generator.
    run(JSON.parse(JSON.stringify(ops)) as unknown[])
  }
  gc()
  const used = process.memoryUsage().heapUsed - base
  console.log(kinds, 'bytes per row', (used / (perKind * kinds.length)).toFixed(0))
}

const mode = process.argv[2] ?? 'single'
const workload = workloads[mode]
if (!workload) throw new Error(`unknown mode "${mode}": expected ${Object.keys(workloads).join(', ')}`)
workload()

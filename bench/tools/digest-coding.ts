/**
 * Measures the digest coding layer (src/core/digest): SipHash speed (32-bit halves vs BigInt), the per-change
 * cost of a DigestIndex, and whole reconciliations through reconcilePlan: bytes on the wire, round trips and
 * compute time for n = 100k rows with d = 10/100/1000 differing digests and n = 1M with d = 1000.
 * Prints tables; not a test. Run: npx tsx bench/tools/digest-coding.ts [--quick]
 */
import {DigestIndex} from '../../src/core/digest/index.js'
import {clientStart, clientStep, type ReconcileContext, type ReconcileLimits, serverStep} from '../../src/core/digest/plan.js'
import {fingerprint, rowDigest} from '../../src/core/digest/row-digest.js'
import {sipHash24, sipKey} from '../../src/core/digest/siphash.js'
import {sipHash24Reference} from '../../test/digest/siphash-reference.js'

const quick = process.argv.includes('--quick')
const saltBytes = Uint8Array.from({length: 16}, (_, i) => (i * 37 + 11) & 0xff)
const salt = sipKey(saltBytes)
const schema = fingerprint('bench')

/** A row's canonical encoding of ~150 bytes, as a monitor row would be. */
function encoding(i: number, version: number): string {
  return `Logical_Flow\u0000${i.toString(16).padStart(8, '0')}-1c2d-4e5f-8a9b-${version}\u0000{"match":"inport == \\"lsp${i}\\" && ip4.dst == 10.${i & 255}.0.0/16","priority":${i % 100},"actions":"next;"}`
}

function siphashSpeed(): void {
  const rows = quick ? 5000 : 20000
  const messages = Array.from({length: rows}, (_, i) => new TextEncoder().encode(encoding(i, 0)))
  const bytes = messages.reduce((sum, m) => sum + m.length, 0)
  for (const m of messages) sipHash24(salt, m) // warm-up: let the JIT compile before measuring
  let t = performance.now()
  for (const m of messages) sipHash24(salt, m)
  const fastMs = performance.now() - t
  t = performance.now()
  for (const m of messages.slice(0, rows / 10)) sipHash24Reference(saltBytes, m)
  const bigMs = (performance.now() - t) * 10
  console.log(`SipHash-2-4 over ${rows} rows of ~${Math.round(bytes / rows)} bytes`)
  console.log(`  32-bit halves: ${(fastMs * 1000 / rows).toFixed(2)} µs/row, ${(bytes / fastMs / 1000).toFixed(0)} MB/s`)
  console.log(`  BigInt:        ${(bigMs * 1000 / rows).toFixed(2)} µs/row, ${(bytes / bigMs / 1000).toFixed(1)} MB/s`)
}

interface Pair {
  server: DigestIndex
  client: DigestIndex
  next: number
}

function buildPair(n: number): Pair {
  const server = new DigestIndex()
  const client = new DigestIndex()
  const t = performance.now()
  for (let i = 0; i < n; i++) {
    const d = rowDigest(salt, encoding(i, 0))
    server.set(`r${i}`, d)
    client.set(`r${i}`, d)
  }
  const perRowUs = ((performance.now() - t) * 1000) / n / 2
  console.log(`\nn = ${n}: digest + index update ${perRowUs.toFixed(2)} µs per row change (both indexes built)`)
  return {server, client, next: n}
}

/** Changes the server so that d digests differ: d/4 inserts, d/4 deletes, d/4 updates (two digests each). */
function diverge(pair: Pair, d: number): void {
  if (d === 0) return
  const quarter = Math.max(1, Math.round(d / 4))
  for (let i = 0; i < quarter; i++) pair.server.set(`r${pair.next++}`, rowDigest(salt, encoding(pair.next, 0)))
  const rows = [...pair.server.rows()]
  for (let i = 0; i < quarter; i++) pair.server.delete(rows[(i * 7919) % rows.length])
  for (let i = 0; i < quarter; i++) {
    const row = rows[(i * 104729 + 13) % rows.length]
    if (pair.server.digestOf(row)) pair.server.set(row, rowDigest(salt, encoding(i, pair.next++)))
  }
}

interface Run {
  jsonBytes: number
  binaryBytes: number
  roundTrips: number
  tables: number
  serverMs: number
  clientMs: number
  outcome: string
}

function reconcile(pair: Pair, limits: Partial<ReconcileLimits>): Run {
  const sctx: ReconcileContext = {index: pair.server, fingerprint: schema, saltId: 1, limits}
  const cctx: ReconcileContext = {index: pair.client, fingerprint: schema, saltId: 1, limits}
  const run: Run = {jsonBytes: 0, binaryBytes: 0, roundTrips: 0, tables: 0, serverMs: 0, clientMs: 0, outcome: ''}
  const count = (message: object) => {
    run.jsonBytes += JSON.stringify(message).length
    run.binaryBytes += 'data' in message ? ((message.data as string).length * 3) / 4 : JSON.stringify(message).length
  }
  let t = performance.now()
  let step = clientStart(cctx)
  run.clientMs += performance.now() - t
  while (step.send) {
    count(step.send)
    t = performance.now()
    const reply = serverStep(sctx, step.send)
    run.serverMs += performance.now() - t
    run.roundTrips++
    if (reply.type === 'table') run.tables++
    if (reply.type !== 'rows') count(reply) // the rows reply is the changed rows themselves, not overhead
    if (reply.type === 'snapshot') {
      for (const r of [...pair.client.rows()]) if (pair.server.digestOf(r) === undefined) pair.client.delete(r)
      for (const r of pair.server.rows()) pair.client.set(r, pair.server.digestOf(r)!)
    }
    if (reply.type === 'rows') for (const r of reply.rowIds) pair.client.set(r, pair.server.digestOf(r)!)
    t = performance.now()
    step = clientStep(cctx, step.state, reply)
    run.clientMs += performance.now() - t
    for (const r of step.deleteRowIds ?? []) pair.client.delete(r)
  }
  run.outcome = step.state.phase === 'done' ? step.state.outcome : step.state.phase
  if (pair.client.size !== pair.server.size) throw new Error(`replica differs after reconciliation: ${pair.client.size} vs ${pair.server.size}`)
  return run
}

function report(label: string, runs: Run[]): void {
  const mean = (f: (r: Run) => number) => runs.reduce((s, r) => s + f(r), 0) / runs.length
  const max = (f: (r: Run) => number) => Math.max(...runs.map(f))
  const kb = (b: number) => (b / 1024).toFixed(1).padStart(6)
  console.log(
    `${label.padEnd(26)} ${kb(mean((r) => r.binaryBytes))} ${kb(max((r) => r.binaryBytes))} ${kb(mean((r) => r.jsonBytes))}` +
      ` ${mean((r) => r.roundTrips).toFixed(2).padStart(5)} ${String(max((r) => r.roundTrips)).padStart(3)}` +
      ` ${mean((r) => r.serverMs).toFixed(1).padStart(7)} ${mean((r) => r.clientMs).toFixed(1).padStart(7)}  ${[...new Set(runs.map((r) => r.outcome))].join(',')}`,
  )
}

function header(): void {
  console.log(`${'case'.padEnd(26)} ${'KiB'.padStart(6)} ${'max'.padStart(6)} ${'JSON'.padStart(6)} ${'RTs'.padStart(5)} ${'max'.padStart(3)} ${'srv ms'.padStart(7)} ${'cli ms'.padStart(7)}  outcome`)
}

function scenario(n: number, ds: number[], trials: number, factors: number[]): void {
  const pair = buildPair(n)
  header()
  for (const d of ds) {
    for (const sizeFactor of factors) {
      const runs: Run[] = []
      for (let t = 0; t < trials; t++) {
        diverge(pair, d)
        runs.push(reconcile(pair, {sizeFactor}))
      }
      report(`d=${d} sizeFactor=${sizeFactor}`, runs)
    }
  }
}

siphashSpeed()
console.log('\nReconciliation overhead (KiB binary mean / max, JSON-RPC base64 mean; rows themselves excluded)')
scenario(100_000, [0, 10, 100, 1000], quick ? 3 : 15, [1.6, 2, 2.5])
if (!quick) scenario(1_000_000, [1000], 4, [2.5])

/**
 * How often a digest exchange needs more than two round trips, over many seeds: only the differing digests
 * matter (IBLTs and strata are linear, the shared rows cancel), so each trial draws D row digests (SipHash of distinct rows), half on
 * each side, and runs reconcilePlan to its end. Prints, per D and limits, the exchanges over two round trips,
 * those that ended in a snapshot and the mean bytes of the tables (base64). Not a test.
 * Run: npx tsx bench/tools/digest-failures.ts [D,...] [trials] [sizeFactor,...] [decodeGrowth,...]
 */
import {DigestIndex} from '../../src/core/digest/index.js'
import {clientStart, clientStep, type ReconcileContext, serverStep} from '../../src/core/digest/plan.js'
import {type Digest, rowDigest} from '../../src/core/digest/row-digest.js'
import {sipKey} from '../../src/core/digest/siphash.js'

const [ds = '13,133,1333', trialsArg = '2000', factorsArg = '2', growthsArg = '3'] = process.argv.slice(2)
const list = (text: string) => text.split(',').map(Number)

const salt = sipKey(Uint8Array.from({length: 16}, (_, i) => i * 31 + 7))

/** Row digests as the server makes them (SipHash under a salt), from a fixed stream, so runs repeat. */
function random(seed: number): () => Digest {
  let i = 0
  return () => rowDigest(salt, `trial ${seed} row ${i++}`)
}

interface Tally {
  over2: number
  snapshots: number
  tableChars: number
  clientTables: number
}

function trial(d: number, limits: {sizeFactor: number; decodeGrowth: number}, next: () => Digest, tally: Tally): void {
  const server = new DigestIndex()
  const client = new DigestIndex()
  for (let i = 0; i < 20; i++) {
    const shared = next()
    server.set(`c${i}`, shared)
    client.set(`c${i}`, shared)
  }
  for (let i = 0; i < d; i++) (i % 2 === 0 ? server : client).set(`x${i}`, next())
  const fingerprint = {hi: 1, lo: 2}
  const sctx: ReconcileContext = {index: server, fingerprint, saltId: 1, limits}
  const cctx: ReconcileContext = {index: client, fingerprint, saltId: 1, limits}
  let step = clientStart(cctx)
  let roundTrips = 0
  const transcript: string[] = []
  while (step.send !== undefined) {
    if (step.send.type === 'decode') tally.clientTables++
    const reply = serverStep(sctx, step.send)
    roundTrips++
    if (reply.type === 'table') tally.tableChars += reply.data.length
    if (reply.type === 'snapshot') tally.snapshots++
    transcript.push(`${step.send.type}${'subCells' in step.state ? `(${step.state.subCells})` : ''}→${reply.type}`)
    step = clientStep(cctx, step.state, reply)
  }
  if (roundTrips > 2) tally.over2++
  if ((roundTrips > 2 || transcript.some((s) => s.endsWith("snapshot"))) && process.env.DIGEST_FAILURES_VERBOSE) console.log(`  D=${d}: ${transcript.join(' ')}`)
}

let seed = 1
for (const d of list(ds)) {
  for (const sizeFactor of list(factorsArg)) {
    for (const decodeGrowth of list(growthsArg)) {
      const trials = Number(trialsArg)
      const tally: Tally = {over2: 0, snapshots: 0, tableChars: 0, clientTables: 0}
      for (let t = 0; t < trials; t++) trial(d, {sizeFactor, decodeGrowth}, random(seed++), tally)
      console.log(
        `D=${d} sizeFactor=${sizeFactor} decodeGrowth=${decodeGrowth}: first table failed ${tally.clientTables}/${trials}, ` +
          `over two round trips ${tally.over2}/${trials}, snapshots ${tally.snapshots}, server tables ${(tally.tableChars / trials).toFixed(0)} B mean`,
      )
    }
  }
}

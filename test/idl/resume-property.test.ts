import assert from 'node:assert/strict'
import fc from 'fast-check'
import {toBase64} from '../../src/core/digest/base64.js'
import {encodeEstimator} from '../../src/core/digest/wire.js'
import {DigestedReplica} from '../../src/core/idl/digest-replica.js'
import {ReplicaMonitor} from '../../src/core/idl/resume.js'
import {connect} from '../../src/core/jsonrpc/index.js'
import {DatabaseSchema} from '../../src/core/ovsdb/index.js'
import {Harness, testSchemaJSON} from '../server/harness.js'

const schema = DatabaseSchema.fromJSON(testSchemaJSON)
const shape = {db: 'Test', schema, tables: [{name: 'Switch', columns: ['name', 'tags'], where: null}]}

/** How a reply is damaged in transit, if at all. */
type Damage = 'none' | 'corrupt-first-table' | 'truncate-first-table' | 'tiny-estimate'

interface Case {
  n: number
  inserts: number
  deletes: number
  updates: number
  damage: Damage
}

const caseArb: fc.Arbitrary<Case> = fc.integer({min: 0, max: 1200}).chain((n) => {
  const tenth = Math.floor(n / 10)
  return fc.record({
    n: fc.constant(n),
    inserts: fc.nat({max: Math.floor(tenth / 3)}),
    deletes: fc.nat({max: Math.floor(tenth / 3)}),
    updates: fc.nat({max: Math.floor(tenth / 3)}),
    damage: fc.constantFrom<Damage>('none', 'none', 'corrupt-first-table', 'truncate-first-table', 'tiny-estimate'),
  })
})

function contents(replica: DigestedReplica): string[] {
  return replica.replica.uuids('Switch').map((u) => `${u} ${JSON.stringify(replica.replica.row('Switch', u))}`).sort()
}

/** A monitor whose first table reply is damaged as `damage` says. */
function damaging(monitor: ReplicaMonitor, damage: Damage): void {
  let tables = 0
  const request = monitor.request.bind(monitor)
  monitor.request = async (method, params) => {
    if (damage === 'tiny-estimate' && method === 'monitor_cond_digest') {
      // A client that lies about the largest table it takes: the server must answer what fits, or a snapshot.
      const message = params[4] as Record<string, unknown>
      if (message.type === 'estimate') params = [...params.slice(0, 4), {...message, 'sub-cells-max': 1}]
    }
    const result = (await request(method, params)) as Record<string, unknown>
    if (result.outcome !== 'table' || tables++ > 0) return result
    const data = result.data as string
    if (damage === 'corrupt-first-table') return {...result, data: data.slice(0, 50) + (data[50] === 'A' ? 'B' : 'A') + data.slice(51)}
    if (damage === 'truncate-first-table') return {...result, data: data.slice(0, data.length - 8)}
    return result
  }
}

async function run(c: Case): Promise<{method: string; roundTrips: number}> {
  const h = await new Harness({dbLimits: {historyTxnsMax: 0}}).start()
  const conns: {close(): void}[] = []
  try {
    const client = await h.client()
    const tx = async (ops: unknown[]) => {
      const results = (await client.call('transact', ['Test', ...ops])) as {error?: string}[]
      assert.ok(results.every((r) => !r?.error), JSON.stringify(results))
    }
    if (c.n > 0) await tx(Array.from({length: c.n}, (_, i) => ({op: 'insert', table: 'Switch', row: {name: `sw${i}`}})))
    const monitorOn = async (replica: DigestedReplica, damage: Damage) => {
      const conn = await connect(`unix:${h.sock}`, {timeoutMs: 2000})
      conns.push(conn)
      const monitor = new ReplicaMonitor(conn, replica, {timeoutMs: 10_000})
      damaging(monitor, damage)
      const report = await monitor.start()
      conn.close()
      return report
    }
    const replica = new DigestedReplica(shape)
    await monitorOn(replica, 'none')
    const deletes = Math.min(c.deletes, c.n)
    const ops: unknown[] = []
    for (let i = 0; i < c.inserts; i++) ops.push({op: 'insert', table: 'Switch', row: {name: `new${i}`}})
    for (let i = 0; i < deletes; i++) ops.push({op: 'delete', table: 'Switch', where: [['name', '==', `sw${i}`]]})
    for (let i = deletes; i < Math.min(c.n, deletes + c.updates); i++) ops.push({op: 'update', table: 'Switch', where: [['name', '==', `sw${i}`]], row: {tags: ['set', [i % 4000]]}})
    if (ops.length > 0) await tx(ops)
    const report = await monitorOn(replica, c.damage)
    const truth = new DigestedReplica(shape)
    await monitorOn(truth, 'none')
    assert.deepEqual(contents(replica), contents(truth), `${JSON.stringify(c)}: resumed by ${report.method}`)
    return report
  } finally {
    for (const conn of conns) conn.close()
    await h.stop()
  }
}

describe('resuming a replica, property', () => {
  it('ends identical to a fresh snapshot for random differences of 0 to 10% of the rows, damaged tables included', async () => {
    const methods = new Map<string, number>()
    await fc.assert(
      fc.asyncProperty(caseArb, async (c) => {
        const report = await run(c)
        methods.set(`${c.damage}/${report.method}`, (methods.get(`${c.damage}/${report.method}`) ?? 0) + 1)
      }),
      {numRuns: 30},
    )
    assert.ok([...methods.keys()].some((k) => k.startsWith('none/digest')), `methods: ${JSON.stringify([...methods])}`)
  })

  it('recovers from a corrupted and from a truncated table without a wrong replica', async () => {
    for (const damage of ['corrupt-first-table', 'truncate-first-table'] as const) {
      const report = await run({n: 800, inserts: 20, deletes: 20, updates: 20, damage})
      assert.ok(report.roundTrips >= 2, `${damage}: ${report.method} in ${report.roundTrips} round trips`)
    }
  })

  it('ends in two round trips when the first table does not peel: the server peels the client\'s own table', async () => {
    const h = await new Harness({dbLimits: {historyTxnsMax: 0}}).start()
    const conns: {close(): void}[] = []
    try {
      const client = await h.client()
      const tx = (ops: unknown[]) => client.call('transact', ['Test', ...ops])
      await tx(Array.from({length: 800}, (_, i) => ({op: 'insert', table: 'Switch', row: {name: `sw${i}`}})))
      const resume = async (replica: DigestedReplica, onRequest?: (params: unknown[]) => unknown[]) => {
        const conn = await connect(`unix:${h.sock}`, {timeoutMs: 2000})
        conns.push(conn)
        const monitor = new ReplicaMonitor(conn, replica, {timeoutMs: 10_000})
        const request = monitor.request.bind(monitor)
        if (onRequest) monitor.request = (method, params) => request(method, method === 'monitor_cond_digest' ? onRequest(params) : params)
        return monitor.start()
      }
      const replica = new DigestedReplica(shape)
      await resume(replica)
      await tx([
        ...Array.from({length: 20}, (_, i) => ({op: 'insert', table: 'Switch', row: {name: `new${i}`}})),
        ...Array.from({length: 20}, (_, i) => ({op: 'delete', table: 'Switch', where: [['name', '==', `sw${i}`]]})),
      ])
      const truth = new DigestedReplica(shape)
      await resume(truth)
      // The estimator of the server's own set (the fresh replica's) makes the server estimate no difference and
      // send its smallest table, 4 × 8 cells, where 40 digests differ: it cannot peel.
      const header = {fingerprint: replica.fingerprint, saltId: replica.saltId, summary: replica.index.summary()}
      const lying = toBase64(encodeEstimator(truth.index.estimator(), header))
      const sent: string[] = []
      const report = await resume(replica, (params) => {
        const message = params[4] as Record<string, unknown>
        sent.push(String(message.type))
        return message.type === 'estimate' ? [...params.slice(0, 4), {...message, data: lying}] : params
      })
      assert.deepEqual(sent, ['estimate', 'decode'])
      assert.equal(report.method, 'digest')
      assert.equal(report.roundTrips, 2)
      assert.deepEqual(contents(replica), contents(truth))
    } finally {
      for (const conn of conns) conn.close()
      await h.stop()
    }
  })

  it('finds a change a digest collision hides (the content checks differ) and ends with a snapshot', async () => {
    const h = await new Harness({dbLimits: {historyTxnsMax: 0}}).start()
    const conns: {close(): void}[] = []
    try {
      const client = await h.client()
      const tx = (ops: unknown[]) => client.call('transact', ['Test', ...ops])
      await tx(Array.from({length: 200}, (_, i) => ({op: 'insert', table: 'Switch', row: {name: `sw${i}`}})))
      const resume = async (replica: DigestedReplica) => {
        const conn = await connect(`unix:${h.sock}`, {timeoutMs: 2000})
        conns.push(conn)
        return new ReplicaMonitor(conn, replica, {timeoutMs: 10_000}).start()
      }
      const replica = new DigestedReplica(shape)
      await resume(replica)
      await tx([{op: 'update', table: 'Switch', where: [['name', '==', 'sw7']], row: {tags: ['set', [7]]}}])
      const truth = new DigestedReplica(shape)
      await resume(truth)
      // A forged collision: the replica's old version of sw7 takes the digest of the server's new version, as if a
      // writer who knows the salt had found two versions with one digest; its content (and content check) stays.
      const uuid = replica.replica.uuids('Switch').find((u) => (replica.replica.row('Switch', u) as {name: string}).name === 'sw7')!
      const rowId = `Switch/${uuid}`
      replica.index.set(rowId, truth.index.digestOf(rowId)!, replica.index.checkOf(rowId))
      assert.notDeepEqual(contents(replica), contents(truth))
      const report = await resume(replica)
      assert.equal(report.method, 'snapshot')
      assert.match(report.refused ?? '', /content checks differ/)
      assert.deepEqual(contents(replica), contents(truth))
    } finally {
      for (const conn of conns) conn.close()
      await h.stop()
    }
  })

  it('gets a snapshot when it cannot take a table as large as the difference needs', async () => {
    const report = await run({n: 800, inserts: 20, deletes: 20, updates: 20, damage: 'tiny-estimate'})
    assert.equal(report.method, 'snapshot')
  })
})

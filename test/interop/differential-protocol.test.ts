import assert from 'node:assert/strict'
import path from 'node:path'
import {connect, type JsonRpcConnection} from '../../src/core/jsonrpc/index.js'
import {nbSchema, ok, requireBuild, type ServerProcess, startDbServe, startOvsdbServer, tempDir} from './lib.js'

/**
 * The same session sent to the real ovsdb-server and to db-serve: replies, errors and monitor notifications
 * must match once generated UUIDs are replaced by names. Rows are named in the order the transactions
 * create them; other UUIDs (_version) become "<uuid>"; object key order is ignored (OVS uses hash order).
 */

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

class Recorder {
  readonly log: unknown[] = []
  readonly names = new Map<string, string>()
  constructor(readonly conn: JsonRpcConnection) {
    conn.setHandler({
      onRequest: (method, params, id) => (method === 'echo' ? conn.respond(id, params) : conn.respondError(id, 'unknown method')),
      onNotification: (method, params) => this.log.push({notification: method, params}),
    })
  }

  async call(method: string, params: unknown[]): Promise<unknown> {
    try {
      const result = await this.conn.request(method, params)
      this.nameRows(result)
      this.log.push({method, result})
      return result
    } catch (err) {
      this.log.push({method, error: (err as {error?: unknown}).error ?? String(err)})
      return undefined
    }
  }

  /** Names the rows a transaction inserted, in operation order. */
  private nameRows(result: unknown): void {
    if (!Array.isArray(result)) return
    for (const r of result) {
      const uuid = (r as {uuid?: [string, string]})?.uuid?.[1]
      if (uuid && !this.names.has(uuid)) this.names.set(uuid, `row${this.names.size}`)
    }
  }

  normalized(): unknown {
    const walk = (v: unknown): unknown => {
      if (typeof v === 'string' && UUID.test(v)) return this.names.get(v) ?? '<uuid>'
      // Sets and maps are in UUID order, and the two servers' UUIDs differ: compare them as sorted.
      if (Array.isArray(v) && v.length === 2 && (v[0] === 'set' || v[0] === 'map') && Array.isArray(v[1])) {
        return [v[0], (v[1] as unknown[]).map(walk).sort((x, y) => (JSON.stringify(x) < JSON.stringify(y) ? -1 : 1))]
      }
      if (Array.isArray(v)) return v.map(walk)
      if (v && typeof v === 'object') {
        const out: Record<string, unknown> = {}
        for (const k of Object.keys(v).sort()) out[this.names.get(k) ?? (UUID.test(k) ? '<uuid>' : k)] = walk((v as Record<string, unknown>)[k])
        return out
      }
      return v
    }
    // Notifications of different monitors for one commit come in no specified order: sort each run of them.
    const out: unknown[] = []
    let run: unknown[] = []
    const flush = () => out.push(...run.sort((x, y) => (JSON.stringify(x) < JSON.stringify(y) ? -1 : 1)).splice(0))
    for (const entry of walk(this.log) as Record<string, unknown>[]) {
      if ('notification' in entry) run.push(entry)
      else {
        flush()
        out.push(entry)
      }
    }
    flush()
    return out
  }
}

async function session(sock: string): Promise<unknown> {
  const a = new Recorder(await connect(`unix:${sock}`, {timeoutMs: 5000}))
  const b = new Recorder(await connect(`unix:${sock}`, {timeoutMs: 5000}))
  b.names.clear()
  const db = 'OVN_Northbound'
  const txn = async (...ops: object[]) => {
    await b.call('transact', [db, ...ops])
    for (const [k, v] of b.names) a.names.set(k, v)
    await a.call('echo', ['sync'])
  }
  await a.call('list_dbs', [])
  await a.call('monitor_cond', [db, 'm2', {Logical_Switch: [{columns: ['name', 'other_config', 'ports', 'external_ids']}], Logical_Switch_Port: [{columns: ['name', 'addresses', 'tag_request', 'enabled'], where: [['name', '!=', 'hidden']]}]}])
  await a.call('monitor', [db, 'm1', {Logical_Switch: {columns: ['name', 'other_config', 'ports']}}])
  await a.call('monitor_cond_since', [db, 'm3', {Logical_Switch: [{columns: ['name']}]}, '00000000-0000-0000-0000-000000000000'])
  await txn(
    {op: 'insert', table: 'Logical_Switch', 'uuid-name': 'sw', row: {name: 'sw0', other_config: ['map', [['a', '1'], ['b', '2']]], ports: ['set', [['named-uuid', 'p1'], ['named-uuid', 'p2']]]}},
    {op: 'insert', table: 'Logical_Switch_Port', 'uuid-name': 'p1', row: {name: 'p1', addresses: ['set', ['00:00:00:00:00:01 10.0.0.1']]}},
    {op: 'insert', table: 'Logical_Switch_Port', 'uuid-name': 'p2', row: {name: 'hidden'}},
  )
  await txn({op: 'update', table: 'Logical_Switch', where: [['name', '==', 'sw0']], row: {other_config: ['map', [['a', '9'], ['c', '3']]]}})
  await txn({op: 'mutate', table: 'Logical_Switch_Port', where: [['name', '==', 'p1']], mutations: [['addresses', 'insert', ['set', ['00:00:00:00:00:02']]], ['tag_request', 'insert', ['set', [7]]]]})
  // Optional values (min 0, max 1): their update2 diff is the new value, not the symmetric difference that
  // ovsdb-idl would reject (it made the real ovn-controller set Port_Binding "up" in a loop).
  await txn({op: 'update', table: 'Logical_Switch_Port', where: [['name', '==', 'p1']], row: {tag_request: 8, enabled: false}})
  await txn({op: 'update', table: 'Logical_Switch_Port', where: [['name', '==', 'p1']], row: {tag_request: ['set', []], enabled: true}})
  await txn({op: 'update', table: 'Logical_Switch_Port', where: [['name', '==', 'hidden']], row: {name: 'visible'}})
  await txn({op: 'update', table: 'Logical_Switch', where: [], row: {external_ids: ['map', [['x', 'y']]]}})
  await a.call('monitor_cond_change', ['m2', 'm2b', {Logical_Switch_Port: [{where: [['name', '==', 'p1']]}]}])
  await txn({op: 'mutate', table: 'Logical_Switch', where: [], mutations: [['ports', 'delete', ['set', [['uuid', [...b.names.entries()].find(([, n]) => n === 'row1')![0]]]]]]})
  await txn({op: 'delete', table: 'Logical_Switch', where: []})
  // Errors the methods answer with.
  await a.call('monitor_cond', [db, 'm2b', {Logical_Switch: [{}]}])
  await a.call('monitor_cancel', ['never'])
  await a.call('get_schema', ['Nope'])
  await a.call('frobnicate', [])
  await a.call('lock', ['L'])
  await a.call('lock', ['L'])
  await a.call('unlock', ['M'])
  await a.call('monitor_cancel', ['m1'])
  await a.call('monitor_cancel', ['m1'])
  a.conn.close()
  b.conn.close()
  // update3 carries the transaction id: ovsdb-server keeps none for standalone databases (zero UUID), db-serve
  // keeps history for them too, so only its presence is compared.
  return JSON.parse(JSON.stringify(a.normalized()).replaceAll('"00000000-0000-0000-0000-000000000000"', '"<uuid>"'))
}

describe('db-serve answers a session exactly as the real ovsdb-server does', function () {
  this.timeout(60000)
  let tmp: ReturnType<typeof tempDir>
  const servers: ServerProcess[] = []

  before(() => {
    requireBuild()
    tmp = tempDir()
  })
  after(async () => {
    for (const s of servers) await s.stop()
    tmp?.cleanup()
  })

  it('gives the same replies, errors and update/update2/update3 notifications', async () => {
    const realDb = path.join(tmp.dir, 'real.db')
    const oursDb = path.join(tmp.dir, 'ours.db')
    await ok('ovsdb-tool', ['create', realDb, nbSchema])
    await ok('ovsdb-tool', ['create', oursDb, nbSchema])
    const real = await startOvsdbServer(tmp.dir, [realDb])
    servers.push(real)
    const ours = await startDbServe(tmp.dir, [oursDb])
    servers.push(ours)
    const expected = (await session(real.sock)) as unknown[]
    const actual = (await session(ours.sock)) as unknown[]
    for (let i = 0; i < Math.max(expected.length, actual.length); i++) {
      assert.deepEqual(actual[i], expected[i], `step ${i} differs:\n  db-serve: ${JSON.stringify(actual[i])}\n  ovsdb-server: ${JSON.stringify(expected[i])}`)
    }
  })
})

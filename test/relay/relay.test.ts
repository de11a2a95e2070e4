/**
 * A relay (db-serve relay:DB:REMOTES) in process, in front of an in-process db-serve: what relay clients see
 * (ovsdb(7) "Relay Service Model"), how it resumes, and how it fails when its source is gone.
 */
import assert from 'node:assert/strict'
import path from 'node:path'
import {connect, JsonRpcConnection, listen, parseRemote} from '../../src/core/jsonrpc/index.js'
import {defaultRelayLimits, RelayDb} from '../../src/core/server/relay.js'
import {defaultSourceLimits} from '../../src/core/server/relay-source.js'
import {OvsdbServer} from '../../src/core/server/server.js'
import {Harness, TestClient, testSchemaJSON} from '../server/harness.js'

const zero = '00000000-0000-0000-0000-000000000000'

/** A relay server in process, on its own socket next to the source's. */
class Relay {
  readonly server = new OvsdbServer()
  readonly relay: RelayDb
  readonly clients: TestClient[] = []
  constructor(
    readonly sock: string,
    source: string,
    limits: Partial<typeof defaultRelayLimits> = {},
    sourceLimits: Partial<typeof defaultSourceLimits> = {},
  ) {
    this.relay = new RelayDb(this.server, 'Test', source, {
      limits: {...defaultRelayLimits, ...limits},
      sourceLimits: {...defaultSourceLimits, reconnectMsMax: 200, ...sourceLimits},
    })
  }

  async start(): Promise<this> {
    await this.server.remotes.configure([`punix:${this.sock}`])
    await this.relay.start()
    await until('the relay to replicate', () => this.relay.link.state === 'replicating')
    return this
  }

  async client(): Promise<TestClient> {
    const c = new TestClient(await connect(`unix:${this.sock}`, {timeoutMs: 2000}))
    this.clients.push(c)
    return c
  }

  async stop(): Promise<void> {
    for (const c of this.clients) c.close()
    await this.relay.stop()
    await this.server.close()
  }
}

async function until(what: string, check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 10))
  }
}

function insert(name: string): unknown[] {
  return ['Test', {op: 'insert', table: 'Switch', row: {name}}]
}

describe('relay in front of db-serve (in process)', () => {
  let source: Harness
  let relay: Relay

  beforeEach(async () => {
    source = await new Harness().start()
    relay = await new Relay(path.join(source.dir, 'relay.sock'), `unix:${source.sock}`).start()
  })
  afterEach(async () => {
    await relay.stop()
    await source.stop()
  })

  it('reports the database in _Server with model "relay", connected, not leader, with the source schema', async () => {
    const c = await relay.client()
    const dump = (await c.call('transact', ['_Server', {op: 'select', table: 'Database', where: [['name', '==', 'Test']], columns: ['model', 'connected', 'leader']}])) as {rows: unknown[]}[]
    assert.deepEqual(dump[0].rows, [{model: 'relay', connected: true, leader: false}])
    assert.deepEqual(await c.call('get_schema', ['Test']), await (await source.client()).call('get_schema', ['Test']))
  })

  it('forwards a write to the source and answers only after the client got its own update from the relay', async () => {
    const c = await relay.client()
    await c.call('monitor_cond_since', ['Test', 'm', {Switch: [{columns: ['name']}]}, zero])
    const result = (await c.call('transact', insert('via-relay'))) as {uuid: [string, string]}[]
    const uuid = result[0].uuid[1]
    const replyAt = c.seen.findIndex((s) => s.kind === 'reply' && s.id > 0)
    const updateAt = c.seen.findIndex((s) => s.kind === 'notification' && s.method === 'update3' && JSON.stringify(s.params).includes(uuid))
    assert.ok(updateAt >= 0 && updateAt < replyAt, `update3 of ${uuid} at ${updateAt}, reply at ${replyAt}: ${JSON.stringify(c.seen)}`)
    const atSource = (await (await source.client()).call('transact', ['Test', {op: 'select', table: 'Switch', where: [], columns: ['name']}])) as {rows: unknown[]}[]
    assert.deepEqual(atSource[0].rows, [{name: 'via-relay'}])
  })

  it('answers at once a write whose inserted row never reaches the replica (a non-root row collected at commit)', async () => {
    const c = await relay.client()
    const start = Date.now()
    const results = (await c.call('transact', ['Test', {op: 'insert', table: 'Port', row: {name: 'orphan'}}])) as {uuid?: unknown}[]
    assert.ok(results[0].uuid, JSON.stringify(results))
    assert.ok(Date.now() - start < 1000, `answered after ${Date.now() - start} ms`)
    const ports = (await (await source.client()).call('transact', ['Test', {op: 'select', table: 'Port', where: [], columns: ['name']}])) as {rows: unknown[]}[]
    assert.deepEqual(ports[0].rows, [], 'the source kept the unreferenced Port: the test proves nothing')
  })

  it('serves monitor, monitor_cond with a condition and monitor_cond_change from its replica', async () => {
    const s = await source.client()
    await s.call('transact', insert('a'))
    const c = await relay.client()
    const v1 = (await c.call('monitor', ['Test', 'v1', {Switch: {columns: ['name']}}])) as {Switch: Record<string, unknown>}
    assert.deepEqual(Object.values(v1.Switch), [{new: {name: 'a'}}])
    const cond = (await c.call('monitor_cond', ['Test', 'v2', {Switch: [{columns: ['name'], where: [['name', '==', 'b']]}]}])) as object
    assert.deepEqual(cond, {})
    await s.call('transact', insert('b'))
    await until('update2 of "b"', () => c.notifications('update2').length === 1)
    assert.match(JSON.stringify(c.notifications('update2')[0]), /"insert":\{"name":"b"\}/)
    await c.call('monitor_cond_change', ['v2', 'v2', {Switch: [{where: [['name', '==', 'a']]}]}])
    await until('the condition change', () => c.notifications('update2').length === 2)
    const change = JSON.stringify(c.notifications('update2')[1])
    assert.ok(change.includes('"delete":null') && change.includes('"insert":{"name":"a"}'), change)
    await until('update of "b" for the v1 monitor', () => c.notifications('update').length === 1)
  })

  it('tells its clients a burst of source commits as one update3 carrying the last id, and keeps every id in its history', async () => {
    const c = await relay.client()
    await c.call('monitor_cond_since', ['Test', 'm', {Switch: [{columns: ['name']}]}, zero])
    const s = await source.client()
    const [, first] = (await s.call('monitor_cond_since', ['Test', 's', {Switch: [{columns: ['name']}]}, zero])) as [boolean, string]
    const burst = 50
    await Promise.all(Array.from({length: burst}, (_, i) => s.call('transact', insert(`burst-${i}`))))
    const ids = (s.notifications('update3') as [string, string][]).map((n) => n[1])
    await until('the relay to hold the whole burst', () => relay.relay.hosted!.lastTxnId === ids.at(-1))
    await until('the client to hear of it', () => JSON.stringify(c.notifications('update3')).includes(`"burst-${burst - 1}"`))
    const heard = c.notifications('update3') as [string, string, {Switch: object}][]
    assert.ok(heard.length < burst, `the relay sent ${heard.length} notifications for ${burst} commits`)
    assert.equal(heard.at(-1)![1], ids.at(-1))
    assert.equal(heard.reduce((n, u) => n + Object.keys(u[2].Switch).length, 0), burst)
    // A client that saw any id of the burst resumes from it on the relay.
    const again = await relay.client()
    const [found, last, since] = (await again.call('monitor_cond_since', ['Test', 'm', {Switch: [{columns: ['name']}]}, ids[burst - 3]])) as [boolean, string, {Switch: object}]
    assert.deepEqual([found, last, Object.keys(since.Switch).length], [true, ids.at(-1), 2])
    assert.notEqual(first, ids.at(-1))
  })

  it('keeps the source transaction ids, so a client resumes on the relay with only later changes', async () => {
    const s = await source.client()
    await s.call('transact', insert('one'))
    const [, sourceLast] = (await s.call('monitor_cond_since', ['Test', 's', {Switch: [{columns: ['name']}]}, zero])) as [boolean, string]
    const c = await relay.client()
    await until('the relay to hold "one"', () => relay.relay.hosted!.lastTxnId === sourceLast)
    const [found, relayLast] = (await c.call('monitor_cond_since', ['Test', 'm', {Switch: [{columns: ['name']}]}, sourceLast])) as [boolean, string, object]
    assert.equal(found, true, 'the relay did not know the source transaction id')
    assert.equal(relayLast, sourceLast)
  })

  it('resumes from its last transaction id after its connection drops and tells its clients only what changed', async () => {
    const c = await relay.client()
    await c.call('transact', insert('before'))
    await c.call('monitor_cond_since', ['Test', 'm', {Switch: [{columns: ['name']}]}, zero])
    const sessions = [...source.server.sessions]
    const s = await source.client()
    for (const session of sessions) session.conn.close('test drops the relay')
    await until('the relay to notice', () => relay.relay.link.state !== 'replicating')
    await s.call('transact', insert('meanwhile'))
    await until('the relay to replicate again', () => relay.relay.link.state === 'replicating' && relay.relay.link.counters.connects === 2)
    assert.equal(relay.relay.link.counters.resumes, 1, `counters: ${JSON.stringify(relay.relay.link.counters)}`)
    assert.equal(relay.relay.link.counters.fullSyncs, 1)
    await until('the client to hear of "meanwhile"', () => c.notifications('update3').length === 1)
    const [, , updates] = c.notifications('update3')[0] as [string, string, {Switch: Record<string, {insert?: {name: string}}>}]
    assert.deepEqual(Object.values(updates.Switch), [{insert: {name: 'meanwhile'}}])
  })

  it('grants locks to its own clients and refuses an assertion of a lock the client does not hold', async () => {
    const holder = await relay.client()
    const other = await relay.client()
    assert.deepEqual(await holder.call('lock', ['L']), {locked: true})
    const ok = (await holder.call('transact', ['Test', {op: 'assert', lock: 'L'}, {op: 'insert', table: 'Switch', row: {name: 'locked'}}])) as object[]
    assert.deepEqual(ok[0], {})
    assert.ok('uuid' in ok[1], `insert under the lock: ${JSON.stringify(ok)}`)
    const refused = (await other.call('transact', ['Test', {op: 'assert', lock: 'L'}, {op: 'insert', table: 'Switch', row: {name: 'no'}}])) as {error?: string}[]
    assert.equal(refused[0].error, 'not owner', JSON.stringify(refused))
  })

  it('follows a schema conversion of its source: change-aware clients get monitor_canceled, then the new schema', async () => {
    const c = await relay.client()
    await c.call('set_db_change_aware', [true])
    await c.call('monitor_cond', ['Test', 'm', {Switch: [{columns: ['name']}]}])
    const schema = structuredClone(testSchemaJSON) as typeof testSchemaJSON & {tables: {Switch: {columns: Record<string, unknown>}}}
    schema.version = '1.1.0'
    schema.tables.Switch.columns.colour = {type: 'string'}
    await (await source.client()).call('convert', ['Test', schema])
    await until('monitor_canceled', () => c.notifications('monitor_canceled').length === 1)
    await until('the relay to serve version 1.1.0', () => relay.relay.hosted?.schema.version === '1.1.0' && relay.relay.link.state === 'replicating')
    const got = (await c.call('get_schema', ['Test'])) as {tables: {Switch: {columns: object}}}
    assert.ok('colour' in got.tables.Switch.columns)
    const ins = (await c.call('transact', ['Test', {op: 'insert', table: 'Switch', row: {name: 'new', colour: 'red'}}])) as object[]
    assert.ok('uuid' in ins[0], JSON.stringify(ins))
  })
})

describe('relay whose source is gone (in process)', () => {
  it('fails a write with "not connected" naming the source once forwardTimeoutMs passed, and never hangs', async () => {
    const source = await new Harness().start()
    const relay = await new Relay(path.join(source.dir, 'relay.sock'), `unix:${source.sock}`, {forwardTimeoutMs: 400}).start()
    try {
      const c = await relay.client()
      await source.stop()
      await until('the relay to lose its source', () => relay.relay.link.state !== 'replicating')
      const start = Date.now()
      const results = (await c.call('transact', insert('lost'))) as {error?: string; details?: string}[]
      const tookMs = Date.now() - start
      assert.equal(results[0].error, 'not connected', JSON.stringify(results))
      assert.match(String(results[0].details), /within 400 ms \(forwardTimeoutMs\)/)
      assert.match(String(results[0].details), /relay\.sock|ovnctl-server-/)
      assert.ok(tookMs >= 350 && tookMs < 5000, `answered after ${tookMs} ms`)
      // Reads still work from the replica.
      const read = (await c.call('transact', ['Test', {op: 'select', table: 'Switch', where: [], columns: ['name']}])) as {rows: unknown[]}[]
      assert.deepEqual(read[0].rows, [])
      const st = relay.relay.status(Date.now())
      assert.notEqual(st.state, 'replicating')
      assert.match(String(st.lastError), /no such socket file|connection refused|lost/)
    } finally {
      await relay.stop()
    }
  })
})

describe('relay whose source stops answering (in process)', () => {
  it('shows the lag growing, then drops the source after sourceTimeoutMs and says why', async () => {
    const dir = await new Harness().start()
    const sock = path.join(dir.dir, 'hung.sock')
    // A source that serves the database, then never answers again (a hung or overloaded server).
    const hung = await listen(parseRemote(`punix:${sock}`), (socket) => {
      const conn = new JsonRpcConnection(socket, 'hung', {probeIntervalMs: 0})
      conn.setHandler({
        onRequest: (method, _params, id) => {
          if (method === 'list_dbs') conn.respond(id, ['Test'])
          else if (method === 'get_schema') conn.respond(id, testSchemaJSON)
          else if (method === 'monitor_cond_since') conn.respond(id, [false, zero, {}])
        },
      })
    })
    const relay = await new Relay(path.join(dir.dir, 'relay.sock'), `unix:${sock}`, {}, {probeIntervalMs: 50, sourceTimeoutMs: 400}).start()
    try {
      await until('a lag of 200 ms', () => (relay.relay.status(Date.now()).lagMs ?? 0) >= 200)
      await until('the link to drop', () => /no answer to a probe within 400 ms \(sourceTimeoutMs\)/.test(String(relay.relay.link.lastError)))
    } finally {
      await relay.stop()
      await hung.close()
      await dir.stop()
    }
  })
})

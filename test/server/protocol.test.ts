import assert from 'node:assert/strict'
import {Harness, type TestClient} from './harness.js'

describe('db-serve protocol (RFC 7047 and ovsdb-server(7) methods)', () => {
  let h: Harness
  let c: TestClient

  beforeEach(async () => {
    h = await new Harness().start()
    c = await h.client()
  })
  afterEach(() => h.stop())

  async function insertSwitch(client: TestClient, name: string, extra: object = {}): Promise<string> {
    const result = (await client.call('transact', ['Test', {op: 'insert', table: 'Switch', row: {name, ...extra}}])) as {uuid: [string, string]}[]
    assert.ok(result[0]?.uuid, `insert of "${name}" failed: ${JSON.stringify(result)}`)
    return result[0].uuid[1]
  }

  it('lists the hosted databases with _Server last', async () => {
    assert.deepEqual(await c.call('list_dbs', []), ['Test', '_Server'])
  })

  it('returns the schema it serves and refuses an unknown database with "unknown database"', async () => {
    const schema = (await c.call('get_schema', ['Test'])) as {name: string; tables: object}
    assert.equal(schema.name, 'Test')
    assert.deepEqual(Object.keys(schema.tables).sort(), ['Port', 'Switch'])
    const bad = await c.try('get_schema', ['Nope'])
    assert.deepEqual(bad.error, {syntax: '["Nope"]', details: 'get_schema request specifies unknown database Nope', error: 'unknown database'})
  })

  it('answers an unknown method with the bare string "unknown method" and stays usable', async () => {
    assert.deepEqual((await c.try('frobnicate', [])).error, 'unknown method')
    assert.deepEqual(await c.call('echo', ['x', 1]), ['x', 1])
  })

  it('gives each server process one id', async () => {
    const id = await c.call('get_server_id', [])
    assert.match(String(id), /^[0-9a-f-]{36}$/)
    assert.equal(await (await h.client()).call('get_server_id', []), id)
  })

  it('delivers a client\'s own monitor update before the reply to its transaction', async () => {
    await c.call('monitor_cond', ['Test', 'm', {Switch: [{columns: ['name']}]}])
    c.seen.length = 0
    await insertSwitch(c, 'sw0')
    assert.equal(c.seen[0]?.kind, 'notification', `expected the update2 first, saw ${JSON.stringify(c.seen)}`)
    assert.equal(c.seen[1]?.kind, 'reply')
  })

  it('sends update (v1) with old values of changed columns only, and update2 diffs of sets and maps', async () => {
    const uuid = await insertSwitch(c, 'sw0', {other_config: ['map', [['a', 'b']]], tags: ['set', [1, 2]]})
    const v1 = await h.client()
    const v2 = await h.client()
    await v1.call('monitor', ['Test', 'a', {Switch: {columns: ['name', 'other_config', 'tags']}}])
    await v2.call('monitor_cond', ['Test', 'b', {Switch: [{columns: ['name', 'other_config', 'tags']}]}])
    await c.call('transact', ['Test', {op: 'update', table: 'Switch', where: [['name', '==', 'sw0']], row: {other_config: ['map', [['a', 'c'], ['x', 'y']]], tags: ['set', [2, 3]]}}])
    await v2.call('echo', [])
    await v1.call('echo', [])
    assert.deepEqual(v1.notifications('update'), [
      ['a', {Switch: {[uuid]: {old: {other_config: ['map', [['a', 'b']]], tags: ['set', [1, 2]]}, new: {name: 'sw0', other_config: ['map', [['a', 'c'], ['x', 'y']]], tags: ['set', [2, 3]]}}}}],
    ])
    assert.deepEqual(v2.notifications('update2'), [
      ['b', {Switch: {[uuid]: {modify: {other_config: ['map', [['a', 'c'], ['x', 'y']]], tags: ['set', [1, 3]]}}}}],
    ])
  })

  it('omits default values from update2 initial rows and includes _version when no columns are named', async () => {
    const uuid = await insertSwitch(c, 'sw0')
    const initial = (await c.call('monitor_cond', ['Test', 'm', {Switch: [{}]}])) as Record<string, Record<string, {initial: Record<string, unknown>}>>
    const row = initial.Switch[uuid].initial
    assert.deepEqual(Object.keys(row).sort(), ['_version', 'name'])
  })

  it('moves rows in and out of a conditional monitor when its condition changes', async () => {
    const a = await insertSwitch(c, 'a')
    const b = await insertSwitch(c, 'b')
    const m = await h.client()
    const initial = await m.call('monitor_cond', ['Test', 'm1', {Switch: [{columns: ['name'], where: [['name', '==', 'a']]}]}])
    assert.deepEqual(initial, {Switch: {[a]: {initial: {name: 'a'}}}})
    assert.deepEqual(await m.call('monitor_cond_change', ['m1', 'm2', {Switch: [{where: [['name', '==', 'b']]}]}]), {})
    assert.deepEqual(m.notifications('update2'), [['m2', {Switch: {[a]: {delete: null}, [b]: {insert: {name: 'b'}}}}]])
    await c.call('transact', ['Test', {op: 'update', table: 'Switch', where: [['name', '==', 'a']], row: {kind: 'a'}}])
    await c.call('transact', ['Test', {op: 'update', table: 'Switch', where: [['name', '==', 'b']], row: {kind: 'b'}}])
    await m.call('echo', [])
    // Only "kind" changed, which this monitor does not watch: no update at all.
    assert.deepEqual(m.notifications('update2').slice(1), [])
  })

  it('resumes a monitor_cond_since from its last transaction id with only the later changes', async () => {
    const m = await h.client()
    const [found0, , initial] = (await m.call('monitor_cond_since', ['Test', 'm', {Switch: [{columns: ['name']}]}, '00000000-0000-0000-0000-000000000000'])) as [boolean, string, object]
    assert.equal(found0, false)
    assert.deepEqual(initial, {})
    await insertSwitch(c, 'one')
    await m.call('echo', [])
    const [, lastId] = m.notifications('update3')[0] as [string, string, object]
    m.close()
    const two = await insertSwitch(c, 'two')
    const again = await h.client()
    const [found, newLast, updates] = (await again.call('monitor_cond_since', ['Test', 'm', {Switch: [{columns: ['name']}]}, lastId])) as [boolean, string, object]
    assert.equal(found, true)
    assert.notEqual(newLast, lastId)
    assert.deepEqual(updates, {Switch: {[two]: {insert: {name: 'two'}}}})
  })

  it('blocks a "wait" until the database satisfies it', async () => {
    const waiter = await h.client()
    const pending = waiter.call('transact', ['Test', {op: 'wait', table: 'Switch', where: [['name', '==', 'late']], columns: ['name'], until: '==', rows: [{name: 'late'}], timeout: 5000}])
    let done = false
    pending.then(() => (done = true))
    await c.call('echo', [])
    assert.equal(done, false, 'the wait completed before the row existed')
    await insertSwitch(c, 'late')
    assert.deepEqual(await pending, [{}])
  })

  it('answers "timed out" when a wait is not satisfied within its timeout', async () => {
    const result = await c.call('transact', ['Test', {op: 'wait', table: 'Switch', where: [], columns: ['name'], until: '==', rows: [{name: 'never'}], timeout: 50}])
    assert.deepEqual(result, [{details: '"wait" timed out after 50 ms', error: 'timed out'}])
  })

  it('hands a lock to the next waiter when its owner unlocks, and tells a robbed owner "stolen"', async () => {
    const other = await h.client()
    assert.deepEqual(await c.call('lock', ['L']), {locked: true})
    assert.deepEqual(await other.call('lock', ['L']), {locked: false})
    assert.deepEqual(await c.call('unlock', ['L']), {})
    await other.call('echo', [])
    assert.deepEqual(other.notifications('locked'), [['L']])
    assert.deepEqual(await c.call('steal', ['L']), {locked: true})
    await other.call('echo', [])
    assert.deepEqual(other.notifications('stolen'), [['L']])
    const denied = await other.call('transact', ['Test', {op: 'assert', lock: 'L'}])
    assert.equal((denied as {error: string}[])[0].error, 'not owner')
  })

  it('refuses writes to _Server with "not allowed" and reports the database there', async () => {
    const rows = (await c.call('transact', ['_Server', {op: 'select', table: 'Database', where: [['name', '==', 'Test']], columns: ['name', 'model', 'connected', 'leader']}])) as {rows: object[]}[]
    assert.deepEqual(rows[0].rows, [{name: 'Test', model: 'standalone', connected: true, leader: true}])
    const denied = (await c.call('transact', ['_Server', {op: 'delete', table: 'Database', where: []}])) as {error: string}[]
    assert.equal(denied[0].error, 'not allowed')
  })

  it('keeps the connection usable after a message with bad params', async () => {
    c.conn.send('{"id":"x","method":"list_dbs","params":{}}')
    assert.deepEqual(await c.call('list_dbs', []), ['Test', '_Server'])
  })

  it('cancels a blocked transaction on "cancel" with the error "canceled"', async () => {
    const pending = c.try('transact', ['Test', {op: 'wait', table: 'Switch', where: [], columns: ['name'], until: '==', rows: [{name: 'never'}], timeout: 60000}])
    await new Promise((r) => setTimeout(r, 20))
    c.conn.notify('cancel', [0])
    assert.deepEqual((await pending).error, 'canceled')
  })
})

describe('schema conversion and monitors (ovsdb-server(7) §4.1.7, §4.1.19)', () => {
  let h: Harness
  beforeEach(async () => {
    h = await new Harness().start()
  })
  afterEach(() => h.stop())

  it('tells a change-aware client "monitor_canceled" and disconnects one that is not', async () => {
    const aware = await h.client()
    const plain = await h.client()
    await aware.call('set_db_change_aware', [true])
    await aware.call('monitor_cond', ['Test', 'a', {Switch: [{columns: ['name']}]}])
    await plain.call('monitor_cond', ['Test', 'p', {Switch: [{columns: ['name']}]}])
    const admin = await h.client()
    const schema = (await admin.call('get_schema', ['Test'])) as {version: string; tables: Record<string, {columns: object}>}
    schema.version = '1.1.0'
    ;(schema.tables.Switch.columns as Record<string, unknown>).added = {type: {key: 'string', min: 0, max: 1}}
    assert.deepEqual(await admin.call('convert', ['Test', schema]), {})
    await aware.call('echo', [])
    assert.deepEqual(aware.notifications('monitor_canceled'), [['a']])
    await new Promise((r) => setTimeout(r, 50))
    assert.equal(plain.conn.closed, true, 'a client that is not change-aware must be disconnected')
    const version = ((await admin.call('get_schema', ['Test'])) as {version: string}).version
    assert.equal(version, '1.1.0')
  })
})

describe('per-session bookkeeping', () => {
  it('forgets every answered transaction (no growth with the number of requests)', async () => {
    const h = await new Harness().start()
    try {
      const c = await h.client()
      for (let i = 0; i < 50; i++) await c.call('transact', ['Test', {op: 'insert', table: 'Switch', row: {name: `n${i}`}}])
      const session = [...h.server.sessions][0]
      assert.equal(session.pendingTransactions, 0)
    } finally {
      await h.stop()
    }
  })
})

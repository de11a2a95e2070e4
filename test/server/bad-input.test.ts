import assert from 'node:assert/strict'
import net from 'node:net'
import {Harness} from './harness.js'

/** Sends raw bytes on a fresh connection and collects what comes back until the server closes or `ms` pass. */
function raw(sock: string, bytes: string, ms = 300): Promise<{text: string; closed: boolean}> {
  return new Promise((resolve) => {
    const s = net.connect(sock)
    let text = ''
    let closed = false
    s.on('data', (d) => (text += d))
    s.on('close', () => (closed = true))
    s.on('error', () => {})
    s.write(bytes)
    setTimeout(() => {
      s.destroy()
      resolve({text, closed})
    }, ms)
  })
}

function replies(text: string): Record<string, unknown>[] {
  return text.split(/(?<=\})(?=\{"id")/).filter(Boolean).map((t) => JSON.parse(t))
}

describe('db-serve under bad input', () => {
  let h: Harness
  beforeEach(async () => {
    h = await new Harness({limits: {messageBytesMax: 4096, depthMax: 32}}).start()
  })
  afterEach(() => h.stop())

  async function stillServes(): Promise<void> {
    const c = await h.client()
    assert.deepEqual(await c.call('list_dbs', []), ['Test', '_Server'])
    const r = (await c.call('transact', ['Test', {op: 'insert', table: 'Switch', row: {name: `ok${Date.now()}${Math.random()}`}}])) as object[]
    assert.ok('uuid' in r[0], `the server no longer commits: ${JSON.stringify(r)}`)
  }

  it('answers invalid JSON inside a message with a syntax error and keeps the connection', async () => {
    const {text, closed} = await raw(h.sock, '{"id":1,"method":"list_dbs","params":[1,]}{"id":2,"method":"list_dbs","params":[]}')
    const got = replies(text)
    assert.equal((got[0].error as {error: string}).error, 'syntax error')
    assert.deepEqual(got[1], {id: 2, result: ['Test', '_Server'], error: null})
    assert.equal(closed, false)
  })

  it('closes a connection whose stream cannot be framed, after saying why', async () => {
    for (const bytes of ['42 {"id":1,"method":"list_dbs","params":[]}', '{"id":1,"method":"list_dbs","params":[}']) {
      const {text, closed} = await raw(h.sock, bytes)
      assert.match(text, /syntax error/, `no error for ${bytes}`)
      assert.equal(closed, true, `still open after ${bytes}`)
    }
    await stillServes()
  })

  for (const [what, message] of [
    ['params that are not an array', '{"id":1,"method":"list_dbs","params":{}}'],
    ['a message that is not an object', '[1,2,3]'],
    ['a request without a method or a result', '{"id":1,"foo":2}'],
  ]) {
    it(`answers ${what} with an error and keeps serving the connection`, async () => {
      const {text, closed} = await raw(h.sock, message + '{"id":9,"method":"echo","params":["still"]}')
      const got = replies(text)
      assert.equal((got[0].error as {error: string}).error, 'syntax error', `reply to ${message}: ${text}`)
      assert.deepEqual(got[1], {id: 9, result: ['still'], error: null})
      assert.equal(closed, false)
    })
  }

  it('answers wrong parameter types in every method with an error, never a crash', async () => {
    const c = await h.client()
    const cases: [string, unknown[]][] = [
      ['get_schema', [5]], ['get_schema', []], ['transact', [5]], ['transact', ['Test', 5]], ['transact', ['Test', {op: 'frob'}]],
      ['transact', ['Test', {op: 'insert', table: 'Nope', row: {}}]], ['monitor', ['Test', 'm', 5]],
      ['monitor_cond', ['Test', 'm', {Switch: {}}]], ['monitor_cond', ['Test', 'm', {Switch: [{where: 5}]}]],
      ['monitor_cond', ['Test', 'm', {Switch: [{where: [['name', '~', 'x']]}]}]], ['monitor_cond_since', ['Test', 'm', {Switch: [{}]}, 5]],
      ['monitor_cond_change', ['nope', 'x', {}]], ['monitor_cancel', [{}]], ['lock', [5]], ['lock', []], ['steal', ['bad name']],
      ['unlock', ['never-locked']], ['convert', ['Test', {name: 'Test'}]], ['convert', ['Nope', {}]],
    ]
    for (const [method, params] of cases) {
      const r = await c.try(method, params)
      const failed = r.error !== undefined || (Array.isArray(r.result) && r.result.some((x) => x && typeof x === 'object' && 'error' in x))
      assert.ok(failed, `${method} ${JSON.stringify(params)} should fail, got ${JSON.stringify(r)}`)
    }
    await stillServes()
  })

  it('names the database in "unknown database" for every method that takes one', async () => {
    const c = await h.client()
    for (const [method, params] of [['get_schema', ['Nope']], ['transact', ['Nope']], ['monitor', ['Nope', 'a', {}]], ['monitor_cond', ['Nope', 'b', {}]], ['monitor_cond_since', ['Nope', 'c', {}, '']]] as const) {
      const r = await c.try(method, [...params])
      assert.equal((r.error as {error: string}).error, 'unknown database', `${method}: ${JSON.stringify(r)}`)
      assert.match((r.error as {details: string}).details, /Nope/)
    }
  })

  it('disconnects a client whose message exceeds messageBytesMax and keeps every other client', async () => {
    const other = await h.client()
    const {closed} = await raw(h.sock, `{"id":1,"method":"echo","params":["${'x'.repeat(8000)}"]}`)
    assert.equal(closed, true)
    assert.deepEqual(await other.call('echo', ['fine']), ['fine'])
    await stillServes()
  })

  it('disconnects a client nesting deeper than depthMax', async () => {
    const {closed} = await raw(h.sock, '{"id":1,"method":"echo","params":' + '['.repeat(40) + ']'.repeat(40) + '}')
    assert.equal(closed, true)
    await stillServes()
  })

  it('loses nothing committed when a client sends garbage mid-stream', async () => {
    const c = await h.client()
    await c.call('transact', ['Test', {op: 'insert', table: 'Switch', row: {name: 'kept'}}])
    await raw(h.sock, '\u0000\u0001garbage')
    const rows = (await c.call('transact', ['Test', {op: 'select', table: 'Switch', where: [['name', '==', 'kept']], columns: ['name']}])) as {rows: object[]}[]
    assert.deepEqual(rows[0].rows, [{name: 'kept'}])
  })
})

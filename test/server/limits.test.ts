import assert from 'node:assert/strict'
import {connect} from '../../src/core/jsonrpc/index.js'
import {Harness} from './harness.js'

/** A transaction that blocks: "wait" until a row that will never exist appears, for up to 30 s. */
const blockedTxn = ['Test', {op: 'wait', table: 'Switch', where: [], columns: ['name'], until: '==', rows: [{name: 'never'}], timeout: 30000}]

describe('per-client and per-server limits', () => {
  let h: Harness
  afterEach(() => h.stop())

  it('answers a request beyond pendingRequestsMax with "resources exhausted" and serves the others', async () => {
    h = await new Harness({limits: {pendingRequestsMax: 4}}).start()
    const greedy = await h.client()
    const waits = Array.from({length: 4}, () => greedy.try('transact', blockedTxn))
    await new Promise((r) => setTimeout(r, 100))
    const over = await greedy.try('transact', blockedTxn)
    assert.equal((over.error as {error: string}).error, 'resources exhausted', JSON.stringify(over))
    assert.match((over.error as {details: string}).details, /pendingRequestsMax=4/)
    const other = await h.client()
    const r = (await other.call('transact', ['Test', {op: 'insert', table: 'Switch', row: {name: 'other'}}])) as object[]
    assert.ok('uuid' in r[0])
    greedy.close()
    await Promise.all(waits)
  })

  it('serves again once pending requests are answered', async () => {
    h = await new Harness({limits: {pendingRequestsMax: 2}}).start()
    const c = await h.client()
    const pending = [c.try('transact', blockedTxn), c.try('transact', blockedTxn)]
    await new Promise((r) => setTimeout(r, 100))
    assert.equal(((await c.try('echo', [1])).error as {error: string}).error, 'resources exhausted')
    // The row the waits want appears: they complete, and the client is under its limit again.
    const w = await h.client()
    await w.call('transact', ['Test', {op: 'insert', table: 'Switch', row: {name: 'never'}}])
    await Promise.all(pending)
    assert.deepEqual(await c.call('echo', [2]), [2])
  })

  it('disconnects a client beyond connectionsMax at once and keeps the connected ones', async () => {
    h = await new Harness({connectionsMax: 3}).start()
    const kept = [await h.client(), await h.client(), await h.client()]
    const extra = await connect(`unix:${h.sock}`, {timeoutMs: 2000})
    await assert.rejects(extra.request('echo', [], {timeoutMs: 2000}), /closed|reset|EPIPE/)
    for (const c of kept) assert.deepEqual(await c.call('echo', ['up']), ['up'])
    kept[0].close()
    await new Promise((r) => setTimeout(r, 100))
    const again = await h.client()
    assert.deepEqual(await again.call('echo', ['room again']), ['room again'])
  })
})

import assert from 'node:assert/strict'
import {Harness, type TestClient} from './harness.js'

/** A name long enough that a few hundred updates fill the kernel's socket buffers. */
const pad = 'x'.repeat(2000)

async function insertSwitches(c: TestClient, n: number): Promise<string[]> {
  const ops = Array.from({length: n}, (_, i) => ({op: 'insert', table: 'Switch', row: {name: `sw${i}`}}))
  const r = (await c.call('transact', ['Test', ...ops])) as {uuid: [string, string]}[]
  return r.map((x) => x.uuid[1])
}

/** Renames switch `uuid`: one commit, one row changed. */
function rename(c: TestClient, uuid: string, name: string): Promise<unknown> {
  return c.call('transact', ['Test', {op: 'update', table: 'Switch', where: [['_uuid', '==', ['uuid', uuid]]], row: {name}}])
}

/** The names a client's replica holds after applying every update2 it got on top of `initial`. */
function replicaNames(c: TestClient, initial: Record<string, {initial: {name: string}}>): Map<string, string> {
  const names = new Map(Object.entries(initial).map(([u, r]) => [u, r.initial.name]))
  for (const params of c.notifications('update2') as [unknown, {Switch?: Record<string, {modify?: {name?: string}; insert?: {name: string}; delete?: null}>}][]) {
    for (const [uuid, update] of Object.entries(params[1].Switch ?? {})) {
      if ('delete' in update) names.delete(uuid)
      else if (update.insert) names.set(uuid, update.insert.name)
      else if (update.modify?.name !== undefined) names.set(uuid, update.modify.name)
    }
  }
  return names
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)]
}

describe('bounded per-client backlog', function () {
  this.timeout(60000)
  let h: Harness
  afterEach(() => h.stop())

  it('merges the updates of a client that does not read, and sends the newest state once it reads again', async () => {
    h = await new Harness().start()
    const writer = await h.client()
    const uuids = await insertSwitches(writer, 10)
    const slow = await h.client()
    const initial = (await slow.call('monitor_cond', ['Test', 'm', {Switch: [{columns: ['name']}]}])) as {Switch: Record<string, {initial: {name: string}}>}
    slow.conn.socket.pause()
    const commits = 1500
    for (let i = 0; i < commits; i++) await rename(writer, uuids[i % uuids.length], `${pad}-${i}`)
    const stats = h.server.memoryStats()
    assert.ok(stats['backlog-commits'] > 0, `no commit was merged for the stuck client: ${JSON.stringify(stats)}`)
    assert.ok(stats['backlog-rows'] <= uuids.length, `merged rows ${stats['backlog-rows']} exceed the ${uuids.length} rows of the table`)
    assert.ok(stats['backlog-bytes'] < 4 * 1024 * 1024, `backlog of ${stats['backlog-bytes']} bytes for the stuck client`)
    slow.conn.socket.resume()
    await slow.call('echo', [])
    const expected = new Map(uuids.map((u, k) => [u, `${pad}-${commits - uuids.length + k}`]))
    assert.deepEqual(replicaNames(slow, initial.Switch), expected)
    assert.ok(slow.notifications('update2').length < commits, `got ${slow.notifications('update2').length} updates for ${commits} commits: nothing was merged`)
  })

  it('disconnects a client past backlogMessagesMax, logging why, and the client resumes with monitor_cond_since', async () => {
    const logged: string[] = []
    h = await new Harness({limits: {backlogMessagesMax: 50}, log: (_level, m) => logged.push(m)}).start()
    const writer = await h.client()
    const uuids = await insertSwitches(writer, 4)
    const stuck = await h.client()
    const [, lastTxnId] = (await stuck.call('monitor_cond_since', ['Test', 'm', {Switch: [{columns: ['name']}]}, ''])) as [boolean, string, unknown]
    stuck.conn.socket.pause()
    for (let i = 0; i < 600; i++) await rename(writer, uuids[i % uuids.length], `${pad}-${i}`)
    assert.ok(logged.some((m) => /does not read.*backlogMessagesMax=50/.test(m)), `no log line says why: ${logged.join('\n')}`)
    assert.equal(h.server.sessions.size, 1, 'the stuck client is still served')
    const back = await h.client()
    const [found, , updates] = (await back.call('monitor_cond_since', ['Test', 'm', {Switch: [{columns: ['name']}]}, lastTxnId])) as [boolean, string, {Switch: Record<string, {modify: {name: string}}>}]
    assert.equal(found, true)
    assert.deepEqual(new Map(Object.entries(updates.Switch).map(([u, r]) => [u, r.modify.name])), new Map(uuids.map((u, k) => [u, `${pad}-${596 + k}`])))
  })

  it('keeps the latency of reading clients when clients that never read monitor the same rows', async () => {
    h = await new Harness().start()
    const writer = await h.client()
    const uuids = await insertSwitches(writer, 10)
    const reader = await h.client()
    await reader.call('monitor_cond', ['Test', 'r', {Switch: [{columns: ['name']}]}])
    const round = async (n: number): Promise<number[]> => {
      const times: number[] = []
      for (let i = 0; i < n; i++) {
        const seen = reader.notifications('update2').length
        const t0 = process.hrtime.bigint()
        await rename(writer, uuids[i % uuids.length], `${pad}-${i}-${times.length}`)
        // The writer's reply follows the reader's update by the server's order only for the writer: wait for the reader's.
        for (let spins = 0; reader.notifications('update2').length === seen && spins < 1000; spins++) await new Promise((r) => setImmediate(r))
        times.push(Number(process.hrtime.bigint() - t0) / 1e6)
      }
      return times
    }
    const alone = median(await round(300))
    for (let k = 0; k < 5; k++) {
      const stuck = await h.client()
      await stuck.call('monitor_cond', ['Test', 's', {Switch: [{columns: ['name']}]}])
      stuck.conn.socket.pause()
    }
    await round(300) // fills the stuck clients' buffers: from here on their updates are merged
    const withStuck = median(await round(300))
    assert.ok(withStuck <= alone * 3 + 2, `median commit→update latency ${withStuck.toFixed(2)} ms with stuck clients, ${alone.toFixed(2)} ms without`)
    assert.ok(h.server.memoryStats()['backlog-rows'] <= 5 * uuids.length, JSON.stringify(h.server.memoryStats()))
  })
})

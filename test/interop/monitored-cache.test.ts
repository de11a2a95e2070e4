/**
 * The daemons' Southbound client (MonitoredDb, used by controller-run) with a replica cache file: a restarted
 * client, and a client whose server restarted, catch up by history or difference digests and hand their owner only
 * what changed, against a real db-serve.
 */
import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import {MonitoredDb, type TableMonitor} from '../../src/core/idl/monitor.js'
import type {ReplicaEvent} from '../../src/core/idl/replica.js'
import {connect} from '../../src/core/jsonrpc/index.js'
import {testSchemaJSON} from '../server/harness.js'
import {eventually, ok, type ServerProcess, startDbServe, useTempDir} from './lib.js'

const rows = 2000

/** An owner that keeps what it is told, as the controller's index does. */
class Owner {
  readonly names = new Map<string, string>()
  resets = 0
  events = 0
  onEvents(events: ReplicaEvent[]): void {
    this.events += events.length
    for (const e of events) {
      if (e.action === 'delete') this.names.delete(e.uuid)
      else this.names.set(e.uuid, JSON.stringify(e.row))
    }
  }
}

async function transact(server: ServerProcess, ops: unknown[]): Promise<unknown[]> {
  const conn = await connect(`unix:${server.sock}`, {timeoutMs: 5000})
  try {
    const results = (await conn.request('transact', ['Test', ...ops], {timeoutMs: 60_000})) as {error?: string}[]
    assert.ok(results.every((r) => !r?.error), JSON.stringify(results.find((r) => r?.error)))
    return results
  } finally {
    conn.close()
  }
}

/** What the server holds for the monitored condition, as the owner should. */
async function serverView(server: ServerProcess, where: unknown[]): Promise<Map<string, string>> {
  const [res] = (await transact(server, [{op: 'select', table: 'Switch', where, columns: ['_uuid', 'name', 'tags']}])) as {rows: {_uuid: [string, string]; name: string}[]}[]
  return new Map(res.rows.map((r) => [r._uuid[1], r.name]))
}

function ownerNames(owner: Owner): Map<string, string> {
  return new Map([...owner.names].map(([u, row]) => [u, (JSON.parse(row) as {name: string}).name]))
}

function client(server: ServerProcess, cacheFile: string, owner: Owner, where?: unknown[]): MonitoredDb {
  const tables = new Map<string, TableMonitor>([['Switch', {columns: ['name', 'tags'], keepRows: false, ...(where ? {where} : {})}]])
  return new MonitoredDb(`unix:${server.sock}`, 'Test', tables, {onEvents: (e) => owner.onEvents(e), onReset: () => (owner.resets++, owner.names.clear())}, {cacheFile})
}

describe('a monitored database with a replica cache file (controller-run --cache)', function () {
  this.timeout(120_000)
  const tmp = useTempDir()
  let server: ServerProcess | undefined
  afterEach(async () => server?.stop())

  async function start(name: string, extra: string[] = []): Promise<ServerProcess> {
    const db = path.join(tmp.dir, `${name}.db`)
    if (!fs.existsSync(db)) {
      const schemaFile = path.join(tmp.dir, 'test.ovsschema')
      fs.writeFileSync(schemaFile, JSON.stringify(testSchemaJSON))
      await ok('ovnctl', ['db-create', db, schemaFile])
    }
    return startDbServe(tmp.dir, [db], [`--digest-key-file=${path.join(tmp.dir, `${name}.key`)}`, ...extra], name)
  }

  it('resumes a restarted client by history, then by digests, handing the owner only the changes', async () => {
    server = await start('restart')
    await transact(server, Array.from({length: rows}, (_, i) => ({op: 'insert', table: 'Switch', row: {name: `sw${i}`, tags: ['set', [i % 7]]}})))
    const cacheFile = path.join(tmp.dir, 'sb.cache')
    const first = new Owner()
    let db = client(server, cacheFile, first)
    db.start()
    await eventually(() => first.names.size === rows, 20_000, 'the first client to hold every row')
    const full = db.lastResume!
    assert.equal(full.method, 'snapshot')
    await db.saveCache()
    db.stop()

    // Two rows change while the client is down; the server keeps its history: one round trip of history.
    await transact(server, [
      {op: 'update', table: 'Switch', where: [['name', '==', 'sw1']], row: {tags: ['set', [100]]}},
      {op: 'delete', table: 'Switch', where: [['name', '==', 'sw2']]},
      {op: 'insert', table: 'Switch', row: {name: 'new1'}},
    ])
    const second = new Owner()
    db = client(server, cacheFile, second)
    db.start()
    await eventually(() => db.lastResume !== null && second.names.size === rows, 20_000, 'the restarted client to be current')
    assert.equal(db.lastResume!.method, 'history')
    assert.equal(db.lastResume!.events.length, 3)
    assert.ok(db.lastResume!.bytesReceived < full.bytesReceived / 20, `${db.lastResume!.bytesReceived} B against ${full.bytesReceived} B`)
    assert.deepEqual(ownerNames(second), await serverView(server, []))

    // The server restarts without history: the client reconnects by itself and catches up by digests, without
    // starting its owner over.
    await server.stop()
    server = await start('restart', ['--history-txns=0'])
    await transact(server, [{op: 'insert', table: 'Switch', row: {name: 'new2'}}, {op: 'delete', table: 'Switch', where: [['name', '==', 'sw3']]}])
    const before = db.lastResume
    await eventually(() => db.lastResume !== before && db.connected, 30_000, 'the client to reconnect')
    assert.equal(db.lastResume!.method, 'digest', db.lastResume!.refused)
    assert.equal(db.lastResume!.events.length, 2)
    assert.equal(second.resets, 1, 'the owner is not started over after a reconnect')
    await eventually(async () => JSON.stringify([...ownerNames(second)].sort()) === JSON.stringify([...(await serverView(server!, []))].sort()), 5000, 'the owner to equal the server')
    await db.saveCache()
    db.stop()
  })

  it('keeps the condition it had: a restart starts from it, and a narrowed condition is saved as such', async () => {
    server = await start('condition')
    await transact(server, Array.from({length: 300}, (_, i) => ({op: 'insert', table: 'Switch', row: {name: `sw${i}`, tags: ['set', [i % 3]]}})))
    const cacheFile = path.join(tmp.dir, 'cond.cache')
    const owner = new Owner()
    let db = client(server, cacheFile, owner, [false])
    db.start()
    await eventually(() => db.connected, 20_000, 'the client to connect')
    const where = [['tags', 'includes', 1]]
    assert.equal(await db.setCondition('Switch', where), true)
    await eventually(() => owner.names.size === 100, 10_000, 'the rows of the new condition')
    await db.saveCache()
    db.stop()

    await transact(server, [{op: 'insert', table: 'Switch', row: {name: 'late', tags: ['set', [1]]}}, {op: 'insert', table: 'Switch', row: {name: 'other', tags: ['set', [2]]}}])
    const again = new Owner()
    // The owner starts with nothing to show ([false]), as controller-run does before it knows its datapaths.
    db = client(server, cacheFile, again, [false])
    db.start()
    await eventually(() => db.lastResume !== null && again.names.size === 101, 20_000, 'the restarted client to hold the condition it had')
    assert.notEqual(db.lastResume!.method, 'snapshot')
    assert.deepEqual(ownerNames(again), await serverView(server, where))
    // The owner narrows it as before: nothing changes.
    assert.equal(await db.setCondition('Switch', where), false)
    db.stop()
  })

  it('refuses a damaged cache file with a log line and fetches every row', async () => {
    server = await start('damaged')
    await transact(server, Array.from({length: 50}, (_, i) => ({op: 'insert', table: 'Switch', row: {name: `sw${i}`}})))
    const cacheFile = path.join(tmp.dir, 'bad.cache')
    fs.writeFileSync(cacheFile, 'not a cache file\n')
    const owner = new Owner()
    const logged: string[] = []
    const tables = new Map<string, TableMonitor>([['Switch', {columns: ['name', 'tags'], keepRows: false}]])
    const db = new MonitoredDb(`unix:${server.sock}`, 'Test', tables, {onEvents: (e) => owner.onEvents(e)}, {cacheFile, log: (_l, m) => logged.push(m)})
    db.start()
    await eventually(() => owner.names.size === 50, 20_000, 'every row')
    assert.equal(db.lastResume!.method, 'snapshot')
    assert.ok(logged.some((m) => m.startsWith(`Cannot use replica cache "${cacheFile}"`)), logged.join('\n'))
    db.stop()
  })
})

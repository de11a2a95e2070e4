/**
 * The life cycle of I/O threads in one process: they serve only once every replica is loaded, a thread that
 * dies is logged and the threads come back on fresh sockets (clients reconnect), and a close removes the socket.
 */
import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type {Worker} from 'node:worker_threads'
import {connect, type JsonRpcConnection} from '../../src/core/jsonrpc/index.js'
import {Database, DatabaseSchema} from '../../src/core/ovsdb/index.js'
import {HostedDb} from '../../src/core/server/hosted-db.js'
import {defaultIoThreadLimits, IoThreads} from '../../src/core/server/io-thread.js'
import {OvsdbServer} from '../../src/core/server/server.js'
import {testSchemaJSON} from './harness.js'

async function eventually(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (await check()) return
    await new Promise((r) => setTimeout(r, 50))
  }
  throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`)
}

describe('I/O threads in one process', function () {
  this.timeout(60000)
  let dir: string
  let sock: string
  let server: OvsdbServer
  let threads: IoThreads
  const logs: string[] = []
  const clients: JsonRpcConnection[] = []

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ovnctl-io-threads-'))
    sock = path.join(dir, 'db.sock')
    server = new OvsdbServer({log: (level, m) => (logs.push(`${level} ${m}`), process.env.DEBUG_IO && console.error(level, m))})
    server.addDatabase(new HostedDb('Test', new Database(DatabaseSchema.fromJSON(testSchemaJSON)), null, server.dbLimits))
    threads = new IoThreads(server, {count: 2, remotes: [`punix:${sock}`], limits: {...defaultIoThreadLimits, restartDelayMs: 50}})
    await threads.start()
  })

  after(async () => {
    for (const c of clients) c.close()
    await threads?.close()
    fs.rmSync(dir, {recursive: true, force: true})
  })

  const open = async () => {
    const c = await connect(`unix:${sock}`, {timeoutMs: 5000})
    clients.push(c)
    return c
  }

  it('refuses a thread count or remote it cannot serve, naming it', () => {
    assert.throws(() => new IoThreads(server, {count: 0, remotes: [`punix:${sock}`]}), /--io-threads must be from 0 to 64, not 0/)
    assert.throws(() => new IoThreads(server, {count: 2, remotes: ['tcp:127.0.0.1:6641']}), /"tcp:127.0.0.1:6641" is not a passive remote/)
  })

  it('serves the database as soon as its socket exists', async () => {
    const c = await open()
    assert.deepEqual(await c.request('list_dbs', []), ['Test', '_Server'])
    const r = (await c.request('transact', ['Test', {op: 'insert', table: 'Switch', row: {name: 'before'}}])) as {uuid?: unknown}[]
    assert.ok(r[0].uuid, JSON.stringify(r))
    assert.equal(server.database('Test')!.db.table('Switch').rows.size, 1, 'the write reached the database thread')
  })

  it('restarts the threads after one dies; its clients reconnect and find every commit', async () => {
    const before = await open()
    const closed = new Promise<string>((resolve) => before.onClose(resolve))
    const dead = (threads as unknown as {threads: {worker: Worker}[]}).threads[0].worker
    await dead.terminate()
    await eventually(() => logs.some((l) => /^ERR I\/O thread 0 exited/.test(l)), 5000, 'the death of thread 0 to be logged')
    assert.match(await closed, /./, 'a client of the restarted threads was disconnected')
    await eventually(() => logs.filter((l) => /I\/O threads serving/.test(l)).length === 2, 20000, `the threads to serve again; log: ${logs.join('\n')}`)
    const after = await open()
    const rows = (await after.request('transact', ['Test', {op: 'select', table: 'Switch', where: [], columns: ['name']}])) as {rows: unknown[]}[]
    assert.deepEqual(rows[0].rows, [{name: 'before'}])
    const stats = await threads.memoryStats()
    assert.equal(stats['io-threads'], 2)
    assert.ok(stats['io-thread-0-sessions'] >= 0 && stats['io-thread-1-sessions'] >= 0, JSON.stringify(stats))
  })

  it('removes its socket file when closed', async () => {
    await threads.close()
    assert.equal(fs.existsSync(sock), false)
  })
})

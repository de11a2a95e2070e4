/**
 * monitor_cond_since across a restart of db-serve: the history is rebuilt from the standalone file (each
 * transaction named by its record's SHA-1) or from the Raft log after the snapshot (each named by its eid),
 * so a client that was current before the restart resumes with only what changed.
 */
import assert from 'node:assert/strict'
import path from 'node:path'
import {connect, type JsonRpcConnection} from '../../src/core/jsonrpc/index.js'
import {eventually, nbSchema, ok, type ServerProcess, startDbServe, useTempDir} from './lib.js'

type Update3 = [unknown, string, {Logical_Switch?: Record<string, object>}]

/** A client of `sock` that keeps the update3 notifications it gets. */
async function client(sock: string): Promise<{conn: JsonRpcConnection; updates: Update3[]}> {
  const conn = await connect(`unix:${sock}`, {timeoutMs: 5000})
  const updates: Update3[] = []
  conn.setHandler({onRequest: (_m, params, id) => conn.respond(id, params), onNotification: (m, p) => m === 'update3' && updates.push(p as Update3)})
  return {conn, updates}
}

const request = {Logical_Switch: [{columns: ['name', 'other_config']}]}

async function transact(conn: JsonRpcConnection, ...ops: object[]): Promise<void> {
  const r = (await conn.request('transact', ['OVN_Northbound', ...ops])) as {error?: string}[]
  assert.ok(r.every((x) => x.error === undefined), JSON.stringify(r))
}

/** Writes before and after a point the client remembers, restarts the server, and resumes from that point. */
async function resumeAcrossRestart(dir: string, file: string, extra: string[]): Promise<void> {
  let server: ServerProcess = await startDbServe(dir, [file], extra, 'first')
  try {
    const c = await client(server.sock)
    await c.conn.request('monitor_cond_since', ['OVN_Northbound', 'm', request, ''])
    await transact(c.conn, {op: 'insert', table: 'Logical_Switch', row: {name: 'ls1'}, 'uuid-name': 'a'})
    await eventually(() => c.updates.length === 1, 5000, 'the first update')
    const remembered = c.updates[0][1]
    await transact(c.conn, {op: 'insert', table: 'Logical_Switch', row: {name: 'ls2'}})
    await transact(c.conn, {op: 'update', table: 'Logical_Switch', where: [['name', '==', 'ls1']], row: {other_config: ['map', [['k', 'v']]]}})
    await eventually(() => c.updates.length === 3, 5000, 'three updates')
    const last = c.updates[2][1]
    c.conn.close()
    await server.stop()
    server = await startDbServe(dir, [file], extra, 'second')
    const d = await client(server.sock)
    const [found, lastTxnId, updates] = (await d.conn.request('monitor_cond_since', ['OVN_Northbound', 'm', request, remembered])) as [boolean, string, {Logical_Switch: Record<string, Record<string, {name?: string; other_config?: unknown}>>}]
    assert.equal(found, true, `resuming from ${remembered} after a restart`)
    assert.equal(lastTxnId, last, 'the restarted server names the last transaction as the live one did')
    const rows = Object.values(updates.Logical_Switch)
    assert.deepEqual(
      rows.map((r) => Object.keys(r)[0] + ':' + JSON.stringify(Object.values(r)[0])).sort(),
      ['insert:{"name":"ls2"}', 'modify:{"other_config":["map",[["k","v"]]]}'],
    )
    const [foundAtEnd, , none] = (await d.conn.request('monitor_cond_since', ['OVN_Northbound', 'n', request, last])) as [boolean, string, object]
    assert.equal(foundAtEnd, true)
    assert.deepEqual(none, {})
    // memory/show reports the monitors, what they share, what is queued for slow clients and the rebuilt history.
    const memory = await ok('ovs-appctl', ['-t', server.ctl, 'memory/show'])
    if (extra.some((e) => e.startsWith('--io-threads'))) {
      // The clients' monitors are the I/O threads'; the database thread's are the threads' links.
      const threaded = [...memory.matchAll(/io-thread-\d+-monitors:(\d+)/g)].reduce((n, m) => n + Number(m[1]), 0)
      assert.equal(threaded, 2, memory)
    } else (assert.match(memory, /monitors:2\b/), assert.match(memory, /monitors-indexed:0\b/))
    for (const figure of [/shared-compositions:\d+/, /backlog-bytes:\d+/, /backlog-commits:0\b/, /history-txns:[1-9]/, /history-bytes:[1-9]/]) {
      assert.match(memory, figure)
    }
    d.conn.close()
  } finally {
    await server.stop()
  }
}

describe('monitor_cond_since resumes across a restart of db-serve', function () {
  this.timeout(60000)
  const tmp = useTempDir()

  it('from a standalone file served by 2 I/O threads, which rebuild the history from it too', async () => {
    const file = path.join(tmp.dir, 'nb-threads.db')
    await ok('ovsdb-tool', ['create', file, nbSchema])
    await resumeAcrossRestart(tmp.dir, file, ['--io-threads=2'])
  })

  it('from a standalone file, whose records ovsdb-tool still reads', async () => {
    const file = path.join(tmp.dir, 'nb.db')
    await ok('ovsdb-tool', ['create', file, nbSchema])
    await resumeAcrossRestart(tmp.dir, file, [])
    const shown = await ok('ovsdb-tool', ['show-log', file])
    assert.match(shown, /record 3:/, shown)
    const query = await ok('ovsdb-tool', ['query', file, JSON.stringify(['OVN_Northbound', {op: 'select', table: 'Logical_Switch', where: [], columns: ['name']}])])
    assert.match(query, /ls1/)
    assert.match(query, /ls2/)
  })

  it('from a clustered file, through the Raft log entries after the snapshot', async () => {
    const file = path.join(tmp.dir, 'nb-cluster.db')
    await ok('ovsdb-tool', ['create-cluster', file, nbSchema, `unix:${path.join(tmp.dir, 'raft.sock')}`])
    await resumeAcrossRestart(tmp.dir, file, [])
  })
})

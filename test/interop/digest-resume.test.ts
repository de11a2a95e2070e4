/**
 * The integration proof: a replica of 100k rows held by a client reconnects to a db-serve that has no
 * history for it (restarted, and in a second case started with history disabled) after 100 rows changed, and
 * ends equal to a fresh snapshot, having received only the changed rows.
 */
import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import {DigestedReplica} from '../../src/core/idl/digest-replica.js'
import {ReplicaMonitor} from '../../src/core/idl/resume.js'
import {connect} from '../../src/core/jsonrpc/index.js'
import {DatabaseSchema} from '../../src/core/ovsdb/index.js'
import {testSchemaJSON} from '../server/harness.js'
import {ok, type ServerProcess, startDbServe, useTempDir} from './lib.js'

const rows = 100_000
const changed = 100
const schema = DatabaseSchema.fromJSON(testSchemaJSON)
const shape = {db: 'Test', schema, tables: [{name: 'Switch', columns: ['name', 'other_config', 'tags'], where: null}]}

function contents(replica: DigestedReplica): string[] {
  return replica.replica.uuids('Switch').map((u) => `${u} ${JSON.stringify(replica.replica.row('Switch', u))}`).sort()
}

async function resume(server: ServerProcess, replica: DigestedReplica) {
  const conn = await connect(`unix:${server.sock}`, {timeoutMs: 5000})
  try {
    return await new ReplicaMonitor(conn, replica, {timeoutMs: 60_000}).start()
  } finally {
    conn.close()
  }
}

async function transact(server: ServerProcess, ops: unknown[]): Promise<void> {
  const conn = await connect(`unix:${server.sock}`, {timeoutMs: 5000})
  try {
    const results = (await conn.request('transact', ['Test', ...ops], {timeoutMs: 60_000})) as {error?: string}[]
    assert.ok(results.every((r) => !r?.error), JSON.stringify(results.find((r) => r?.error)))
  } finally {
    conn.close()
  }
}

/** 34 inserts, 33 deletes and 33 modifies: 100 rows. */
function hundredChanges(round: number): unknown[] {
  const ops: unknown[] = []
  for (let i = 0; i < 34; i++) ops.push({op: 'insert', table: 'Switch', row: {name: `round${round}-${i}`}})
  for (let i = 0; i < 33; i++) ops.push({op: 'delete', table: 'Switch', where: [['name', '==', `sw${round * 1000 + i}`]]})
  for (let i = 0; i < 33; i++) {
    ops.push({op: 'update', table: 'Switch', where: [['name', '==', `sw${round * 1000 + 500 + i}`]], row: {other_config: ['map', [['changed', `${round}`]]]}})
  }
  return ops
}

describe('a 100k-row replica reconnecting to a server without history', function () {
  this.timeout(180_000)
  const tmp = useTempDir()
  let server: ServerProcess | undefined
  afterEach(async () => server?.stop())

  it('ends equal to a fresh snapshot after a restart, receiving only the changed rows', async () => {
    const db = path.join(tmp.dir, 'restart.db')
    const schemaFile = path.join(tmp.dir, 'test.ovsschema')
    fs.writeFileSync(schemaFile, JSON.stringify(testSchemaJSON))
    await ok('ovnctl', ['db-create', db, schemaFile])
    const keyFile = path.join(tmp.dir, 'digest.key')
    server = await startDbServe(tmp.dir, [db], [`--digest-key-file=${keyFile}`], 'restart')
    for (let at = 0; at < rows; at += 25_000) {
      await transact(server, Array.from({length: 25_000}, (_, i) => ({op: 'insert', table: 'Switch', row: {name: `sw${at + i}`, tags: ['set', [(at + i) % 4096]]}})))
    }
    const replica = new DigestedReplica(shape)
    const first = await resume(server, replica)
    assert.equal(replica.size, rows)
    await server.stop()
    // No history (db-serve otherwise rebuilds it from the file): the replica must resume through digests.
    server = await startDbServe(tmp.dir, [db], [`--digest-key-file=${keyFile}`, '--history-txns=0'], 'restart')
    await transact(server, hundredChanges(1))
    const again = await resume(server, replica)
    assert.equal(again.method, 'digest', again.refused)
    // Two round trips; three in the ~5% of exchanges whose estimate runs low (bench/digest.bench.ts).
    assert.ok(again.roundTrips <= 3, `${again.roundTrips} round trips`)
    assert.equal(again.events.length, changed)
    assert.ok(again.bytesReceived < first.bytesReceived / 100, `resume received ${again.bytesReceived} B, the snapshot ${first.bytesReceived} B`)
    const fresh = new DigestedReplica(shape)
    await resume(server, fresh)
    assert.deepEqual(contents(replica), contents(fresh))

    // History disabled, server running: the same, with the salt of the running server.
    await server.stop()
    server = await startDbServe(tmp.dir, [db], [`--digest-key-file=${keyFile}`, '--history-txns=0'], 'restart')
    await resume(server, replica)
    await transact(server, hundredChanges(2))
    const third = await resume(server, replica)
    assert.equal(third.method, 'digest', third.refused)
    assert.equal(third.events.length, changed)
    const fresh2 = new DigestedReplica(shape)
    await resume(server, fresh2)
    assert.deepEqual(contents(replica), contents(fresh2))
  })
})

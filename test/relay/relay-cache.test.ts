/**
 * A relay's persistent replica (db-serve --relay-cache=DIR): a restarted relay resumes from its cache with
 * monitor_cond_since and receives only the commits it missed, in front of db-serve and of a real clustered
 * ovsdb-server; a damaged or foreign cache file is refused with a log line and the relay fetches everything.
 */
import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import {Cluster} from '../../bench/lib/cluster-peers.js'
import {connect} from '../../src/core/jsonrpc/index.js'
import {Database, DatabaseSchema} from '../../src/core/ovsdb/index.js'
import {saveReplicaCache} from '../../src/core/idl/cache.js'
import {DigestedReplica} from '../../src/core/idl/digest-replica.js'
import {loadRelayCache, relayCacheFile, saveRelayCache} from '../../src/core/server/relay-cache.js'
import {eventually, nbSchema, run, type ServerProcess, startDbServe, useTempDir} from '../interop/lib.js'
import {replicating, sbSchema, startRelay} from './lib.js'

const sb = 'OVN_Southbound'
const zero = '00000000-0000-0000-0000-000000000000'
/** Rows written before the first start: the whole database a full fetch resends. */
const rowsBefore = 1000

/** Sends one transaction to the server at `sock`; fails the test on an error result. */
async function transact(sock: string, ops: object[]): Promise<unknown[]> {
  const conn = await connect(`unix:${sock}`, {timeoutMs: 5000})
  try {
    const results = (await conn.request('transact', [sb, ...ops], {timeoutMs: 20_000})) as unknown[]
    assert.ok(!results.some((r) => (r as {error?: unknown})?.error), `transaction failed: ${JSON.stringify(results).slice(0, 400)}`)
    return results
  } finally {
    conn.close()
  }
}

function addressSets(from: number, count: number): object[] {
  return Array.from({length: count}, (_, i) => ({op: 'insert', table: 'Address_Set', row: {name: `as${from + i}`, addresses: ['set', [`10.0.${(from + i) >> 8}.${(from + i) & 255}`]]}}))
}

/** Every Address_Set row (uuid, name, addresses) the server at `sock` serves, sorted. */
async function contents(sock: string): Promise<string[]> {
  const [res] = (await transact(sock, [{op: 'select', table: 'Address_Set', where: [], columns: ['_uuid', 'name', 'addresses']}])) as {rows: unknown[]}[]
  // Servers order a row's columns differently: compare values in a fixed order.
  return (res.rows as Record<string, unknown>[]).map((r) => JSON.stringify([r._uuid, r.name, r.addresses])).sort()
}

/** Fails unless the relay at `relaySock` serves exactly the source's Address_Set rows (a short message if not). */
async function assertSameRows(relaySock: string, sourceSock: string): Promise<void> {
  const [ours, theirs] = [await contents(relaySock), await contents(sourceSock)]
  const missing = theirs.filter((r) => !ours.includes(r))
  const extra = ours.filter((r) => !theirs.includes(r))
  assert.ok(missing.length === 0 && extra.length === 0, `relay: ${ours.length} rows, source: ${theirs.length}; missing ${missing.slice(0, 3)}; extra ${extra.slice(0, 3)}`)
}

function relayLog(dir: string, name: string): string {
  const file = path.join(dir, `${name}.log`)
  return fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : ''
}

describe('relay cache files', () => {
  const tmp = useTempDir()
  const schema = () => DatabaseSchema.fromJSON(JSON.parse(fs.readFileSync(sbSchema, 'utf8')))

  it('reads back the rows and transaction id it saved', async () => {
    const db = new Database(schema())
    const file = path.join(tmp.dir, 'round.relay-cache')
    const txn = '11111111-2222-3333-4444-555555555555'
    assert.equal(await saveRelayCache(file, db, txn), 0)
    const back = await loadRelayCache(file, sb)
    assert.equal(back.lastTxnId, txn)
    assert.equal(back.rows, 0)
    await assert.rejects(loadRelayCache(file, 'OVN_Northbound'), /it holds database "OVN_Southbound", not "OVN_Northbound"/)
  })

  it('refuses a client cache that keeps only some tables', async () => {
    const file = path.join(tmp.dir, 'client.relay-cache')
    await saveReplicaCache(file, new DigestedReplica({db: sb, schema: schema(), tables: [{name: 'Chassis', columns: ['name'], where: null}]}))
    await assert.rejects(loadRelayCache(file, sb), /holds only some tables, columns or rows of the database \(a client cache, not a relay cache\)/)
  })
})

describe('a relay with --relay-cache in front of db-serve', function () {
  this.timeout(90_000)
  const tmp = useTempDir()
  let source: ServerProcess
  let relay: ServerProcess | undefined
  let cacheDir: string
  let remote: string
  const start = (name: string) => startRelay(tmp.dir, name, sb, remote, [`--relay-cache=${cacheDir}`])

  before(async () => {
    const file = path.join(tmp.dir, 'sb.db')
    assert.equal((await run('ovsdb-tool', ['create', file, sbSchema])).code, 0)
    source = await startDbServe(tmp.dir, [file], [], 'source')
    remote = `unix:${source.sock}`
    cacheDir = path.join(tmp.dir, 'cache')
    fs.mkdirSync(cacheDir)
    await transact(source.sock, addressSets(0, rowsBefore))
  })
  afterEach(async () => {
    await relay?.stop()
    relay = undefined
  })
  after(async () => {
    await source?.stop()
  })

  it('resumes after a restart with only the commits it missed, and serves the same rows as the source', async () => {
    relay = await start('first')
    const [first] = await replicating(relay.ctl)
    assert.equal(first.fullSyncs, 1, JSON.stringify(first))
    assert.equal(first.syncRows, rowsBefore, JSON.stringify(first))
    await relay.stop()
    assert.ok(fs.existsSync(relayCacheFile(cacheDir, sb)), 'the relay saved its replica at shutdown')
    await transact(source.sock, addressSets(rowsBefore, 3))

    relay = await start('second')
    const [second] = await replicating(relay.ctl)
    assert.equal(second.fullSyncs, 0, `a full snapshot was taken: ${JSON.stringify(second)}\n${relayLog(tmp.dir, 'second')}`)
    assert.equal(second.resumes, 1, JSON.stringify(second))
    assert.equal(second.syncMethod, 'history', JSON.stringify(second))
    assert.equal(second.syncRows, 3, JSON.stringify(second))
    assert.ok(second.syncBytes * 50 < first.syncBytes, `resume cost ${second.syncBytes} bytes, the full fetch ${first.syncBytes}`)
    await assertSameRows(relay.sock, source.sock)
    assert.match(relayLog(tmp.dir, 'second'), /read 1000 rows from replica cache/)
  })

  it('serves nothing from a cache it could not yet reconcile with its source', async () => {
    const missing = path.join(tmp.dir, 'missing.sock')
    relay = await startRelay(tmp.dir, 'unreconciled', sb, `unix:${missing}`, [`--relay-cache=${cacheDir}`])
    await eventually(() => /read 1003 rows from replica cache/.test(relayLog(tmp.dir, 'unreconciled')), 10_000, 'the relay to read its cache')
    const conn = await connect(`unix:${relay.sock}`, {timeoutMs: 5000})
    try {
      assert.deepEqual(await conn.request('list_dbs', [], {timeoutMs: 5000}), ['_Server'])
    } finally {
      conn.close()
    }
  })

  it('refuses a damaged cache file with a log line naming it and fetches the whole database', async () => {
    const file = relayCacheFile(cacheDir, sb)
    const text = fs.readFileSync(file, 'utf8')
    const at = text.indexOf('as12')
    assert.ok(at > 0, 'the cache holds row as12')
    fs.writeFileSync(file, text.slice(0, at) + 'xx' + text.slice(at + 2))
    relay = await start('damaged')
    const [st] = await replicating(relay.ctl)
    assert.equal(st.fullSyncs, 1, JSON.stringify(st))
    assert.match(relayLog(tmp.dir, 'damaged'), /Cannot use replica cache ".*OVN_Southbound\.relay-cache": its checksum does not match.*fetching the whole database/)
    await assertSameRows(relay.sock, source.sock)
  })

  it('refuses the cache of another database and fetches the whole database', async () => {
    const nb = DatabaseSchema.fromJSON(JSON.parse(fs.readFileSync(nbSchema, 'utf8')))
    await saveRelayCache(relayCacheFile(cacheDir, sb), new Database(nb), zero)
    relay = await start('foreign')
    const [st] = await replicating(relay.ctl)
    assert.equal(st.fullSyncs, 1, JSON.stringify(st))
    assert.match(relayLog(tmp.dir, 'foreign'), /it holds database "OVN_Northbound", not "OVN_Southbound"; fetching the whole database/)
    await assertSameRows(relay.sock, source.sock)
  })
})

describe('a relay with --relay-cache in front of a db-serve that keeps little history', function () {
  this.timeout(90_000)
  const tmp = useTempDir()
  let source: ServerProcess
  let relay: ServerProcess | undefined

  before(async () => {
    const file = path.join(tmp.dir, 'sb.db')
    assert.equal((await run('ovsdb-tool', ['create', file, sbSchema])).code, 0)
    source = await startDbServe(tmp.dir, [file], ['--history-txns=2'], 'source')
    await transact(source.sock, addressSets(0, rowsBefore))
  })
  after(async () => {
    await relay?.stop()
    await source?.stop()
  })

  it('resumes by difference digests once the source no longer has the cached transaction, receiving only the rows that differ', async () => {
    const cacheDir = path.join(tmp.dir, 'cache')
    fs.mkdirSync(cacheDir)
    const start = (name: string) => startRelay(tmp.dir, name, sb, `unix:${source.sock}`, [`--relay-cache=${cacheDir}`])
    relay = await start('first')
    const [first] = await replicating(relay.ctl)
    await relay.stop()
    // Five commits: more than the two the source keeps, so monitor_cond_since could only resend everything.
    for (let i = 0; i < 5; i++) await transact(source.sock, addressSets(rowsBefore + i, 1))
    await transact(source.sock, [{op: 'delete', table: 'Address_Set', where: [['name', '==', 'as7']]}])

    relay = await start('second')
    const [second] = await replicating(relay.ctl)
    assert.equal(second.syncMethod, 'digest', `${JSON.stringify(second)}\n${relayLog(tmp.dir, 'second')}`)
    assert.equal(second.syncRows, 6, JSON.stringify(second))
    assert.ok(second.syncBytes * 5 < first.syncBytes, `resume cost ${second.syncBytes} bytes, the full fetch ${first.syncBytes}`)
    await assertSameRows(relay.sock, source.sock)
  })
})

describe('a relay with --relay-cache in front of a real three-member clustered ovsdb-server', function () {
  this.timeout(120_000)
  const tmp = useTempDir()
  let cluster: Cluster
  let relay: ServerProcess | undefined

  before(async () => {
    cluster = await Cluster.create('ovsdb-server', path.join(tmp.dir, 'real'), sbSchema)
    await cluster.settled()
  })
  after(async () => {
    await relay?.stop()
    await cluster?.stop()
  })

  it('resumes after a restart with monitor_cond_since from the cluster history, not a full snapshot', async () => {
    const leader = await cluster.settled()
    await transact(leader.sock, addressSets(0, rowsBefore))
    const remotes = cluster.members.map((m) => `unix:${m.sock}`).join(',')
    const cacheDir = path.join(tmp.dir, 'cache')
    fs.mkdirSync(cacheDir)
    relay = await startRelay(tmp.dir, 'first', sb, remotes, [`--relay-cache=${cacheDir}`])
    const [first] = await replicating(relay.ctl)
    assert.equal(first.syncRows, rowsBefore, JSON.stringify(first))
    await relay.stop()
    await transact(leader.sock, addressSets(rowsBefore, 2))

    relay = await startRelay(tmp.dir, 'second', sb, remotes, [`--relay-cache=${cacheDir}`])
    const [second] = await replicating(relay.ctl)
    assert.equal(second.fullSyncs, 0, `a full snapshot was taken: ${JSON.stringify(second)}\n${relayLog(tmp.dir, 'second')}`)
    assert.equal(second.syncMethod, 'history', JSON.stringify(second))
    assert.equal(second.syncRows, 2, JSON.stringify(second))
    assert.ok(second.syncBytes * 50 < first.syncBytes, `resume cost ${second.syncBytes} bytes, the full fetch ${first.syncBytes}`)
    await assertSameRows(relay.sock, leader.sock)
  })
})

/**
 * db-serve --io-threads=2 as clients see it: the real tools, the server describing itself (not as a relay), one
 * lock table across threads, a client's own updates before its reply, the flags it refuses, and the property
 * that every client's replica (built only from what it was sent, whichever thread serves it) equals a fresh
 * select of its condition, for random transactions and random condition changes.
 */
import assert from 'node:assert/strict'
import path from 'node:path'
import {connect, type JsonRpcConnection} from '../../src/core/jsonrpc/index.js'
import {Database, DatabaseSchema, datumToJSON} from '../../src/core/ovsdb/index.js'
import {updatesToChanges} from '../../src/core/server/relay-apply.js'
import {newUuid} from '../../src/core/server/uuid.js'
import fs from 'node:fs'
import {DigestedReplica} from '../../src/core/idl/digest-replica.js'
import {ReplicaMonitor} from '../../src/core/idl/resume.js'
import {testSchemaJSON} from '../server/harness.js'
import {Prng} from '../sim/prng.js'
import {eventually, nbSchema, ok, ovnctl, sbSchema, type ServerProcess, startDbServe, useFreshServer, useTempDir} from './lib.js'

const threads = ['--io-threads=2']

/** A raw client that records its notifications. */
async function client(remote: string): Promise<{conn: JsonRpcConnection; notes: {method: string; params: unknown[]}[]}> {
  const conn = await connect(remote, {timeoutMs: 5000})
  const notes: {method: string; params: unknown[]}[] = []
  conn.setHandler({
    onRequest: (method, params, id) => (method === 'echo' ? conn.respond(id, params) : conn.respondError(id, 'unknown method')),
    onNotification: (method, params) => notes.push({method, params: params as unknown[]}),
  })
  return {conn, notes}
}

describe('db-serve --io-threads=2 with the OVN Southbound tools', function () {
  this.timeout(60000)
  const fresh = useFreshServer(sbSchema, threads)

  it('serves ovn-sbctl: a chassis added through one connection shows through the next', async () => {
    await ok('ovn-sbctl', [`--db=${fresh.remote}`, 'chassis-add', 'ch1', 'geneve', '10.0.0.1'])
    await ok('ovn-sbctl', [`--db=${fresh.remote}`, 'chassis-add', 'ch2', 'vxlan', '10.0.0.2'])
    const show = await ok('ovn-sbctl', [`--db=${fresh.remote}`, 'show'])
    for (const text of ['Chassis ch1', 'Chassis ch2', 'ip: "10.0.0.1"', 'vxlan']) assert.ok(show.includes(text), `ovn-sbctl show lacks ${JSON.stringify(text)}:\n${show}`)
    await ok('ovn-sbctl', [`--db=${fresh.remote}`, 'chassis-del', 'ch1'])
    assert.doesNotMatch(await ok('ovn-sbctl', [`--db=${fresh.remote}`, 'show']), /ch1/)
  })

  it('describes itself in _Server as the standalone leader, not as a relay, on every connection', async () => {
    for (let i = 0; i < 6; i++) {
      const dump = await ok('ovsdb-client', ['--format=csv', 'dump', fresh.remote, '_Server', 'Database', 'name', 'model', 'connected', 'leader'])
      // ovsdb-client sorts the columns by name: connected, leader, model, name.
      assert.match(dump, /^true,true,standalone,OVN_Southbound$/m, `connection ${i}: ${dump}`)
    }
  })

  it('reports one server id whichever thread answers', async () => {
    const ids = new Set<unknown>()
    const clients = await Promise.all(Array.from({length: 8}, () => client(fresh.remote)))
    for (const c of clients) ids.add(await c.conn.request('get_server_id', []))
    for (const c of clients) c.conn.close()
    assert.equal(ids.size, 1, `server ids: ${[...ids].join(', ')}`)
  })

  it('lists the remotes its threads serve', async () => {
    assert.equal(await ok('ovs-appctl', ['-t', fresh.server.ctl, 'ovsdb-server/list-remotes']), `punix:${fresh.server.sock}\n`)
  })

  it('lists its threads and their clients in memory/show', async () => {
    const clients = await Promise.all(Array.from({length: 8}, () => client(fresh.remote)))
    try {
      await eventually(async () => {
        const out = await ok('ovs-appctl', ['-t', fresh.server.ctl, 'memory/show'])
        const sessions = [...out.matchAll(/io-thread-\d+-sessions:(\d+)/g)].map((m) => Number(m[1]))
        return /io-threads:2/.test(out) && sessions.length === 2 && sessions[0] + sessions[1] === 8
      }, 5000, 'memory/show to count the 8 clients over the 2 threads')
    } finally {
      for (const c of clients) c.conn.close()
    }
  })

  it('keeps one lock across threads: one holder, "locked" to the next, "stolen" to the robbed', async () => {
    const clients = await Promise.all(Array.from({length: 6}, () => client(fresh.remote)))
    try {
      const replies = (await Promise.all(clients.map((c) => c.conn.request('lock', ['L'])))) as {locked: boolean}[]
      assert.deepEqual(replies.map((r) => r.locked).filter(Boolean), [true], `lock replies: ${JSON.stringify(replies)}`)
      const holder = replies.findIndex((r) => r.locked)
      // The holder's write asserting the lock commits; another client's fails with "not owner".
      const assertWrite = (c: number) => clients[c].conn.request('transact', ['OVN_Southbound', {op: 'assert', lock: 'L'}, {op: 'insert', table: 'SB_Global', row: {}}])
      const other = (holder + 1) % clients.length
      assert.equal(((await assertWrite(other)) as {error?: string}[])[0].error, 'not owner')
      assert.ok(((await assertWrite(holder)) as {uuid?: unknown}[])[1].uuid, 'the holder\'s write committed')
      clients[holder].conn.close()
      await eventually(() => clients.filter((c) => c.notes.some((n) => n.method === 'locked')).length === 1, 5000, 'exactly one waiter to be told "locked"')
      const next = clients.findIndex((c) => c.notes.some((n) => n.method === 'locked'))
      const thief = clients.findIndex((_, i) => i !== holder && i !== next)
      // A waiter must give up its place before it steals (RFC 7047 §4.1.9, as ovsdb-server answers).
      assert.deepEqual(await clients[thief].conn.request('unlock', ['L']), {})
      assert.deepEqual(await clients[thief].conn.request('steal', ['L']), {locked: true})
      await eventually(() => clients[next].notes.some((n) => n.method === 'stolen' && n.params[0] === 'L'), 5000, 'the robbed client to be told "stolen"')
    } finally {
      for (const c of clients) c.conn.close()
    }
  })

  it('refuses "convert" through a thread with an error, leaving the database as it was', async () => {
    const c = await client(fresh.remote)
    try {
      const schema = (await c.conn.request('get_schema', ['OVN_Southbound'])) as {version: string}
      const refused = await c.conn.request('convert', ['OVN_Southbound', {...schema, version: '99.0.0'}]).then(
        () => null,
        (err: {error?: {error?: string; details?: string}}) => err.error,
      )
      assert.equal(refused?.error, 'not allowed', JSON.stringify(refused))
      assert.equal(await ok('ovsdb-client', ['get-schema-version', fresh.remote, 'OVN_Southbound']), `${schema.version}\n`)
    } finally {
      c.conn.close()
    }
  })

  it('sends a client its own update before the reply to its write', async () => {
    const c = await client(fresh.remote)
    try {
      await c.conn.request('monitor_cond', ['OVN_Southbound', 'm', {Address_Set: [{columns: ['name']}]}])
      const result = (await c.conn.request('transact', ['OVN_Southbound', {op: 'insert', table: 'Address_Set', row: {name: 'own'}}])) as {uuid?: unknown}[]
      assert.ok(result[0].uuid, JSON.stringify(result))
      assert.ok(c.notes.some((n) => n.method === 'update2' && JSON.stringify(n.params).includes('"own"')), `no update before the reply: ${JSON.stringify(c.notes)}`)
    } finally {
      c.conn.close()
    }
  })
})

describe('db-serve --io-threads refuses what its threads cannot serve', function () {
  this.timeout(30000)
  const tmp = useTempDir()

  for (const [what, args, error] of [
    ['an SSL remote', ['--remote=pssl:0:127.0.0.1'], /--io-threads serves punix: and ptcp: remotes only: "pssl:0:127.0.0.1" is an SSL remote/],
    ['a db: remote', ['--remote=db:OVN_Northbound,NB_Global,connections'], /--io-threads serves punix: and ptcp: remotes only/],
    ['no remote', [], /--io-threads needs at least one --remote/],
    ['a relay database', ['--remote=punix:SOCK', 'relay:OVN_Northbound:unix:nowhere.sock'], /cannot be combined with relay databases/],
  ] as const) {
    it(`refuses ${what} with a clear error`, async () => {
      const db = path.join(tmp.dir, 'refuse.db')
      if (!fs.existsSync(db)) await ok('ovnctl', ['db-create', db, nbSchema])
      const extra = args.map((a) => a.replace('SOCK', path.join(tmp.dir, 'x.sock')))
      const r = await ovnctl(['db-serve', '--io-threads=2', `--unixctl=${path.join(tmp.dir, 'x.ctl')}`, ...extra, ...(what === 'a relay database' ? [] : [db])], {timeoutMs: 20000})
      assert.notEqual(r.code, 0)
      assert.match(r.stderr, error)
    })
  }
})

const names = ['a', 'b', 'c', 'd']

describe('db-serve --io-threads=2: replicas of random conditions equal fresh queries', function () {
  this.timeout(120000)
  const fresh = useFreshServer(nbSchema, threads)
  const schema = DatabaseSchema.fromJSON(JSON.parse(fs.readFileSync(nbSchema, 'utf8')))

  it('holds for 150 random transactions and condition changes over 8 clients', async () => {
    const seed = 20261124
    const prng = new Prng(seed)
    const r = () => prng.next()
    const pick = <T>(xs: T[]) => xs[Math.floor(r() * xs.length)]
    const randomWhere = () => (r() < 0.2 ? [true] : [['name', '==', pick(names)], ['other_config', 'includes', ['map', [['k', pick(names)]]]]].slice(0, 1 + Math.floor(r() * 2)))
    const columns = ['name', 'other_config']
    const clients = await Promise.all(
      Array.from({length: 8}, async (_, i) => {
        const c = await client(fresh.remote)
        const replica = new Database(schema)
        const apply = (updates: unknown) => replica.commit(updatesToChanges(replica, updates, newUuid))
        let where: unknown[] = randomWhere()
        apply(await c.conn.request('monitor_cond', ['OVN_Northbound', `m${i}`, {Logical_Switch: [{columns, where}]}]))
        return {c, replica, apply, where: () => where, setWhere: (w: unknown[]) => (where = w), seen: 0}
      }),
    )
    const writer = await client(fresh.remote)
    try {
      const drain = (cl: (typeof clients)[number]) => {
        for (; cl.seen < cl.c.notes.length; cl.seen++) if (cl.c.notes[cl.seen].method === 'update2') cl.apply(cl.c.notes[cl.seen].params[1])
      }
      for (let step = 0; step < 150; step++) {
        if (r() < 0.15) {
          const cl = pick(clients)
          const where = randomWhere()
          await cl.c.conn.request('monitor_cond_change', [`m${clients.indexOf(cl)}`, `m${clients.indexOf(cl)}`, {Logical_Switch: [{where}]}])
          cl.setWhere(where)
          continue
        }
        const row = {name: pick(names), other_config: ['map', r() < 0.5 ? [] : [['k', pick(names)]]]}
        const target = [['name', '==', pick(names)]]
        const op = r() < 0.4 ? {op: 'insert', table: 'Logical_Switch', row} : r() < 0.8 ? {op: 'update', table: 'Logical_Switch', where: target, row} : {op: 'delete', table: 'Logical_Switch', where: target}
        const result = (await writer.conn.request('transact', ['OVN_Northbound', op])) as {error?: string}[]
        assert.ok(!result.some((x) => x?.error), `step ${step} (seed ${seed}): ${JSON.stringify(result)}`)
      }
      const ts = schema.tables.get('Logical_Switch')!
      const rowsOf = (db: Database) => [...db.table('Logical_Switch').rows.values()].map((row) => JSON.stringify([row.uuid, ...columns.map((col) => datumToJSON(ts.columns.get(col)!.type, row.columns[col]!))])).sort()
      for (const [i, cl] of clients.entries()) {
        const selected = (await writer.conn.request('transact', ['OVN_Northbound', {op: 'select', table: 'Logical_Switch', where: [], columns: ['_uuid', ...columns]}])) as {rows: Record<string, unknown>[]}[]
        const expected = new Database(schema)
        expected.commit(updatesToChanges(expected, {Logical_Switch: Object.fromEntries(selected[0].rows.map((row) => [(row._uuid as string[])[1], {insert: {name: row.name, other_config: row.other_config}}]))}, newUuid))
        // The fresh query of this client's condition (the writer's thread answers it, after the writer's last commit).
        const wanted = new Set(await matching(writer.conn, cl.where()))
        const want = rowsOf(expected).filter((text) => wanted.has((JSON.parse(text) as string[])[0]))
        await eventually(() => (drain(cl), JSON.stringify(rowsOf(cl.replica)) === JSON.stringify(want)), 5000, `client ${i} (seed ${seed}, where ${JSON.stringify(cl.where())}) to hold ${JSON.stringify(want)}, holds ${JSON.stringify(rowsOf(cl.replica))}`)
      }
    } finally {
      writer.conn.close()
      for (const cl of clients) cl.c.conn.close()
    }
  })
})

/** Uuids of the Logical_Switch rows a monitor condition selects: clauses ORed, as ovsdb-server(7) §4.1.12 says. */
async function matching(conn: JsonRpcConnection, where: unknown[]): Promise<string[]> {
  const uuids = new Set<string>()
  for (const clause of where) {
    const w = clause === true ? [] : clause === false ? [['_uuid', '==', ['uuid', '00000000-0000-0000-0000-000000000000']]] : [clause]
    const rows = (await conn.request('transact', ['OVN_Northbound', {op: 'select', table: 'Logical_Switch', where: w, columns: ['_uuid']}])) as {rows: {_uuid: string[]}[]}[]
    for (const row of rows[0].rows) uuids.add(row._uuid[1])
  }
  return [...uuids]
}

describe('db-serve --io-threads=2: a replica resumes by difference digests', function () {
  this.timeout(120000)
  const tmp = useTempDir()
  let server: ServerProcess | undefined
  afterEach(async () => server?.stop())

  it('after a restart without history, receiving only the changed rows and ending equal to a fresh snapshot', async () => {
    const schema = DatabaseSchema.fromJSON(testSchemaJSON)
    const shape = {db: 'Test', schema, tables: [{name: 'Switch', columns: ['name', 'other_config'], where: null}]}
    const db = path.join(tmp.dir, 'digest.db')
    const schemaFile = path.join(tmp.dir, 'test.ovsschema')
    fs.writeFileSync(schemaFile, JSON.stringify(testSchemaJSON))
    await ok('ovnctl', ['db-create', db, schemaFile])
    const flags = [`--digest-key-file=${path.join(tmp.dir, 'digest.key')}`, '--history-txns=0', ...threads]
    const resume = async (replica: DigestedReplica) => {
      const conn = await connect(`unix:${server!.sock}`, {timeoutMs: 5000})
      try {
        return await new ReplicaMonitor(conn, replica, {timeoutMs: 30_000}).start()
      } finally {
        conn.close()
      }
    }
    const transact = async (ops: unknown[]) => {
      const c = await client(`unix:${server!.sock}`)
      const results = (await c.conn.request('transact', ['Test', ...ops], {timeoutMs: 30_000})) as {error?: string}[]
      c.conn.close()
      assert.ok(results.every((x) => !x?.error), JSON.stringify(results.find((x) => x?.error)))
    }
    server = await startDbServe(tmp.dir, [db], flags, 'digest')
    await transact(Array.from({length: 2000}, (_, i) => ({op: 'insert', table: 'Switch', row: {name: `sw${i}`}})))
    const replica = new DigestedReplica(shape)
    await resume(replica)
    assert.equal(replica.size, 2000)
    await server.stop()
    server = await startDbServe(tmp.dir, [db], flags, 'digest')
    await transact([
      ...Array.from({length: 10}, (_, i) => ({op: 'insert', table: 'Switch', row: {name: `new${i}`}})),
      ...Array.from({length: 10}, (_, i) => ({op: 'update', table: 'Switch', where: [['name', '==', `sw${i}`]], row: {other_config: ['map', [['k', 'v']]]}})),
    ])
    const again = await resume(replica)
    assert.equal(again.method, 'digest', again.refused)
    assert.equal(again.events.length, 20)
    const fresh = new DigestedReplica(shape)
    await resume(fresh)
    const contents = (r: DigestedReplica) => r.replica.uuids('Switch').map((u) => `${u} ${JSON.stringify(r.replica.row('Switch', u))}`).sort()
    assert.deepEqual(contents(replica), contents(fresh))
  })
})

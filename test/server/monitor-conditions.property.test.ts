/**
 * Property: for random transactions, random monitor conditions and random condition changes, every client's
 * replica (built only from what the server sent it) equals a fresh select of the same condition. Clients are
 * randomly congested, so that merged updates and their flush are exercised with the condition index.
 */
import assert from 'node:assert/strict'
import {Database, DatabaseSchema, datumToJSON, type Row, type TableSchema} from '../../src/core/ovsdb/index.js'
import {HostedDb} from '../../src/core/server/hosted-db.js'
import {Monitor, type MonitorSink} from '../../src/core/server/monitor.js'
import {parseMonitorRequests} from '../../src/core/server/monitor-request.js'
import {updatesToChanges} from '../../src/core/server/relay-apply.js'
import {newUuid} from '../../src/core/server/uuid.js'
import {testSchemaJSON} from './harness.js'

/** A small seeded generator (mulberry32), so that a failure replays from its seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const names = ['a', 'b', 'c', 'd', 'e']
const columnsSets = [['name', 'tags', 'kind', 'other_config'], ['name'], ['tags', 'other_config']]

function randomClause(r: () => number): unknown {
  const pick = <T>(xs: T[]) => xs[Math.floor(r() * xs.length)]
  const tag = () => Math.floor(r() * 6)
  return pick<() => unknown>([
    () => ['name', '==', pick(names)],
    () => ['name', '==', pick(names)],
    () => ['tags', 'includes', tag()],
    () => ['tags', 'includes', ['set', [...new Set([tag(), tag()])]]],
    () => ['kind', '==', pick([['set', []], 'a', 'b'])],
    () => ['tags', '==', ['set', []]],
    () => ['other_config', 'includes', ['map', [['k', pick(names)]]]],
    () => ['name', '!=', pick(names)],
    () => ['tags', 'excludes', tag()],
    () => r() < 0.5,
  ])()
}

function randomWhere(r: () => number): unknown[] | undefined {
  if (r() < 0.1) return undefined
  return Array.from({length: 1 + Math.floor(r() * 3)}, () => randomClause(r))
}

function randomRow(r: () => number): Record<string, unknown> {
  const tags = [0, 1, 2, 3, 4, 5].filter(() => r() < 0.3)
  return {
    name: names[Math.floor(r() * names.length)],
    tags: ['set', tags],
    kind: r() < 0.3 ? ['set', []] : r() < 0.5 ? 'a' : 'b',
    other_config: ['map', r() < 0.5 ? [] : [['k', names[Math.floor(r() * names.length)]]]],
  }
}

function randomOps(r: () => number, db: Database): object[] {
  const uuids = [...db.table('Switch').rows.keys()]
  const target = () => [['_uuid', '==', ['uuid', uuids[Math.floor(r() * uuids.length)]]]]
  const ops: object[] = []
  for (let n = 1 + Math.floor(r() * 3); n > 0; n--) {
    const x = r()
    if (uuids.length === 0 || x < 0.3) ops.push({op: 'insert', table: 'Switch', row: randomRow(r)})
    else if (x < 0.7) ops.push({op: 'update', table: 'Switch', where: target(), row: randomRow(r)})
    else if (x < 0.85) ops.push({op: 'mutate', table: 'Switch', where: target(), mutations: [['tags', r() < 0.5 ? 'insert' : 'delete', Math.floor(r() * 6)]]})
    else ops.push({op: 'delete', table: 'Switch', where: target()})
  }
  return ops
}

/** One client: its monitor, its replica, and whether it reads (congested clients have updates merged). */
class Client implements MonitorSink {
  readonly replica = new Database(DatabaseSchema.fromJSON(testSchemaJSON))
  congested = false
  monitor!: Monitor

  send(message: string): void {
    this.apply((JSON.parse(message) as {params: [unknown, object]}).params[1])
  }

  apply(updates: object): void {
    for (const [table, rows] of Object.entries(updates as Record<string, Record<string, object>>)) {
      for (const [uuid, update] of Object.entries(rows)) {
        const held = this.replica.table(table).rows.has(uuid)
        if ('insert' in update || 'initial' in update) assert.ok(!held, `insert of ${uuid}, which the replica holds: ${JSON.stringify(update)}`)
        else assert.ok(held, `${JSON.stringify(update)} of ${uuid}, which the replica does not hold`)
      }
    }
    this.replica.commit(updatesToChanges(this.replica, updates, newUuid))
  }
}

function project(row: Row, columns: readonly {name: string; type: Parameters<typeof datumToJSON>[0]}[]): string {
  return JSON.stringify(columns.filter((c) => c.name !== '_version').map((c) => [c.name, datumToJSON(c.type, row.columns[c.name])]))
}

function checkReplica(client: Client, db: Database, where: string): void {
  const spec = client.monitor.tables.get('Switch')!
  const expected = new Map<string, string>()
  for (const row of db.table('Switch').rows.values()) if (spec.filter === null || spec.filter(row)) expected.set(row.uuid, project(row, spec.columns))
  const actual = new Map<string, string>()
  for (const row of client.replica.table('Switch').rows.values()) actual.set(row.uuid, project(row, spec.columns))
  assert.deepEqual(actual, expected, `${where}: condition ${JSON.stringify(spec.where)}`)
}

function runSeed(seed: number, opts: {wholeCommitRowsMax?: number} = {}): void {
  const r = prng(seed)
  const hosted = new HostedDb('Test', new Database(DatabaseSchema.fromJSON(testSchemaJSON)), null, {historyTxnsMax: 10, historyBytesMax: 1 << 20})
  if (opts.wholeCommitRowsMax !== undefined) hosted.monitors.wholeCommitRowsMax = opts.wholeCommitRowsMax
  const clients: Client[] = []
  for (let i = 0; i < 10; i++) {
    const client = new Client()
    const request = {Switch: [{columns: columnsSets[i % columnsSets.length], where: randomWhere(r)}]}
    client.monitor = new Monitor(i, 'Test', 2, parseMonitorRequests(hosted.schema, request, 2), client)
    client.apply(client.monitor.initialUpdates(hosted.db))
    hosted.monitors.add(client.monitor)
    clients.push(client)
  }
  for (let step = 0; step < 150; step++) {
    const x = r()
    const client = clients[Math.floor(r() * clients.length)]
    if (x < 0.7) {
      hosted.transact(randomOps(r, hosted.db), {newUuid}, {}, () => {})
    } else if (x < 0.85) {
      // As Session.monitorCondChange does: merged updates first, then the rows entering and leaving.
      client.monitor.flushPending()
      const candidates = (table: TableSchema, before: readonly unknown[] | null, after: readonly unknown[] | null) => hosted.monitors.changeCandidates(hosted.db, table, before, after)
      const updates = client.monitor.changeConditions(hosted.db, {Switch: [{where: randomWhere(r) ?? []}]}, candidates)
      const renamed = new Monitor(client.monitor.id, 'Test', 2, client.monitor.tables, client)
      hosted.monitors.delete(client.monitor)
      hosted.monitors.add(renamed)
      client.monitor = renamed
      client.apply(updates)
    } else {
      client.congested = !client.congested
      if (!client.congested) client.monitor.flushPending()
    }
    for (const c of clients) if (!c.congested && c.monitor.pendingCommits === 0) checkReplica(c, hosted.db, `seed ${seed} step ${step}`)
  }
  for (const c of clients) {
    c.congested = false
    c.monitor.flushPending()
    checkReplica(c, hosted.db, `seed ${seed} at the end`)
  }
}

describe('conditional monitors (property)', () => {
  it('keep every client replica equal to a fresh select of its condition, through condition changes and congestion', () => {
    for (let seed = 1; seed <= 40; seed++) runSeed(seed)
  })

  it('keep every replica equal to a fresh select also when each monitor is handed only the rows the index finds for it', () => {
    for (let seed = 1; seed <= 40; seed++) runSeed(seed, {wholeCommitRowsMax: 0})
  })

  it('find the monitors of == and includes conditions through the index', () => {
    const hosted = new HostedDb('Test', new Database(DatabaseSchema.fromJSON(testSchemaJSON)), null, {historyTxnsMax: 10, historyBytesMax: 1 << 20})
    const request = (where: unknown[]) => parseMonitorRequests(hosted.schema, {Switch: [{columns: ['name'], where}]}, 2)
    const sink = {send: () => {}}
    hosted.monitors.add(new Monitor(1, 'Test', 2, request([['name', '==', 'a']]), sink))
    hosted.monitors.add(new Monitor(2, 'Test', 2, request([['tags', 'includes', 3], ['name', '==', 'b']]), sink))
    hosted.monitors.add(new Monitor(3, 'Test', 2, request([['name', '!=', 'a']]), sink))
    assert.equal(hosted.monitors.indexedCount, 2)
  })

  it('look up only the rows of the clauses a condition change removes or adds', () => {
    const hosted = new HostedDb('Test', new Database(DatabaseSchema.fromJSON(testSchemaJSON)), null, {historyTxnsMax: 10, historyBytesMax: 1 << 20})
    hosted.transact(Array.from({length: 1000}, (_, i) => ({op: 'insert', table: 'Switch', row: {name: `sw${i}`, tags: ['set', [i % 100]]}})), {newUuid}, {}, () => {})
    const table = hosted.schema.tables.get('Switch')!
    const names = (rows: Iterable<Row> | null) => (rows === null ? null : [...rows].map((r) => r.columns.name.keys[0]).sort())
    const kept = ['tags', 'includes', 7]
    assert.deepEqual(names(hosted.monitors.changeCandidates(hosted.db, table, [kept, ['name', '==', 'sw1']], [kept, ['name', '==', 'sw2']])), ['sw1', 'sw2'])
    hosted.transact([{op: 'update', table: 'Switch', where: [['name', '==', 'sw2']], row: {name: 'sw2b'}}], {newUuid}, {}, () => {})
    assert.deepEqual(names(hosted.monitors.changeCandidates(hosted.db, table, [['name', '==', 'sw2']], [['name', '==', 'sw2b']])), ['sw2b'], 'the index follows commits')
    assert.equal(hosted.monitors.changeCandidates(hosted.db, table, [['name', '==', 'sw1']], [['name', '!=', 'sw1']]), null, 'a clause the index cannot narrow means a scan')
  })

  it('serialize a changed row once for every client that sees it alike, whatever their conditions', () => {
    const hosted = new HostedDb('Test', new Database(DatabaseSchema.fromJSON(testSchemaJSON)), null, {historyTxnsMax: 10, historyBytesMax: 1 << 20})
    const sent: string[] = []
    for (let i = 0; i < 50; i++) {
      const where = [['name', '==', `own${i}`], ['tags', 'includes', i % 5]]
      hosted.monitors.add(new Monitor(i, 'Test', 2, parseMonitorRequests(hosted.schema, {Switch: [{columns: ['name', 'tags'], where}]}, 2), {send: (m) => sent.push(String(m))}))
    }
    hosted.transact([{op: 'insert', table: 'Switch', row: {name: 'shared', tags: ['set', [2]]}}], {newUuid}, {}, () => {})
    assert.equal(sent.length, 10, 'the ten clients whose condition includes tag 2 are told')
    assert.equal(hosted.monitors.lastCompositions, 1, 'one row-update serialized for all of them')
    assert.equal(new Set(sent.map((m) => m.replace(/"params":\[\d+,/, ''))).size, 1, 'the same bytes but for the monitor id')
  })
})

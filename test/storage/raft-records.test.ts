import assert from 'node:assert/strict'
import {execFileSync, spawnSync} from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import fc from 'fast-check'
import type {Entry, Ready, Snapshot} from '../../src/core/raft/index.js'
import {RaftFile} from '../../src/core/storage/raft-file.js'
import {
  type ClusterData,
  type RaftFileHeader,
  decodeSnapshotData,
  encodeSnapshotData,
  entryRecord,
  hardStateRecord,
  headerRecord,
  parseHeader,
  recordEntry,
  replayRecords,
} from '../../src/core/storage/raft-records.js'

const toolsInstalled = spawnSync('ovsdb-tool', ['--version']).status === 0

const schema = {
  name: 'Test',
  version: '1.0.0',
  tables: {T: {columns: {name: {type: 'string'}, n: {type: 'integer'}}, isRoot: true}},
}

const SID = 'aaaaaaaa-1111-4222-8333-000000000001'
const SID2 = 'bbbbbbbb-1111-4222-8333-000000000002'
const CID = 'cccccccc-1111-4222-8333-000000000003'
const U1 = '11111111-aaaa-4bbb-8ccc-000000000001'
const U2 = '22222222-aaaa-4bbb-8ccc-000000000002'
const eid = (n: number): string => `eeeeeeee-0000-4000-8000-${String(n).padStart(12, '0')}`

const header: RaftFileHeader = {serverId: SID, localAddress: 'unix:s1.raft', name: 'Test', clusterId: CID, remoteAddresses: []}
const snapshot: Snapshot = {
  index: 1,
  term: 1,
  servers: {[SID]: 'unix:s1.raft'},
  electionTimerMs: 1000,
  data: encodeSnapshotData({data: [schema, {}], eid: eid(0)}),
}

function command(index: number, term: number, record: object, n: number): Entry {
  return {kind: 'command', term, index, data: {data: [null, record], eid: eid(n)} satisfies ClusterData}
}

/** The log the file tests write after the snapshot at index 1: a no-op, two transactions, a timer change, a configuration. */
const entries: Entry[] = [
  {kind: 'noop', term: 2, index: 2},
  command(3, 2, {T: {[U1]: {name: 'one', n: 1}}}, 3),
  command(4, 2, {T: {[U2]: {name: 'two', n: 2}, [U1]: {n: 10}}}, 4),
  {kind: 'electionTimer', term: 2, index: 5, electionTimerMs: 2000},
  {kind: 'servers', term: 2, index: 6, servers: {[SID]: 'unix:s1.raft', [SID2]: 'unix:s2.raft'}},
]

function ready(rd: Partial<Ready>): Ready {
  return {entries: [], messages: [], committedEntries: [], ...rd}
}

/** Writes a clustered file holding `snapshot`, then `entries` and a hard state committing them all, as db-serve would. */
async function writeFile(file: string): Promise<void> {
  await RaftFile.create(file, header, snapshot)
  const {file: log} = await RaftFile.open(file)
  await log.persist(ready({entries, hardState: {term: 2, vote: SID, commit: 6}}))
  await log.close()
}

const arbEntry: fc.Arbitrary<Entry> = fc.oneof(
  fc.record({kind: fc.constant('noop' as const), term: fc.nat(), index: fc.nat()}),
  fc.record({
    kind: fc.constant('command' as const),
    term: fc.nat(),
    index: fc.nat(),
    data: fc.record({data: fc.tuple(fc.constant(null), fc.dictionary(fc.string(), fc.jsonValue())), eid: fc.uuid()}),
  }),
  fc.record({kind: fc.constant('servers' as const), term: fc.nat(), index: fc.nat(), servers: fc.dictionary(fc.uuid(), fc.string())}),
  fc.record({kind: fc.constant('electionTimer' as const), term: fc.nat(), index: fc.nat(), electionTimerMs: fc.integer({min: 100, max: 600000})}),
)

describe('the records of a clustered database file', () => {
  it('decodes every kind of log entry to the entry it was encoded from', () => {
    fc.assert(
      fc.property(arbEntry, (e) => {
        const record = JSON.parse(JSON.stringify(entryRecord(e))) as Record<string, unknown>
        // Records travel as JSON text: compare with the entry as JSON makes it (plain objects).
        assert.deepEqual(recordEntry(record), JSON.parse(JSON.stringify(e)), `record ${JSON.stringify(record)}`)
      }),
    )
  })

  it('decodes the header record to the header and snapshot it was encoded from', () => {
    const joining: RaftFileHeader = {...header, clusterId: null, remoteAddresses: ['unix:s1.raft']}
    const empty: Snapshot = {index: 0, term: 0, servers: {}, electionTimerMs: 1000, data: new Uint8Array()}
    for (const [h, s] of [[header, snapshot], [joining, empty]] as const) {
      const record = JSON.parse(JSON.stringify(headerRecord(h, s))) as Record<string, unknown>
      const parsed = parseHeader(record)
      assert.deepEqual(parsed.header, h, `header of ${JSON.stringify(record)}`)
      assert.deepEqual({...parsed.snapshot, data: decodeSnapshotData(parsed.snapshot.data)}, {...s, data: decodeSnapshotData(s.data)})
    }
  })

  it('refuses a header without a server id and an entry with a negative index, naming the field', () => {
    assert.throws(() => parseHeader({local_address: 'unix:x', name: 'Test'}), /"server_id" must be a string/)
    assert.throws(() => recordEntry({term: 1, index: -1}), /"index" must be a non-negative integer/)
  })

  it('replays entries, truncation by a later entry at a held index, term, vote and commit index', () => {
    const records = [
      entryRecord(entries[0]),
      entryRecord(entries[1]),
      hardStateRecord({term: 2, vote: SID, commit: 0}),
      {commit_index: 3},
      entryRecord(entries[2]),
      // A new leader of term 3 replaces index 4 (Raft §5.3): the old entry 4 is gone.
      hardStateRecord({term: 3, vote: null, commit: 0}),
      entryRecord(command(4, 3, {T: {[U2]: null}}, 40)),
      {term: 3, vote: SID2},
      {commit_index: 9},
    ]
    const state = replayRecords(snapshot, records)
    assert.deepEqual(
      state.entries.map((e) => [e.index, e.term, e.kind]),
      [[2, 2, 'noop'], [3, 2, 'command'], [4, 3, 'command']],
    )
    assert.equal((state.entries[2] as {data: ClusterData}).data.eid, eid(40))
    // The commit index never points past the log.
    assert.deepEqual(state.hardState, {term: 3, vote: SID2, commit: 4})
  })

  it('refuses a log with a gap between entries', () => {
    assert.throws(() => replayRecords(snapshot, [entryRecord(entries[0]), entryRecord(entries[2])]), /entry 4 does not follow index 2/)
  })
})

describe('the clustered database file on disk', () => {
  let dir: string
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ovnctl-'))))
  afterEach(() => fs.rmSync(dir, {recursive: true, force: true}))

  it('reads back the header, snapshot, entries and hard state it wrote', async () => {
    const file = path.join(dir, 'db')
    await writeFile(file)
    const opened = await RaftFile.open(file)
    await opened.file.close()
    assert.equal(opened.dropped, null)
    assert.deepEqual(opened.header, header)
    assert.deepEqual(opened.state.entries, entries)
    assert.deepEqual(opened.state.hardState, {term: 2, vote: SID, commit: 6})
  })

  it('keeps the valid prefix when the last record is cut at any byte', async () => {
    const file = path.join(dir, 'db')
    await writeFile(file)
    const full = fs.readFileSync(file)
    const {file: log} = await RaftFile.open(file)
    await log.persist(ready({entries: [command(7, 2, {T: {[U1]: {name: 'last'}}}, 7)]}))
    await log.close()
    const longer = fs.readFileSync(file)
    assert.ok(longer.length > full.length)
    for (let cut = full.length; cut < longer.length; cut++) {
      fs.writeFileSync(file, longer.subarray(0, cut))
      const opened = await RaftFile.open(file)
      await opened.file.close()
      const last = opened.state.entries.at(-1)?.index
      assert.equal(last, 6, `cut at byte ${cut} of ${longer.length}: last entry index`)
      assert.equal(fs.statSync(file).size, full.length, `cut at byte ${cut}: file size after open (torn tail truncated)`)
      if (cut > full.length) assert.ok(opened.dropped !== null, `cut at byte ${cut}: no dropped tail reported`)
    }
    fs.writeFileSync(file, longer)
    const whole = await RaftFile.open(file)
    await whole.file.close()
    assert.equal(whole.state.entries.at(-1)?.index, 7, 'the uncut file keeps the last entry')
  })

  describe('read by ovsdb-tool', function () {
    before(function () {
      if (!toolsInstalled) this.skip()
    })

    it('shows our file with ovsdb-tool show-log: header, entries and commit index', async () => {
      const file = path.join(dir, 'db')
      await writeFile(file)
      const out = execFileSync('ovsdb-tool', ['show-log', file], {encoding: 'utf8', env: {...process.env, TZ: 'UTC'}})
      const expected = [
        'local address: "unix:s1.raft"',
        `server_id: ${SID.slice(0, 4)}`,
        `cluster_id: ${CID.slice(0, 4)}`,
        'prev_index: 1',
        'prev_schema: "Test", version="1.0.0"',
        'servers: aaaa("unix:s1.raft"), bbbb("unix:s2.raft")',
        'vote: aaaa',
        'record 7:\n commit_index: 6',
      ]
      for (const text of expected) {
        assert.ok(out.includes(text), `expected ${JSON.stringify(text)} in ovsdb-tool show-log:\n${out}`)
      }
      const sid = execFileSync('ovsdb-tool', ['db-sid', file], {encoding: 'utf8'}).trim()
      assert.equal(sid, SID)
    })

    it('turns our file into a standalone database with the rows with ovsdb-tool cluster-to-standalone', async () => {
      const file = path.join(dir, 'db')
      const out = path.join(dir, 'standalone.db')
      await writeFile(file)
      execFileSync('ovsdb-tool', ['cluster-to-standalone', out, file])
      const query = JSON.stringify(['Test', {op: 'select', table: 'T', where: [], columns: ['_uuid', 'name', 'n']}])
      const [result] = JSON.parse(execFileSync('ovsdb-tool', ['query', out, query], {encoding: 'utf8'})) as [{rows: {_uuid: [string, string]; name: string; n: number}[]}]
      const rows = result.rows.map((r) => ({uuid: r._uuid[1], name: r.name, n: r.n})).sort((a, b) => a.uuid.localeCompare(b.uuid))
      assert.deepEqual(rows, [
        {uuid: U1, name: 'one', n: 10},
        {uuid: U2, name: 'two', n: 2},
      ])
    })
  })
})

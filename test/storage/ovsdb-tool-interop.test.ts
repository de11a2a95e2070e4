import assert from 'node:assert/strict'
import {execFileSync, spawn, spawnSync} from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {FileLog} from '../../src/core/storage/file-log.js'

/** Files written by the real OVS tools are read by FileLog, and files written by FileLog are read by them. */

const toolsInstalled = spawnSync('ovsdb-tool', ['--version']).status === 0
const sbSchemaFile = '/usr/share/ovn/ovn-sb.ovsschema'

const schema = {
  name: 'Test',
  version: '1.2.3',
  cksum: '12345 67',
  tables: {
    T: {
      columns: {
        name: {type: 'string'},
        n: {type: 'integer'},
        tags: {type: {key: 'string', min: 0, max: 'unlimited'}},
      },
      isRoot: true,
    },
  },
}

const U1 = '11111111-aaaa-4bbb-8ccc-000000000001'
const U2 = '22222222-aaaa-4bbb-8ccc-000000000002'
const U3 = '33333333-aaaa-4bbb-8ccc-000000000003'
const date0 = Date.UTC(2024, 0, 2, 3, 4, 5, 678)

const records = [
  {_date: date0, _comment: 'first', T: {[U1]: {name: 'a', n: 1, tags: ['set', ['x', 'y']]}, [U2]: {name: 'b\nc'}}},
  {_date: date0 + 1, T: {[U1]: {n: 2}}},
  {_date: date0 + 2, _comment: 'delete b', T: {[U2]: null}},
]

/** Runs ovsdb-tool in UTC (show-log prints local times) and returns its stdout. */
function tool(...args: string[]): string {
  return execFileSync('ovsdb-tool', args, {encoding: 'utf8', env: {...process.env, TZ: 'UTC'}, stdio: ['ignore', 'pipe', 'pipe']})
}

function selectAll(db: string): unknown[] {
  const query = JSON.stringify(['Test', {op: 'select', table: 'T', where: [], columns: ['_uuid', 'name', 'n', 'tags']}])
  const [result] = JSON.parse(tool('query', db, query)) as [{rows: {_uuid: [string, string]}[]}]
  return result.rows.sort((a, b) => a._uuid[1].localeCompare(b._uuid[1]))
}

/** Splits `ovsdb-tool show-log -m` output into one block of lines per record. */
function showLog(db: string): string[][] {
  const blocks: string[][] = []
  for (const line of tool('show-log', '-m', db).split('\n')) {
    if (/^record \d+:/.test(line)) blocks.push([line])
    else if (line.trim() !== '') blocks.at(-1)!.push(line)
  }
  return blocks
}

/** What show-log prints in the first line of a transaction record: "<UTC date> <comment>". */
function showLogHeading(index: number, record: Record<string, unknown>): string {
  const date = new Date(record._date as number).toISOString().replace('T', ' ').replace('Z', '')
  return `record ${index}: ${date}${record._comment === undefined ? '' : ` ${JSON.stringify(record._comment)}`}`
}

/** The 8-digit UUID prefixes show-log prints for the rows a record touches, sorted. */
function rowPrefixes(record: Record<string, unknown>): string[] {
  const prefixes = Object.entries(record)
    .filter(([key]) => !key.startsWith('_'))
    .flatMap(([, rows]) => Object.keys(rows as object).map((uuid) => uuid.slice(0, 8)))
  return prefixes.sort()
}

describe('interoperability of the database file with ovsdb-tool and ovsdb-server', function () {
  let dir: string
  before(function () {
    if (!toolsInstalled) this.skip()
  })
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ovnctl-'))))
  afterEach(() => dir && fs.rmSync(dir, {recursive: true, force: true}))

  async function writeOurs(name: string): Promise<string> {
    const db = path.join(dir, name)
    const log = await FileLog.create(db, schema)
    for (const record of records) await log.append(record)
    await log.close()
    return db
  }

  it('reads the schema of a file made by ovsdb-tool create, and writes the same bytes for it', async () => {
    fs.writeFileSync(path.join(dir, 'test.ovsschema'), JSON.stringify(schema))
    const db = path.join(dir, 'tool.db')
    tool('create', db, path.join(dir, 'test.ovsschema'))
    const opened = await FileLog.open(db)
    await opened.log.close()
    assert.deepEqual([opened.schema.name, opened.schema.version, opened.schema.cksum], ['Test', '1.2.3', '12345 67'])
    assert.deepEqual(opened.records, [])
    const ours = path.join(dir, 'ours.db')
    await (await FileLog.create(ours, opened.schema)).close()
    assert.equal(fs.readFileSync(ours, 'utf8'), fs.readFileSync(db, 'utf8'))
  })

  it('reads the OVN Southbound schema from a file made by ovsdb-tool create', async function () {
    if (!fs.existsSync(sbSchemaFile)) this.skip()
    const db = path.join(dir, 'sb.db')
    tool('create', db, sbSchemaFile)
    const opened = await FileLog.open(db)
    await opened.log.close()
    const source = JSON.parse(fs.readFileSync(sbSchemaFile, 'utf8'))
    assert.equal(opened.schema.name, 'OVN_Southbound')
    assert.equal(opened.schema.version, tool('schema-version', sbSchemaFile).trim())
    assert.deepEqual(Object.keys(opened.schema.tables as object).sort(), Object.keys(source.tables).sort())
  })

  it('writes a file whose name, version, checksum, log and rows ovsdb-tool reads back', async () => {
    const db = await writeOurs('ours.db')
    assert.equal(tool('db-name', db).trim(), 'Test')
    assert.equal(tool('db-version', db).trim(), '1.2.3')
    assert.equal(tool('db-cksum', db).trim(), '12345 67')
    const log = showLog(db)
    assert.equal(log.length, 4, `show-log:\n${log.flat().join('\n')}`)
    assert.equal(log[0][0], 'record 0: "Test" schema, version="1.2.3", cksum="12345 67"')
    records.forEach((record, i) => assert.equal(log[i + 1][0], showLogHeading(i + 1, record)))
    assert.ok(log[1].includes(`  table T insert row "a" (${U1.slice(0, 8)}):`), `record 1: ${log[1].join('\n')}`)
    assert.ok(log[3].includes('    delete row'), `record 3: ${log[3].join('\n')}`)
    assert.deepEqual(selectAll(db), [{_uuid: ['uuid', U1], name: 'a', n: 2, tags: ['set', ['x', 'y']]}])
  })

  it('reads a file of ours after ovsdb-tool compact rewrote it', async () => {
    const db = await writeOurs('ours.db')
    tool('compact', db)
    const opened = await FileLog.open(db)
    await opened.log.close()
    assert.equal(opened.schema.name, 'Test')
    assert.equal(opened.records.length, 1)
    const snapshot = opened.records[0] as {T: Record<string, unknown>; _comment: string}
    assert.deepEqual(snapshot.T, {[U1]: {name: 'a', n: 2, tags: ['set', ['x', 'y']]}})
    assert.match(snapshot._comment, /^compacted by ovsdb-tool/)
  })

  it('writes a compacted file, with appends after it, that ovsdb-tool reads', async () => {
    const db = await writeOurs('ours.db')
    const {log} = await FileLog.open(db)
    const snapshot = {_date: date0 + 3, T: {[U1]: {name: 'a', n: 2, tags: ['set', ['x', 'y']]}, [U3]: {name: 'z'}}, _comment: 'compacted by ovnctl'}
    await Promise.all([log.compact(schema, snapshot), log.append({_date: date0 + 4, T: {[U3]: {n: 7}}})])
    await log.close()
    assert.equal(showLog(db).length, 3)
    assert.deepEqual(selectAll(db), [
      {_uuid: ['uuid', U1], name: 'a', n: 2, tags: ['set', ['x', 'y']]},
      {_uuid: ['uuid', U3], name: 'z', n: 7, tags: ['set', []]},
    ])
  })

  describe('with a file written by a running ovsdb-server', () => {
    let db: string

    beforeEach(async function () {
      this.timeout(15000)
      db = path.join(dir, 'server.db')
      fs.writeFileSync(path.join(dir, 'test.ovsschema'), JSON.stringify(schema))
      tool('create', db, path.join(dir, 'test.ovsschema'))
      const sock = path.join(dir, 'db.sock')
      const server = spawn('ovsdb-server', [`--remote=punix:${sock}`, `--unixctl=${path.join(dir, 'ctl')}`, '--no-chdir', '-vconsole:off', db], {stdio: 'ignore'})
      try {
        // The socket file appears at bind(), a moment before listen(): wait until the server answers.
        const answers = () => fs.existsSync(sock) && spawnSync('ovsdb-client', ['--timeout=1', 'list-dbs', `unix:${sock}`], {stdio: 'ignore'}).status === 0
        await waitFor(answers, 5000, `ovsdb-server on ${sock}`)
        const transact = (ops: object[]) => execFileSync('ovsdb-client', ['transact', `unix:${sock}`, JSON.stringify(['Test', ...ops])])
        transact([{op: 'insert', table: 'T', row: {name: 'a\nb', n: 5, tags: ['set', ['x', 'y']]}}, {op: 'comment', comment: 'hello'}])
        transact([{op: 'insert', table: 'T', row: {name: 'c'}}])
        transact([{op: 'update', table: 'T', where: [['name', '==', 'c']], row: {n: 6, tags: 'q'}}])
        transact([{op: 'delete', table: 'T', where: [['name', '==', 'a\nb']]}])
      } finally {
        const exited = new Promise((resolve) => server.on('exit', resolve))
        server.kill('SIGTERM')
        await exited
      }
    })

    it('reads the same records that ovsdb-tool show-log shows', async () => {
      const opened = await FileLog.open(db)
      await opened.log.close()
      assert.equal(opened.dropped, null)
      const log = showLog(db)
      assert.equal(log.length, opened.records.length + 1, `show-log:\n${log.flat().join('\n')}`)
      assert.equal(opened.records.length, 4)
      opened.records.forEach((record, i) => {
        const block = log[i + 1]
        assert.equal(block[0], showLogHeading(i + 1, record), `record ${i + 1}: ${JSON.stringify(record)}`)
        const shown = block.flatMap((line) => /\(([0-9a-f]{8})\)( diff)?:$/.exec(line)?.[1] ?? []).sort()
        assert.deepEqual(shown, rowPrefixes(record), `rows of record ${i + 1}: ${JSON.stringify(record)} vs\n${block.join('\n')}`)
      })
    })

    it('keeps the valid prefix of a torn tail at every cut, in a file ovsdb-tool then reads', async () => {
      const whole = fs.readFileSync(db)
      const before = await FileLog.open(db, {readOnly: true})
      await before.log.close()
      const lastStart = whole.lastIndexOf('OVSDB JSON ')
      const torn = path.join(dir, 'torn.db')
      for (let cut = lastStart + 1; cut < whole.length; cut++) {
        fs.writeFileSync(torn, whole.subarray(0, cut))
        const opened = await FileLog.open(torn)
        await opened.log.close()
        const context = `cut at ${cut} of ${whole.length}: dropped ${JSON.stringify(opened.dropped)}`
        assert.deepEqual(opened.records, before.records.slice(0, -1), context)
        assert.deepEqual(opened.dropped && [opened.dropped.offset, opened.dropped.bytes], [lastStart, cut - lastStart], context)
        assert.equal(fs.statSync(torn).size, lastStart, context)
      }
      assert.equal(showLog(torn).length, before.records.length)
    })
  })
})

async function waitFor(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  for (let waitedMs = 0; !condition(); waitedMs += 20) {
    if (waitedMs >= timeoutMs) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

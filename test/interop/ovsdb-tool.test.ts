import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import {nbSchema, ok, startDbServe, useTempDir} from './lib.js'

function transactArgs(sock: string, ops: object[]): string[] {
  return ['transact', `unix:${sock}`, JSON.stringify(['OVN_Northbound', ...ops])]
}

async function switchNames(file: string): Promise<string[]> {
  const out = JSON.parse(await ok('ovsdb-tool', ['query', file, JSON.stringify(['OVN_Northbound', {op: 'select', table: 'Logical_Switch', where: [], columns: ['name']}])]))
  return (out[0].rows as {name: string}[]).map((r) => r.name).sort()
}

describe('database files shared with the real ovsdb-tool', function () {
  this.timeout(60000)
  const tmp = useTempDir()

  it('creates a file that ovsdb-tool reads as the schema it was made from', async () => {
    const file = path.join(tmp.dir, 'created.db')
    await ok('ovnctl', ['db-create', file, nbSchema])
    const schema = JSON.parse(fs.readFileSync(nbSchema, 'utf8'))
    assert.equal(await ok('ovsdb-tool', ['db-name', file]), 'OVN_Northbound\n')
    assert.equal(await ok('ovsdb-tool', ['db-version', file]), `${schema.version}\n`)
    assert.equal(await ok('ovsdb-tool', ['db-cksum', file]), `${schema.cksum}\n`)
  })

  it('serves a file made by ovsdb-tool and writes commits that ovsdb-tool reads back', async () => {
    const file = path.join(tmp.dir, 'tool.db')
    await ok('ovsdb-tool', ['create', file, nbSchema])
    const server = await startDbServe(tmp.dir, [file], [], 'tool')
    try {
      await ok('ovsdb-client', transactArgs(server.sock, [{op: 'insert', table: 'Logical_Switch', row: {name: 'x1'}}, {op: 'comment', comment: 'first'}]))
      await ok('ovsdb-client', transactArgs(server.sock, [{op: 'insert', table: 'Logical_Switch', row: {name: 'x2'}}]))
      await ok('ovsdb-client', transactArgs(server.sock, [{op: 'update', table: 'Logical_Switch', where: [['name', '==', 'x1']], row: {other_config: ['map', [['a', 'b']]]}}]))
    } finally {
      await server.stop()
    }
    assert.deepEqual(await switchNames(file), ['x1', 'x2'])
    const log = await ok('ovsdb-tool', ['show-log', file])
    assert.match(log, /record 1:.*"first"/)
    assert.match(log, /record 3:/)
  })

  it('serves a file compacted by ovsdb-tool, and ovsdb-tool reads a file compacted online', async () => {
    const file = path.join(tmp.dir, 'compact.db')
    await ok('ovnctl', ['db-create', file, nbSchema])
    let server = await startDbServe(tmp.dir, [file], [], 'compact')
    for (let i = 0; i < 20; i++) await ok('ovsdb-client', transactArgs(server.sock, [{op: 'insert', table: 'Logical_Switch', row: {name: `c${i}`}}]))
    await ok('ovsdb-client', transactArgs(server.sock, [{op: 'delete', table: 'Logical_Switch', where: [['name', '==', 'c0']]}]))
    await ok('ovs-appctl', ['-t', server.ctl, 'ovsdb-server/compact'])
    await ok('ovsdb-client', transactArgs(server.sock, [{op: 'insert', table: 'Logical_Switch', row: {name: 'after'}}]))
    await server.stop()
    const expected = [...Array.from({length: 19}, (_, i) => `c${i + 1}`), 'after'].sort()
    assert.deepEqual(await switchNames(file), expected)
    const records = (await ok('ovsdb-tool', ['show-log', file])).split('\n').filter((l) => l.startsWith('record')).length
    assert.equal(records, 3, 'online compaction should leave the schema, one snapshot and the later commit')
    await ok('ovsdb-tool', ['compact', file])
    server = await startDbServe(tmp.dir, [file], [], 'compact2')
    try {
      const dump = JSON.parse(await ok('ovsdb-client', ['--format=json', 'dump', `unix:${server.sock}`, 'OVN_Northbound', 'Logical_Switch', 'name']))
      assert.deepEqual((dump.data as string[][]).map((r) => r[0]).sort(), expected)
    } finally {
      await server.stop()
    }
  })

  it('keeps the valid prefix of a file with a torn tail and says what it dropped', async () => {
    const file = path.join(tmp.dir, 'torn.db')
    await ok('ovnctl', ['db-create', file, nbSchema])
    let server = await startDbServe(tmp.dir, [file], [], 'torn')
    await ok('ovsdb-client', transactArgs(server.sock, [{op: 'insert', table: 'Logical_Switch', row: {name: 'kept'}}]))
    await server.stop()
    fs.appendFileSync(file, 'OVSDB JSON 99 0123456789012345678901234567890123456789\n{"Logical_Sw')
    server = await startDbServe(tmp.dir, [file], [], 'torn2')
    try {
      const dump = JSON.parse(await ok('ovsdb-client', ['--format=json', 'dump', `unix:${server.sock}`, 'OVN_Northbound', 'Logical_Switch', 'name']))
      assert.deepEqual(dump.data, [['kept']])
    } finally {
      await server.stop()
    }
    assert.match(server.stderr(), /torn\.db.*dropped \d+ bytes/, `the log should say what was dropped:\n${server.stderr()}`)
    assert.deepEqual(await switchNames(file), ['kept'])
  })

  it('loses no acknowledged commit when the server is killed with SIGKILL', async () => {
    const file = path.join(tmp.dir, 'kill.db')
    await ok('ovnctl', ['db-create', file, nbSchema])
    const server = await startDbServe(tmp.dir, [file], [], 'kill')
    const acked: string[] = []
    for (let i = 0; i < 30; i++) {
      await ok('ovsdb-client', transactArgs(server.sock, [{op: 'insert', table: 'Logical_Switch', row: {name: `k${i}`}}]))
      acked.push(`k${i}`)
    }
    await server.stop('SIGKILL')
    assert.deepEqual(await switchNames(file), acked.sort())
  })
})

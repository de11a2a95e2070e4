import assert from 'node:assert/strict'
import fs from 'node:fs'
import net from 'node:net'
import path from 'node:path'
import {eventually, nbSchema, ok, ovnctl, startDbServe, useTempDir} from './lib.js'

describe('operating db-serve: control socket, schema conversion, remotes from the database', function () {
  this.timeout(60000)
  const tmp = useTempDir()

  it('answers "ovnctl appctl" on its control socket as it answers ovs-appctl', async () => {
    const db = path.join(tmp.dir, 'appctl.db')
    await ok('ovnctl', ['db-create', db, nbSchema])
    const server = await startDbServe(tmp.dir, [db], [], 'appctl')
    try {
      const ours = await ok('ovnctl', ['appctl', '-t', server.ctl, 'ovsdb-server/list-dbs'])
      assert.equal(ours, await ok('ovs-appctl', ['-t', server.ctl, 'ovsdb-server/list-dbs']))
      const bad = await ovnctl(['appctl', '-t', server.ctl, 'no/such-command'])
      assert.equal(bad.code, 1)
      assert.match(bad.stderr, /"no\/such-command" is not a valid command/)
      assert.equal(bad.stdout, '')
      await ok('ovnctl', ['appctl', '-t', server.ctl, 'exit'])
      await eventually(() => server.child.exitCode !== null, 5000, 'db-serve to exit on "exit"')
      assert.equal(server.child.exitCode, 0)
    } finally {
      await server.stop()
    }
  })

  it('converts a database online with ovsdb-client convert, keeping its rows', async () => {
    const db = path.join(tmp.dir, 'convert.db')
    await ok('ovnctl', ['db-create', db, nbSchema])
    const server = await startDbServe(tmp.dir, [db], [], 'convert')
    const remote = `unix:${server.sock}`
    try {
      await ok('ovsdb-client', ['transact', remote, JSON.stringify(['OVN_Northbound', {op: 'insert', table: 'Logical_Switch', row: {name: 'before'}}])])
      const schema = JSON.parse(fs.readFileSync(nbSchema, 'utf8'))
      schema.version = '99.0.0'
      delete schema.cksum
      schema.tables.Logical_Switch.columns.added_by_test = {type: {key: 'string', min: 0, max: 1}}
      const newSchema = path.join(tmp.dir, 'new.ovsschema')
      fs.writeFileSync(newSchema, JSON.stringify(schema))
      await ok('ovsdb-client', ['convert', remote, newSchema])
      assert.equal(await ok('ovsdb-client', ['get-schema-version', remote, 'OVN_Northbound']), '99.0.0\n')
      await ok('ovsdb-client', ['transact', remote, JSON.stringify(['OVN_Northbound', {op: 'update', table: 'Logical_Switch', where: [['name', '==', 'before']], row: {added_by_test: 'yes'}}])])
      const dump = JSON.parse(await ok('ovsdb-client', ['--format=json', 'dump', remote, 'OVN_Northbound', 'Logical_Switch', 'name', 'added_by_test']))
      const row = Object.fromEntries((dump.headings as string[]).map((h, i) => [h, dump.data[0][i]]))
      assert.deepEqual(row, {name: 'before', added_by_test: 'yes'})
    } finally {
      await server.stop()
    }
    assert.equal(await ok('ovsdb-tool', ['db-version', db]), '99.0.0\n')
  })

  it('serves the remotes named in the database (db:DB,TABLE,COLUMN) and follows changes to them', async () => {
    const db = path.join(tmp.dir, 'remotes.db')
    await ok('ovnctl', ['db-create', db, nbSchema])
    const server = await startDbServe(tmp.dir, [db], ['--remote=db:OVN_Northbound,NB_Global,connections'], 'remotes')
    const extra = path.join(tmp.dir, 'from-db.sock')
    try {
      const nbctl = (...args: string[]) => ok('ovn-nbctl', [`--db=unix:${server.sock}`, '--timeout=10', ...args])
      await nbctl('set-connection', `punix:${extra}`)
      await eventually(() => fs.existsSync(extra), 5000, 'db-serve to listen on the remote from the Connection table')
      assert.equal(await ok('ovsdb-client', ['list-dbs', `unix:${extra}`]), 'OVN_Northbound\n_Server\n')
      await nbctl('del-connection')
      await eventually(async () => !(await canConnect(extra)), 5000, 'db-serve to stop listening after del-connection')
    } finally {
      await server.stop()
    }
  })
})

function canConnect(sock: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(sock)
    s.on('connect', () => (s.destroy(), resolve(true)))
    s.on('error', () => resolve(false))
  })
}

describe('db-serve connection methods with the real ovsdb-client', function () {
  this.timeout(30000)
  const tmp = useTempDir()

  it('listens on ptcp: and connects out on unix: to a client that listens (punix:)', async () => {
    const db = path.join(tmp.dir, 'tcp.db')
    await ok('ovnctl', ['db-create', db, nbSchema])
    const port = 20000 + Math.floor(Math.random() * 20000)
    const passive = path.join(tmp.dir, 'client-listens.sock')
    // ovsdb-client waits on a passive remote until the server connects to it (ovsdb-client(1)).
    const client = ok('ovsdb-client', ['--timeout=20', 'list-dbs', `punix:${passive}`], {timeoutMs: 25000})
    await eventually(() => fs.existsSync(passive), 5000, 'ovsdb-client to listen')
    const server = await startDbServe(tmp.dir, [db], [`--remote=ptcp:${port}:127.0.0.1`, `--remote=unix:${passive}`], 'tcp')
    try {
      assert.equal(await ok('ovsdb-client', ['list-dbs', `tcp:127.0.0.1:${port}`]), 'OVN_Northbound\n_Server\n')
      assert.equal(await client, 'OVN_Northbound\n_Server\n')
    } finally {
      await server.stop()
    }
  })
})

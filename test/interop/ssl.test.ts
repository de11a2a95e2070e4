import assert from 'node:assert/strict'
import path from 'node:path'
import {TestCluster, transact as clusterTransact} from '../cluster/harness.js'
import {freePort, pki, TestCa, type CertFiles} from '../lib/pki.js'
import {eventually, ok, ovnctl, run, type ServerProcess, startDbServe, startOvsdbServer, sbSchema, useTempDir} from './lib.js'

describe('SSL with the real OVS and OVN tools', function () {
  this.timeout(120000)
  const tmp = useTempDir()
  let ca: TestCa
  let rogue: TestCa
  let server: CertFiles
  let client: CertFiles
  let intruder: CertFiles

  before(() => {
    ca = new TestCa(path.join(tmp.dir, 'pki'))
    rogue = new TestCa(path.join(tmp.dir, 'rogue'), 'rogue')
    server = ca.issue('server')
    client = ca.issue('client')
    intruder = rogue.issue('intruder')
  })

  describe('ovnctl db-serve on pssl:', () => {
    let ours: ServerProcess
    let remote: string
    before(async () => {
      const db = path.join(tmp.dir, 'sb.db')
      await ok('ovnctl', ['db-create', db, sbSchema])
      const port = await freePort()
      remote = `ssl:127.0.0.1:${port}`
      ours = await startDbServe(tmp.dir, [db], [`--remote=pssl:${port}:127.0.0.1`, ...pki(server, ca)], 'ours')
    })
    after(() => ours?.stop())

    it('serves the real ovsdb-client over ssl:', async () => {
      const out = await ok('ovsdb-client', [...pki(client, ca), 'list-dbs', remote])
      assert.deepEqual(out.trim().split('\n'), ['OVN_Southbound', '_Server'])
    })

    it('serves ovn-sbctl over ssl:, reads and writes', async () => {
      await ok('ovn-sbctl', [`--db=${remote}`, ...pki(client, ca), 'chassis-add', 'hv1', 'geneve', '192.0.2.1'])
      const out = await ok('ovn-sbctl', [`--db=${remote}`, ...pki(client, ca), 'show'])
      assert.match(out, /Chassis hv1/)
      assert.match(out, /192\.0\.2\.1/)
    })

    it('refuses ovsdb-client with a certificate the CA did not sign, and keeps serving the others', async () => {
      const r = await run('ovsdb-client', [...pki(intruder, rogue), '--timeout=5', 'list-dbs', remote])
      assert.notEqual(r.code, 0, `the intruder was served: ${r.stdout}`)
      await eventually(() => /refused/.test(ours.stderr()) || /refused 127\.0\.0\.1/.test(ours.stderr()), 5000, 'the refusal in the log').catch(() => {})
      assert.match(await ok('ovsdb-client', [...pki(client, ca), 'list-dbs', remote]), /OVN_Southbound/)
    })
  })

  it('dials out over ssl: to a client that listens (an active remote), as ovsdb-server --remote=ssl: does', async () => {
    const db = path.join(tmp.dir, 'active.db')
    await ok('ovnctl', ['db-create', db, sbSchema])
    const port = await freePort()
    // ovsdb-client waits on pssl: for the server to connect (ovsdb-client(1) passive connection methods).
    const listing = run('ovsdb-client', [...pki(client, ca), '--timeout=30', 'list-dbs', `pssl:${port}:127.0.0.1`])
    await new Promise((r) => setTimeout(r, 500))
    const active = await startDbServe(tmp.dir, [db], [`--remote=ssl:127.0.0.1:${port}`, ...pki(server, ca)], 'active')
    try {
      const r = await listing
      assert.equal(r.code, 0, `ovsdb-client on pssl: ${r.stderr}`)
      assert.deepEqual(r.stdout.trim().split('\n'), ['OVN_Southbound', '_Server'])
    } finally {
      await active.stop()
    }
  })

  describe('ovnctl clients against the real ovsdb-server on pssl:', () => {
    let real: ServerProcess
    let remote: string
    before(async () => {
      const db = path.join(tmp.dir, 'real-sb.db')
      await ok('ovsdb-tool', ['create', db, sbSchema])
      const port = await freePort()
      remote = `ssl:127.0.0.1:${port}`
      real = await startOvsdbServer(tmp.dir, [db], 'real-ssl', [`--remote=pssl:${port}:127.0.0.1`, ...pki(server, ca)])
      await eventually(async () => (await run('ovsdb-client', [...pki(client, ca), '--timeout=2', 'list-dbs', remote])).code === 0, 10000, 'ovsdb-server on pssl:')
    })
    after(() => real?.stop())

    it('db-transact and db-dump talk to ovsdb-server over ssl:', async () => {
      const txn = JSON.stringify(['OVN_Southbound', {op: 'insert', table: 'SB_Global', row: {nb_cfg: 7}}])
      await ok('ovnctl', ['db-transact', `--db=${remote}`, ...pki(client, ca), txn])
      const out = await ok('ovnctl', ['db-dump', `--db=${remote}`, ...pki(client, ca), '--format=csv', 'OVN_Southbound', 'SB_Global', 'nb_cfg'])
      assert.match(out, /^_uuid,nb_cfg\n[0-9a-f-]{36},7\n$/)
    })

    it('exits 4 when the server refuses ovnctl\'s certificate, naming the failure', async () => {
      const r = await ovnctl(['db-dump', `--db=${remote}`, ...pki(intruder, ca), '--timeout=5s', 'OVN_Southbound', 'SB_Global'])
      assert.equal(r.code, 4, `exit ${r.code}: ${r.stderr}`)
      assert.match(r.stderr, /ssl:127\.0\.0\.1/)
    })

    it('exits 4 when the server\'s certificate is not signed by ovnctl\'s CA', async () => {
      const r = await ovnctl(['db-dump', `--db=${remote}`, ...pki(client, rogue), '--timeout=5s', 'OVN_Southbound', 'SB_Global'])
      assert.equal(r.code, 4, `exit ${r.code}: ${r.stderr}`)
      assert.match(r.stderr, /certificate/)
    })

    it('exits 4 with the missing flag named when ssl: is used without a key', async () => {
      const r = await ovnctl(['db-dump', `--db=${remote}`, 'OVN_Southbound', 'SB_Global'])
      assert.equal(r.code, 4, `exit ${r.code}: ${r.stderr}`)
      assert.match(r.stderr, /--private-key/)
    })
  })

  describe('SSL settings and remotes from the database (db: forms, the SSL and Connection tables)', () => {
    let ours: ServerProcess
    let port: number
    before(async () => {
      const db = path.join(tmp.dir, 'sb-dbssl.db')
      await ok('ovnctl', ['db-create', db, sbSchema])
      const flags = ['private_key', 'certificate', 'ca_cert', 'ssl_protocols', 'ssl_ciphers'].map(
        (c) => `--${c === 'private_key' ? 'private-key' : c === 'ca_cert' ? 'ca-cert' : c.replace('_', '-')}=db:OVN_Southbound,SSL,${c}`,
      )
      ours = await startDbServe(tmp.dir, [db], ['--remote=db:OVN_Southbound,SB_Global,connections', ...flags], 'dbssl')
      port = await freePort()
    })
    after(() => ours?.stop())

    it('listens on pssl: once ovn-sbctl set-connection and then set-ssl have filled the database', async () => {
      const unix = `--db=unix:${ours.sock}`
      await ok('ovn-sbctl', [unix, 'init'])
      // The connection first: db-serve cannot listen until the SSL row follows, and must then.
      await ok('ovn-sbctl', [unix, 'set-connection', `pssl:${port}:127.0.0.1`])
      await eventually(() => /trying again when the database changes/.test(ours.stderr()), 10000, 'the missing SSL settings in the log')
      await ok('ovn-sbctl', [unix, 'set-ssl', server.key, server.cert, ca.cert, 'TLSv1.2'])
      const remote = `ssl:127.0.0.1:${port}`
      await eventually(async () => (await run('ovsdb-client', [...pki(client, ca), '--timeout=2', 'list-dbs', remote])).code === 0, 10000, 'db-serve on the pssl: remote from the database')
      const r = await run('ovsdb-client', [...pki(intruder, rogue), '--timeout=3', 'list-dbs', remote])
      assert.notEqual(r.code, 0)
    })
  })

  describe('a cluster whose members talk TLS', () => {
    let cluster: TestCluster
    after(() => cluster?.destroy())

    it('elects a leader and replicates writes over ssl: cluster links', async () => {
      const ports = [await freePort(), await freePort(), await freePort()]
      const member = ca.issue('member')
      cluster = new TestCluster(3, {raftAddress: (n) => `ssl:127.0.0.1:${ports[n - 1]}`, serveArgs: pki(member, ca)})
      await cluster.createFiles(sbSchema, 'OVN_Southbound')
      for (const m of cluster.members) cluster.start(m)
      const leader = await cluster.agreedLeader()
      await clusterTransact(leader.sock, [{op: 'insert', table: 'SB_Global', row: {nb_cfg: 42}}])
      for (const m of cluster.members) {
        await cluster.waitFor(`the write on s${m.n}`, async () => {
          const out = await run('ovsdb-client', ['transact', `unix:${m.sock}`, JSON.stringify(['OVN_Southbound', {op: 'select', table: 'SB_Global', where: []}])])
          return /"nb_cfg":42/.test(out.stdout)
        })
      }
      const st = await cluster.status(leader)
      assert.equal((st!.connections as string[]).length >= 2, true, `connections: ${JSON.stringify(st!.connections)}`)
    })
  })
})

import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import {TestCluster, transact as clusterTransact} from '../cluster/harness.js'
import {jsonToOvsString} from '../../src/core/ovsdb/errors.js'
import {freePort, pki, TestCa, type CertFiles} from '../lib/pki.js'
import {eventually, ok, ovnctl, run, type ServerProcess, startDbServe, startOvsdbServer, sbSchema, useTempDir} from './lib.js'

/** The RBAC rows a Southbound gets, the way ovn-northd writes them for ovn-controller (ovn-sb(5) RBAC_Role). */
function rbacSetup(targets: string[]): object[] {
  const perm = (name: string, table: string, authorization: string[], insertDelete: boolean, update: string[]) => ({
    op: 'insert', table: 'RBAC_Permission', 'uuid-name': name,
    row: {table, authorization: ['set', authorization], insert_delete: insertDelete, update: ['set', update]},
  })
  return [
    perm('pc', 'Chassis', ['name'], true, ['nb_cfg', 'external_ids', 'encaps', 'other_config']),
    perm('pe', 'Encap', ['chassis_name'], true, ['type', 'options', 'ip']),
    // ovn-northd authorizes every chassis on Port_Binding; here a port belongs to the chassis it requests.
    perm('pp', 'Port_Binding', ['options:requested-chassis'], false, ['chassis', 'up']),
    {op: 'insert', table: 'RBAC_Role', row: {name: 'ovn-controller', permissions: ['map', [['Chassis', ['named-uuid', 'pc']], ['Encap', ['named-uuid', 'pe']], ['Port_Binding', ['named-uuid', 'pp']]]]}},
    ...targets.map((target, i) => ({op: 'insert', table: 'Connection', 'uuid-name': `c${i}`, row: {target, role: 'ovn-controller'}})),
    {op: 'insert', table: 'SB_Global', row: {connections: ['set', targets.map((_, i) => ['named-uuid', `c${i}`])]}},
    {op: 'insert', table: 'Datapath_Binding', 'uuid-name': 'dp', row: {tunnel_key: 1}},
    {op: 'insert', table: 'Port_Binding', row: {logical_port: 'lp-a', datapath: ['named-uuid', 'dp'], tunnel_key: 1, options: ['map', [['requested-chassis', 'chassis-a']]]}},
    {op: 'insert', table: 'Port_Binding', row: {logical_port: 'lp-b', datapath: ['named-uuid', 'dp'], tunnel_key: 2, options: ['map', [['requested-chassis', 'chassis-b']]]}},
  ]
}

function addChassis(name: string, ip: string): object[] {
  return [
    {op: 'insert', table: 'Encap', 'uuid-name': 'e', row: {type: 'geneve', ip, chassis_name: name}},
    {op: 'insert', table: 'Chassis', row: {name, hostname: name, encaps: ['named-uuid', 'e']}},
  ]
}

const byName = (name: string) => [['name', '==', name]]
const byPort = (port: string) => [['logical_port', '==', port]]

/** What each chassis tries, in order, and whether it must be allowed. */
const steps: {who: 'a' | 'b'; what: string; ops: object[]; allowed: boolean}[] = [
  {who: 'a', what: 'A registers its own chassis and encap', ops: addChassis('chassis-a', '192.0.2.1'), allowed: true},
  {who: 'b', what: 'B registers its own chassis and encap', ops: addChassis('chassis-b', '192.0.2.2'), allowed: true},
  {who: 'a', what: 'A updates B\'s Chassis', ops: [{op: 'update', table: 'Chassis', where: byName('chassis-b'), row: {external_ids: ['map', [['owner', 'a']]]}}], allowed: false},
  {who: 'a', what: 'A mutates B\'s Chassis', ops: [{op: 'mutate', table: 'Chassis', where: byName('chassis-b'), mutations: [['external_ids', 'insert', ['map', [['x', 'y']]]]]}], allowed: false},
  {who: 'a', what: 'A deletes B\'s Chassis', ops: [{op: 'delete', table: 'Chassis', where: byName('chassis-b')}], allowed: false},
  {who: 'a', what: 'A inserts a Chassis named as B', ops: addChassis('chassis-b', '192.0.2.9'), allowed: false},
  {who: 'a', what: 'A updates B\'s Encap', ops: [{op: 'update', table: 'Encap', where: [['chassis_name', '==', 'chassis-b']], row: {ip: '198.51.100.1'}}], allowed: false},
  {who: 'a', what: 'A deletes B\'s Encap', ops: [{op: 'delete', table: 'Encap', where: [['chassis_name', '==', 'chassis-b']]}], allowed: false},
  {who: 'a', what: 'A claims B\'s Port_Binding', ops: [{op: 'update', table: 'Port_Binding', where: byPort('lp-b'), row: {up: ['set', [true]]}}], allowed: false},
  {who: 'a', what: 'A deletes its own Port_Binding (insert_delete is false)', ops: [{op: 'delete', table: 'Port_Binding', where: byPort('lp-a')}], allowed: false},
  {who: 'a', what: 'A updates every Chassis at once', ops: [{op: 'update', table: 'Chassis', where: [], row: {nb_cfg: 5}}], allowed: false},
  {who: 'a', what: 'A changes a column its role may not update', ops: [{op: 'update', table: 'Chassis', where: byName('chassis-a'), row: {hostname: 'renamed'}}], allowed: false},
  {who: 'a', what: 'A updates its own Chassis', ops: [{op: 'update', table: 'Chassis', where: byName('chassis-a'), row: {external_ids: ['map', [['ok', 'yes']]]}}], allowed: true},
  {who: 'a', what: 'A mutates its own Chassis', ops: [{op: 'mutate', table: 'Chassis', where: byName('chassis-a'), mutations: [['nb_cfg', '+=', 1]]}], allowed: true},
  {who: 'a', what: 'A sets its own Port_Binding up', ops: [{op: 'update', table: 'Port_Binding', where: byPort('lp-a'), row: {up: ['set', [true]]}}], allowed: true},
  {who: 'a', what: 'A reads every Chassis', ops: [{op: 'select', table: 'Chassis', where: [], columns: ['name']}], allowed: true},
  {who: 'b', what: 'B deletes its own Chassis and Encap', ops: [{op: 'delete', table: 'Chassis', where: byName('chassis-b')}, {op: 'delete', table: 'Encap', where: [['chassis_name', '==', 'chassis-b']]}], allowed: true},
]

/** Replaces each distinct UUID by its order of appearance, so two servers' outputs compare. */
function normalize(text: string): string {
  const seen = new Map<string, string>()
  return text.replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, (u) => {
    if (!seen.has(u)) seen.set(u, `<uuid${seen.size}>`)
    return seen.get(u)!
  })
}

describe('Southbound RBAC: chassis may write only their own rows, as ovsdb-server enforces it', function () {
  this.timeout(120000)
  const tmp = useTempDir()
  let ca: TestCa
  let certs: Record<'a' | 'b', CertFiles>
  const servers: {name: string; proc: ServerProcess; ssl: string; tcp: string; transcript: string[]}[] = []

  before(async () => {
    ca = new TestCa(path.join(tmp.dir, 'pki'))
    certs = {a: ca.issue('chassis-a'), b: ca.issue('chassis-b')}
    const serverCert = ca.issue('sb-server')
    for (const name of ['ovsdb-server', 'ovnctl']) {
      const db = path.join(tmp.dir, `${name}.db`)
      const [sslPort, tcpPort] = [await freePort(), await freePort()]
      const flags = ['--remote=db:OVN_Southbound,SB_Global,connections', ...pki(serverCert, ca)]
      let proc: ServerProcess
      if (name === 'ovnctl') {
        await ok('ovnctl', ['db-create', db, sbSchema])
        proc = await startDbServe(tmp.dir, [db], flags, name)
      } else {
        await ok('ovsdb-tool', ['create', db, sbSchema])
        proc = await startOvsdbServer(tmp.dir, [db], name, flags)
      }
      await ok('ovsdb-client', ['transact', `unix:${proc.sock}`, JSON.stringify(['OVN_Southbound', ...rbacSetup([`pssl:${sslPort}:127.0.0.1`, `ptcp:${tcpPort}:127.0.0.1`])])])
      const ssl = `ssl:127.0.0.1:${sslPort}`
      await eventually(async () => (await run('ovsdb-client', [...pki(certs.a, ca), '--timeout=2', 'list-dbs', ssl])).code === 0, 10000, `${name} on ${ssl}`)
      servers.push({name, proc, ssl, tcp: `tcp:127.0.0.1:${tcpPort}`, transcript: []})
    }
  })
  after(async () => {
    for (const s of servers) await s.proc.stop()
  })

  async function dump(sock: string): Promise<string> {
    const ops = ['Chassis', 'Encap', 'Port_Binding'].map((table) => ({op: 'select', table, where: [], columns: table === 'Port_Binding' ? ['logical_port', 'up', 'options'] : table === 'Chassis' ? ['name', 'hostname', 'external_ids', 'nb_cfg'] : ['chassis_name', 'ip']}))
    const out = await ok('ovsdb-client', ['transact', `unix:${sock}`, JSON.stringify(['OVN_Southbound', ...ops])])
    return JSON.stringify((JSON.parse(out) as {rows: Record<string, unknown>[]}[]).map((r) => r.rows.map((row) => JSON.stringify(row)).sort()))
  }

  it('refuses every write to another chassis\'s Chassis, Encap and Port_Binding rows with "permission error", and changes nothing', async () => {
    for (const step of steps) {
      for (const s of servers) {
        const before = await dump(s.proc.sock)
        const r = await ovnctl(['db-transact', `--db=${s.ssl}`, ...pki(certs[step.who], ca), JSON.stringify(['OVN_Southbound', ...step.ops])])
        const results = JSON.parse(r.stdout || 'null') as ({error?: string; details?: string; rows?: object[]} | null)[] | null
        assert.ok(results !== null, `${s.name}: ${step.what}: no results: ${r.stderr}`)
        const refusal = results.find((x) => x?.error !== undefined)
        if (step.allowed) {
          assert.equal(refusal, undefined, `${s.name}: ${step.what} was refused: ${JSON.stringify(results)}`)
        } else {
          assert.equal(refusal?.error, 'permission error', `${s.name}: ${step.what}: expected a permission error, got ${JSON.stringify(results)}`)
          assert.equal(await dump(s.proc.sock), before, `${s.name}: ${step.what} changed the database`)
        }
        // Rows come in hash order from ovsdb-server: compare them sorted.
        const canonical = results.map((x) => (x !== null && 'rows' in x ? {rows: (x.rows as object[]).map((row) => jsonToOvsString(row)).sort()} : x))
        s.transcript.push(`${step.what}: exit ${r.code} ${normalize(jsonToOvsString(canonical))}`)
      }
    }
  })

  it('answers each attempt exactly as the real ovsdb-server does (results and error texts)', () => {
    const [real, ours] = servers
    assert.equal(ours.transcript.length, steps.length)
    for (let i = 0; i < steps.length; i++) assert.equal(ours.transcript[i], real.transcript[i], `step ${i}: ${steps[i].what}`)
  })

  it('leaves both servers with the same rows', async () => {
    assert.equal(normalize(await dump(servers[1].proc.sock)), normalize(await dump(servers[0].proc.sock)))
  })

  it('refuses writes from a client with a role but no certificate (plain tcp:) as ovsdb-server does', async () => {
    const outs: string[] = []
    for (const s of servers) {
      const r = await run('ovsdb-client', ['transact', s.tcp, JSON.stringify(['OVN_Southbound', ...addChassis('chassis-c', '192.0.2.3')])])
      outs.push(normalize(jsonToOvsString(JSON.parse(r.stdout || 'null'))))
    }
    assert.match(outs[1], /permission error/)
    assert.equal(outs[1], outs[0])
  })
})

describe('Southbound RBAC on a cluster follower, which forwards writes to the leader', function () {
  this.timeout(120000)
  const tmp = useTempDir()
  let cluster: TestCluster | undefined
  after(() => cluster?.destroy())

  it('applies the role of the follower\'s remote to the writes it forwards', async () => {
    const ca = new TestCa(path.join(tmp.dir, 'pki'))
    const a = ca.issue('chassis-a')
    cluster = new TestCluster(3, {serveArgs: [...pki(ca.issue('sb-server'), ca), '--remote=db:OVN_Southbound,SB_Global,connections']})
    await cluster.createFiles(sbSchema, 'OVN_Southbound')
    for (const m of cluster.members) cluster.start(m)
    const leader = await cluster.agreedLeader()
    // Port 0: each member listens where it can and logs the port.
    await clusterTransact(leader.sock, [...rbacSetup(['pssl:0:127.0.0.1']), ...addChassis('chassis-b', '192.0.2.2')])
    const follower = cluster.members.find((m) => m !== leader)!
    const port = await cluster.waitFor('the follower listening on its pssl: remote', async () => {
      const log = fs.readFileSync(path.join(cluster!.dir, `s${follower.n}.log`), 'utf8')
      const m = /listening on pssl:0:127\.0\.0\.1 \(port (\d+)\)/.exec(log)
      return m === null ? null : Number(m[1])
    })
    const remote = `ssl:127.0.0.1:${port}`
    const transactAs = async (ops: object[]) => {
      const r = await ovnctl(['db-transact', `--db=${remote}`, ...pki(a, ca), JSON.stringify(['OVN_Southbound', ...ops])])
      return JSON.parse(r.stdout || 'null') as ({error?: string} | null)[]
    }
    const own = await transactAs(addChassis('chassis-a', '192.0.2.1'))
    assert.ok(own.every((x) => x?.error === undefined), `own chassis refused: ${JSON.stringify(own)}`)
    const theirs = await transactAs([{op: 'update', table: 'Chassis', where: byName('chassis-b'), row: {nb_cfg: 9}}])
    assert.equal(theirs.find((x) => x?.error !== undefined)?.error, 'permission error', JSON.stringify(theirs))
    const rows = await clusterTransact(leader.sock, [{op: 'select', table: 'Chassis', where: [], columns: ['name', 'nb_cfg']}])
    assert.deepEqual((rows[0] as {rows: {name: string; nb_cfg: number}[]}).rows.map((r) => `${r.name}:${r.nb_cfg}`).sort(), ['chassis-a:0', 'chassis-b:0'])
  })
})

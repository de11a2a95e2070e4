/**
 * Real clients through an ovnctl relay in front of a three-member ovnctl cluster (ovsdb(7) "Relay Service Model"):
 * ovn-sbctl, the Python IDL and ovn-controller use the relay as they would use ovsdb-server's; a kill -9 of the
 * cluster leader shows to them only as latency: no reconnect, no full resend, writes keep committing.
 */
import assert from 'node:assert/strict'
import {eventually, ovnctl, run, type ServerProcess} from '../interop/lib.js'
import {type Member, sb, TestCluster, transact} from '../cluster/harness.js'
import {PyIdl} from '../cluster/py-idl.js'
import {Hypervisor, relayStatus, replicating, sbctl, sbSchema, startRelay} from './lib.js'

/** Names of the Address_Set rows member `m` serves. */
async function addressSets(m: Member): Promise<string[]> {
  const [res] = (await transact(m.sock, [{op: 'select', table: 'Address_Set', where: [], columns: ['name']}])) as {rows: {name: string}[]}[]
  return res.rows.map((r) => r.name).sort()
}

describe('an ovnctl relay in front of a three-member ovnctl cluster', function () {
  this.timeout(120_000)
  const cluster = new TestCluster(3)
  let relay: ServerProcess
  let remote: string
  let idl: PyIdl | null = null
  let hv: Hypervisor | null = null

  before(async () => {
    await cluster.createAndStart()
    await transact(cluster.members[0].sock, [{op: 'insert', table: 'SB_Global', row: {}}])
    relay = await startRelay(cluster.dir, 'relay', sb, cluster.members.map((m) => `unix:${m.sock}`).join(','))
    remote = `unix:${relay.sock}`
    await replicating(relay.ctl)
  })

  after(async () => {
    idl?.stop()
    hv?.stop()
    await relay?.stop()
    await cluster.destroy()
  })

  it('follows the leader and says so in relay-status, as a table and as JSON', async () => {
    const leader = await cluster.agreedLeader()
    await eventually(async () => (await relayStatus(relay.ctl))[0].connectedTo === `unix:${leader.sock}`, 15_000, 'the relay to settle on the leader')
    const json = await ovnctl(['relay-status', `--target=${relay.ctl}`, '--json'])
    assert.equal(json.code, 0, json.stderr)
    const [st] = JSON.parse(json.stdout) as {database: string; role: string; state: string; connectedTo: string}[]
    assert.deepEqual([st.database, st.role, st.state, st.connectedTo], [sb, 'relay', 'replicating', `unix:${leader.sock}`])
    const table = await ovnctl(['relay-status', `--target=${relay.ctl}`, '--columns=database,role,state'])
    assert.equal(table.code, 0, table.stderr)
    assert.match(table.stdout, /OVN_Southbound\s+relay\s+replicating/)
    const text = await run('ovs-appctl', ['-t', relay.ctl, 'relay/status', sb])
    assert.match(text.stdout, new RegExp(`^Database: OVN_Southbound\nRole: relay\nSource: .*\nConnected to: unix:${leader.sock}\nState: replicating\n`))
  })

  it('keeps the Python IDL connected and writes committing through a kill -9 of the leader, without a full resend', async () => {
    idl = new PyIdl(remote, sbSchema, {anyServer: true})
    const connected = await idl.next()
    assert.equal(connected.ok, true, `the IDL did not connect through the relay: ${JSON.stringify(connected)}`)
    const created = await sbctl(remote, ['create', 'Address_Set', 'name=before-kill'])
    assert.equal(created.code, 0, created.stderr)
    assert.equal((await idl.command('wait before-kill')).ok, true)
    const session = (await idl.command('session')).seqno

    const leader = await cluster.agreedLeader()
    await cluster.kill(leader)
    const start = Date.now()
    const after = await sbctl(remote, ['create', 'Address_Set', 'name=after-kill'])
    const latencyMs = Date.now() - start
    assert.equal(after.code, 0, `a write through the relay after the leader died: ${after.stderr}\n${relay.stderr()}`)
    assert.ok(latencyMs < 15_000, `the write took ${latencyMs} ms`)
    assert.equal((await idl.command('wait after-kill')).ok, true, 'the IDL did not see the write made after the kill')
    const own = await idl.command('insert from-idl')
    assert.deepEqual([own.status, own.attempts], ['success', 1], `the IDL's own transaction: ${JSON.stringify(own)}`)
    assert.equal((await idl.command('session')).seqno, session, 'the IDL had to reconnect to the relay')

    const [st] = await replicating(relay.ctl)
    assert.equal(st.fullSyncs, 1, `the relay took a full snapshot again: ${JSON.stringify(st)}`)
    assert.ok(st.resumes >= 1, `the relay did not resume: ${JSON.stringify(st)}`)
    assert.notEqual(st.connectedTo, `unix:${leader.sock}`)
    for (const m of cluster.members.filter((x) => x.proc !== null)) {
      assert.deepEqual(await addressSets(m), ['after-kill', 'before-kill', 'from-idl'], `Address_Set names on s${m.n}`)
    }
    cluster.start(leader)
  })

  it('lets ovn-controller register its chassis in the cluster through the relay', async () => {
    hv = new Hypervisor(cluster.dir, 'hv1')
    await hv.start(remote)
    const leader = await cluster.agreedLeader()
    await eventually(
      async () => {
        const [res] = (await transact(leader.sock, [{op: 'select', table: 'Chassis', where: [['name', '==', 'hv1']], columns: ['name']}])) as {rows: unknown[]}[]
        return res.rows.length === 1
      },
      20_000,
      `chassis hv1 in the cluster (ovn-controller log:\n${hv.log()})`,
    )
    const [st] = await relayStatus(relay.ctl)
    assert.ok(st.clients >= 1, `relay-status counts no monitoring client: ${JSON.stringify(st)}`)
  })
})

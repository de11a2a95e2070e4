/**
 * ovnctl relays with the real ovsdb-server on the other side (ovsdb(7) "Relay Service Model"): in front of a
 * standalone ovsdb-server, chained, behind a real ovsdb-server relay, and in front of a real three-member cluster
 * whose leader is killed; plus what db-serve says about bad relay arguments and an unreachable source.
 */
import assert from 'node:assert/strict'
import path from 'node:path'
import {Cluster, type ClusterMember} from '../../bench/lib/cluster-peers.js'
import {connect} from '../../src/core/jsonrpc/index.js'
import {eventually, ovnctl, run, type ServerProcess, startOvsdbServer, useTempDir} from '../interop/lib.js'
import {PyIdl} from '../cluster/py-idl.js'
import {relayStatus, replicating, sbctl, sbSchema, startRelay} from './lib.js'

const sb = 'OVN_Southbound'

/** _Server's row for OVN_Southbound as a server reports it. */
async function serverRow(sock: string): Promise<unknown> {
  const conn = await connect(`unix:${sock}`, {timeoutMs: 5000})
  try {
    const [res] = (await conn.request('transact', ['_Server', {op: 'select', table: 'Database', where: [['name', '==', sb]], columns: ['model', 'connected', 'leader', 'cid', 'sid', 'index']}], {timeoutMs: 5000})) as {rows: unknown[]}[]
    return res.rows
  } finally {
    conn.close()
  }
}

async function chassis(remote: string): Promise<string[]> {
  const r = await sbctl(remote, ['--bare', '--columns=name', 'list', 'Chassis'])
  assert.equal(r.code, 0, r.stderr)
  return r.stdout.split('\n').filter((l) => l !== '').sort()
}

describe('ovnctl relays in front of a standalone ovsdb-server', function () {
  this.timeout(60_000)
  const tmp = useTempDir()
  const started: ServerProcess[] = []
  let real: ServerProcess
  let relay: ServerProcess
  let chain: ServerProcess

  before(async () => {
    const file = path.join(tmp.dir, 'sb.db')
    assert.equal((await run('ovsdb-tool', ['create', file, sbSchema])).code, 0)
    real = await startOvsdbServer(tmp.dir, [file], 'real')
    relay = await startRelay(tmp.dir, 'relay', sb, `unix:${real.sock}`)
    chain = await startRelay(tmp.dir, 'chain', sb, `unix:${relay.sock}`)
    started.push(real, relay, chain)
    await replicating(relay.ctl)
    await replicating(chain.ctl)
  })
  after(async () => {
    for (const p of started.reverse()) await p.stop()
  })

  it('describes itself in _Server exactly as an ovsdb-server relay does', async () => {
    const theirs = await startOvsdbServer(tmp.dir, [`relay:${sb}:unix:${real.sock}`], 'real-relay')
    started.push(theirs)
    await eventually(async () => JSON.stringify(await serverRow(theirs.sock)).includes('"connected":true'), 10_000, 'the real relay to connect')
    assert.deepEqual(await serverRow(relay.sock), await serverRow(theirs.sock))
  })

  it('lets ovn-sbctl write through a chain of two relays and every server read it back', async () => {
    const add = await sbctl(`unix:${chain.sock}`, ['chassis-add', 'ch1', 'geneve', '10.0.0.1'])
    assert.equal(add.code, 0, add.stderr)
    // The chain answers once the change is in its own replica: no wait is needed to read it back there.
    assert.deepEqual(await chassis(`unix:${chain.sock}`), ['ch1'])
    assert.deepEqual(await chassis(`unix:${relay.sock}`), ['ch1'])
    assert.deepEqual(await chassis(`unix:${real.sock}`), ['ch1'])
  })

  it('lets the Python IDL monitor and write through the relay', async () => {
    const idl = new PyIdl(`unix:${relay.sock}`, sbSchema, {anyServer: true})
    try {
      assert.equal((await idl.next()).ok, true)
      const own = await idl.command('insert from-idl')
      assert.equal(own.status, 'success', JSON.stringify(own))
      const made = await sbctl(`unix:${real.sock}`, ['create', 'Address_Set', 'name=at-source'])
      assert.equal(made.code, 0, made.stderr)
      const seen = await idl.command('wait at-source')
      assert.deepEqual(seen.rows, ['at-source', 'from-idl'])
    } finally {
      idl.stop()
    }
  })

  it('serves a real ovsdb-server relay chained behind it', async () => {
    const theirs = await startOvsdbServer(tmp.dir, [`relay:${sb}:unix:${relay.sock}`], 'real-behind')
    started.push(theirs)
    await eventually(async () => (await sbctl(`unix:${theirs.sock}`, ['--bare', '--columns=name', 'list', 'Chassis'])).stdout.includes('ch1'), 10_000, 'the real relay to replicate through ours')
    const add = await sbctl(`unix:${theirs.sock}`, ['chassis-add', 'ch2', 'geneve', '10.0.0.2'])
    assert.equal(add.code, 0, add.stderr)
    await eventually(async () => (await chassis(`unix:${real.sock}`)).includes('ch2'), 10_000, 'ch2 at the source')
  })

  it('says which source is unreachable, serves nothing under that name, and keeps trying', async () => {
    const lost = await startRelay(tmp.dir, 'lost', sb, `unix:${path.join(tmp.dir, 'nothing.sock')}`)
    started.push(lost)
    await eventually(async () => (await relayStatus(lost.ctl))[0].lastError !== null, 10_000, 'an error in relay-status')
    const [st] = await relayStatus(lost.ctl)
    assert.equal(st.state, 'connecting')
    assert.match(String(st.lastError), /nothing\.sock": no such socket file/)
    const dbs = await run('ovsdb-client', ['list-dbs', `unix:${lost.sock}`])
    assert.deepEqual(dbs.stdout.trim().split('\n'), ['_Server'])
  })

  it('refuses a relay argument without remotes, or with a passive one, with a usage error naming it', async () => {
    const none = await ovnctl(['db-serve', `relay:${sb}`])
    assert.equal(none.code, 2, none.stderr)
    assert.match(none.stderr, /Invalid relay "relay:OVN_Southbound": expected relay:DB:REMOTES/)
    const passive = await ovnctl(['db-serve', `relay:${sb}:ptcp:6640`])
    assert.equal(passive.code, 2, passive.stderr)
    assert.match(passive.stderr, /"ptcp:6640" is a passive remote/)
  })
})

describe('an ovnctl relay in front of a real three-member clustered ovsdb-server', function () {
  this.timeout(90_000)
  const tmp = useTempDir()
  let cluster: Cluster
  let relay: ServerProcess

  before(async () => {
    cluster = await Cluster.create('ovsdb-server', path.join(tmp.dir, 'real'), sbSchema)
    await cluster.settled()
    relay = await startRelay(tmp.dir, 'relay', sb, cluster.members.map((m) => `unix:${m.sock}`).join(','))
    await replicating(relay.ctl)
  })
  after(async () => {
    await relay?.stop()
    await cluster?.stop()
  })

  it('forwards writes to the leader and resumes on the new leader after a kill -9, without a full snapshot', async () => {
    const leader: ClusterMember = await cluster.settled()
    await eventually(async () => (await relayStatus(relay.ctl))[0].connectedTo === `unix:${leader.sock}`, 15_000, 'the relay to follow the leader')
    assert.equal((await sbctl(`unix:${relay.sock}`, ['chassis-add', 'before', 'geneve', '10.0.0.1'])).code, 0)
    await cluster.kill(leader)
    const add = await sbctl(`unix:${relay.sock}`, ['chassis-add', 'after', 'geneve', '10.0.0.2'])
    assert.equal(add.code, 0, `${add.stderr}\n${relay.stderr()}`)
    assert.deepEqual(await chassis(`unix:${relay.sock}`), ['after', 'before'])
    const [st] = await replicating(relay.ctl)
    assert.equal(st.fullSyncs, 1, JSON.stringify(st))
    assert.ok(st.resumes >= 1, JSON.stringify(st))
  })
})

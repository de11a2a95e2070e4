import assert from 'node:assert/strict'
import {addChassis, appctl, chassisNames, exec, ovnctl, requireBuild, sb, TestCluster, transact} from './harness.js'

describe('a three-server cluster of db-serve processes', function () {
  this.timeout(120_000)
  const cluster = new TestCluster(3)
  const [s1, s2, s3] = cluster.members

  before(async () => {
    requireBuild()
    await cluster.createFiles('sb', sb)
    for (const m of cluster.members) cluster.start(m)
  })

  after(async () => {
    await cluster.destroy()
  })

  it('elects one leader that every member agrees on, after two servers join', async () => {
    const leader = await cluster.agreedLeader()
    const st = await cluster.status(leader)
    assert.equal((st!.servers as unknown[]).length, 3, `expected 3 servers in ${JSON.stringify(st)}`)
  })

  it('commits a write sent to any member on every member', async () => {
    await transact(s1.sock, [{op: 'insert', table: 'SB_Global', row: {}}])
    await transact(s2.sock, addChassis('hv-a', '192.0.2.1'))
    for (const m of cluster.members) {
      const names = await cluster.waitFor(`hv-a on s${m.n}`, async () => {
        const n = await chassisNames(m.sock)
        return n.includes('hv-a') ? n : null
      })
      assert.deepEqual(names, ['hv-a'], `chassis on s${m.n}`)
    }
  })

  it('serves ovn-sbctl through the leader-only list of remotes and through a follower with --no-leader-only', async () => {
    const all = cluster.members.map((m) => `unix:${m.sock}`).join(',')
    const add = await exec('ovn-sbctl', [`--db=${all}`, 'chassis-add', 'hv-b', 'geneve', '10.0.0.2'])
    assert.equal(add.code, 0, add.stderr)
    const leader = await cluster.agreedLeader()
    const follower = cluster.members.find((m) => m !== leader)!
    const add2 = await exec('ovn-sbctl', [`--db=unix:${follower.sock}`, '--no-leader-only', 'chassis-add', 'hv-c', 'geneve', '10.0.0.3'])
    assert.equal(add2.code, 0, add2.stderr)
    const list = await exec('ovn-sbctl', [`--db=unix:${follower.sock}`, '--no-leader-only', '--bare', '--columns=name', 'list', 'Chassis'])
    assert.equal(list.code, 0, list.stderr)
    assert.deepEqual(list.stdout.split('\n').filter(Boolean).sort(), ['hv-a', 'hv-b', 'hv-c'], `ovn-sbctl list Chassis on s${follower.n}`)
  })

  it('prints cluster-status as a table and as JSON', async () => {
    const table = await ovnctl(['cluster-status', '-t', s2.ctl, sb], cluster.dir)
    assert.equal(table.code, 0, table.stderr)
    for (const field of ['clusterId', 'serverId', 'role', 'term', 'leader', 'electionTimerMs', 'log', 'nextIndex', 'matchIndex']) {
      assert.ok(table.stdout.includes(field), `expected "${field}" in:\n${table.stdout}`)
    }
    const json = await ovnctl(['cluster-status', '-t', s2.ctl, sb, '--json'], cluster.dir)
    assert.equal(json.code, 0, json.stderr)
    const st = JSON.parse(json.stdout) as {name: string; status: string; servers: unknown[]}
    assert.equal(st.name, sb)
    assert.equal(st.status, 'cluster member')
    assert.equal(st.servers.length, 3)
  })

  it('answers ovs-appctl cluster/status, cluster/sid and cluster/cid in OVS text', async () => {
    const r = await appctl(s3.ctl, ['cluster/status', sb])
    assert.equal(r.code, 0, r.stderr)
    for (const line of [/^Name: OVN_Southbound$/m, /^Cluster ID: [0-9a-f]{4} \(/m, /^Status: cluster member$/m, /^Role: (leader|follower)$/m, /^Log: \[\d+, \d+\]$/m, /^Servers:$/m]) {
      assert.match(r.stdout, line)
    }
    const sid = await appctl(s3.ctl, ['cluster/sid', sb])
    assert.match(sid.stdout, /^[0-9a-f-]{36}\n$/)
    const bad = await appctl(s3.ctl, ['cluster/status', 'nope'])
    assert.notEqual(bad.code, 0)
    assert.match(bad.stderr, /unknown cluster/)
  })

  it('elects a new leader after kill -9 of the leader and keeps every acknowledged write', async () => {
    const leader = await cluster.agreedLeader()
    const before = await chassisNames(leader.sock)
    await cluster.kill(leader)
    const next = await cluster.agreedLeader()
    assert.notEqual(next, leader)
    await transact(next.sock, addChassis('hv-d', '192.0.2.4'))
    const after = await chassisNames(next.sock)
    assert.deepEqual(after, [...before, 'hv-d'].sort(), 'acknowledged writes after failover')
    cluster.start(leader)
    const names = await cluster.waitFor(`the restarted s${leader.n} to catch up`, async () => {
      const n: string[] = await chassisNames(leader.sock).catch(() => [] as string[])
      return n.includes('hv-d') ? n : null
    })
    assert.deepEqual(names, after)
  })
})

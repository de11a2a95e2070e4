import assert from 'node:assert/strict'
import {addChassis, appctl, chassisNames, exec, type Member, ovnctl, sb, TestCluster, transact} from './harness.js'

/** `ovnctl cluster-status --json` of member `m`: its status and the ids of the servers it lists. */
async function statusOf(cluster: TestCluster, m: Member): Promise<{status: string; role: string; electionTimerMs: number; servers: string[]}> {
  const r = await ovnctl(['cluster-status', '-t', m.ctl, sb, '--json'], cluster.dir)
  assert.equal(r.code, 0, `cluster-status of s${m.n}: ${r.stderr}`)
  const st = JSON.parse(r.stdout) as {status: string; role: string; electionTimerMs: number; servers: {id: string}[]}
  return {...st, servers: st.servers.map((s) => s.id).sort()}
}

async function sidOf(m: Member): Promise<string> {
  const r = await appctl(m.ctl, ['cluster/sid', sb])
  assert.equal(r.code, 0, r.stderr)
  return r.stdout.trim()
}

/** Waits until every member in `members` lists exactly the servers `ids`. */
async function waitForServers(cluster: TestCluster, members: Member[], ids: string[]): Promise<void> {
  const want = [...ids].sort()
  for (const m of members) {
    await cluster.waitFor(`s${m.n} to list the servers ${JSON.stringify(want)}`, async () => {
      const st = await statusOf(cluster, m)
      return JSON.stringify(st.servers) === JSON.stringify(want) && st.status === 'cluster member'
    })
  }
}

/** Writes a chassis through `writer` and waits until every member of `members` has it. */
async function commitsOn(cluster: TestCluster, writer: Member, members: Member[], name: string, ip: string): Promise<void> {
  await transact(writer.sock, addChassis(name, ip))
  for (const m of members) {
    await cluster.waitFor(`${name} on s${m.n}`, async () => (await chassisNames(m.sock)).includes(name))
  }
}

/** A cluster of three started members, with the leader all agree on. */
function threeServers(): {cluster: TestCluster; leader: () => Promise<Member>} {
  const cluster = new TestCluster(3)
  before(async () => {
    await cluster.createAndStart()
    await transact(cluster.members[0].sock, [{op: 'insert', table: 'SB_Global', row: {}}])
  })
  after(() => cluster.destroy())
  return {cluster, leader: () => cluster.agreedLeader()}
}

describe('cluster-leave of a follower, bad requests and the election timer', function () {
  this.timeout(120_000)
  const {cluster, leader} = threeServers()

  it('refuses cluster-leave and cluster-kick without --yes when not on a terminal (exit 2) and changes nothing', async () => {
    const [s1, s2] = cluster.members
    const leave = await ovnctl(['cluster-leave', '-t', s2.ctl, sb], cluster.dir)
    assert.equal(leave.code, 2, `cluster-leave without --yes: exit ${leave.code}\n${leave.stderr}`)
    assert.match(leave.stderr, /--yes/)
    const kick = await ovnctl(['cluster-kick', '-t', s1.ctl, sb, await sidOf(s2)], cluster.dir)
    assert.equal(kick.code, 2, `cluster-kick without --yes: exit ${kick.code}\n${kick.stderr}`)
    assert.match(kick.stderr, /--yes/)
    const st = await statusOf(cluster, s2)
    assert.equal(st.servers.length, 3, `servers after refused requests: ${JSON.stringify(st)}`)
    assert.equal(st.status, 'cluster member')
  })

  it('answers cluster/kick of an unknown server with "unknown server" and keeps every server', async () => {
    const l = await leader()
    for (const m of cluster.members) {
      const r = await appctl(m.ctl, ['cluster/kick', sb, 'ffff'])
      assert.notEqual(r.code, 0, `kick ffff on s${m.n} succeeded: ${r.stdout}`)
      assert.match(r.stderr, /^unknown server$/m, `kick ffff on s${m.n}`)
    }
    const viaCli = await ovnctl(['cluster-kick', '--yes', '-t', l.ctl, sb, 'ffff'], cluster.dir)
    assert.equal(viaCli.code, 1, `cluster-kick of ffff: exit ${viaCli.code}\n${viaCli.stderr}`)
    assert.match(viaCli.stderr, /unknown server/)
    assert.equal((await statusOf(cluster, l)).servers.length, 3)
  })

  it('refuses to change the election timer on a follower, beyond double, or out of range, in OVS text', async () => {
    const l = await leader()
    const follower = cluster.members.find((m) => m !== l)!
    const cases: [Member, string, RegExp][] = [
      [follower, '1500', /^election timer must be changed through leader\.$/m],
      [l, '3000', /^election timer increase should not exceed the current value x 2\.$/m],
      [l, '50', /^election timer must be between 100 and 600000, in msec\.$/m],
      [l, 'abc', /^election timer must be between 100 and 600000, in msec\.$/m],
    ]
    for (const [m, value, text] of cases) {
      const r = await appctl(m.ctl, ['cluster/change-election-timer', sb, value])
      assert.notEqual(r.code, 0, `change-election-timer ${value} on s${m.n} succeeded: ${r.stdout}`)
      assert.match(r.stderr, text, `change-election-timer ${value} on s${m.n}`)
    }
    for (const m of cluster.members) assert.equal((await statusOf(cluster, m)).electionTimerMs, 1000, `timer of s${m.n} after refused changes`)
  })

  it('changes the election timer on every member through the leader, at most doubling per change', async () => {
    const l = await leader()
    const same = await appctl(l.ctl, ['cluster/change-election-timer', sb, '1000'])
    assert.equal(same.code, 0, same.stderr)
    assert.equal(same.stdout, 'change election timer to current value.\n')
    for (const ms of [2000, 4000]) {
      const r = await appctl(l.ctl, ['cluster/change-election-timer', sb, String(ms)])
      assert.equal(r.code, 0, r.stderr)
      assert.equal(r.stdout, 'change of election timer initiated.\n')
      for (const m of cluster.members) {
        await cluster.waitFor(`election timer ${ms} on s${m.n}`, async () => {
          const text = await appctl(m.ctl, ['cluster/status', sb])
          return new RegExp(`^Election timer: ${ms}$`, 'm').test(text.stdout)
        })
      }
    }
  })

  it('lets a follower leave with cluster-leave: the other two list two servers and keep committing', async () => {
    const l = await leader()
    const leaving = cluster.members.find((m) => m !== l)!
    const rest = cluster.members.filter((m) => m !== leaving)
    const r = await ovnctl(['cluster-leave', '--yes', '-t', leaving.ctl, sb], cluster.dir)
    assert.equal(r.code, 0, r.stderr)
    await waitForServers(cluster, rest, await Promise.all(rest.map(sidOf)))
    await commitsOn(cluster, rest[0], rest, 'hv-after-leave', '192.0.2.10')
    await commitsOn(cluster, rest[1], rest, 'hv-after-leave-2', '192.0.2.11')
    const left = await cluster.waitFor(`s${leaving.n} to say it left`, async () => {
      const st = await statusOf(cluster, leaving)
      return st.status === 'left cluster' ? st : null
    })
    assert.equal(left.status, 'left cluster')
  })

  it('refuses writes on a server that left, and a second leave, with clear errors', async () => {
    const states = await Promise.all(cluster.members.map((m) => statusOf(cluster, m)))
    const gone = cluster.members.find((_, i) => states[i].status === 'left cluster')
    assert.ok(gone, `no member says "left cluster": ${JSON.stringify(states.map((s) => s.status))}`)
    const w = await exec('ovsdb-client', ['transact', `unix:${gone.sock}`, JSON.stringify([sb, ...addChassis('hv-refused', '192.0.2.12')])])
    const refused = `${w.stdout}${w.stderr}`
    assert.match(refused, /left the cluster/, `write on s${gone.n} that left: exit ${w.code}\n${refused}`)
    const again = await appctl(gone.ctl, ['cluster/leave', sb])
    assert.notEqual(again.code, 0, `second leave on s${gone.n} succeeded: ${again.stdout}`)
    assert.match(again.stderr, /^unknown cluster$/m)
    const live = cluster.members.find((m) => m !== gone)!
    assert.ok(!(await chassisNames(live.sock)).includes('hv-refused'), 'the refused write reached the cluster')
  })

  it('keeps a server that left out of the cluster after a restart: it does not rejoin and refuses writes', async () => {
    const states = await Promise.all(cluster.members.map((m) => statusOf(cluster, m)))
    const gone = cluster.members.find((_, i) => states[i].status === 'left cluster')!
    const live = cluster.members.filter((m) => m !== gone)
    await cluster.kill(gone)
    cluster.start(gone)
    const st = await cluster.waitFor(`the restarted s${gone.n} to answer`, () => statusOf(cluster, gone).catch(() => null))
    assert.equal(st.status, 'left cluster', `status of the restarted s${gone.n}`)
    const w = await exec('ovsdb-client', ['transact', `unix:${gone.sock}`, JSON.stringify([sb, ...addChassis('hv-refused-2', '192.0.2.13')])])
    assert.match(`${w.stdout}${w.stderr}`, /left the cluster/, `write on the restarted s${gone.n}`)
    await commitsOn(cluster, live[0], live, 'hv-after-restart', '192.0.2.14')
    for (const m of live) assert.equal((await statusOf(cluster, m)).servers.length, 2, `servers of s${m.n} after s${gone.n} restarted`)
  })
})

describe('cluster-leave of the leader', function () {
  this.timeout(120_000)
  const {cluster, leader} = threeServers()

  it('moves leadership first; the remaining two list two servers and keep committing', async () => {
    const l = await leader()
    const rest = cluster.members.filter((m) => m !== l)
    const r = await ovnctl(['cluster-leave', '--yes', '-t', l.ctl, sb], cluster.dir)
    assert.equal(r.code, 0, r.stderr)
    await waitForServers(cluster, rest, await Promise.all(rest.map(sidOf)))
    const next = await cluster.waitFor('a new leader among the remaining two', async () => {
      const st = await Promise.all(rest.map((m) => statusOf(cluster, m)))
      const at = st.findIndex((s) => s.role === 'leader')
      return at < 0 ? null : rest[at]
    })
    assert.notEqual(next, l)
    for (const m of rest) await commitsOn(cluster, m, rest, `hv-s${m.n}`, `192.0.2.${20 + m.n}`)
    const st = await cluster.waitFor(`s${l.n} to say it left`, async () => {
      const s = await statusOf(cluster, l)
      return s.status === 'left cluster' ? s : null
    })
    assert.notEqual(st.role, 'leader', `s${l.n} still leader after leaving`)
  })
})

describe('cluster-kick of a killed member', function () {
  this.timeout(120_000)
  const {cluster, leader} = threeServers()

  it('removes a member killed with kill -9 when a live member kicks it; the two commit', async () => {
    const l = await leader()
    const victim = cluster.members.find((m) => m !== l)!
    const rest = cluster.members.filter((m) => m !== victim)
    const follower = rest.find((m) => m !== l)!
    const victimSid = await sidOf(victim)
    await cluster.kill(victim)
    const r = await ovnctl(['cluster-kick', '--yes', '-t', follower.ctl, sb, victimSid.slice(0, 4)], cluster.dir)
    assert.equal(r.code, 0, r.stderr)
    await waitForServers(cluster, rest, await Promise.all(rest.map(sidOf)))
    await commitsOn(cluster, follower, rest, 'hv-after-kick', '192.0.2.30')
    await commitsOn(cluster, l, rest, 'hv-after-kick-2', '192.0.2.31')
  })
})

/**
 * Compaction of a clustered database by real db-serve processes: members compact while the leader keeps
 * committing, every acknowledged write survives a restart, ovsdb-tool still reads the files, and a server that
 * joins after the log was compacted receives the snapshot and then the log tail.
 */
import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import {connect, type JsonRpcConnection} from '../../src/core/jsonrpc/index.js'
import {binRun, childEnv, runInPty} from '../cli/spawn.js'
import {addChassis, appctl, chassisNames, exec, ovnctl, sb, TestCluster} from './harness.js'

/** Commits chassis `prefix-0` … `prefix-(n-1)` through `sock`, `window` transactions in flight. */
async function writeChassis(sock: string, prefix: string, n: number, window = 8): Promise<string[]> {
  const conn: JsonRpcConnection = await connect(`unix:${sock}`, {timeoutMs: 10_000})
  const names: string[] = []
  try {
    let next = 0
    const worker = async () => {
      while (next < n) {
        const i = next++
        const name = `${prefix}-${i}`
        const ip = `10.${prefix.charCodeAt(0)}.${i >> 8}.${i & 255}`
        const results = (await conn.request('transact', [sb, ...addChassis(name, ip)])) as unknown[]
        const failed = results.find((r) => r !== null && typeof r === 'object' && 'error' in r)
        assert.equal(failed, undefined, `transaction for ${name} failed: ${JSON.stringify(results)}`)
        names.push(name)
      }
    }
    await Promise.all(Array.from({length: window}, worker))
  } finally {
    conn.close()
  }
  return names
}

/** Number of records `ovsdb-tool show-log` lists in a clustered file. */
async function records(file: string): Promise<number> {
  const r = await exec('ovsdb-tool', ['show-log', file])
  assert.equal(r.code, 0, `ovsdb-tool show-log ${file}: ${r.stderr}`)
  return r.stdout.split('\n').filter((l) => /^record \d+:/.test(l)).length
}

describe('compaction of a clustered database', function () {
  this.timeout(180_000)
  const cluster = new TestCluster(3)
  before(async () => {
    await cluster.createAndStart()
  })
  after(() => cluster.destroy())

  it('compacts every member while the leader keeps committing, and loses no acknowledged write', async () => {
    const leader = await cluster.agreedLeader()
    const first = await writeChassis(leader.sock, 'a', 300)
    const before = await Promise.all(cluster.members.map((m) => records(m.file)))
    // Followers compact while more writes commit; then the leader, once they are done.
    const followers = cluster.members.filter((m) => m !== leader)
    const [more] = await Promise.all([
      writeChassis(leader.sock, 'b', 200),
      ...followers.map(async (m) => {
        const r = await appctl(m.ctl, ['ovsdb-server/compact', sb])
        assert.equal(r.code, 0, `compact on s${m.n}: ${r.stderr}`)
      }),
    ])
    const r = await appctl(leader.ctl, ['ovsdb-server/compact', sb])
    assert.equal(r.code, 0, `compact on the leader: ${r.stderr}`)
    const after = await Promise.all(cluster.members.map((m) => records(m.file)))
    for (const [i, m] of cluster.members.entries()) {
      assert.ok(after[i] < before[i], `s${m.n} (leader s${leader.n}): ${before[i]} records before compacting, ${after[i]} after`)
    }
    const want = [...first, ...more].sort()
    for (const m of cluster.members) {
      await cluster.waitFor(`all 500 chassis on s${m.n}`, async () => JSON.stringify(await chassisNames(m.sock)) === JSON.stringify(want))
    }
    // A compacted member killed and restarted rebuilds the same database from its snapshot and log.
    const victim = followers[0]
    await cluster.kill(victim)
    cluster.start(victim)
    await cluster.waitFor(`s${victim.n} back with all 500 chassis`, async () => {
      try {
        return JSON.stringify(await chassisNames(victim.sock)) === JSON.stringify(want)
      } catch {
        return false
      }
    })
  })

  it('gives a server that joins after compaction the snapshot, then the log tail', async () => {
    const leader = await cluster.agreedLeader()
    const joiner = {
      n: 4,
      file: path.join(cluster.dir, 's4.db'),
      sock: path.join(cluster.dir, 's4.sock'),
      ctl: path.join(cluster.dir, 's4.ctl'),
      raft: `unix:${path.join(cluster.dir, 's4.raft')}`,
      proc: null,
    }
    // cluster-join runs the new server until it is added and caught up; in a terminal the transfer of the
    // database (a snapshot, the leader's log being compacted) shows its progress.
    const j = await runInPty(process.execPath, [binRun, 'cluster-join', '--yes', joiner.file, sb, joiner.raft, leader.raft], {cwd: cluster.dir, env: childEnv()})
    assert.equal(j.code, 0, j.stdout)
    assert.match(j.stdout, /Receiving "OVN_Southbound" from the cluster/)
    assert.match(j.stdout, /joined "OVN_Southbound" and caught up/)
    const header = await exec('ovsdb-tool', ['show-log', joiner.file])
    assert.equal(header.code, 0, `ovsdb-tool show-log of the joined server's file: ${header.stderr}`)
    assert.match(header.stdout, /prev_index: [1-9]/, `the new file holds the snapshot: ${header.stdout.slice(0, 600)}`)
    cluster.members.push(joiner)
    cluster.start(joiner)
    const tail = await writeChassis(leader.sock, 'c', 20)
    const want = [...(await chassisNames(leader.sock))].sort()
    assert.ok(want.length >= 520 && tail.every((n) => want.includes(n)), `the leader holds ${want.length} chassis`)
    await cluster.waitFor('the joined server to hold every chassis', async () => {
      try {
        return JSON.stringify(await chassisNames(joiner.sock)) === JSON.stringify(want)
      } catch {
        return false
      }
    })
    const st = await cluster.status(joiner)
    assert.equal(st?.status, 'cluster member', `status of the joined server: ${JSON.stringify(st)}`)
  })

  it('refuses to join another cluster, another database or at an address in use, and writes nothing', async () => {
    const leader = await cluster.agreedLeader()
    const file = path.join(cluster.dir, 'refused.db')
    const raft = `unix:${path.join(cluster.dir, 'refused.raft')}`
    const cases: [string[], RegExp][] = [
      [['--cid', '00000000-0000-4000-8000-000000000000', file, sb, raft, leader.raft], /is in cluster [0-9a-f-]+, not 00000000-0000-4000-8000-000000000000/],
      [[file, 'OVN_Northbound', raft, leader.raft], /serves "OVN_Southbound", not "OVN_Northbound"/],
      [[file, sb, cluster.members[1].raft, leader.raft], /already uses the address/],
    ]
    for (const [args, error] of cases) {
      const r = await ovnctl(['cluster-join', '--yes', ...args], cluster.dir)
      assert.equal(r.code, 1, `cluster-join ${args.join(' ')}: exit ${r.code}\n${r.stderr}`)
      assert.match(r.stderr, error)
      assert.match(r.stderr, /nothing was written/)
      assert.equal(fs.existsSync(file), false, `cluster-join ${args.join(' ')} left ${file} behind`)
    }
  })
})

/**
 * Real clients against a three-member ovnctl cluster, with faults: the Python IDL (module `ovs`) following a
 * leader change, ovn-northd writing its southbound into the cluster, and a writer whose acknowledged writes
 * must survive a SIGSTOPped leader and follower (ovsdb(7) "Clustered Database Service Model").
 */
import assert from 'node:assert/strict'
import {type ChildProcess, spawn} from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import {binRun, childEnv} from '../cli/spawn.js'
import {exec, type Member, TestCluster, transact} from './harness.js'
import {PyIdl} from './py-idl.js'
import {runWriter} from './writer.js'

const sbSchema = '/usr/share/ovn/ovn-sb.ovsschema'
const nbSchema = '/usr/share/ovn/ovn-nb.ovsschema'

/** Names of the Address_Set rows member `m` serves. */
async function addressSets(m: Member): Promise<string[]> {
  const [res] = (await transact(m.sock, [{op: 'select', table: 'Address_Set', where: [], columns: ['name']}])) as {rows: {name: string}[]}[]
  return res.rows.map((r) => r.name).sort()
}

/** Every member's client sockets as one leader-only remote list. */
function allRemotes(cluster: TestCluster): string {
  return cluster.members.map((m) => `unix:${m.sock}`).join(',')
}

/** Waits until a file exists (a server's socket), bounded. */
async function waitForFile(cluster: TestCluster, file: string): Promise<void> {
  await cluster.waitFor(`"${path.basename(file)}" to exist`, async () => fs.existsSync(file))
}

describe('real clients against a three-member cluster under faults', function () {
  this.timeout(90_000)
  const cluster = new TestCluster(3)
  const extra: ChildProcess[] = []

  before(async () => {
    await cluster.createAndStart()
    await transact(cluster.members[0].sock, [{op: 'insert', table: 'SB_Global', row: {}}])
  })

  after(async () => {
    for (const child of extra) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    for (const m of cluster.members) if (m.proc?.pid !== undefined && m.proc.exitCode === null) process.kill(m.proc.pid, 'SIGCONT')
    await cluster.destroy()
  })

  it('lets the Python IDL find the leader, follow a new leader after kill -9 and commit its own transaction', async () => {
    const leader = await cluster.agreedLeader()
    const idl = new PyIdl(allRemotes(cluster), sbSchema)
    extra.push(idl.child)
    const connected = await idl.next()
    assert.deepEqual(connected, {event: 'connected', ok: true, rows: [], remote: `unix:${leader.sock}`}, 'the IDL did not settle on the leader')

    const follower = cluster.members.find((m) => m !== leader)!
    await transact(follower.sock, [{op: 'insert', table: 'Address_Set', row: {name: 'before-kill'}}])
    const seen = await idl.command('wait before-kill')
    assert.equal(seen.ok, true, `the IDL did not replicate "before-kill": ${JSON.stringify(seen)}`)

    await cluster.kill(leader)
    const next = await cluster.agreedLeader()
    assert.notEqual(next, leader)
    await transact(next.sock, [{op: 'insert', table: 'Address_Set', row: {name: 'after-kill'}}])
    const after = await idl.command('wait after-kill')
    assert.equal(after.ok, true, `the IDL did not replicate "after-kill" after s${leader.n} was killed: ${JSON.stringify(after)}`)
    assert.equal(after.remote, `unix:${next.sock}`, `the IDL is not on the new leader s${next.n}`)

    const own = await idl.command('insert from-idl')
    assert.equal(own.status, 'success', `the IDL's own transaction: ${JSON.stringify(own)}`)
    for (const m of cluster.members.filter((x) => x.proc !== null)) {
      assert.deepEqual(await addressSets(m), ['after-kill', 'before-kill', 'from-idl'], `Address_Set names on s${m.n}`)
    }
    idl.child.stdin.end()

    cluster.start(leader)
    await cluster.waitFor(`the restarted s${leader.n} to catch up`, async () => (await addressSets(leader)).includes('from-idl'))
  })

  it('lets ovn-northd write the same non-zero logical flows on every member from a standalone northbound', async () => {
    const nbFile = path.join(cluster.dir, 'nb.db')
    const nbSock = path.join(cluster.dir, 'nb.sock')
    const created = await exec('ovsdb-tool', ['create', nbFile, nbSchema])
    assert.equal(created.code, 0, created.stderr)
    const nbServer = spawn(process.execPath, [binRun, 'db-serve', `--remote=punix:${nbSock}`, `--unixctl=${path.join(cluster.dir, 'nb.ctl')}`, nbFile], {env: childEnv(), stdio: 'ignore'})
    extra.push(nbServer)
    await waitForFile(cluster, nbSock)
    const nb = `--db=unix:${nbSock}`
    const northd = spawn('ovn-northd', [`--ovnnb-db=unix:${nbSock}`, `--ovnsb-db=${allRemotes(cluster)}`, '--no-chdir', `--unixctl=${path.join(cluster.dir, 'northd.ctl')}`, `--log-file=${path.join(cluster.dir, 'northd.log')}`], {stdio: 'ignore'})
    extra.push(northd)

    for (const args of [['ls-add', 'sw0'], ['lsp-add', 'sw0', 'sw0-p1'], ['lsp-set-addresses', 'sw0-p1', '00:00:00:00:00:01 10.0.0.1']]) {
      const r = await exec('ovn-nbctl', [nb, ...args])
      assert.equal(r.code, 0, `ovn-nbctl ${args.join(' ')}: ${r.stderr}`)
    }
    // --wait=sb returns once northd has written the southbound for this content (NB_Global.sb_cfg).
    const sync = await exec('ovn-nbctl', [nb, '--timeout=12', '--wait=sb', 'sync'])
    const log = () => (fs.existsSync(path.join(cluster.dir, 'northd.log')) ? fs.readFileSync(path.join(cluster.dir, 'northd.log'), 'utf8').slice(-2000) : '')
    assert.equal(sync.code, 0, `ovn-nbctl --wait=sb sync: ${sync.stderr}\n${log()}\n${cluster.logs()}`)

    const flowsOn = async (m: Member) => {
      const [res] = (await transact(m.sock, [{op: 'select', table: 'Logical_Flow', where: [], columns: ['_uuid']}])) as {rows: unknown[]}[]
      return res.rows.length
    }
    const counts = await cluster.waitFor('the same Logical_Flow count on every member', async () => {
      const c = await Promise.all(cluster.members.map(flowsOn))
      return c.every((n) => n === c[0]) ? c : null
    })
    assert.ok(counts[0] > 0, `Logical_Flow rows per member: ${JSON.stringify(counts)}`)
    northd.kill('SIGTERM')
    nbServer.kill('SIGTERM')
  })

  it('keeps every acknowledged write once and in order on every member across a SIGSTOPped leader and follower', async () => {
    await transact(cluster.members[0].sock, [{op: 'insert', table: 'Address_Set', row: {name: 'counter', addresses: '0'}}])
    const leader = await cluster.agreedLeader()
    const follower = cluster.members.find((m) => m !== leader)!
    const pause = async (m: Member) => {
      process.kill(m.proc!.pid!, 'SIGSTOP')
      await sleep(1500)
      process.kill(m.proc!.pid!, 'SIGCONT')
    }
    const faults = async () => {
      await sleep(1000)
      await pause(leader)
      await sleep(1500)
      await pause(follower)
      await sleep(1500)
    }
    const history = await runWriter(cluster.members.map((m) => m.sock), faults())
    assert.ok(history.acked.length >= 5, `too few acknowledged writes to prove anything: ${JSON.stringify(history)}`)
    assert.deepEqual(history.anomalies, [], 'the writer saw impossible counter values')
    // A read on the member that acknowledged write i, sent after the acknowledgement, sees the register at i.
    const stale = history.reads.filter((r) => r.seen !== String(r.after))
    assert.deepEqual(stale, [], 'reads after an acknowledged write did not see it')

    // A member that was paused must come back as a follower, not exit (ovsdb(7): a deposed leader fails its
    // uncommitted transactions and keeps serving).
    await sleep(500)
    const exited = cluster.members.filter((m) => m.proc === null || m.proc.exitCode !== null || m.proc.signalCode !== null)
    assert.deepEqual(exited.map((m) => `s${m.n}`), [], `members exited after SIGSTOP/SIGCONT:\n${cluster.logs()}`)
    const last = history.acked.at(-1)!
    const written = history.acked.concat(history.unacked).sort((a, b) => a - b)
    for (const m of cluster.members) {
      const rows = await cluster.waitFor(`s${m.n} to hold every write`, async () => {
        const r = await writtenRows(m)
        return r.counter === String(written.at(-1)) ? r : null
      })
      const numbers = rows.names.map((n) => Number(n.slice(2)))
      const dupes = numbers.filter((n, i) => numbers.indexOf(n) !== i)
      assert.deepEqual(dupes, [], `rows written twice on s${m.n}`)
      const missing = history.acked.filter((n) => !numbers.includes(n))
      assert.deepEqual(missing, [], `acknowledged writes missing on s${m.n} (last acknowledged ${last})`)
      // Each write i is guarded by "counter == i-1" and sets counter to i, so the rows must be exactly 1..final.
      const expected = Array.from({length: Number(rows.counter)}, (_, i) => i + 1)
      assert.deepEqual([...numbers].sort((a, b) => a - b), expected, `rows on s${m.n} are not the chain 1..${rows.counter}`)
    }
  })
})

/** The DHCP_Options rows the writer inserted and the register, as member `m` serves them. */
async function writtenRows(m: Member): Promise<{names: string[]; counter: string}> {
  const [rows, reg] = (await transact(m.sock, [
    {op: 'select', table: 'DHCP_Options', where: [], columns: ['name']},
    {op: 'select', table: 'Address_Set', where: [['name', '==', 'counter']], columns: ['addresses']},
  ])) as {rows: {name?: string; addresses?: unknown}[]}[]
  return {names: rows.rows.map((r) => r.name!).filter((n) => n.startsWith('w-')), counter: String(reg.rows[0].addresses)}
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms))
}

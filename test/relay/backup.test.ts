/**
 * Active-backup replication (ovsdb(7) "Active-Backup Database Service Model"): db-serve --sync-from follows an
 * active server (ovnctl's or the real ovsdb-server), leaves out excluded tables, refuses writes in ovsdb-server's
 * words, and is promoted (ovnctl db-promote, or ovs-appctl) without losing what it replicated.
 */
import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import {eventually, ok, ovnctl, run, type ServerProcess, startDbServe, startOvsdbServer, useTempDir} from '../interop/lib.js'
import {connect} from '../../src/core/jsonrpc/index.js'
import {relayStatus, sbSchema} from './lib.js'

const sb = 'OVN_Southbound'
const exclude = `${sb}:Chassis_Private`

async function transact(sock: string, ops: object[]): Promise<{rows?: {name: string}[]; error?: string; details?: string}[]> {
  const r = await run('ovsdb-client', ['transact', `unix:${sock}`, JSON.stringify([sb, ...ops])])
  assert.equal(r.code, 0, r.stderr)
  return JSON.parse(r.stdout)
}

async function names(sock: string, table: string): Promise<string[]> {
  const [res] = await transact(sock, [{op: 'select', table, where: [], columns: ['name']}])
  return res.rows!.map((r) => r.name).sort()
}

async function appctl(ctl: string, args: string[]): Promise<string> {
  return ok('ovs-appctl', ['-t', ctl, ...args])
}

function writes(tag: string): object[] {
  return [
    {op: 'insert', table: 'Address_Set', row: {name: `as-${tag}`}},
    {op: 'insert', table: 'Chassis_Private', row: {name: `cp-${tag}`}},
  ]
}

describe('active-backup replication with db-serve --sync-from', function () {
  this.timeout(60_000)
  const tmp = useTempDir()
  const started: ServerProcess[] = []
  const file = (name: string) => path.join(tmp.dir, name)
  after(async () => {
    for (const p of started.reverse()) await p.stop()
  })

  async function serve(name: string, extra: string[], real = false): Promise<ServerProcess> {
    if (!fs.existsSync(file(`${name}.db`))) await ok('ovsdb-tool', ['create', file(`${name}.db`), sbSchema])
    const p = real ? await startOvsdbServer(tmp.dir, [...extra, file(`${name}.db`)], name) : await startDbServe(tmp.dir, [file(`${name}.db`)], extra, name)
    started.push(p)
    return p
  }

  it('replicates every table but the excluded ones, refuses writes as ovsdb-server does, and reports it the same way', async () => {
    const active = await serve('active', [])
    await transact(active.sock, writes('1'))
    const sync = [`--sync-from=unix:${active.sock}`, `--sync-exclude-tables=${exclude}`]
    const backup = await serve('backup', sync)
    const theirs = await serve('theirs', sync, true)
    await transact(active.sock, writes('2'))
    for (const b of [backup, theirs]) await eventually(async () => (await names(b.sock, 'Address_Set')).length === 2, 10_000, `${b.sock} to replicate`)
    assert.deepEqual(await names(backup.sock, 'Chassis_Private'), [], 'an excluded table was replicated')

    const refused = await transact(backup.sock, writes('3'))
    const real = await transact(theirs.sock, writes('3'))
    assert.deepEqual(refused, real)
    assert.deepEqual(refused[0], {error: 'not allowed', details: 'insert operation not allowed when database server is in read only mode'})

    for (const b of [backup, theirs]) {
      const conn = await connect(`unix:${b.sock}`, {timeoutMs: 5000})
      const lock = await conn.request('lock', ['L']).catch((err: {error?: unknown}) => err.error)
      conn.close()
      assert.equal(lock, 'lock and unlock methods not allowed, DB server is read only.', `lock on ${b.sock}`)
    }

    const status = await appctl(backup.ctl, ['ovsdb-server/sync-status'])
    assert.equal(status, await appctl(theirs.ctl, ['ovsdb-server/sync-status']))
    assert.equal(status, `state: backup\nreplicating: unix:${active.sock}\ndatabase: ${sb}\nexclude: ${exclude}\n`)
    const viaOvnctl = await ovnctl(['appctl', `--target=${backup.ctl}`, 'ovsdb-server/sync-status'])
    assert.equal(viaOvnctl.stdout, status, viaOvnctl.stderr)
    assert.equal(await appctl(backup.ctl, ['ovsdb-server/get-active-ovsdb-server']), `unix:${active.sock}\n`)
    assert.equal(await appctl(backup.ctl, ['ovsdb-server/get-sync-exclude-tables']), `${exclude}\n`)
    const [st] = await relayStatus(backup.ctl)
    assert.deepEqual([st.role, st.state, st.excluded], ['backup', 'replicating', [exclude]])
  })

  it('keeps every replicated row when promoted with ovnctl db-promote, accepts writes, and still has them after a restart', async () => {
    const [active, backup] = [started[0], started[1]]
    await transact(active.sock, writes('4'))
    await eventually(async () => (await names(backup.sock, 'Address_Set')).length === 3, 10_000, 'the backup to replicate as-4')
    const promoted = await ovnctl(['db-promote', `--target=${backup.ctl}`])
    assert.equal(promoted.code, 0, promoted.stderr)
    assert.equal(await appctl(backup.ctl, ['ovsdb-server/sync-status']), 'state: active\n')
    await transact(active.sock, writes('after-promotion-at-old-active'))
    const own = await transact(backup.sock, writes('5'))
    assert.ok(own.every((r) => !('error' in r)), JSON.stringify(own))
    assert.deepEqual(await names(backup.sock, 'Address_Set'), ['as-1', 'as-2', 'as-4', 'as-5'])

    await backup.stop()
    started.splice(started.indexOf(backup), 1)
    const again = await serve('backup', [])
    assert.deepEqual(await names(again.sock, 'Address_Set'), ['as-1', 'as-2', 'as-4', 'as-5'])
  })

  it('becomes a backup again on connect-active-ovsdb-server and takes only what differs', async () => {
    const [active] = started
    const server = started.at(-1)!
    await appctl(server.ctl, ['ovsdb-server/set-active-ovsdb-server', `unix:${active.sock}`])
    await appctl(server.ctl, ['ovsdb-server/connect-active-ovsdb-server'])
    await eventually(async () => (await appctl(server.ctl, ['ovsdb-server/sync-status'])).includes('replicating:'), 10_000, 'replication to resume')
    // The active server's content wins: as-5 (written while this one was active) goes, the active's rows come.
    assert.deepEqual(await names(server.sock, 'Address_Set'), await names(active.sock, 'Address_Set'))
  })

  it('follows the real ovsdb-server as active server and keeps its rows when promoted by ovs-appctl', async () => {
    const real = await serve('real-active', [], true)
    await transact(real.sock, writes('r1'))
    const backup = await serve('real-backup', [`--sync-from=unix:${real.sock}`])
    await eventually(async () => (await names(backup.sock, 'Chassis_Private')).length === 1, 10_000, 'the backup to replicate the real server')
    await appctl(backup.ctl, ['ovsdb-server/disconnect-active-ovsdb-server'])
    assert.deepEqual(await names(backup.sock, 'Address_Set'), ['as-r1'])
    assert.deepEqual(await names(backup.sock, 'Chassis_Private'), ['cp-r1'])
  })

  it('reports an active server with another schema version as a failure, and refuses bad arguments clearly', async () => {
    const schema = JSON.parse(fs.readFileSync(sbSchema, 'utf8')) as {version: string}
    schema.version = '99.0.0'
    fs.writeFileSync(file('other.ovsschema'), JSON.stringify(schema))
    await ok('ovsdb-tool', ['create', file('other.db'), file('other.ovsschema')])
    const other = await serve('other', [`--sync-from=unix:${started[0].sock}`])
    await eventually(async () => (await appctl(other.ctl, ['ovsdb-server/sync-status'])).includes('failed'), 10_000, 'a failure in sync-status')
    assert.match(await appctl(other.ctl, ['ovsdb-server/sync-status']), /Replication to \(unix:.*\) failed: the active server's schema of "OVN_Southbound" \(version 20\.27\.0\) differs from this server's \(version 99\.0\.0\)/)

    const bad = await run('ovs-appctl', ['-t', other.ctl, 'ovsdb-server/set-sync-exclude-tables', 'Chassis'])
    assert.notEqual(bad.code, 0)
    assert.match(bad.stderr, /Invalid excluded table "Chassis": expected DB:TABLE/)
    const alone = await ovnctl(['db-serve', '--active', file('other.db')])
    assert.equal(alone.code, 2)
    assert.match(alone.stderr, /--active needs --sync-from=SERVER/)
  })
})
